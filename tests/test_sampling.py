"""The one sampler: every option against a hand computation, beam search, streaming, and sample.py."""
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nanopushkin.config import ConfigError, parse_args
from nanopushkin.models import MODEL_TYPES, build_model
from nanopushkin.sampling import (SampleConfig, SampleOptions, StepReport, StreamPrinter,
                                  apply_repetition_penalty, ban_repeated_ngrams, beam_search, encode_prompt,
                                  generate, keep_top_k, keep_top_p, prepare_prompt, read_prompt, sample_loop)
from tokenizer.base import Tokenizer
from tokenizer.char import CharTokenizer

ROOT = Path(__file__).resolve().parent.parent

VERSE = 'Буря мглою небо кроет,\nВихри снежные крутя;\nТо, как зверь, она завоет,\nТо заплачет, как дитя.\n'
TINY_ARGS = {
    'linear': dict(context=4, n_embd=8, n_hidden=16, n_layer=1),
    'rnn': dict(n_embd=8, n_hidden=16, n_layer=1),
    'gru': dict(n_embd=8, n_hidden=16, n_layer=1),
    'lstm': dict(n_embd=8, n_hidden=16, n_layer=2),
    'gpt': dict(block_size=16, n_layer=2, n_head=2, n_embd=16),
}


@pytest.fixture(scope='module')
def tok():
    return CharTokenizer.train(VERSE)


def tiny_model(model_type, vocab_size, seed=0):
    torch.manual_seed(seed)
    return build_model(model_type, {'vocab_size': vocab_size, **TINY_ARGS[model_type]}).eval()


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def greedy_by_forward(model, ids, n, block_size=None):
    """The argmax chain computed the slow way: the whole context through forward() at every step."""
    ids = list(ids)
    for _ in range(n):
        context = ids[-block_size:] if block_size else ids
        logits, _ = model(torch.tensor([context]))
        ids.append(int(logits[0, -1].argmax()))
    return ids


def has_repeated_ngram(seq, n):
    grams = [tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)]
    return len(grams) != len(set(grams))


class ByteTokenizer(Tokenizer):
    """Token i < 256 is the byte i, 256 is the boundary: a byte-level BPE without merges, so almost
    every Cyrillic letter is split over two tokens."""
    kind = 'bytes'
    vocab_size = 257
    eot_id = 256

    def encode(self, text):
        return list(text.encode('utf-8'))

    def decode_bytes(self, ids):
        return b''.join(self.eot_token.encode() if i == self.eot_id else bytes([i]) for i in ids)


class TableModel(torch.nn.Module):
    """A bigram model with a probability table we choose: next-token probabilities = table[last token].
    Small enough to know the right answer of greedy and beam search by hand."""

    def __init__(self, table):
        super().__init__()
        probs = torch.tensor(table, dtype=torch.float32) + 1e-6
        self.logprobs = torch.nn.Parameter((probs / probs.sum(-1, keepdim=True)).log())

    def step(self, idx_new, state=None):
        last = idx_new[:, -1]                       # the state is the last token, (B,)
        return self.logprobs[last], last


class TableTokenizer(Tokenizer):
    """Ids 0..4, 4 is the boundary; decodes to digits."""
    kind = 'table'
    vocab_size = 5
    eot_id = 4

    def decode_bytes(self, ids):
        return ''.join(str(i) for i in ids).encode()


# from 0: 1 is likelier than 2, but after 1 nothing is likely, while 2 is almost surely followed by 3
TRAP = [[0, .6, .4, 0, 0],
        [.3, .3, .4, 0, 0],
        [0, 0, 0, .99, .01],
        [.01, 0, 0, 0, .99],
        [.25, .25, .25, .25, 0]]


# -----------------------------------------------------------------------------
# the logits processors, one by one

