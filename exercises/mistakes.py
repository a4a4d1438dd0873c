"""The common wrong answers of each exercise, written out as code, so the checker can name them.

When a case fails, the checker runs the case again with each mistake below beside your function:
if your answers equal the mistake's answers on that case, the report says "likely mistake: ..."
with the hint. A mistake defines only the functions it gets wrong.

Reading this file spoils the exercises as much as the solutions do: try first.
"""
import math
from collections import Counter
from dataclasses import dataclass

import torch

from exercises import reference


@dataclass(frozen=True)
class Mistake:
    hint: str              # what went wrong and what is right, in a line
    functions: dict        # {name: the wrong function}


# -----------------------------------------------------------------------------
# 1. bigram

def smoothed_bits(train_text, val_text, log=math.log2, plus_v=True, v_of_train_only=False,
                  starts_include_last=False, mean_over_chars=False):
    """Unigram and bigram bits/char with one of the usual slips switched on."""
    V = len(set(train_text) if v_of_train_only else set(train_text) | set(val_text))
    add = V if plus_v else 1
    counts = Counter(train_text)
    unigram = -sum(log((counts[c] + 1) / (len(train_text) + add)) for c in val_text) / len(val_text)
    pairs = Counter(zip(train_text, train_text[1:]))
    starts = Counter(train_text if starts_include_last else train_text[:-1])
    val_pairs = list(zip(val_text, val_text[1:]))
    bits = -sum(log((pairs[a, b] + 1) / (starts[a] + add)) for a, b in val_pairs)
    return unigram, bits / (len(val_text) if mean_over_chars else len(val_pairs))


def bigram_mistake(hint, **slip):
    return Mistake(hint, {'unigram_bits_per_char': lambda train, val: smoothed_bits(train, val, **slip)[0],
                          'bigram_bits_per_char': lambda train, val: smoothed_bits(train, val, **slip)[1]})


BIGRAM = [
    bigram_mistake('the denominator adds 1 instead of V: add-one smoothing adds 1 to each of the V characters\' '
                   'counts, so the total grows by V (else the probabilities do not add up to 1)', plus_v=False),
    bigram_mistake('natural log: bits need log2 (or ln / ln 2)', log=math.log),
    bigram_mistake('V counts the training text\'s characters only; the vocabulary is every character of both '
                   'texts', v_of_train_only=True),
    bigram_mistake('the last character of train starts no pair: count pair starts over train[:-1]',
                   starts_include_last=True),
    bigram_mistake('the bigram averages over the len(val) - 1 pairs of val, not its len(val) characters',
                   mean_over_chars=True),
]


# -----------------------------------------------------------------------------
# 2. bpe_merge, 3. bpe_encode

def merge_overlapping(ids, pair, new_id):
    """After a match, steps one id instead of two: [7, 7, 7] with (7, 7) becomes [256, 256]."""
    out = []
    for i in range(len(ids)):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
        elif not (i > 0 and (ids[i - 1], ids[i]) == pair):
            out.append(ids[i])
    return out


def merge_drops_last(ids, pair, new_id):
    """Loops over the pairs only, so a last id that ends no merged pair is lost."""
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


BPE_MERGE = [
    Mistake('count every occurrence of a pair, not each distinct pair once',
            {'get_pair_counts': lambda ids: Counter(set(zip(ids, ids[1:])))}),
    Mistake('off by one: the pairs are (ids[i], ids[i + 1]) for i up to len(ids) - 2; the last pair is missing',
            {'get_pair_counts': lambda ids: Counter(zip(ids[:-2], ids[1:-1]))}),
    Mistake('after a merge skip both ids of the pair: [7, 7, 7] with (7, 7) is [256, 7], an id is used once',
            {'merge': merge_overlapping}),
    Mistake('off by one: the last id is lost when it is not part of a merged pair; copy it too',
            {'merge': merge_drops_last}),
]


def encode_with(word_bytes, merges, choose, new_id_of_rank=lambda r: 256 + r, once=False):
    """BPE encoding that merges the pair `choose(pairs with a merge, rank)` picks, everywhere in the word."""
    rank = {pair: r for r, pair in enumerate(merges)}
    ids = list(word_bytes)
    while True:
        candidates = [p for p in zip(ids, ids[1:]) if p in rank]
        if not candidates:
            return ids
        best = choose(candidates, rank)
        ids = reference.merge(ids, best, new_id_of_rank(rank[best]))
        if once:
            return ids


