"""The cases of every exercise: fixed inputs that catch the classic mistakes, then seeded random ones.

Each `*_cases()` function returns a list of (title, check); a check takes the student's module, calls
its functions and compares the answers with the project's implementation (through reference.py) or
with a direct computation. The inputs are the same on every run.
"""
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import torch
from torch.overrides import TorchFunctionMode

from exercises import reference
from exercises.checker import Mismatch, same_list, same_number, same_tensor

# A Pushkin poem to train small BPE tokenizers on (Я помню чудное мгновенье; Зимнее утро).
POEM = """Я помню чудное мгновенье:
Передо мной явилась ты,
Как мимолетное виденье,
Как гений чистой красоты.

В томленьях грусти безнадежной,
В тревогах шумной суеты,
Звучал мне долго голос нежный
И снились милые черты.

Мороз и солнце; день чудесный!
Еще ты дремлешь, друг прелестный —
Пора, красавица, проснись:
Открой сомкнуты негой взоры
Навстречу северной Авроры,
Звездою севера явись!
"""


@dataclass(frozen=True)
class Exercise:
    name: str                  # the file exercises/<name>.py and the name on the command line
    title: str
    functions: tuple           # the functions the student's file must define
    cases: Callable            # () -> [(title, check(module))]


def random_text(rng, n_words):
    """Words of the poem mixed with Latin, digits, punctuation, runs of spaces and rare characters."""
    words = POEM.split() + ['Pushkin', '1799', 'ёлка', 'ЁЖ', '...', '«Онегин»', 'naïve', '∑x²', '🙂', 'aaaa']
    gaps = [' ', ' ', ' ', '  ', '\n', '\n\n', '\t', ', ']
    return ''.join(rng.choice(words) + rng.choice(gaps) for _ in range(n_words))


# -----------------------------------------------------------------------------
# 1. bigram

def bigram_direct(train_text, val_text):
    """Bits per character of val under the add-one bigram of train, from a V x V count matrix."""
    index = {c: i for i, c in enumerate(sorted(set(train_text) | set(val_text)))}
    V = len(index)
    counts = torch.zeros(V, V, dtype=torch.float64)
    first = torch.tensor([index[c] for c in train_text[:-1]], dtype=torch.long)
    second = torch.tensor([index[c] for c in train_text[1:]], dtype=torch.long)
    counts.index_put_((first, second), torch.ones(len(first), dtype=torch.float64), accumulate=True)
    probs = (counts + 1) / (counts.sum(dim=1, keepdim=True) + V)
    val = torch.tensor([index[c] for c in val_text], dtype=torch.long)
    return float(-torch.log2(probs[val[:-1], val[1:]]).mean())


def project_unigram(train_text, val_text):
    with tempfile.TemporaryDirectory() as folder:
        return reference.project_unigram_bits_per_char(train_text, val_text, folder)


def bigram_cases():
    rng = random.Random(1)
    stanzas = POEM.split('\n\n')
    texts = [('abracadabra', 'cadabra!'), ('aaaa', 'aab'), ('\n\n'.join(stanzas[:2]), stanzas[2])]
    texts += [(''.join(rng.choice('аб вгд\n') for _ in range(rng.randint(30, 300))),
               ''.join(rng.choice('аб вгде\n') for _ in range(rng.randint(2, 100)))) for _ in range(3)]
    cases = []
    for train, val in texts:
        name = f'{train[:12]!r}{"..." if len(train) > 12 else ""} -> {val[:12]!r}{"..." if len(val) > 12 else ""}'

        def unigram(m, train=train, val=val):
            same_number('bits/char', project_unigram(train, val), m.unigram_bits_per_char(train, val))

        def bigram(m, train=train, val=val):
            same_number('bits/char', bigram_direct(train, val), m.bigram_bits_per_char(train, val))
        cases += [(f'unigram {name} (vs the project baseline)', unigram),
                  (f'bigram {name} (vs a count matrix)', bigram)]
    return cases


# -----------------------------------------------------------------------------
# 2. bpe_merge

def same_counts(what, expected, got):
    if not isinstance(got, dict):
        raise Mismatch(f'{what}: expected a dict {{(a, b): count}}, got {type(got).__name__}')
    for pair in sorted(set(expected) | set(got), key=repr):
        if expected.get(pair, 0) != got.get(pair, 0):
            raise Mismatch(f'{what}: pair {pair}: expected count {expected.get(pair, 0)}, got {got.get(pair, 0)}')