def test_repetition_penalty_divides_positive_and_multiplies_negative_logits():
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0, -2.0],
                           [2.0, -1.0, 0.5, 3.0, -2.0]])
    seqs = [[0, 1, 0, 1], [4, 4, 4, 4]]                  # same length rows, repeated ids
    out = apply_repetition_penalty(logits, seqs, 2.0)
    assert out.tolist() == [[1.0, -2.0, 0.5, 3.0, -2.0],
                            [2.0, -1.0, 0.5, 3.0, -4.0]]
    assert apply_repetition_penalty(logits, seqs, 1.0) is logits


def test_repetition_penalty_counts_the_prompt():
    model, tok = TableModel(TRAP), TableTokenizer()
    # after 0 the model prefers 1; 1 appears only in the prompt, yet it is penalised
    assert generate(model, tok, [1, 0], max_new_tokens=1, temperature=0) == [[1]]
    assert generate(model, tok, [1, 0], max_new_tokens=1, temperature=0, repetition_penalty=10.0) == [[2]]


def test_ban_repeated_ngrams():
    logits = torch.zeros(2, 6)
    seqs = [[1, 2, 3, 1, 2, 5, 1, 2],                    # bigram (1,2) seen before 3 and before 5
            [0, 0, 0, 0, 0, 0, 1, 2]]
    out = ban_repeated_ngrams(logits, seqs, 3)
    assert torch.isinf(out[0]).tolist() == [False, False, False, True, False, True]
    assert not torch.isinf(out[1]).any()
    out = ban_repeated_ngrams(logits, seqs, 1)           # n=1: no token may appear twice
    assert torch.isinf(out[0]).tolist() == [False, True, True, True, False, True]


def test_top_k_and_top_p_keep_the_most_likely_tokens():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]]).log_softmax(-1)
    assert torch.isfinite(keep_top_k(logits, 2)).tolist() == [[False, True, True, False]]
    probs = logits.exp()[0]                              # 0.087, 0.644, 0.237, 0.032
    assert torch.isfinite(keep_top_p(logits, 0.5)).tolist() == [[False, True, False, False]]
    p = float(probs[1] + probs[2]) - 1e-4                # just below the two best: keep exactly them
    assert torch.isfinite(keep_top_p(logits, p)).tolist() == [[False, True, True, False]]
    assert torch.isfinite(keep_top_p(logits, p + 2e-4)).sum() == 3
    assert keep_top_p(logits, 1.0) is logits and keep_top_k(logits, 0) is logits


def test_bad_settings_are_clear_errors(tok):
    model = tiny_model('gpt', tok.vocab_size)
    for bad, words in [(dict(temperature=-1), 'temperature'), (dict(top_p=0.0), 'top_p'),
                       (dict(top_k=-3), 'top_k'), (dict(repetition_penalty=0), 'repetition_penalty'),
                       (dict(num_beams=0), 'num_beams'), (dict(no_repeat_ngram_size=-1), 'no_repeat')]:
        with pytest.raises(ValueError, match=words):
            generate(model, tok, 'Буря', **bad)
    with pytest.raises(ConfigError, match='top_p'):       # sample.py refuses them before loading a model
        parse_args(SampleConfig, ['--top_p', '1.5'], config_file_allowed=False)
    with pytest.raises(ConfigError, match='temperature must be >= 0'):   # the one place they are checked
        SampleOptions(temperature=-0.5)
    # sample.py's options are the sampler's options (with its own defaults), passed as they are
    cfg = parse_args(SampleConfig, ['--top_k=5', '--seed', '9'], config_file_allowed=False)
    assert isinstance(cfg, SampleOptions) and (cfg.top_k, cfg.seed, cfg.temperature) == (5, 9, 0.8)