def lowest_rank(candidates, rank):
    return min(candidates, key=rank.get)


BPE_ENCODE = [
    Mistake('merge the pair with the lowest rank (learned first) wherever it is, not the leftmost pair that '
            'has a merge', {'encode_word': lambda w, m: encode_with(w, m, lambda candidates, rank: candidates[0])}),
    Mistake('merge i makes the id 256 + i (ids 0..255 are the bytes), not i',
            {'encode_word': lambda w, m: encode_with(w, m, lowest_rank, new_id_of_rank=lambda r: r)}),
    Mistake('keep merging until no pair of the word has a merge: a new token can pair with its neighbour',
            {'encode_word': lambda w, m: encode_with(w, m, lowest_rank, once=True)}),
]


# -----------------------------------------------------------------------------
# 4. bits_per_char

BITS_PER_CHAR = [
    Mistake('the ratio is upside down: nats per character = loss * tokens / chars (the loss is per token)',
            {'bits_per_char': lambda loss, meta, split='val':
                loss * meta[split]['chars'] / meta[split]['tokens'] / math.log(2)}),
    Mistake('that is nats per character: divide by ln 2 to get bits',
            {'bits_per_char': lambda loss, meta, split='val': loss * meta[split]['tokens'] / meta[split]['chars']}),
    Mistake('that is bits per token: multiply by tokens / chars to get bits per character',
            {'bits_per_char': lambda loss, meta, split='val': loss / math.log(2)}),
]


# -----------------------------------------------------------------------------
# 5. gru_cell, 6. lstm_cell

def gru_with(x, h, weight_ih, weight_hh, bias_ih, bias_hh, order='rzn', reset_all=False, z_swapped=False):
    gx = dict(zip(order, (x @ weight_ih.T + bias_ih).chunk(3, dim=1)))
    gh = dict(zip(order, (h @ weight_hh.T + bias_hh).chunk(3, dim=1)))
    r, z = torch.sigmoid(gx['r'] + gh['r']), torch.sigmoid(gx['z'] + gh['z'])
    n = torch.tanh(r * (gx['n'] + gh['n'])) if reset_all else torch.tanh(gx['n'] + r * gh['n'])
    return z * n + (1 - z) * h if z_swapped else (1 - z) * n + z * h


def lstm_with(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, order='ifgo', h_without_tanh=False,
              g_sigmoid=False):
    gates = dict(zip(order, (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)))
    g = torch.sigmoid(gates['g']) if g_sigmoid else torch.tanh(gates['g'])
    c = torch.sigmoid(gates['f']) * c + torch.sigmoid(gates['i']) * g
    o = torch.sigmoid(gates['o'])
    return (o * c if h_without_tanh else o * torch.tanh(c)), c


GRU_CELL = [
    Mistake('the reset gate scales only the hidden part of the candidate: n = tanh(W_in x + b_in + r * (W_hn h + '
            'b_hn))', {'gru_cell': lambda *a: gru_with(*a, reset_all=True)}),
    Mistake("z is the share of the old state kept: h' = (1 - z) * n + z * h",
            {'gru_cell': lambda *a: gru_with(*a, z_swapped=True)}),
    Mistake('the rows of the weights are stacked r, z, n (PyTorch\'s order)',
            {'gru_cell': lambda *a: gru_with(*a, order='zrn')}),
]

LSTM_CELL = [
    Mistake('the rows of the weights are stacked i, f, g, o (PyTorch\'s order), not i, f, o, g',
            {'lstm_cell': lambda *a: lstm_with(*a, order='ifog')}),
    Mistake("h' = o * tanh(c'): the cell state goes through tanh before the output gate",
            {'lstm_cell': lambda *a: lstm_with(*a, h_without_tanh=True)}),
    Mistake('the candidate g goes through tanh (values in -1..1), not sigmoid',
            {'lstm_cell': lambda *a: lstm_with(*a, g_sigmoid=True)}),
]


