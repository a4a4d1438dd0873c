"""Reference solution of exercise 1 (bigram): unigram and bigram bits per character from counts."""
import math
from collections import Counter


def unigram_bits_per_char(train_text: str, val_text: str) -> float:
    V = len(set(train_text) | set(val_text))
    counts = Counter(train_text)
    total = len(train_text) + V
    return -sum(math.log2((counts[c] + 1) / total) for c in val_text) / len(val_text)


def bigram_bits_per_char(train_text: str, val_text: str) -> float:
    V = len(set(train_text) | set(val_text))
    pair_counts = Counter(zip(train_text, train_text[1:]))
    first_counts = Counter(train_text[:-1])       # how many pairs start with each character
    val_pairs = list(zip(val_text, val_text[1:]))
    bits = 0.0
    for a, b in val_pairs:
        bits -= math.log2((pair_counts[a, b] + 1) / (first_counts[a] + V))
    return bits / len(val_pairs)