def check_merge(m, ids, pair, new_id, what):
    before = list(ids)
    got = m.merge(ids, pair, new_id)
    same_list(what, reference.merge(before, pair, new_id), got)
    if ids != before:
        raise Mismatch(f'merge changed its input list in place: {before} became {ids}')


def call_texts(function, ids, *args):
    """(case title, what a failure message calls the result): a short input is shown in the title,
    a long one only in the failure message."""
    rest = ''.join(f', {a}' for a in args)
    if len(ids) < 8:
        return f'{function}({ids}{rest})', 'result'
    return f'{function}(random list of {len(ids)}{rest})', f'{function}({ids}{rest})'


def train_with(m, steps):
    """BPE training on the poem driven by the student's get_pair_counts and merge: the merges."""
    words = [list(w.encode('utf-8')) for w in reference.GPT2_SPLIT_REGEX.findall(POEM)]
    merges = []
    for step in range(steps):
        counts = Counter()
        for ids in words:
            counts.update(dict(m.get_pair_counts(ids)))
        pair = min(counts, key=lambda p: (-counts[p], p))    # the project's rule: most frequent, then smallest
        words = [m.merge(ids, pair, 256 + step) for ids in words]
        merges.append(pair)
    return merges


def describe_merge(tokens, pair):
    """'(209, 129) = 'с'': the pair and the token it makes, as text when it is whole characters."""
    token = tokens[pair[0]] + tokens[pair[1]]
    try:
        return f'{pair} = {token.decode("utf-8")!r}'
    except UnicodeDecodeError:
        return f'{pair} = {token!r}'


def check_training(m, steps=40):
    expected = reference.BPETokenizer.train(POEM, 256 + steps + 1).merges
    got = train_with(m, steps)
    tokens = [bytes([b]) for b in range(256)]
    for step, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            raise Mismatch(f'merge #{step}: BPETokenizer.train merged {describe_merge(tokens, e)}, '
                           f'your functions led to {describe_merge(tokens, g)}')
        tokens.append(tokens[e[0]] + tokens[e[1]])


def bpe_merge_cases():
    count_inputs = [[7, 7, 7], [1, 2, 1, 2], [5], [], [3, 3, 3, 3, 4]]
    rng = random.Random(2)
    count_inputs += [[rng.randrange(4) for _ in range(rng.randint(0, 40))] for _ in range(3)]
    cases = []
    for ids in count_inputs:
        title, what = call_texts('get_pair_counts', ids)
        cases.append((title, lambda m, ids=ids, what=what: same_counts(what, Counter(zip(ids, ids[1:])),
                                                                       m.get_pair_counts(list(ids)))))
    merge_inputs = [([7, 7, 7], (7, 7)), ([7, 7, 7, 7], (7, 7)), ([1, 2, 3, 1, 2], (1, 2)),
                    ([3, 1, 2], (1, 2)), ([1, 2, 3], (2, 1)), ([], (1, 2))]
    merge_inputs += [([rng.randrange(3) for _ in range(rng.randint(0, 30))], (rng.randrange(3), rng.randrange(3)))
                     for _ in range(4)]
    for ids, pair in merge_inputs:
        title, what = call_texts('merge', ids, pair, 256)
        cases.append((title, lambda m, ids=ids, pair=pair, what=what: check_merge(m, ids, pair, 256, what)))
    cases.append(('40 training steps on the poem learn the merges of BPETokenizer.train', check_training))
    return cases


# -----------------------------------------------------------------------------
# 3. bpe_encode

def check_encoding(m, tokenizer, text):
    merges = tokenizer.merges
    got = []
    for word in reference.GPT2_SPLIT_REGEX.findall(text):
        ids = m.encode_word(word.encode('utf-8'), merges)
        same_list(f'word {word!r}', tokenizer.encode_ordinary(word), ids)
        got += ids
    same_list('the whole text', tokenizer.encode_ordinary(text), got)


