"""One sampler for every model: greedy, temperature, top-k, top-p, penalties and beam search.

Every model of the project (linear, RNN/GRU/LSTM, GPT, a pretrained GPT-2) has the same incremental
method `step(idx_new, state) -> (logits_last, state)`: it is fed the whole prompt once, then one token
per call, and keeps what it needs of the past (a KV cache, an RNN hidden state, a window of tokens) in
`state`. So generation never recomputes the context, and the sampler needs to know nothing about the
model: the state is an opaque tree of tensors whose dim 0 is the batch. Beam search reorders it by
indexing every tensor with the surviving beams; dropping finished rows uses the same trick.

All the options live in one SampleOptions object (checked once, when it is made) that generate(),
sample.py, compare.py and the playground share; sample.py's SampleConfig is that object plus where
the model comes from. generate(..., on_step=...) reports each step's distributions (a StepReport).

Choosing the next token, in this order (the order of HF transformers' logits processors):
0. ids the tokenizer cannot decode are never drawn: a model's vocabulary may be padded past the
   tokenizer's (to a multiple of 64, say), and those extra rows have logits like any other.
1. repetition_penalty (CTRL paper): the logit of every token already in the sequence, prompt included,
   is divided by the penalty when positive and multiplied by it when negative (both lower it for p>1).
2. no_repeat_ngram_size=n: a token that would complete an n-gram already in the sequence is banned.
   syllables='8,9': a token that would end a line with another syllable count, or make it longer,
   is banned (constrained decoding: nanopushkin/constraints.py says how, and what it cannot do).
3. temperature: logits / temperature; temperature 0 means greedy (argmax).
4. top_k: keep only the k most likely tokens (0: all).
5. top_p (nucleus): keep the smallest set of most likely tokens whose probability reaches p (1.0: all).

Beam search (num_beams > 1) keeps the num_beams best partial continuations by total log-probability
(after steps 1-2) and returns the finished one with the best score = log-probability / length, like HF's
default length_penalty=1.0. With temperature 0 it is the usual deterministic beam search; with
temperature > 0 it is beam *sampling* (HF's do_sample=True with num_beams): the candidates that survive
each step are drawn from the beam scores warped by steps 3-5 instead of taken best-first. That is what
the original nanoPushkin sampled with: beams, top_k 20, top_p 0.8, temperature 0.7, no repeated bigrams.
Each of num_samples samples is a search of its own (with temperature 0 they all come out the same).
Unlike HF, which applies the penalties to log-probabilities, steps 1-2 change the logits and the beam
scores are the log-softmax of those, so a beam's score stays the log-probability of a distribution.

Generation stops after max_new_tokens, or (stop_at_eot, the default) when a sample produces the
document boundary <|endoftext|>; that token is not part of the returned continuation. With
stop_at_newline a sample also ends with the token that finishes its line (that one is kept): how
nanopushkin/stanza.py writes verse line by line.

A first reading can skip beam_candidates and beam_search (the longest part of the file) and the
last section, StreamPrinter, which only keeps half a UTF-8 character from being printed.
"""
import codecs
import dataclasses
import math
import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from nanopushkin.config import ConfigError
from nanopushkin.constraints import SyllableLimit, parse_syllables


