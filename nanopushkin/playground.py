"""The playground: a local web page to watch a model write, look inside each step, compare models.

`python serve.py` starts a threaded HTTP server from the standard library that serves one static
page (nanopushkin/playground_page/: HTML, plain JavaScript, CSS, nothing from the internet) and a
small JSON API over the project's own code:

  GET  /api/models     the models served, their held-out bits/char, the limits and the defaults
  POST /api/generate   a continuation, streamed as server-sent events: one 'token' event per token
                       (with the distribution it was drawn from: the sampler's StepReport), then 'done'
  POST /api/tokens     how every tokenizer cuts a text, with ids; for BPE the merges behind each token
  POST /api/attention  one layer's and head's attention weights of a GPT over a text
  POST /api/stanza     a whole stanza of a form (nanopushkin/stanza.py), each line with its syllable
                       count and rhyme letter from the project's checker

Every number comes from the code sample.py runs: the same generate(), the same seeded generator, so
the same seed and settings give the same text. Safe by default: it binds to 127.0.0.1 and answers
only requests addressed to this machine by name (Host) and, when a browser sends them, made by its
own page (Origin): another site open in the same browser cannot make it work. A POST must be
application/json with a Content-Length of at most MAX_BODY_BYTES, checked before any byte of the body
is read; a connection silent for REQUEST_TIMEOUT seconds is closed. A bad request gets an HTTP error
with a message the page shows, and a closed tab stops its generation (the next write to its socket
fails, which raises out of the sampler's callback).
"""
import codecs
import dataclasses
import http.server
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from nanopushkin.checkpoint import find_checkpoint, load_checkpoint, read_log
from nanopushkin.files import parse_json
from nanopushkin.hf import from_pretrained
from nanopushkin.models.gpt import GPT, MODERN_OPTIONS
from nanopushkin.sampling import SampleConfig, SampleOptions, encode_prompt, generate, prepare_prompt
from nanopushkin.stanza import FORMS, RhymeDictionary, check_stanza, parse_form, write_stanza
from nanopushkin.style import MIN_PASSAGE_CHARS, known_word_share, load_meter, score_texts
from nanopushkin.verse import count_syllables, rhyme_scheme
from tokenizer import load_tokenizer

PAGE_DIR = Path(__file__).parent / 'playground_page'
PAGE_FILES = {'/': ('index.html', 'text/html'), '/app.js': ('app.js', 'text/javascript'),
              '/style.css': ('style.css', 'text/css')}
MAX_BODY_BYTES = 100_000     # a request body larger than this is refused before it is read
REQUEST_TIMEOUT = 20         # seconds a connection may be silent while the server waits to read it
MAX_BEAMS = 8                # beam search cannot be stopped half way: keep it small
CANDIDATES_SENT = 64         # per step: the logits of the most likely tokens, for the page's redraws
TAIL_BIN = 0.25              # ... and the other logits as a histogram of bins this wide
# the sampling options a request may give (all of SampleOptions but num_samples: the page writes
# one sample; and stop_at_newline, which is how stanza.py writes one line) and their types, which
# are the types of their defaults
SETTINGS = {f.name: type(f.default) for f in dataclasses.fields(SampleOptions)
            if f.name not in ('num_samples', 'stop_at_newline')}


@dataclass
class ServeConfig:
    """Options of serve.py (`python serve.py --port=8080`)."""
    out_dir: str = ''                   # run folders to serve, comma-separated; '' finds models/*, out*/ and results/*/runs/*
    init_from: str = ''                 # a GPT-2-format folder (or hub name) to serve as well
    host: str = '127.0.0.1'             # another address lets other machines in: a warning is printed
    port: int = 8000
    device: str = 'cpu'                 # 'cpu' | 'auto' | 'cuda' | 'mps'
    meter: str = 'data/style/meter.pt'  # the style meter for P(Pushkin); optional
    tokenizers: str = 'data/pushkin'    # prepared datasets whose tokenizer.json the Tokens view shows too
    max_prompt_chars: int = 2000
    max_new_tokens: int = 1000          # the most tokens one request may ask for


