"""Exercise 4 (journey chapters 4 and 6, comparing fairly): bits per character from a loss.

The training loop reports the loss as the mean cross-entropy in nats (natural log) per token. That
number depends on the tokenizer: a BPE token covers several characters, so it is harder to predict
than one character, and a BPE model's loss (or perplexity, e^loss) cannot be compared with a char
model's. Bits per character can: it is the same text, measured per character, in bits.

A prepared dataset's meta.json says how many tokens and how many characters each split has, e.g.
    {"val": {"tokens": 60000, "chars": 150000}, "train": {...}, ...}

The task: bits_per_char(loss, meta, split) converts a mean loss in nats per token of that split into
bits per character of its text. (Two steps: nats -> bits, per token -> per character.)

Check: python -m exercises check bits_per_char
(against the project's nanopushkin/data.py `bits_per_char`)
"""
import math


def bits_per_char(loss: float, meta: dict, split: str = 'val') -> float:
    raise NotImplementedError('write bits_per_char')
