"""Exercise 8 (journey chapter 7, sampling): temperature and top-k.

A model gives logits, one score per token of the vocabulary; softmax(logits) is the distribution the
next token is drawn from. Two knobs reshape it before drawing:
- temperature T: divide the logits by T. T < 1 sharpens the distribution (more like the argmax),
  T > 1 flattens it.
- top_k = k: keep only the k highest logits and set the others to -inf (probability 0). k = 0 means
  keep all. A token whose logit equals the k-th highest is kept too, so ties can keep more than k.

The task: warp(logits, temperature, top_k) -> new logits, for logits (B, V), each row on its own.
temperature > 0. Return a new tensor; do not change `logits` in place.

Check: python -m exercises check temperature_top_k
(against the project's nanopushkin/sampling.py: logits / temperature, then keep_top_k)
"""
import torch


def warp(logits, temperature: float, top_k: int):
    raise NotImplementedError('write warp')