class BadRequest(ValueError):
    """A request the server refuses with an HTTP status (400 unless said) and a message for the page."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The browser closed the connection (a tab closed or a Stop button): stop generating."""


@dataclass
class ServedModel:
    name: str
    model: torch.nn.Module
    tokenizer: object
    model_type: str
    bits_per_char: float | None         # held-out bits/char of this checkpoint, from its training log

    def info(self) -> dict:
        gpt = self.model.config if isinstance(self.model, GPT) else None
        return {'name': self.name, 'model_type': self.model_type, 'tokenizer': self.tokenizer.kind,
                'vocab_size': self.tokenizer.vocab_size, 'num_params': self.model.num_params(),
                'bits_per_char': self.bits_per_char,
                # the newer ideas a GPT was trained with (config/speedrun.py's); none for GPT-2 and the others
                'options': [] if gpt is None else [name for name in MODERN_OPTIONS if getattr(gpt, name)],
                'attention': None if gpt is None else {'n_layer': gpt.n_layer, 'n_head': gpt.n_head,
                                                       'block_size': gpt.block_size}}


# -----------------------------------------------------------------------------
# finding and loading what to serve

def find_run_folders(root='.') -> list[Path]:
    """Every trained run folder under root: the models shipped in models/, out*/ (train.py's
    default out_dir and its variants) and results/*/runs/* (made by compare.py), those that hold a
    checkpoint."""
    root = Path(root)
    folders = sorted(root.glob('models/*/')) + sorted(root.glob('out*/')) + sorted(root.glob('results/*/runs/*/'))
    return [f for f in folders if (f / 'best.pt').is_file() or (f / 'ckpt.pt').is_file()]


def held_out_bits_per_char(out_dir) -> float | None:
    """The validation bits/char the training log recorded for this checkpoint: best.pt holds the
    lowest validation loss, so the lowest value logged; ckpt.pt the last one."""
    evals = [r['val_bits_per_char'] for r in read_log(out_dir) if r.get('event') == 'eval']
    if not evals:
        return None
    return min(evals) if find_checkpoint(out_dir).name == 'best.pt' else evals[-1]


def load_models(cfg: ServeConfig, device, root='.', say=print) -> dict:
    """name -> ServedModel. Named folders must load; of the folders found, a broken one is skipped."""
    named = [Path(p.strip()) for p in cfg.out_dir.split(',') if p.strip()]
    models = {}
    for folder in named or find_run_folders(root):
        name = folder.as_posix() if named else folder.relative_to(root).as_posix()
        try:
            model, tokenizer, checkpoint = load_checkpoint(folder, device)
        except (ValueError, OSError) as e:
            if named:
                raise
            say(f'skipping {name}: {e}')
            continue
        models[name] = ServedModel(name, model, tokenizer, checkpoint['model_type'],
                                   held_out_bits_per_char(folder))
    if cfg.init_from:
        model, tokenizer = from_pretrained(cfg.init_from)
        models[cfg.init_from] = ServedModel(cfg.init_from, model.to(device).eval(), tokenizer, 'gpt', None)
    return models


def collect_tokenizers(models: dict, data_root, say=print) -> dict:
    """label -> tokenizer: the served models' tokenizers (one entry per distinct tokenizer) and
    those of the prepared datasets in data_root/*/tokenizer.json (a broken one is skipped)."""
    found = {}                                  # the tokenizer's saved form -> (label parts, tokenizer)
    sources = [(name, m.tokenizer) for name, m in models.items()]
    for path in sorted(Path(data_root).glob('*/tokenizer.json')):
        try:
            sources.append((path.parent.as_posix(), load_tokenizer(path)))
        except (ValueError, OSError) as e:
            say(f'skipping the tokenizer {path}: {e}')
    for source, tokenizer in sources:
        key = json.dumps(tokenizer.to_dict(), sort_keys=True)
        found.setdefault(key, ([], tokenizer))[0].append(source)
    return {f'{t.kind} {t.vocab_size} ({", ".join(names)})': t for names, t in found.values()}


