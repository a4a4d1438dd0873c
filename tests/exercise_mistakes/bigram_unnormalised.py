"""Add-one smoothing on the counts, but the bigram's denominator forgets the + V, so the
probabilities of a row no longer add up to 1."""
import math
from collections import Counter


def unigram_bits_per_char(train_text, val_text):
    V = len(set(train_text) | set(val_text))
    counts = Counter(train_text)
    return -sum(math.log2((counts[c] + 1) / (len(train_text) + V)) for c in val_text) / len(val_text)


def bigram_bits_per_char(train_text, val_text):
    pairs = Counter(zip(train_text, train_text[1:]))
    firsts = Counter(train_text[:-1])
    val_pairs = list(zip(val_text, val_text[1:]))
    return -sum(math.log2((pairs[a, b] + 1) / (firsts[a] + 1)) for a, b in val_pairs) / len(val_pairs)