@dataclass(frozen=True)
class SampleOptions:
    """How to generate: the options generate(), sample.py, compare.py and the playground share.

    Checked once, when made (a bad value is a ConfigError, a ValueError with a one-line message), so
    nothing downstream checks them again. dataclasses.replace(options, top_k=20) makes a variant."""
    num_samples: int = 1
    max_new_tokens: int = 200
    stop_at_eot: bool = True            # end a sample early when it generates <|endoftext|>
    temperature: float = 1.0            # 0: greedy
    top_k: int = 0                      # 0: no top-k cut
    top_p: float = 1.0                  # 1.0: no nucleus cut
    repetition_penalty: float = 1.0     # 1.0: off; 1.2 is a common mild setting
    no_repeat_ngram_size: int = 0       # 0: off; 2 forbids repeating any bigram
    num_beams: int = 1                  # >1: beam search (deterministic with temperature 0)
    syllables: str = ''                 # '8,9': lines may end only with 8 or 9 syllables; '': off
    stop_at_newline: bool = False       # end a sample when it finishes a line (the newline is kept):
                                        # one line per sample; with syllables, never an empty one
    seed: int = 1337                    # of the generator generate() makes when it is given none

    def __post_init__(self):
        problems = []
        if self.num_samples < 1 or self.num_beams < 1 or self.max_new_tokens < 0:
            problems.append(f'need num_samples >= 1, num_beams >= 1 and max_new_tokens >= 0, got '
                            f'{self.num_samples}, {self.num_beams} and {self.max_new_tokens}')
        if not self.temperature >= 0:
            problems.append(f'temperature must be >= 0 (0 means greedy), got {self.temperature}')
        if self.top_k < 0:
            problems.append(f'top_k must be >= 0 (0 turns it off), got {self.top_k}')
        if not 0 < self.top_p <= 1:
            problems.append(f'top_p must be in (0, 1] (1 turns it off), got {self.top_p}')
        if not self.repetition_penalty > 0:
            problems.append(f'repetition_penalty must be > 0 (1 turns it off), got {self.repetition_penalty}')
        if self.no_repeat_ngram_size < 0:
            problems.append(f'no_repeat_ngram_size must be >= 0 (0 turns it off), got {self.no_repeat_ngram_size}')
        if self.syllables:
            try:
                parse_syllables(self.syllables)
            except ValueError as e:
                problems.append(str(e))
        if problems:
            raise ConfigError('; '.join(problems))


@dataclass(frozen=True)
class SampleConfig(SampleOptions):
    """Options of sample.py (`python sample.py --start "Буря мглою" --top_k=20`): the SampleOptions,
    with sample.py's own defaults for three of them, and where the model comes from."""
    num_samples: int = 3
    max_new_tokens: int = 500
    temperature: float = 0.8
    # where the model comes from
    out_dir: str = 'out'                # a training run folder (checkpoint read by checkpoint.load_checkpoint)
    init_from: str = 'resume'           # 'resume' (use out_dir) | a GPT-2-format folder | a hub name
    # what to generate
    start: str = ''                     # the prompt; '' starts a new document; 'FILE:path' reads a file
    # system
    device: str = 'auto'                # 'auto' | 'cpu' | 'cuda' | 'cuda:1' | 'mps'
    stream: bool = True                 # print tokens as they arrive (beam search prints whole samples)
    style: bool = False                 # score each continuation with the style meter (P(Pushkin))
    verse: bool = False                 # show each line's syllables and rhyme letter, and verse figures
    # whole stanzas (nanopushkin/stanza.py): each sample is a stanza of the form, max_new_tokens per line
    form: str = ''                      # 'onegin' (AbAbCCddEffEgg) | 'quatrain' (AbAb) | 'couplets' (aabb)
    rhyme_scheme: str = ''              # any scheme instead: capitals feminine (9 syllables), small masculine (8)
    rhyme_candidates: int = 16          # lines sampled per batch, of which the likeliest that rhymes is kept
    rhyme_words: str = ''               # corpus folder or text file whose words may be forced as rhymes
    meter: str = 'data/style/meter.pt'  # the meter `python style.py train` saves


@dataclass
class StepReport:
    """What the sampler saw and did at one step (generate's on_step; sampling and greedy, not beams).
    Row r is the r-th sample still generating (samples that ended leave the batch; order is kept)."""
    index: int                          # 0 for the first new token
    logits: torch.Tensor                # (rows, vocab) float: after the penalties and bans, before temperature
    probs: torch.Tensor                 # (rows, vocab): the distribution drawn from, after temperature,
                                        # top_k and top_p; greedy (temperature 0) draws from a one-hot
    chosen: torch.Tensor                # (rows,) the ids drawn
    samples: list                       # which sample each row is (rows leave the batch as samples end)


# -----------------------------------------------------------------------------
# logits processing: each function takes logits (B, V) and returns new logits (B, V)