# -----------------------------------------------------------------------------
# what the page is sent

def token_piece(tokenizer, token_id) -> str:
    """The text of one token; bytes that are not whole UTF-8 characters (half a Cyrillic letter
    in a byte-level BPE) are shown as \\xd0 escapes."""
    return tokenizer.decode_bytes([token_id]).decode('utf-8', errors='backslashreplace')


def finite_or_none(x: float):
    return x if math.isfinite(x) else None      # JSON has no -inf: a banned token's logit is null


def step_payload(tokenizer, logits, probs, chosen) -> dict:
    """One sampling step as the page shows it (row 0 of a StepReport): the CANDIDATES_SENT most
    likely tokens (and the chosen one) with their logit, probability before the filters
    (softmax of the penalized logits) and after them (what was drawn from), and the other logits
    as a histogram, so the page can redraw the distribution at any temperature by itself. Rows past
    the tokenizer's vocabulary (a padded embedding) are not tokens and are left out."""
    logits, probs = logits[:tokenizer.vocab_size].float().cpu(), probs[:tokenizer.vocab_size].float().cpu()
    before = F.softmax(logits, dim=-1)
    top = torch.topk(logits, min(CANDIDATES_SENT, logits.numel())).indices.tolist()
    if chosen not in top:                       # a sampled token can come from far down the list
        top.append(chosen)
    rest = torch.ones_like(logits, dtype=torch.bool)
    rest[top] = False
    rest_logits = logits[rest & torch.isfinite(logits)]
    bins, counts = torch.unique(torch.floor(rest_logits / TAIL_BIN), return_counts=True)
    p_chosen = float(probs[chosen])
    candidates = zip(top, logits[top].tolist(), before[top].tolist(), probs[top].tolist())
    return {'candidates': [{'id': i, 'piece': token_piece(tokenizer, i), 'logit': finite_or_none(logit),
                            'p_before': p_before, 'p_after': p_after} for i, logit, p_before, p_after in candidates],
            'tail': [[(b + 0.5) * TAIL_BIN, c] for b, c in zip(bins.tolist(), counts.tolist())],
            'chosen': chosen, 'p_chosen': p_chosen, 'p_chosen_before': float(before[chosen]),
            'bits': -math.log2(p_chosen) if p_chosen > 0 else None}


def style_of(meter, text) -> dict | None:
    """P(Pushkin) and the known-words share of a continuation, as sample.py --style reports them."""
    if meter is None:
        return None
    probs = score_texts(meter, [text])[0]
    known = known_word_share(text, meter.vocabulary) if meter.vocabulary else None
    return {'p_pushkin': float(probs.mean()) if len(probs) else None, 'passages': len(probs),
            'known_words': None if known is None or math.isnan(known) else known,
            'min_chars': MIN_PASSAGE_CHARS}


@torch.no_grad()
def attention_weights(model: GPT, ids, layer) -> torch.Tensor:
    """(n_head, T, T) attention weights of one layer for ids: softmax(q k^T / sqrt(head size)) under
    the causal mask, from the q and k that layer computes. The model's own forward never holds these
    weights (scaled_dot_product_attention fuses them away), so they are recomputed here from the
    residual stream that reaches the layer, which is the model's forward up to that layer."""
    device = next(model.parameters()).device
    x, rope = model.embed(torch.tensor([ids], dtype=torch.long, device=device))
    for block in model.transformer.h[:layer]:
        x, _ = block(x, None, rope)
    q, k, _ = model.transformer.h[layer].attn.project(model.transformer.h[layer].ln_1(x), rope)
    T = len(ids)
    scores = q @ k.transpose(-2, -1) / math.sqrt(k.size(-1))
    causal = torch.ones(T, T, dtype=torch.bool, device=device).tril()
    return F.softmax(scores.masked_fill(~causal, -math.inf), dim=-1)[0].cpu()


# -----------------------------------------------------------------------------
# checking requests

def check_type(name, value, kind):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f'{name} must be {"a number" if kind is float else "an integer" if kind is int else "true or false"}, '
                         f'got {json.dumps(value)}')
    if kind is float and not math.isfinite(value):
        raise BadRequest(f'{name} must be a finite number, got {value}')
    return value