def bpe_encode_cases():
    tokenizer = reference.BPETokenizer.train(POEM, 256 + 150 + 1)
    tiny = [('aaa', [(97, 97)]), ('aaaaa', [(97, 97), (256, 256)]),
            ('abc', [(98, 99), (97, 98)]),        # the later merge (a, b) must not win over (b, c)
            ('abcd', [(99, 100), (97, 98), (257, 256)])]
    cases = []
    for text, merges in tiny:
        tiny_tokenizer = reference.tokenizer_from_merges(merges)
        cases.append((f'{text!r} with merges {merges}', lambda m, t=tiny_tokenizer, text=text: check_encoding(m, t, text)))
    cases.append(('the poem itself, 150 merges', lambda m: check_encoding(m, tokenizer, POEM)))
    rng = random.Random(3)
    for i in range(4):
        text = random_text(rng, 40)
        cases.append((f'random text {i + 1} ({len(text)} characters)', lambda m, text=text: check_encoding(m, tokenizer, text)))
    return cases


# -----------------------------------------------------------------------------
# 4. bits_per_char

def bits_per_char_cases():
    rng = random.Random(4)
    inputs = [(2.0, {'val': {'tokens': 100, 'chars': 250}}, 'val'),
              (1.5, {'train': {'tokens': 300, 'chars': 300}, 'val': {'tokens': 1, 'chars': 9}}, 'train'),
              (7.25, {'val': {'tokens': 60_000, 'chars': 150_000}, 'train': {'tokens': 1, 'chars': 1}}, 'val')]
    for _ in range(4):
        tokens = rng.randint(1, 10**6)
        inputs.append((rng.uniform(0.5, 8), {'val': {'tokens': tokens, 'chars': tokens * rng.randint(1, 6)},
                                             'train': {'tokens': 3, 'chars': 7}}, rng.choice(['val', 'train'])))
    return [(f'loss {loss:.4g}, {split} {meta[split]}',
             lambda m, loss=loss, meta=meta, split=split: same_number(
                 'bits/char', reference.bits_per_char(loss, meta, split), m.bits_per_char(loss, meta, split), rel=1e-12))
            for loss, meta, split in inputs]


# -----------------------------------------------------------------------------
# 5, 6. gru_cell, lstm_cell: the same weights in torch.nn's cell, the project's cell and the student's

CELL_SIZES = [(1, 3, 2), (4, 5, 7), (3, 1, 6)]       # (batch, input size, hidden size)


def cell_cases(kind):
    """Cases for 'gru' or 'lstm': each size against torch.nn's cell and against the project's."""
    torch_cell = {'gru': torch.nn.GRUCell, 'lstm': torch.nn.LSTMCell}[kind]
    project_cell = {'gru': reference.GRUCell, 'lstm': reference.LSTMCell}[kind]
    cases = []
    for seed, (B, I, H) in enumerate(CELL_SIZES):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(B, I, generator=g, dtype=torch.float64)
        state = tuple(torch.randn(B, H, generator=g, dtype=torch.float64) for _ in range(1 + (kind == 'lstm')))
        if seed == 0:
            state = tuple(torch.zeros_like(s) for s in state)   # the first step of a sequence
        rows = (3 if kind == 'gru' else 4) * H           # the gates stacked
        weights = {name: torch.randn(shape, generator=g, dtype=torch.float64)
                   for name, shape in [('weight_ih', (rows, I)), ('weight_hh', (rows, H)),
                                       ('bias_ih', (rows,)), ('bias_hh', (rows,))]}
        ours = torch_cell(I, H).double()
        ours.load_state_dict(weights)
        theirs = project_cell(I, H).double()
        theirs.load_state_dict(weights)
        with torch.no_grad():
            by_torch = ours(x, state[0] if kind == 'gru' else state)
            by_project = theirs(x, state)
        by_torch = (by_torch,) if kind == 'gru' else by_torch
        size = f'batch {B}, input {I}, hidden {H}' + (', zero state' if seed == 0 else '')
        for oracle, expected in [(f'torch.nn.{torch_cell.__name__}', by_torch), (f'the project\'s {project_cell.__name__}', by_project)]:
            cases.append((f'{size}, vs {oracle}',
                          lambda m, x=x, state=state, weights=weights, expected=expected:
                              check_cell(m, kind, x, state, weights, expected)))
    return cases