# The logits are float32: a temperature or penalty of 1e-300 is 0 there (logits / 0 = inf, softmax nan),
# and a top_p of 1e-300 too (nothing would be kept). Settings more extreme than SETTING_LIMIT act as
# that limit, which already does what they ask for: greedy, the most likely token only, a ban.
SETTING_LIMIT = 1e-6


def apply_repetition_penalty(logits, seqs, penalty):
    """Lower the logits of tokens already in each row's sequence (seqs: B lists of ids, same length)."""
    if penalty == 1.0:
        return logits
    penalty = min(max(penalty, SETTING_LIMIT), 1 / SETTING_LIMIT)
    seen = torch.tensor(seqs, dtype=torch.long, device=logits.device)       # (B, T)
    scores = logits.gather(1, seen)
    scores = torch.where(scores > 0, scores / penalty, scores * penalty)
    return logits.scatter(1, seen, scores)     # a repeated id is written twice with the same value


def ban_repeated_ngrams(logits, seqs, n):
    """Forbid every token that would complete an n-gram already present in the row's sequence."""
    if n == 0:
        return logits
    logits = logits.clone()
    for row, seq in enumerate(seqs):
        prefix = seq[len(seq) - n + 1:]         # the n-1 last tokens: the new n-gram would start with them
        banned = [seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i:i + n - 1] == prefix]
        logits[row, banned] = -math.inf
    return logits


def keep_top_k(logits, k):
    if k == 0 or k >= logits.size(-1):
        return logits
    kth_best = torch.topk(logits, k, dim=-1).values[:, -1:]
    return logits.masked_fill(logits < kth_best, -math.inf)


def keep_top_p(logits, p):
    """Nucleus: drop the tokens that come after the most likely ones have gathered probability p."""
    if p >= 1.0:
        return logits
    p = max(p, SETTING_LIMIT)
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = F.softmax(sorted_logits, dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs      # 0 for the most likely token: it is always kept
    drop_sorted = mass_before >= p
    drop = torch.zeros_like(drop_sorted).scatter(1, order, drop_sorted)
    return logits.masked_fill(drop, -math.inf)


def line_limit(tokenizer, options):
    """The logits processor of options.syllables for this tokenizer (None when off)."""
    if not options.syllables:
        return None
    # a sample that is one line must not be an empty one (a blank line is allowed between stanzas)
    return SyllableLimit(tokenizer, parse_syllables(options.syllables), blank_lines=not options.stop_at_newline)


def penalize(logits, seqs, options, vocab_size, limit=None):
    """Steps 0-2: change the model's distribution itself (beam search scores use these logits).
    limit: the line_limit of the options, made once per generation.

    Step 0: ids from vocab_size up (the tokenizer's size) are never drawn. A model's embedding may
    have more rows than its tokenizer has tokens (vocabularies padded to a multiple of 64 or 128)."""
    if logits.size(-1) > vocab_size:
        logits = logits.clone()
        logits[:, vocab_size:] = -math.inf
    logits = apply_repetition_penalty(logits, seqs, options.repetition_penalty)
    logits = ban_repeated_ngrams(logits, seqs, options.no_repeat_ngram_size)
    if limit is not None:
        logits = limit(logits, seqs)
    if torch.isinf(logits).all(dim=-1).any():
        raise ValueError(f'no_repeat_ngram_size={options.no_repeat_ngram_size}'
                         + (f' with syllables={options.syllables}' if limit is not None else '')
                         + ' has banned every token of the vocabulary; use a larger no_repeat_ngram_size '
                         'or fewer max_new_tokens')
    return logits


def warp(logits, options):
    """Steps 3-5: reshape the distribution we sample from (temperature > 0 only)."""
    logits = logits / max(options.temperature, SETTING_LIMIT)
    logits = keep_top_k(logits, options.top_k)
    return keep_top_p(logits, options.top_p)


def choose_next(logits, seqs, options, vocab_size, generator=None, on_step=None, index=0, limit=None,
                samples=None):
    """The next token of every row: (B, V) logits -> (B,) ids. on_step, if given, gets a StepReport
    (samples: which sample each row is)."""
    logits = penalize(logits.float(), seqs, options, vocab_size, limit)
    if options.temperature == 0:
        chosen = logits.argmax(dim=-1)
        probs = None if on_step is None else F.one_hot(chosen, logits.size(-1)).float()
    else:
        probs = F.softmax(warp(logits, options), dim=-1)
        chosen = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)
    if on_step is not None:
        on_step(StepReport(index, logits, probs, chosen, samples))
    return chosen