def default_settings(max_new_tokens_limit) -> dict:
    """sample.py's defaults (its SampleConfig), with no more new tokens than the server allows."""
    defaults = {f.name: f.default for f in dataclasses.fields(SampleConfig) if f.name in SETTINGS}
    return {**defaults, 'max_new_tokens': min(defaults['max_new_tokens'], max_new_tokens_limit)}


def read_options(body: dict, max_new_tokens_limit) -> SampleOptions:
    """The sampling options of a request, checked by the sampler's own SampleOptions and the
    server's limits; the defaults for those not given."""
    defaults = default_settings(max_new_tokens_limit)
    settings = {name: check_type(name, body.get(name, defaults[name]), kind) for name, kind in SETTINGS.items()}
    try:
        options = SampleOptions(num_samples=1, **settings)
    except ValueError as e:                     # ConfigError: the sampler's one-line message
        raise BadRequest(str(e)) from None
    if options.max_new_tokens > max_new_tokens_limit:
        raise BadRequest(f'max_new_tokens must be at most {max_new_tokens_limit} here (the server\'s '
                         f'--max_new_tokens), got {options.max_new_tokens}')
    if options.num_beams > MAX_BEAMS:
        raise BadRequest(f'num_beams must be at most {MAX_BEAMS} here, got {options.num_beams}')
    if not 0 <= options.seed < 2 ** 63:
        raise BadRequest(f'seed must be in [0, 2^63), got {options.seed}')
    return options


def check_keys(body: dict, allowed):
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f'unknown field(s) {", ".join(unknown)}; valid: {", ".join(allowed)}')


# -----------------------------------------------------------------------------
# the server's work, one method per API call