def test_no_repeat_ngram_size_1_that_cannot_finish_fails_before_generating(tok):
    """n=1 lets no token occur twice: asking for more new tokens than the vocabulary has left is an
    error before the first token (it used to fail halfway through, in the middle of a stream)."""
    model = tiny_model('gpt', tok.vocab_size)
    prompt = tok.encode('Буря')                          # 4 distinct tokens
    room = tok.vocab_size - 4
    with pytest.raises(ValueError, match=f'room for {room} new tokens'):
        prepare_prompt(tok, prompt, SampleOptions(no_repeat_ngram_size=1, max_new_tokens=room + 1))
    streamed = []
    with pytest.raises(ValueError, match='no_repeat_ngram_size=1'):
        generate(model, tok, prompt, no_repeat_ngram_size=1, max_new_tokens=room + 1,
                 on_token=lambda sample, token: streamed.append(token))
    assert streamed == []
    # exactly as many as fit: every token of the vocabulary is used once, none twice
    [out] = generate(model, tok, prompt, no_repeat_ngram_size=1, max_new_tokens=room, stop_at_eot=False)
    assert len(out) == room and sorted(prompt + out) == list(range(tok.vocab_size))


# -----------------------------------------------------------------------------
# sampling through model.step

@pytest.mark.parametrize('model_type', MODEL_TYPES)
def test_temperature_zero_is_the_argmax_chain_of_forward(tok, model_type):
    model = tiny_model(model_type, tok.vocab_size)
    prompt = tok.encode('Буря мглою')
    n = 25
    if model_type == 'gpt':  # up to the end of its window (past it, test_models checks the cache)
        n = TINY_ARGS['gpt']['block_size'] - len(prompt)
    out = generate(model, tok, prompt, max_new_tokens=n, temperature=0, stop_at_eot=False)
    block_size = TINY_ARGS[model_type].get('block_size')
    assert prompt + out[0] == greedy_by_forward(model, prompt, n, block_size)


def test_top_k_1_and_tiny_top_p_are_greedy(tok):
    model = tiny_model('lstm', tok.vocab_size)
    greedy = generate(model, tok, 'То', max_new_tokens=30, temperature=0)
    for seed in (1, 2):
        assert generate(model, tok, 'То', max_new_tokens=30, temperature=1.5, top_k=1,
                        generator=seeded(seed)) == greedy
        assert generate(model, tok, 'То', max_new_tokens=30, temperature=1.5, top_p=1e-6,
                        generator=seeded(seed)) == greedy


def test_same_seed_same_text_and_the_batch_of_samples(tok):
    model = tiny_model('gpt', tok.vocab_size)
    settings = dict(num_samples=3, max_new_tokens=40, temperature=1.0, stop_at_eot=False)
    first = generate(model, tok, 'Буря', generator=seeded(7), **settings)
    assert generate(model, tok, 'Буря', generator=seeded(7), **settings) == first
    assert generate(model, tok, 'Буря', generator=seeded(8), **settings) != first
    assert [len(s) for s in first] == [40, 40, 40]
    assert len({tuple(s) for s in first}) == 3           # the samples of a batch are independent


def test_empty_prompt_starts_a_new_document(tok):
    model = tiny_model('gru', tok.vocab_size)
    assert encode_prompt(tok, '') == [tok.eot_id]
    out = generate(model, tok, '', max_new_tokens=10, temperature=0, stop_at_eot=False)
    assert out == generate(model, tok, [tok.eot_id], max_new_tokens=10, temperature=0, stop_at_eot=False)
    assert [tok.eot_id] + out[0] == greedy_by_forward(model, [tok.eot_id], 10)


def test_a_sample_ends_at_the_document_boundary():
    model, tok = TableModel(TRAP), TableTokenizer()
    assert generate(model, tok, [2], max_new_tokens=5, temperature=0) == [[3]]      # 2 -> 3 -> eot
    assert generate(model, tok, [2], max_new_tokens=5, temperature=0, stop_at_eot=False) == [[3, 4, 0, 1, 2]]
    # in a batch, finished samples leave it and the others go on
    out = generate(model, tok, [0], num_samples=20, max_new_tokens=6, temperature=1.0, generator=seeded(0))
    assert all(4 not in s and len(s) <= 6 for s in out)
    assert {len(s) for s in out} != {6}