# -----------------------------------------------------------------------------
# model state and prompt

def reorder_state(state, index):
    """Select rows of the model's state: every tensor leaf is indexed along dim 0 (the batch)."""
    if torch.is_tensor(state):
        return state.index_select(0, index)
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(s, index) for s in state)
    if isinstance(state, dict):
        return {k: reorder_state(v, index) for k, v in state.items()}
    return state                                # None, ints and other non-batched leaves stay as they are


MAX_PROMPT_FILE_CHARS = 10_000_000   # FILE:/dev/zero must not read until memory runs out


def read_prompt(start):
    """The prompt text: `start` itself, or the contents of a file given as FILE:path."""
    if not start.startswith('FILE:'):
        return start
    path = start[len('FILE:'):]
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read(MAX_PROMPT_FILE_CHARS + 1)
    except FileNotFoundError:
        raise FileNotFoundError(f'prompt file {path!r} (from --start=FILE:{path}) does not exist') from None
    except UnicodeDecodeError:
        raise ValueError(f'prompt file {path!r} is not UTF-8 text') from None
    if len(text) > MAX_PROMPT_FILE_CHARS:
        raise ValueError(f'prompt file {path!r} is longer than {MAX_PROMPT_FILE_CHARS:,} characters (is it a text '
                         'file?); give a shorter prompt')
    return text


def encode_prompt(tokenizer, text):
    """Token ids of the prompt; an empty prompt starts a new document (the <|endoftext|> token)."""
    try:
        ids = tokenizer.encode(text)
    except ValueError as e:
        # find which characters are the problem, whatever wording the tokenizer used
        bad = []
        for ch in dict.fromkeys(text):
            try:
                tokenizer.encode(ch)
            except ValueError:
                bad.append(ch)
        if not bad:
            raise ValueError(f'the prompt cannot be encoded by the model\'s {tokenizer.kind} tokenizer: {e}') from None
        raise ValueError(f'the prompt has characters that the model\'s {tokenizer.kind} tokenizer cannot encode: '
                         + ', '.join(f'{ch!r} (U+{ord(ch):04X})' for ch in bad)
                         + '; remove them or use a model trained on text that has them') from None
    return ids or [tokenizer.eot_id]


def prepare_prompt(tokenizer, prompt, options):
    """The prompt's token ids (from text or ids), checked against the tokenizer and the options before
    anything is generated, so a generation that cannot finish fails at once, not halfway."""
    ids = encode_prompt(tokenizer, prompt) if isinstance(prompt, str) else list(prompt) or [tokenizer.eot_id]
    tokenizer.check_ids(ids)
    line_limit(tokenizer, options)              # a tokenizer without a newline cannot limit lines
    if options.stop_at_newline and options.num_beams > 1:
        raise ValueError('stop_at_newline samples one line at a time; it works with num_beams=1 only')
    if options.no_repeat_ngram_size == 1:
        # no token may occur twice: each new token is one the prompt and the continuation do not have yet
        room = tokenizer.vocab_size - len(set(ids))
        if options.max_new_tokens > room:
            raise ValueError(f'no_repeat_ngram_size=1 lets no token occur twice: this prompt and the '
                             f'{tokenizer.vocab_size}-token vocabulary leave room for {room} new tokens, not '
                             f'max_new_tokens={options.max_new_tokens}; use no_repeat_ngram_size=2 or more, '
                             f'or max_new_tokens={max(room, 0)} or fewer')
    return ids


# -----------------------------------------------------------------------------
# the two generation loops

