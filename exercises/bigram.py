"""Exercise 1 (journey chapter 1, counting): unigram and bigram character models from counts.

Before any training, count. A model that predicts each character from how common it is (unigram),
or from how often it follows the previous character (bigram), is the floor every trained model
must beat, measured in bits per character of held-out text.

The task. Both functions get the training text and the held-out (validation) text and return the
average number of bits the model spends per held-out character: the mean of -log2 P.
- The vocabulary is every character that occurs in either text; V is its size.
- Add-one (Laplace) smoothing, so a character never seen in training still gets a probability:
    unigram:  P(c)     = (count of c in train + 1) / (len(train) + V)
    bigram:   P(b | a) = (count of the pair a,b in train + 1) / (count of pairs starting with a + V)
- The unigram averages over every character of val. The bigram predicts val[i+1] from val[i], so it
  averages over the len(val) - 1 pairs of val (the first character has no predecessor).
Pairs are overlapping: 'aaa' holds two pairs ('a', 'a').

Check: python -m exercises check bigram
(the unigram against the project's baseline, nanopushkin/data.py `unigram_bits_per_char`; the
bigram against a direct computation with a count matrix)
"""
import math
from collections import Counter


def unigram_bits_per_char(train_text: str, val_text: str) -> float:
    raise NotImplementedError('write unigram_bits_per_char')


def bigram_bits_per_char(train_text: str, val_text: str) -> float:
    raise NotImplementedError('write bigram_bits_per_char')
