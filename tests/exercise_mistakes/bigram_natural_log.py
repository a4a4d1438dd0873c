"""Both models in nats: math.log where bits need math.log2."""
import math
from collections import Counter


def unigram_bits_per_char(train_text, val_text):
    V = len(set(train_text + val_text))
    counts = Counter(train_text)
    return sum(-math.log((counts[c] + 1) / (len(train_text) + V)) for c in val_text) / len(val_text)


def bigram_bits_per_char(train_text, val_text):
    V = len(set(train_text + val_text))
    pairs = Counter(zip(train_text, train_text[1:]))
    starts = Counter(train_text[:-1])
    val_pairs = list(zip(val_text, val_text[1:]))
    return sum(-math.log((pairs[p] + 1) / (starts[p[0]] + V)) for p in val_pairs) / len(val_pairs)