def _model_device(model):
    return next(model.parameters()).device


@torch.no_grad()
def sample_loop(model, tokenizer, prompt_ids, options, generator=None, on_token=None, on_step=None):
    """Sample options.num_samples continuations of one prompt as one batch.

    on_token(sample, token) is called for every token as soon as it is chosen (for streaming);
    on_step(StepReport) once per step, with the distributions of every row still generating."""
    outputs = [[] for _ in range(options.num_samples)]
    if options.max_new_tokens == 0:
        return outputs
    eot_id = tokenizer.eot_id if options.stop_at_eot else None
    device = _model_device(model)
    logits, state = model.step(torch.tensor([prompt_ids], dtype=torch.long, device=device), None)
    # the prompt is read once; every sample starts from a copy of its state
    rows = torch.zeros(options.num_samples, dtype=torch.long, device=device)
    logits, state = logits[rows], reorder_state(state, rows)
    live = list(range(options.num_samples))     # which sample each row of the batch belongs to
    seqs = [list(prompt_ids) for _ in live]     # prompt + continuation of each row, for the penalties
    limit = line_limit(tokenizer, options)
    for t in range(options.max_new_tokens):
        next_ids = choose_next(logits, seqs, options, tokenizer.vocab_size, generator, on_step, t, limit, live)
        keep = []
        for row, token in enumerate(next_ids.tolist()):
            if token == eot_id:
                continue                        # this sample has ended: its row leaves the batch
            outputs[live[row]].append(token)
            seqs[row].append(token)
            if on_token is not None:
                on_token(live[row], token)
            if options.stop_at_newline and b'\n' in tokenizer.decode_bytes([token]):
                continue                        # its line is finished: it leaves the batch too
            keep.append(row)
        if not keep or t == options.max_new_tokens - 1:
            break
        if len(keep) < len(live):
            rows = torch.tensor(keep, dtype=torch.long, device=device)
            next_ids, state = next_ids[rows], reorder_state(state, rows)
            live, seqs = [live[r] for r in keep], [seqs[r] for r in keep]
        logits, state = model.step(next_ids.unsqueeze(1), state)
    return outputs


def beam_candidates(scores, options, generator=None):
    """Up to 2 * num_beams flat indices (beam * V + token) into scores (beams, V), best score first:
    the best ones (temperature 0), or drawn without replacement from the warped scores."""
    if options.temperature == 0:
        n_candidates = min(2 * options.num_beams, int(torch.isfinite(scores).sum()))
        return torch.topk(scores.view(-1), n_candidates).indices
    warped = warp(scores, options).view(-1)
    n_candidates = min(2 * options.num_beams, int(torch.isfinite(warped).sum()))
    candidates = torch.multinomial(F.softmax(warped, dim=-1), n_candidates, replacement=False,
                                   generator=generator)
    return candidates[torch.argsort(scores.view(-1)[candidates], descending=True)]