def test_no_repeat_ngram_size(tok):
    model = tiny_model('gpt', tok.vocab_size)
    prompt = tok.encode('Буря мглою')
    plain = generate(model, tok, prompt, max_new_tokens=40, temperature=0, stop_at_eot=False)[0]
    assert has_repeated_ngram(prompt + plain, 2)         # an untrained model loops: the ban has work to do
    for n in (2, 3):
        for temperature in (0, 1.0):
            out = generate(model, tok, prompt, num_samples=2, max_new_tokens=40, temperature=temperature,
                           no_repeat_ngram_size=n, stop_at_eot=False, generator=seeded(0))
            for s in out:
                assert len(s) == 40 and not has_repeated_ngram(prompt + s, n)


def test_unencodable_prompt_names_the_characters(tok):
    with pytest.raises(ValueError, match=r"'Q' \(U\+0051\), '€' \(U\+20AC\)"):
        encode_prompt(tok, 'Буря Q мглою €')


def test_prompt_from_a_file(tmp_path):
    (tmp_path / 'p.txt').write_text('Мой дядя самых честных правил', encoding='utf-8')
    assert read_prompt(f'FILE:{tmp_path / "p.txt"}') == 'Мой дядя самых честных правил'
    assert read_prompt('FILE') == 'FILE'
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_prompt(f'FILE:{tmp_path / "nope.txt"}')


# -----------------------------------------------------------------------------
# beam search

def logprob_of(model, prompt, continuation):
    """Total log-probability of the continuation, computed with forward()."""
    ids = torch.tensor([prompt + continuation])
    logprobs = F.log_softmax(model(ids)[0][0, len(prompt) - 1:-1], dim=-1)
    return logprobs.gather(1, torch.tensor(continuation)[:, None]).sum().item()


def test_beam_search_escapes_the_greedy_trap():
    model, tok = TableModel(TRAP), TableTokenizer()
    options = SampleOptions(temperature=0, num_beams=2, max_new_tokens=2, stop_at_eot=False)
    assert generate(model, tok, [0], max_new_tokens=2, temperature=0) == [[1, 2]]   # p = .6 * .4
    ids, score = beam_search(model, tok, [0], options)
    assert ids == [2, 3]                                                             # p = .4 * .99
    assert score == pytest.approx((model.logprobs[0, 2] + model.logprobs[2, 3]).item() / 2, abs=1e-5)
    # with the boundary allowed, [2, 3, eot] scores better per token than any 3-token beam
    ids, score = beam_search(model, tok, [0], SampleOptions(temperature=0, num_beams=2, max_new_tokens=3))
    assert ids == [2, 3] and score == pytest.approx(math.log(.4 * .99 * .99) / 3, abs=1e-4)


def test_beam_scores_are_normalised_by_length():
    # ending at once has p = .5, going on 1 1 1 1 has p = .5 * .99^3: less in total, more per token
    model = TableModel([[0, .5, 0, 0, .5], [0, .99, 0, 0, .01]] + TRAP[2:])
    ids, score = beam_search(model, TableTokenizer(), [0], SampleOptions(temperature=0, num_beams=2,
                                                                         max_new_tokens=4))
    assert ids == [1, 1, 1, 1] and score == pytest.approx(math.log(.5 * .99 ** 3) / 4, abs=1e-4)


def test_one_beam_is_greedy(tok):
    model = tiny_model('gpt', tok.vocab_size)
    prompt = tok.encode('Вихри')
    options = SampleOptions(temperature=0, max_new_tokens=30, stop_at_eot=False)
    greedy = sample_loop(model, tok, prompt, options)[0]
    assert beam_search(model, tok, prompt, options)[0] == greedy