# -----------------------------------------------------------------------------
# 7. kv_attention

def attend_with(q, k, v, cache, scale=None, softmax_dim=-1, before_append=False):
    keys = k if cache is None else torch.cat([cache[0], k], dim=2)
    values = v if cache is None else torch.cat([cache[1], v], dim=2)
    seen_k, seen_v = (cache if before_append and cache is not None else (keys, values))
    scale = math.sqrt(q.size(-1)) if scale is None else scale(q.size(-1))
    weights = torch.softmax(q @ seen_k.transpose(-2, -1) / scale, dim=softmax_dim)
    return weights @ seen_v, (keys, values)


KV_ATTENTION = [
    Mistake('divide the scores q @ k^T by sqrt(head size), as the full attention does',
            {'attention_step': lambda *a: attend_with(*a, scale=lambda size: 1.0)}),
    Mistake('divide the scores by sqrt(head size), not by the head size',
            {'attention_step': lambda *a: attend_with(*a, scale=lambda size: size)}),
    Mistake('softmax over the keys (the last axis: one weight per cached position), not over the queries',
            {'attention_step': lambda *a: attend_with(*a, softmax_dim=-2)}),
    Mistake('append the new key and value to the cache before attending: a position attends to itself too '
            '(the diagonal of the causal mask)', {'attention_step': lambda *a: attend_with(*a, before_append=True)}),
]


# -----------------------------------------------------------------------------
# 8. temperature_top_k, 9. top_p

def warp_with(logits, temperature, top_k, multiply=False, exact_k=False, kth_index=None, fill=float('-inf')):
    logits = logits * temperature if multiply else logits / temperature
    if top_k == 0 or top_k >= logits.size(-1):
        return logits
    if exact_k:
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, logits.topk(top_k).indices, True)
        return logits.masked_fill(~keep, fill)
    index = top_k - 1 if kth_index is None else kth_index(top_k)
    kth = logits.sort(dim=-1, descending=True).values[:, index:index + 1]
    return logits.masked_fill(logits < kth, fill)


def top_p_with(logits, p, crossing_dropped=False, of_logits=False, ascending=False):
    probs = logits if of_logits else torch.softmax(logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=not ascending)
    mass = sorted_probs.cumsum(dim=-1) if crossing_dropped else sorted_probs.cumsum(dim=-1) - sorted_probs
    drop_sorted = mass >= p
    drop_sorted[..., 0] = False                # whatever the rule, the most likely token stays
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float('-inf'))


TEMPERATURE_TOP_K = [
    Mistake('divide the logits by the temperature (a high temperature flattens), not multiply',
            {'warp': lambda *a: warp_with(*a, multiply=True)}),
    Mistake('keep every token tied with the k-th highest: compare with the k-th value, not torch.topk\'s k '
            'indices', {'warp': lambda *a: warp_with(*a, exact_k=True)}),
    Mistake('off by one: the k-th highest logit is at index k - 1 of the sorted logits',
            {'warp': lambda *a: warp_with(*a, kth_index=lambda k: k)}),
    Mistake('a dropped token gets the logit -inf (probability 0); a logit of 0 is still a likely token',
            {'warp': lambda *a: warp_with(*a, fill=0.0)}),
]

TOP_P = [
    Mistake('one token too few: keep the token whose probability crosses p (drop a token only when the mass '
            'before it already reaches p)', {'keep_top_p': lambda *a: top_p_with(*a, crossing_dropped=True)}),
    Mistake('p is a share of probability: sum the softmax of the logits, not the logits',
            {'keep_top_p': lambda *a: top_p_with(*a, of_logits=True)}),
    Mistake('sort from the most likely token down (descending), then keep the head of the list',
            {'keep_top_p': lambda *a: top_p_with(*a, ascending=True)}),
]

# -----------------------------------------------------------------------------
# 10. rotary

