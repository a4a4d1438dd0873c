"""V counted over the training text only, so a held-out character unseen in train is not in it."""
import math
from collections import Counter


def unigram_bits_per_char(train_text, val_text):
    V = len(set(train_text))
    counts = Counter(train_text)
    return -sum(math.log2((counts[c] + 1) / (len(train_text) + V)) for c in val_text) / len(val_text)


def bigram_bits_per_char(train_text, val_text):
    V = len(set(train_text))
    pairs = Counter(zip(train_text, train_text[1:]))
    starts = Counter(train_text[:-1])
    val_pairs = list(zip(val_text, val_text[1:]))
    return -sum(math.log2((pairs[a, b] + 1) / (starts[a] + V)) for a, b in val_pairs) / len(val_pairs)