@pytest.mark.parametrize('model_type', ['gpt', 'lstm'])
def test_beam_search_scores_at_least_greedy(tok, model_type):
    model = tiny_model(model_type, tok.vocab_size, seed=3)
    prompt = tok.encode('Буря')
    n = 10                                                 # GPT stays inside block_size: forward() can score it
    greedy = generate(model, tok, prompt, max_new_tokens=n, temperature=0, stop_at_eot=False)[0]
    beam, score = beam_search(model, tok, prompt, SampleOptions(temperature=0, num_beams=4, max_new_tokens=n,
                                                                stop_at_eot=False))
    assert score == pytest.approx(logprob_of(model, prompt, beam) / n, abs=1e-4)   # the score is honest
    assert score >= logprob_of(model, prompt, greedy) / n - 1e-6


def test_the_original_nanopushkin_settings(tok):
    """Beams with top_k 20, top_p 0.8, temperature 0.7 and no repeated bigrams, past GPT's block_size."""
    model = tiny_model('gpt', tok.vocab_size)
    settings = dict(num_samples=2, max_new_tokens=40, num_beams=4, top_k=20, top_p=0.8, temperature=0.7,
                    no_repeat_ngram_size=2, stop_at_eot=False)
    out = generate(model, tok, 'Буря', generator=seeded(1), **settings)
    assert out == generate(model, tok, 'Буря', generator=seeded(1), **settings)
    prompt = tok.encode('Буря')
    for s in out:
        assert len(s) == 40 and not has_repeated_ngram(prompt + s, 2)
    deterministic = dict(settings, temperature=0)
    assert generate(model, tok, 'Буря', generator=seeded(1), **deterministic) == \
        generate(model, tok, 'Буря', generator=seeded(2), **deterministic)


# -----------------------------------------------------------------------------
# streaming