class Playground:
    """What the server serves: the models, the tokenizers, the style meter and the limits."""

    def __init__(self, models: dict, tokenizers: dict, meter, cfg: ServeConfig):
        self.models, self.tokenizers, self.meter, self.cfg = models, tokenizers, meter, cfg
        self.stopped = 0                        # generations stopped because the client went away

    def models_info(self) -> dict:
        return {'models': [m.info() for m in self.models.values()],
                'defaults': default_settings(self.cfg.max_new_tokens),
                'limits': {'max_prompt_chars': self.cfg.max_prompt_chars,
                           'max_new_tokens': self.cfg.max_new_tokens, 'max_beams': MAX_BEAMS},
                'meter': self.meter is not None}

    def served_model(self, name) -> ServedModel:
        if name not in self.models:
            raise BadRequest(f'unknown model {json.dumps(name)}; served: {", ".join(self.models) or "none"}')
        return self.models[name]

    def read_text(self, body, key) -> str:
        text = body.get(key, '')
        if not isinstance(text, str):
            raise BadRequest(f'{key} must be text, got {json.dumps(text)}')
        if len(text) > self.cfg.max_prompt_chars:
            raise BadRequest(f'the {key} has {len(text)} characters; the limit is {self.cfg.max_prompt_chars}')
        return text

    def start_generation(self, body) -> tuple:
        """Check a /api/generate request completely, before any byte of the answer is sent."""
        check_keys(body, ['model', 'prompt', 'inspect', *SETTINGS])
        served = self.served_model(body.get('model'))
        options = read_options(body, self.cfg.max_new_tokens)
        prompt = self.read_text(body, 'prompt')
        try:                                    # the prompt, and the options against it, as sample.py checks them
            prompt_ids = prepare_prompt(served.tokenizer, prompt, options)
        except ValueError as e:
            raise BadRequest(str(e)) from None
        inspect = check_type('inspect', body.get('inspect', True), bool)
        return served, prompt, prompt_ids, options, inspect

    def generate(self, served, prompt, prompt_ids, options, inspect, send):
        """Run the sampler, send({'type': ...}) for each token as it comes, then the summary. send
        raises ClientGone when the page has gone, which stops the sampler where it is."""
        tokenizer = served.tokenizer
        decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')   # as sample.py's StreamPrinter
        unk_id = getattr(tokenizer, 'unk_id', None)
        prompt_decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')
        prompt_tokens = [{'id': i, 'piece': token_piece(tokenizer, i),
                          'text': prompt_decoder.decode(tokenizer.decode_bytes([i])) if prompt else ''}
                         for i in prompt_ids]   # an empty prompt is read as <|endoftext|>, and shown as ''
        send({'type': 'start', 'prompt': prompt_tokens,
              'unknown_words': prompt_ids.count(unk_id) if unk_id is not None else 0})
        steps, n_tokens = [], 0

        def on_step(report):
            steps.append(step_payload(tokenizer, report.logits[0], report.probs[0], int(report.chosen[0]))
                         if inspect else None)

        def on_token(sample, token):
            nonlocal n_tokens
            n_tokens += 1
            send({'type': 'token', 'index': n_tokens - 1, 'id': token, 'piece': token_piece(tokenizer, token),
                  'text': decoder.decode(tokenizer.decode_bytes([token])), 'step': steps[-1]})

        t0 = time.perf_counter()
        # generate() seeds its generator with options.seed on the model's device, as sample.py does
        ids = generate(served.model, tokenizer, prompt_ids, options, on_token=on_token, on_step=on_step)[0]
        seconds = time.perf_counter() - t0
        if options.num_beams > 1:                  # beam search knows its tokens only at the end
            steps.extend([None] * len(ids))
            for token in ids:
                on_token(0, token)
        continuation = tokenizer.decode(ids)
        send({'type': 'done', 'rest': decoder.decode(b'', final=True), 'text': prompt + continuation,
              'tokens': len(ids), 'seconds': seconds, 'tokens_per_s': len(ids) / max(seconds, 1e-9),
              'style': style_of(self.meter, continuation)})

    def cut_into_tokens(self, body) -> dict:
        """/api/tokens: the text cut by every tokenizer; a tokenizer that cannot encode it says why."""
        check_keys(body, ['text'])
        text = self.read_text(body, 'text')
        views = []
        for label, tokenizer in self.tokenizers.items():
            view = {'name': label, 'kind': tokenizer.kind, 'vocab_size': tokenizer.vocab_size}
            try:
                ids = tokenizer.encode(text)
            except ValueError as e:
                views.append({**view, 'error': str(e)})
                continue
            view['tokens'] = [{'id': i, 'piece': token_piece(tokenizer, i)} for i in ids]
            if tokenizer.kind == 'bpe':
                rank_of = {merged: rank for rank, merged in enumerate(tokenizer.merged_ids)}
                for token in view['tokens']:
                    token['merges'] = merges_of(tokenizer, token['id'], rank_of)
            views.append(view)
        return {'tokenizers': views}

    def stanza(self, body) -> dict:
        """/api/stanza: a stanza of the form after the prompt, with the sampling settings of the page
        (its rhyme dictionary: the prompt's words and the model's own candidates)."""
        check_keys(body, ['model', 'prompt', 'form', *SETTINGS])
        served = self.served_model(body.get('model'))
        form_name = body.get('form', 'onegin')
        if form_name not in FORMS:
            raise BadRequest(f'form must be one of {", ".join(FORMS)}, got {json.dumps(form_name)}')
        options = read_options(body, self.cfg.max_new_tokens)
        prompt = self.read_text(body, 'prompt')
        if options.num_beams > 1:
            raise BadRequest('stanzas are sampled line by line: use 1 beam')
        dictionary = RhymeDictionary()
        dictionary.add(prompt)
        form = parse_form(form_name)
        t0 = time.perf_counter()
        try:
            lines, report = write_stanza(served.model, served.tokenizer, prompt, form, options, dictionary,
                                         torch.Generator(device=next(served.model.parameters()).device).manual_seed(options.seed))
        except ValueError as e:
            raise BadRequest(str(e)) from None
        return {'scheme': form.scheme, 'form_kept': check_stanza(lines, form),
                'lines': [{'text': line, 'syllables': count_syllables(line), 'letter': letter}
                          for line, letter in zip(lines, rhyme_scheme(lines))],
                'forced_lines': report.forced_lines, 'seconds': time.perf_counter() - t0}

    def attention(self, body) -> dict:
        """/api/attention: one layer's and head's weights over the text (its last block_size tokens)."""
        check_keys(body, ['model', 'text', 'layer', 'head'])
        served = self.served_model(body.get('model'))
        if not isinstance(served.model, GPT):
            raise BadRequest(f'{served.name} is a {served.model_type} model; attention maps need a GPT')
        config = served.model.config
        layer, head = check_type('layer', body.get('layer', 0), int), check_type('head', body.get('head', 0), int)
        if not (0 <= layer < config.n_layer and 0 <= head < config.n_head):
            raise BadRequest(f'layer must be in 0..{config.n_layer - 1} and head in 0..{config.n_head - 1}, '
                             f'got layer {layer}, head {head}')
        try:
            ids = encode_prompt(served.tokenizer, self.read_text(body, 'text'))[-config.block_size:]
        except ValueError as e:
            raise BadRequest(str(e)) from None
        weights = attention_weights(served.model, ids, layer)[head]
        return {'tokens': [{'id': i, 'piece': token_piece(served.tokenizer, i)} for i in ids],
                'layer': layer, 'head': head, 'weights': [row[:t + 1] for t, row in enumerate(weights.tolist())]}