@torch.no_grad()
def beam_search(model, tokenizer, prompt_ids, options, generator=None):
    """The continuation with the best length-normalised log-probability; returns (ids, score).

    Each step extends every live beam by every token and keeps 2*num_beams candidates (best-first, or
    drawn from the warped scores when options.temperature > 0); a candidate ending in <|endoftext|>
    (with stop_at_eot) becomes a finished hypothesis, the others become the next beams, at most
    num_beams of them. Finished hypotheses and, at max_new_tokens, the live beams are scored by
    log-probability / length."""
    num_beams, max_new_tokens = options.num_beams, options.max_new_tokens
    if max_new_tokens == 0:
        return [], 0.0
    eot_id = tokenizer.eot_id if options.stop_at_eot else None
    device = _model_device(model)
    logits, state = model.step(torch.tensor([prompt_ids], dtype=torch.long, device=device), None)
    beams = [[]]                                # generated tokens of each live beam (one to begin with)
    beam_scores = torch.zeros(1, device=device) # their total log-probabilities
    finished = []                               # (normalised score, tokens), best first, <= num_beams
    limit = line_limit(tokenizer, options)
    for t in range(1, max_new_tokens + 1):      # t: length of the beams after this step
        logits = penalize(logits.float(), [prompt_ids + b for b in beams], options, tokenizer.vocab_size,
                          limit)
        scores = beam_scores[:, None] + F.log_softmax(logits, dim=-1)   # every beam extended by every token
        candidates = beam_candidates(scores, options, generator)
        next_beams, next_tokens, next_scores, parents = [], [], [], []
        for c, score in zip(candidates.tolist(), scores.view(-1)[candidates].tolist()):
            parent, token = divmod(c, scores.size(-1))
            if token == eot_id:
                finished.append((score / t, beams[parent]))
            elif len(next_beams) < num_beams:
                next_beams.append(beams[parent] + [token])
                next_tokens.append(token)
                next_scores.append(score)
                parents.append(parent)
        finished = sorted(finished, key=lambda f: f[0], reverse=True)[:num_beams]
        if not next_beams:
            break
        if t == max_new_tokens:                 # out of length: the live beams are finished as they are
            finished += [(s / t, b) for s, b in zip(next_scores, next_beams)]
            break
        # HF's default stopping rule: enough finished hypotheses, none of the live beams scores better
        if len(finished) == num_beams and max(next_scores) / t <= finished[-1][0]:
            break
        beams, beam_scores = next_beams, torch.tensor(next_scores, device=device)
        index = torch.tensor(parents, dtype=torch.long, device=device)
        logits, state = model.step(torch.tensor(next_tokens, device=device).unsqueeze(1),
                                   reorder_state(state, index))
    score, ids = max(finished, key=lambda f: f[0])
    return ids, score


def generate(model, tokenizer, prompt, options=None, *, generator=None, on_token=None, on_step=None,
             **overrides):
    """Continue `prompt` (text or a list of token ids) as `options` (a SampleOptions) say; returns one
    list of generated ids per sample. Keyword overrides replace single options:
    generate(model, tok, 'Буря', temperature=0) is generate(model, tok, 'Буря', SampleOptions(temperature=0)).

    Each returned list is a continuation only (the prompt is not repeated, a final <|endoftext|> is
    dropped). generator: a torch.Generator on the model's device to draw from (sample.py shares one
    across its samples); by default a fresh one seeded with options.seed, so the same options give
    the same text. on_token(sample, token_id) streams tokens as they are chosen and on_step(StepReport)
    reports every step's distributions (neither is called by beam search, which only knows its
    result at the end)."""
    options = dataclasses.replace(options or SampleOptions(), **overrides)
    prompt_ids = prepare_prompt(tokenizer, prompt, options)
    if generator is None:
        generator = torch.Generator(device=_model_device(model)).manual_seed(options.seed)
    was_training = model.training
    model.eval()
    try:
        if options.num_beams == 1:
            return sample_loop(model, tokenizer, prompt_ids, options, generator, on_token, on_step)
        # independent searches; with temperature 0 they are all the same, as greedy samples are
        return [beam_search(model, tokenizer, prompt_ids, options, generator)[0]
                for _ in range(options.num_samples)]
    finally:
        model.train(was_training)


# -----------------------------------------------------------------------------
# printing text as it is generated

class StreamPrinter:
    """Writes tokens as they arrive, never half a character.

    A byte-level BPE token can end in the middle of a multi-byte UTF-8 character (every Cyrillic
    letter is two bytes); an incremental decoder holds such bytes back until the character is whole."""

    def __init__(self, tokenizer, out=None):
        self.tokenizer = tokenizer
        self.out = out if out is not None else sys.stdout
        self.decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')

    def write_text(self, text):
        if text:
            self.out.write(text)
            self.out.flush()

    def write_token(self, token_id):
        self.write_text(self.decoder.decode(self.tokenizer.decode_bytes([token_id])))

    def finish(self):
        """End of a sample: flush what the decoder still holds (a broken character becomes U+FFFD)."""
        self.write_text(self.decoder.decode(b'', final=True))
        self.decoder.reset()