class Recorder(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = []

    def write(self, s):
        self.writes.append(s)
        return super().write(s)


def test_stream_printer_never_prints_half_a_character():
    tok, out = ByteTokenizer(), Recorder()
    printer = StreamPrinter(tok, out)
    for token in tok.encode(VERSE):                      # Cyrillic letters arrive in two halves
        printer.write_token(token)
    printer.finish()
    assert out.getvalue() == VERSE
    assert all(w for w in out.writes) and '\ufffd' not in out.getvalue()
    assert len(out.writes) == len(VERSE)                 # each character printed once, when whole
    printer.write_token(0xD0)                            # a sample ending in half a letter
    printer.finish()
    assert out.getvalue() == VERSE + '\ufffd'


def test_streamed_tokens_are_the_returned_ones(tok):
    model = tiny_model('rnn', tok.vocab_size)
    streamed = {0: [], 1: []}
    out = generate(model, tok, 'Буря', num_samples=2, max_new_tokens=20, temperature=1.0,
                   generator=seeded(3), on_token=lambda sample, token: streamed[sample].append(token))
    assert [streamed[0], streamed[1]] == out


# -----------------------------------------------------------------------------
# sample.py end to end, on a checkpoint made by the real training loop

@pytest.fixture(scope='module')
def trained_run(char_dataset, tmp_path_factory):
    trainer = pytest.importorskip('nanopushkin.trainer')
    from nanopushkin.config import TrainConfig
    out_dir = tmp_path_factory.mktemp('run')
    trainer.train(TrainConfig(out_dir=str(out_dir), data_dir=str(char_dataset), model='gpt', n_layer=1,
                              n_head=2, n_embd=16, block_size=32, batch_size=8, max_iters=20,
                              eval_interval=10, eval_iters=2, warmup_iters=2, lr_decay_iters=20,
                              device='cpu', progress=False, plot=False))
    return out_dir


def run_sample(*args):
    return subprocess.run([sys.executable, 'sample.py', *args], cwd=ROOT, capture_output=True, text=True,
                          encoding='utf-8', timeout=120)


def test_sample_py_streams_samples_from_a_checkpoint(trained_run, tmp_path, capsys):
    prompt = 'Мой дядя самых честных правил'
    (tmp_path / 'prompt.txt').write_text(prompt, encoding='utf-8')
    args = [f'--out_dir={trained_run}', '--start', f'FILE:{tmp_path / "prompt.txt"}', '--num_samples', '2',
            '--max_new_tokens=120', '--seed=5', '--device=cpu', '--stop_at_eot=False']
    result = run_sample(*args)
    assert result.returncode == 0, result.stderr
    samples = result.stdout.split('\n' + '-' * 40 + '\n')
    assert len(samples) == 3 and samples[2] == ''
    assert all(s.startswith(prompt) and len(s) > len(prompt) for s in samples[:2])
    assert re.fullmatch(r'generated 240 tokens in \d+\.\d\d s \(\d+\.\d tokens/s\)',
                        result.stderr.strip().splitlines()[-1])
    # the same seed without streaming prints the same text (in-process this time), and --style
    # adds the meter's verdict on stderr only (a meter with zero weights says 0.5 to everything)
    from nanopushkin.style import LOG2_BUCKETS, Meter
    Meter(torch.zeros(2 ** LOG2_BUCKETS), 0.0).save(tmp_path / 'meter.pt')
    import sample
    sample.main(args + ['--stream=False', '--style', f'--meter={tmp_path / "meter.pt"}'])
    out, err = capsys.readouterr()
    assert out == result.stdout
    assert err.count('style: P(Pushkin) = 0.50 (mean over') == 2
    # a meter with a vocabulary adds the share of the continuation's words it knows
    from nanopushkin.style import known_word_share, words_of
    continuations = [s[len(prompt):] for s in samples[:2]]
    vocabulary = frozenset(words_of(continuations[0])[::2])
    Meter(torch.zeros(2 ** LOG2_BUCKETS), 0.0, vocabulary=vocabulary).save(tmp_path / 'meter.pt')
    sample.main(args + ['--stream=False', '--style', f'--meter={tmp_path / "meter.pt"}'])
    verdicts = [line for line in capsys.readouterr().err.splitlines() if line.startswith('style:')]
    assert len(verdicts) == 2
    for verdict, continuation in zip(verdicts, continuations):
        assert verdict.startswith(f'style: P(Pushkin) = 0.50, known words '
                                  f'{known_word_share(continuation, vocabulary):.2f} (mean over ')
    assert 0 < known_word_share(continuations[0], vocabulary) < 1


def test_sample_py_beam_search_and_empty_prompt(trained_run, capsys):
    import sample
    sample.main([f'--out_dir={trained_run}', '--num_samples=1', '--max_new_tokens=20', '--num_beams=3',
                 '--top_k=20', '--top_p=0.8', '--temperature=0.7', '--no_repeat_ngram_size=2', '--device=cpu'])
    out, err = capsys.readouterr()
    assert out.endswith('\n' + '-' * 40 + '\n') and len(out) <= 20 + 42
    assert err.strip().splitlines()[-1].startswith('generated ')


def test_sample_py_unencodable_prompt_is_a_clear_error(trained_run, capsys):
    result = run_sample(f'--out_dir={trained_run}', '--start', 'Буря мглою ☃', '--device=cpu')
    assert result.returncode == 2
    assert "'☃' (U+2603)" in result.stderr and 'Traceback' not in result.stderr
    import sample
    with pytest.raises(SystemExit) as exit:
        sample.main([f'--out_dir={trained_run}', '--start=FILE:no/such/prompt.txt', '--device=cpu'])
    assert exit.value.code == 2 and 'no/such/prompt.txt' in capsys.readouterr().err


def test_sample_py_from_a_gpt2_format_folder(tok, tmp_path, capsys):
    """--init_from a GPT-2-format folder, with a byte-level BPE whose tokens split letters: what is
    streamed is exactly the decoded continuation (broken bytes of an untrained model included)."""
    from nanopushkin.hf import save_pretrained
    from tokenizer.bpe import BPETokenizer
    bpe = BPETokenizer.train(VERSE * 3, vocab_size=300)
    model = tiny_model('gpt', bpe.vocab_size)
    save_pretrained(model, bpe, tmp_path / 'gpt2')
    import sample
    sample.main(['--init_from', str(tmp_path / 'gpt2'), '--start', 'Буря', '--num_samples=1',
                 '--max_new_tokens=60', '--temperature=1.0', '--seed=3', '--device=cpu', '--stop_at_eot=False'])
    ids = generate(model, bpe, 'Буря', max_new_tokens=60, temperature=1.0, stop_at_eot=False,
                   generator=seeded(3))[0]
    assert capsys.readouterr().out == 'Буря' + bpe.decode(ids) + '\n' + '-' * 40 + '\n'


def test_sample_py_no_repeat_ngram_size_1_is_an_error_before_any_output(trained_run):
    result = run_sample(f'--out_dir={trained_run}', '--start', 'Мой дядя', '--no_repeat_ngram_size=1',
                        '--max_new_tokens=500', '--device=cpu')
    assert result.returncode == 2 and result.stdout == ''
    assert 'no_repeat_ngram_size=1' in result.stderr and 'Traceback' not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -----------------------------------------------------------------------------
# a vocabulary padded past the tokenizer's size

PAD = 13


def padded_gpt(bpe, seed=0):
    """A GPT whose embedding has PAD more rows than the tokenizer has tokens, as checkpoints padded to
    a multiple of 64 have. The extra rows get the largest logits (the lm_head is untied and biased),
    so a sampler that does not mask them draws them at every step, greedy and beams included."""
    model = build_model('gpt', {'vocab_size': bpe.vocab_size + PAD, **TINY_ARGS['gpt']})
    torch.manual_seed(seed)
    head = torch.nn.Linear(model.lm_head.in_features, bpe.vocab_size + PAD)
    with torch.no_grad():
        head.bias[bpe.vocab_size:] = 50.0
    model.lm_head = head
    return model.eval()


@pytest.fixture(scope='module')
def bpe():
    from tokenizer.bpe import BPETokenizer
    return BPETokenizer.train(VERSE * 3, vocab_size=300)


@pytest.mark.parametrize('settings', [dict(temperature=0), dict(temperature=1.0),
                                      dict(temperature=0.7, top_k=20, top_p=0.8, num_beams=2),
                                      dict(temperature=0, num_beams=3, no_repeat_ngram_size=2)])
def test_a_padded_vocabulary_never_yields_an_id_the_tokenizer_cannot_decode(bpe, settings):
    model = padded_gpt(bpe)
    assert model.step(torch.tensor([bpe.encode('Буря')]))[0].argmax() >= bpe.vocab_size   # the trap is set
    out = generate(model, bpe, 'Буря', num_samples=2, max_new_tokens=30, stop_at_eot=False, **settings)
    assert all(len(s) == 30 and max(s) < bpe.vocab_size for s in out)
    bpe.decode(out[0])                                   # decodes without complaint


def test_sample_py_samples_a_gpt2_folder_with_a_padded_vocabulary(bpe, tmp_path, capsys):
    """A GPT-2-format folder whose config.json says vocab_size = tokenizer size + PAD (tied weights,
    as saved; the padded rows are ordinary random rows): sampling 300 tokens at temperature 1 used to
    draw one of them and stop with 'token ids out of range'."""
    from nanopushkin.hf import save_pretrained
    torch.manual_seed(0)
    model = build_model('gpt', {'vocab_size': bpe.vocab_size + PAD, **TINY_ARGS['gpt']})
    with torch.no_grad():
        model.transformer.wte.weight[bpe.vocab_size:] = 0.0      # logit 0: drawn like any average token
    save_pretrained(model, bpe, tmp_path / 'padded')
    import sample
    sample.main(['--init_from', str(tmp_path / 'padded'), '--start', 'Буря', '--num_samples=2',
                 '--max_new_tokens=300', '--temperature=1.0', '--device=cpu', '--stop_at_eot=False'])
    out, err = capsys.readouterr()
    assert out.count('-' * 40) == 2 and 'generated 600 tokens' in err


# -----------------------------------------------------------------------------
# per-step reports (what the playground shows)

@pytest.mark.parametrize('settings', [dict(temperature=0), dict(temperature=0.9, top_k=10, top_p=0.9),
                                      dict(temperature=1.0, repetition_penalty=1.3, no_repeat_ngram_size=2)])
def test_on_step_reports_the_distribution_each_token_is_drawn_from(tok, settings):
    model = tiny_model('gpt', tok.vocab_size)
    options = SampleOptions(num_samples=2, max_new_tokens=25, stop_at_eot=False, **settings)
    reports = []
    with_reports = generate(model, tok, 'Буря', options, on_step=reports.append)
    assert with_reports == generate(model, tok, 'Буря', options)      # watching changes nothing
    assert [r.index for r in reports] == list(range(25))
    for step, r in enumerate(reports):
        assert isinstance(r, StepReport)
        assert r.logits.shape == r.probs.shape == (2, tok.vocab_size) and r.logits.dtype == torch.float32
        assert torch.allclose(r.probs.sum(-1), torch.ones(2))
        assert (r.probs.gather(1, r.chosen[:, None]) > 0).all()
        assert r.chosen.tolist() == [s[step] for s in with_reports]
    if settings['temperature'] == 0:
        assert (r.probs.max(-1).values == 1).all()                    # greedy draws from a one-hot
    if settings.get('top_k'):
        assert ((r.probs > 0).sum(-1) <= 10).all()                   # the cut distribution, not the model's


def test_on_step_logits_are_penalized_before_temperature(tok):
    """The reported logits are the model's after the penalties (a banned bigram is -inf), and probs
    is their softmax at the temperature."""
    model = tiny_model('gpt', tok.vocab_size)
    reports = []
    generate(model, tok, 'Буря мглою', max_new_tokens=20, temperature=0.5, no_repeat_ngram_size=2,
             stop_at_eot=False, on_step=reports.append)
    assert any(torch.isinf(r.logits).any() for r in reports)
    for r in reports:
        assert torch.allclose(r.probs, F.softmax(r.logits / 0.5, dim=-1), atol=1e-6)


def test_rows_leave_the_report_when_their_sample_ends():
    model, tok = TableModel(TRAP), TableTokenizer()
    reports = []
    out = generate(model, tok, [0], num_samples=20, max_new_tokens=6, temperature=1.0, on_step=reports.append)
    assert [len(r.chosen) for r in reports] == [sum(len(s) >= t for s in out) for t in range(len(reports))]


def test_the_same_options_give_the_same_text_without_a_generator(tok):
    model = tiny_model('lstm', tok.vocab_size)
    options = SampleOptions(max_new_tokens=30, temperature=1.0, stop_at_eot=False)
    assert generate(model, tok, 'То', options) == generate(model, tok, 'То', options, generator=seeded(1337))
    assert generate(model, tok, 'То', options, seed=1) != generate(model, tok, 'То', options)


def test_sample_py_with_a_corrupt_style_meter_is_a_one_line_error(trained_run, tmp_path):
    (tmp_path / 'meter.pt').write_bytes(b'PK\x03\x04 half of a zip file')
    result = run_sample(f'--out_dir={trained_run}', '--style', f'--meter={tmp_path / "meter.pt"}', '--device=cpu')
    assert result.returncode == 2 and result.stdout == ''
    assert result.stderr.startswith('error: ') and 'not a readable style meter' in result.stderr
    assert 'Traceback' not in result.stderr and len(result.stderr.strip().splitlines()) == 1