def merges_of(tokenizer, token_id, rank_of) -> list:
    """The merges that built a BPE token, in the order BPE applies them (by rank): each as
    [rank, left piece, right piece, merged piece]. A byte or a special token has none.
    rank_of: merged token id -> the rank of the merge that makes it."""
    ranks, todo = set(), [token_id]
    while todo:
        t = todo.pop()
        if t in rank_of:
            ranks.add(rank_of[t])
            todo += tokenizer.merges[rank_of[t]]
    return [[r, token_piece(tokenizer, tokenizer.merges[r][0]), token_piece(tokenizer, tokenizer.merges[r][1]),
             token_piece(tokenizer, tokenizer.merged_ids[r])] for r in sorted(ranks)]


# -----------------------------------------------------------------------------
# HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    """One request; the ThreadingHTTPServer runs each in its own thread, so tabs do not wait on
    each other. HTTP/1.0: the connection closes after each answer, which ends a stream."""
    server_version = 'nanoPushkin-playground'

    def do_GET(self):
        if not self.host_is_allowed():
            return
        if self.path == '/api/models':
            return self.send_json(200, self.server.playground.models_info())
        if self.path not in PAGE_FILES:
            return self.send_json(404, {'error': f'no page {self.path}; the playground is at /'})
        name, content_type = PAGE_FILES[self.path]
        body = (PAGE_DIR / name).read_bytes()
        self.send_response(200)
        self.send_header('Content-Type', f'{content_type}; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Content-Security-Policy', "default-src 'self'")   # nothing from elsewhere
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if not self.host_is_allowed():
            return
        playground = self.server.playground
        routes = {'/api/tokens': playground.cut_into_tokens, '/api/attention': playground.attention,
                  '/api/stanza': playground.stanza}
        try:
            self.check_origin()
            if self.path not in (*routes, '/api/generate'):
                raise BadRequest(f'no API {self.path}', 404)
            body = self.read_json()
            if self.path != '/api/generate':
                return self.send_json(200, routes[self.path](body))
            request = playground.start_generation(body)
        except BadRequest as e:
            return self.send_json(e.status, {'error': str(e)})
        self.stream(lambda send: playground.generate(*request, send))

    def stream(self, work):
        """Answer with server-sent events, one `data: <json>` line each, as `work(send)` produces them.
        An error after the stream has begun becomes an 'error' event."""
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream; charset=utf-8')
        self.send_header('Cache-Control', 'no-cache')
        self.end_headers()

        def send(event):
            try:
                self.wfile.write(f'data: {json.dumps(event, ensure_ascii=False)}\n\n'.encode('utf-8'))
                self.wfile.flush()
            except OSError:                     # a broken pipe, a reset, a client that stopped reading
                raise ClientGone from None
        try:
            try:
                work(send)
            except ValueError as e:             # e.g. no_repeat_ngram_size has banned every token
                send({'type': 'error', 'error': str(e)})
        except ClientGone:
            self.server.playground.stopped += 1

    def read_json(self) -> dict:
        """The body, a JSON object: its type and announced length are checked before it is read."""
        content_type = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
        if content_type != 'application/json':
            raise BadRequest(f'the request body must be application/json, not {content_type or "unnamed"}', 415)
        length = self.headers.get('Content-Length', '')
        if not length.strip().isdigit():        # missing, negative or not a number: do not guess
            raise BadRequest(f'the request needs a Content-Length header of 0 to {MAX_BODY_BYTES} bytes, '
                             f'got {length[:20]!r}', 411)
        if int(length) > MAX_BODY_BYTES:
            raise BadRequest(f'the request body has {int(length)} bytes; the limit is {MAX_BODY_BYTES}', 413)
        try:
            raw = self.rfile.read(int(length))
        except TimeoutError:
            raise BadRequest(f'the request body did not arrive within {self.timeout} s', 408) from None
        if len(raw) < int(length):
            raise BadRequest(f'the request body ended after {len(raw)} of {int(length)} bytes')
        try:
            body = parse_json(raw, 'the request body')
        except ValueError as e:
            raise BadRequest(str(e)) from None
        if not isinstance(body, dict):
            raise BadRequest(f'the request body must be a JSON object, got {type(body).__name__}')
        return body

    def check_origin(self):
        """A browser names the page that makes a request (Origin); only this server's own page may
        use the API. Any other site the user has open could otherwise make the server work: a
        text/plain POST needs no permission from us. Tools like curl send no Origin."""
        origin = self.headers.get('Origin')
        if origin is not None and origin != f'http://{self.headers.get("Host")}':
            raise BadRequest(f'requests from the page {origin} are refused; use the playground\'s own page', 403)

    def host_is_allowed(self) -> bool:
        """On 127.0.0.1 only answer requests addressed to this machine by name: a web page elsewhere
        cannot then reach the server through a DNS name it controls (DNS rebinding)."""
        host = (self.headers.get('Host') or '').rsplit(':', 1)[0].strip('[]')
        if self.server.loopback_only and host not in ('127.0.0.1', 'localhost', '::1'):
            self.send_json(403, {'error': f'this server only answers requests for 127.0.0.1, not {host!r}'})
            return False
        return True

    def send_json(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass                                    # quiet: the page shows what happens


class PlaygroundServer(http.server.ThreadingHTTPServer):
    daemon_threads = True                       # Ctrl-C does not wait for streams still open

    def handle_error(self, request, client_address):
        """A client that left or went silent (a closed tab, a timeout) is not an error of ours."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def __init__(self, playground: Playground, host='127.0.0.1', port=8000):
        super().__init__((host, port), Handler)
        self.playground = playground
        self.loopback_only = host in ('127.0.0.1', 'localhost', '::1')
        self.url = f'http://{host}:{self.server_address[1]}/'


def check_serve_config(cfg: ServeConfig):
    """The values of serve.py's options that their types do not rule out."""
    for key in ('max_prompt_chars', 'max_new_tokens'):
        if getattr(cfg, key) < 1:
            raise ValueError(f'--{key} must be at least 1 (it limits each request), got {getattr(cfg, key)}')
    if not 0 <= cfg.port <= 65535:
        raise ValueError(f'--port must be in 0..65535 (0: any free port), got {cfg.port}')


def build_playground(cfg: ServeConfig, root='.', say=print) -> Playground:
    """Load everything cfg names (the device must exist: see devices.resolve_device)."""
    models = load_models(cfg, cfg.device, root, say)
    tokenizers = collect_tokenizers(models, cfg.tokenizers, say)
    meter = None
    if Path(cfg.meter).is_file():
        try:
            meter = load_meter(cfg.meter)
        except ValueError as e:
            say(f'no P(Pushkin): {e}')
    return Playground(models, tokenizers, meter, cfg)