def rotate_with(x, start, neighbours=False, reversed_frequencies=False, exponent_per_dimension=2,
                first_position=lambda start: start, backwards=False):
    """Rotary embedding with one of the usual slips switched on."""
    T, head_size = x.size(-2), x.size(-1)
    i = torch.arange(head_size // 2, dtype=x.dtype)
    frequencies = 10000.0 ** -(exponent_per_dimension * i / head_size)
    if reversed_frequencies:
        frequencies = frequencies.flip(0)
    first = first_position(start)
    angles = torch.arange(first, first + T, dtype=x.dtype)[:, None] * frequencies
    cos, sin = angles.cos(), angles.sin() * (-1 if backwards else 1)
    a, b = (x[..., 0::2], x[..., 1::2]) if neighbours else x.chunk(2, dim=-1)
    turned_a, turned_b = a * cos - b * sin, a * sin + b * cos
    if neighbours:
        return torch.stack([turned_a, turned_b], dim=-1).flatten(-2)
    return torch.cat([turned_a, turned_b], dim=-1)


ROTARY = [
    Mistake('pair dimension i with i + head_size/2 (the two halves of the head, this project\'s convention), '
            'not the neighbours 2i and 2i + 1', {'rotate': lambda *a: rotate_with(*a, neighbours=True)}),
    Mistake('pair 0 turns fastest: the frequency base^(-2i / head_size) falls as i grows, it does not rise',
            {'rotate': lambda *a: rotate_with(*a, reversed_frequencies=True)}),
    Mistake('the exponent is -2i / head_size (i counts pairs, two dimensions each), not -i / head_size',
            {'rotate': lambda *a: rotate_with(*a, exponent_per_dimension=1)}),
    Mistake('the rows are at positions start, start + 1, ...: add start (after a cache the first row is not '
            'at position 0)', {'rotate': lambda *a: rotate_with(*a, first_position=lambda start: 0)}),
    Mistake('off by one: the first row is at position start, not start + 1 (position 0 is not turned at all)',
            {'rotate': lambda *a: rotate_with(*a, first_position=lambda start: start + 1)}),
    Mistake('turn by +theta: (a, b) -> (a cos - b sin, a sin + b cos), not the other way round',
            {'rotate': lambda *a: rotate_with(*a, backwards=True)}),
]


# -----------------------------------------------------------------------------
# 11. newton_schulz

def newton_schulz_with(G, steps, normalise=True, coefficients=reference.NS_COEFFICIENTS, steps_done=lambda n: n,
                       transpose_tall=True, transpose_back=True):
    """The quintic Newton-Schulz iteration with one of the usual slips switched on."""
    a, b, c = coefficients
    X = G / (G.norm() + 1e-7) if normalise else G
    tall = transpose_tall and X.size(0) > X.size(1)
    if tall:
        X = X.T
    for _ in range(steps_done(steps)):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall and transpose_back else X


NEWTON_SCHULZ = [
    Mistake('normalise first: X = G / (||G|| + 1e-7); the polynomial brings singular values in 0..1 near 1 and '
            'blows larger ones up', {'newton_schulz': lambda *a: newton_schulz_with(*a, normalise=False)}),
    Mistake('the coefficients are in the order a, b, c: a X + b (X X^T) X + c (X X^T)^2 X',
            {'newton_schulz': lambda *a: newton_schulz_with(*a, coefficients=reference.NS_COEFFICIENTS[::-1])}),
    Mistake('off by one: run `steps` iterations, not steps - 1',
            {'newton_schulz': lambda *a: newton_schulz_with(*a, steps_done=lambda n: n - 1)}),
    Mistake('transpose a tall G and iterate on G^T, whose X X^T is the smaller Gram matrix (the answer is the same, '
            'the work is not)', {'newton_schulz': lambda *a: newton_schulz_with(*a, transpose_tall=False)}),
    Mistake('transpose the result back: the answer has the shape of G',
            {'newton_schulz': lambda *a: newton_schulz_with(*a, transpose_back=False)}),
]

MISTAKES = {'bigram': BIGRAM, 'bpe_merge': BPE_MERGE, 'bpe_encode': BPE_ENCODE, 'bits_per_char': BITS_PER_CHAR,
            'gru_cell': GRU_CELL, 'lstm_cell': LSTM_CELL, 'kv_attention': KV_ATTENTION,
            'temperature_top_k': TEMPERATURE_TOP_K, 'top_p': TOP_P, 'rotary': ROTARY, 'newton_schulz': NEWTON_SCHULZ}
