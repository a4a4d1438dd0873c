"""The bigram's pair starts counted over the whole train text: its last character starts no pair."""
import math
from collections import Counter


def unigram_bits_per_char(train_text, val_text):
    raise NotImplementedError


def bigram_bits_per_char(train_text, val_text):
    V = len(set(train_text) | set(val_text))
    pairs = Counter(zip(train_text, train_text[1:]))
    starts = Counter(train_text)
    total = 0.0
    for i in range(len(val_text) - 1):
        a, b = val_text[i], val_text[i + 1]
        total += math.log2((pairs[a, b] + 1) / (starts[a] + V))
    return -total / (len(val_text) - 1)