def check_cell(m, kind, x, state, weights, expected):
    w = [weights[k].clone() for k in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh')]
    if kind == 'gru':
        same_tensor("h'", expected[0], m.gru_cell(x.clone(), state[0].clone(), *w))
        return
    got = m.lstm_cell(x.clone(), state[0].clone(), state[1].clone(), *w)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Mismatch(f"expected a tuple (h', c'), got {type(got).__name__}")
    same_tensor("c'", expected[1], got[1])
    same_tensor("h'", expected[0], got[0])


# -----------------------------------------------------------------------------
# 7. kv_attention

def check_attention(m, batch, n_head, head_size, T, seed):
    torch.manual_seed(seed)                    # the layer's initial weights
    C = n_head * head_size
    layer = reference.attention_layer(C, n_head, T)
    x = torch.randn(batch, T, C, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    with torch.no_grad():
        full, (keys, values) = layer(x)        # the whole sequence at once, causally masked
        q, k, v = reference.split_qkv(layer, x)
        if not (torch.equal(k, keys) and torch.equal(v, values)):
            raise RuntimeError('exercises/reference.py split_qkv no longer matches the project\'s layer')
        cache = None
        for t in range(T):
            y, cache = m.attention_step(q[:, :, t:t + 1], k[:, :, t:t + 1], v[:, :, t:t + 1], cache)
            if not (isinstance(cache, tuple) and len(cache) == 2):
                raise Mismatch(f'position {t}: the cache must be a tuple (keys, values), got {type(cache).__name__}')
            same_tensor(f'position {t}: cached keys', keys[:, :, :t + 1], cache[0])
            same_tensor(f'position {t}: cached values', values[:, :, :t + 1], cache[1])
            if not torch.is_tensor(y) or y.shape != (batch, n_head, 1, head_size):
                raise Mismatch(f'position {t}: y must be a tensor of shape {(batch, n_head, 1, head_size)}, '
                               f'got {tuple(y.shape) if torch.is_tensor(y) else type(y).__name__}')
            out = layer.c_proj(y.transpose(1, 2).reshape(batch, 1, C))
            same_tensor(f'position {t}: the layer\'s output (after the output projection)', full[:, t:t + 1], out)


def kv_attention_cases():
    shapes = [(1, 1, 4, 1), (1, 1, 4, 6), (2, 3, 4, 7), (3, 2, 8, 12)]     # batch, heads, head size, positions
    return [(f'batch {b}, {h} head{"s" if h > 1 else ""} of size {hs}, {T} position{"s" if T > 1 else ""}',
             lambda m, b=b, h=h, hs=hs, T=T, seed=seed: check_attention(m, b, h, hs, T, seed))
            for seed, (b, h, hs, T) in enumerate(shapes)]


# -----------------------------------------------------------------------------
# 8, 9. temperature_top_k, top_p

def check_filter(m, name, logits, args, expected):
    before = logits.clone()
    got = getattr(m, name)(logits, *args)
    same_tensor('logits', expected, got, atol=1e-12, rtol=1e-12)
    unchanged(name, 'logits', before, logits)


def unchanged(function, what, before, after):
    """The student's function must leave its input tensor as it was."""
    if not torch.equal(before, after):
        raise Mismatch(f'{function} changed its input {what} in place')


def random_logits(seed, rows, vocab, integers=False):
    g = torch.Generator().manual_seed(seed)
    if integers:                               # small integers: many ties
        return torch.randint(-3, 4, (rows, vocab), generator=g).double()
    return 2 * torch.randn(rows, vocab, generator=g, dtype=torch.float64)


def temperature_top_k_cases():
    row = torch.tensor([[1.0, 4.0, 2.0, 3.0]], dtype=torch.float64)
    inputs = [('[[1, 4, 2, 3]]', row, 1.0, 2), ('[[1, 4, 2, 3]]', row, 0.5, 0), ('[[1, 4, 2, 3]]', row, 2.0, 4),
              ('[[1, 3, 3, 2]] (a tie at the k-th)', torch.tensor([[1.0, 3.0, 3.0, 2.0]], dtype=torch.float64), 1.0, 1),
              ('random, 3 x 10, integers with ties', random_logits(5, 3, 10, integers=True), 0.7, 3),
              ('random, 4 x 50', random_logits(6, 4, 50), 1.3, 10),
              ('random, 2 x 50', random_logits(7, 2, 50), 0.8, 1)]
    return [(f'{name}, temperature {temp}, top_k {k}',
             lambda m, logits=logits, temp=temp, k=k: check_filter(
                 m, 'warp', logits, (temp, k), reference.keep_top_k(logits / temp, k)))
            for name, logits, temp, k in inputs]


def top_p_cases():
    probs = torch.tensor([[0.2, 0.5, 0.3]], dtype=torch.float64)
    inputs = [('probabilities [[0.2, 0.5, 0.3]]', probs.log(), p) for p in (0.45, 0.55, 0.9, 1.0)]
    inputs += [(f'random, 4 x 50, seed {seed}', random_logits(seed, 4, 50), p)
               for seed, p in [(8, 0.1), (9, 0.5), (10, 0.8), (11, 0.95)]]
    inputs.append(('random, 2 x 5, one token very likely', torch.tensor([[9.0, 0, 1, 0.5, -1], [0, 1, 2, 3, 4]],
                                                                          dtype=torch.float64), 0.7))
    return [(f'{name}, p {p}', lambda m, logits=logits, p=p: check_filter(
                m, 'keep_top_p', logits, (p,), reference.keep_top_p(logits, p)))
            for name, logits, p in inputs]


# -----------------------------------------------------------------------------
# 10. rotary

def rotated_as_complex(x, start, base=10000.0):
    """x rotated by a direct computation: pair i of a row is the complex number x_i + i x_{i + head_size/2},
    multiplied by e^(i theta) with theta = position * base^(-2i / head_size), in Python's floats."""
    T, head_size = x.size(-2), x.size(-1)
    half = head_size // 2
    pairs = torch.complex(x[..., :half], x[..., half:])
    angles = torch.tensor([[position * base ** (-2 * i / head_size) for i in range(half)]
                           for position in range(start, start + T)], dtype=torch.float64)
    turned = pairs * torch.polar(torch.ones_like(angles), angles)
    return torch.cat([turned.real, turned.imag], dim=-1)


def check_rotary(m, x, start, expected):
    before = x.clone()
    same_tensor('rotated x', expected, m.rotate(x, start))
    unchanged('rotate', 'x', before, x)


# (B, n_head, T, head_size), start: one pair; two pairs (halves and neighbours differ); after a cache;
# far along, where float32 angles are visibly off
ROTARY_INPUTS = [((1, 1, 3, 2), 0), ((1, 1, 4, 4), 0), ((2, 3, 5, 8), 0), ((1, 2, 3, 8), 7), ((2, 2, 6, 16), 100),
                 ((1, 1, 1, 6), 12345)]


def rotary_cases():
    cases = []
    for seed, (shape, start) in enumerate(ROTARY_INPUTS):
        x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        B, n_head, T, head_size = shape
        by_project = reference.apply_rotary(x, *reference.rotary_tables(start, T, head_size))
        positions = f'position {start}' if T == 1 else f'positions {start}..{start + T - 1}'
        size = f'batch {B}, {n_head} head{"s" if n_head > 1 else ""} of size {head_size}, {positions}'
        for oracle, expected in [("the project's apply_rotary", by_project),
                                 ('a rotation of complex numbers', rotated_as_complex(x, start))]:
            cases.append((f'{size}, vs {oracle}',
                          lambda m, x=x, start=start, expected=expected: check_rotary(m, x, start, expected)))
    return cases


# -----------------------------------------------------------------------------
# 11. newton_schulz

class LargestTensor(TorchFunctionMode):
    """Inside `with LargestTensor() as watch:`, watch.largest is the most entries of any tensor a
    torch operation made: the size of the biggest intermediate, e.g. a Gram matrix X X^T."""
    largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if torch.is_tensor(result):
            self.largest = max(self.largest, result.numel())
        return result


def polynomial_on_singular_values(G, steps):
    """The iteration by another road: its polynomial acts on each singular value of the normalised
    G alone and keeps the singular vectors, so apply it to the singular values of an SVD."""
    U, S, Vh = torch.linalg.svd(G, full_matrices=False)
    s = S / (G.norm() + 1e-7)
    a, b, c = reference.NS_COEFFICIENTS
    for _ in range(steps):
        s = a * s + b * s ** 3 + c * s ** 5
    return U @ torch.diag(s) @ Vh


def check_newton_schulz(m, G, steps, expected):
    before = G.clone()
    with LargestTensor() as watch:
        got = m.newton_schulz(G, steps)
    same_tensor('X', expected, got, rtol=1e-6)
    unchanged('newton_schulz', 'G', before, G)
    rows, columns = G.shape
    if watch.largest > G.numel():
        raise Mismatch(f'the answer is right, but a tensor of {watch.largest} entries was made on the way (X X^T '
                       f'of the {rows} x {columns} X is {rows} x {rows}): work on the wide side, X^T, whose X X^T '
                       f'is {columns} x {columns}')


def check_band(m, G, low=0.68, high=1.21):
    got = m.newton_schulz(G.clone(), 5)
    if not torch.is_tensor(got) or got.shape != G.shape:
        raise Mismatch(f'expected a tensor of shape {tuple(G.shape)}, got '
                       f'{tuple(got.shape) if torch.is_tensor(got) else type(got).__name__}')
    if not torch.isfinite(got).all():
        raise Mismatch('X has entries that are inf or nan: the iteration blew up')
    singular_values = torch.linalg.svdvals(got)
    smallest, largest = float(singular_values.min()), float(singular_values.max())
    if not (low < smallest and largest < high):
        raise Mismatch(f'singular values of X: expected all within {low}..{high}, got {smallest:.4g}..{largest:.4g}')


def newton_schulz_cases():
    # (shape, steps, scale): wide, square and tall; a row and a column; the scale of G must not matter
    inputs = [((3, 5), 1, 1.0), ((4, 4), 5, 1.0), ((5, 3), 5, 1.0), ((1, 6), 5, 1.0), ((6, 1), 5, 1.0),
              ((16, 40), 5, 1.0), ((40, 16), 3, 1.0), ((8, 8), 10, 1.0), ((6, 9), 5, 1000.0), ((9, 6), 5, 0.001)]
    cases = []
    for seed, (shape, steps, scale) in enumerate(inputs):
        G = scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        title = f'{shape[0]} x {shape[1]}{" (tall)" if shape[0] > shape[1] else ""}, entries of scale {scale:g}, ' \
                f'{steps} step{"s" if steps > 1 else ""}'
        cases.append((f"{title}, vs the project's orthogonalize",
                      lambda m, G=G, steps=steps: check_newton_schulz(m, G, steps, reference.orthogonalize(G, steps))))
    for seed, shape in enumerate([(24, 64), (64, 24)], start=len(inputs)):
        G = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        cases.append((f'{shape[0]} x {shape[1]}, 5 steps, vs the polynomial on the singular values of an SVD',
                      lambda m, G=G: check_newton_schulz(m, G, 5, polynomial_on_singular_values(G, 5))))
    G = torch.randn(64, 24, generator=torch.Generator().manual_seed(20), dtype=torch.float64)
    cases.append(('64 x 24, 5 steps: every singular value ends within 0.68..1.21', lambda m: check_band(m, G)))
    return cases


# -----------------------------------------------------------------------------
# the exercises, in the order of the journey

EXERCISES = [
    Exercise('bigram', 'unigram and bigram bits/char from counts', ('unigram_bits_per_char', 'bigram_bits_per_char'), bigram_cases),
    Exercise('bpe_merge', 'one BPE training step: pair counts and a merge', ('get_pair_counts', 'merge'), bpe_merge_cases),
    Exercise('bpe_encode', 'encoding a word with a learned merge list', ('encode_word',), bpe_encode_cases),
    Exercise('bits_per_char', 'bits per character from a loss in nats per token', ('bits_per_char',), bits_per_char_cases),
    Exercise('gru_cell', "a GRU cell's forward step", ('gru_cell',), lambda: cell_cases('gru')),
    Exercise('lstm_cell', "an LSTM cell's forward step", ('lstm_cell',), lambda: cell_cases('lstm')),
    Exercise('kv_attention', 'one attention step with a key/value cache', ('attention_step',), kv_attention_cases),
    Exercise('temperature_top_k', 'temperature and top-k', ('warp',), temperature_top_k_cases),
    Exercise('top_p', 'top-p (nucleus) filtering', ('keep_top_p',), top_p_cases),
    Exercise('rotary', 'rotary position embeddings of queries or keys', ('rotate',), rotary_cases),
    Exercise('newton_schulz', "one Newton-Schulz orthogonalisation (Muon's)", ('newton_schulz',), newton_schulz_cases),
]
