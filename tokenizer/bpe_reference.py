"""Textbook BPE training: slow, short and obviously correct. Tests check that the fast incremental
trainer in tokenizer/bpe.py (`learn_merges`) learns exactly the same merges.

Every merge step recounts every adjacent pair in the whole corpus (word by word, no frequencies, no
index), picks the best pair and rewrites every word. Quadratic-ish: use it on small texts only.
"""
from collections import Counter

from tokenizer.bpe import GPT2_SPLIT_REGEX, special_token_regex


def merge(ids, pair, new_id):
    """Replace every occurrence of pair in ids (left to right, non-overlapping) with new_id."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_reference(text, vocab_size, special_tokens=('<|endoftext|>',)):
    """Merges learned from text, as (id, id) pairs, for a vocabulary of vocab_size tokens
    (256 bytes + merges + special tokens). Returns (vocab, merges); vocab lists the token bytes by id.

    The rule, the same as the fast trainer's: merge the pair with the highest count, ties going to the
    smallest pair (id_a, id_b); the merged token gets the next id."""
    special_split = special_token_regex(special_tokens)
    chunks = special_split.split(text)[::2] if special_split else [text]
    words = [list(word.encode('utf-8')) for chunk in chunks for word in GPT2_SPLIT_REGEX.findall(chunk)]
    vocab = [bytes([b]) for b in range(256)]
    merges = []
    while len(vocab) + len(special_tokens) < vocab_size:
        counts = Counter(pair for ids in words for pair in zip(ids, ids[1:]))
        if not counts:
            raise ValueError('the training text is too small for this vocab_size')
        pair = min(counts, key=lambda p: (-counts[p], p))
        words = [merge(ids, pair, len(vocab)) for ids in words]
        vocab.append(vocab[pair[0]] + vocab[pair[1]])
        merges.append(pair)
    return vocab, merges


def encode_word_reference(vocab, merges, word):
    """Token ids of one pre-split word, the obvious way: look at every adjacent pair, merge the one
    with the lowest rank (leftmost if it occurs more than once), start over. A pair listed twice in
    `merges` keeps its last rank, as in HF tokenizers. Quadratic: for tests on short words only."""
    rank = {tuple(pair): r for r, pair in enumerate(merges)}
    token_id = {token: i for i, token in enumerate(vocab)}
    ids = [token_id[bytes([b])] for b in word.encode('utf-8')]
    while True:
        candidates = [(rank[pair], i) for i, pair in enumerate(zip(ids, ids[1:])) if pair in rank]
        if not candidates:
            return ids
        _, i = min(candidates)
        ids[i:i + 2] = [token_id[vocab[ids[i]] + vocab[ids[i + 1]]]]
