"""Exercise 7 (journey chapter 5, GPT): one step of causal attention with a key/value cache.

When a GPT generates, each new token attends to every earlier position. Recomputing the keys and
values of all earlier tokens at every step would be wasted work: they do not change. So the model
keeps them in a cache, and one step only computes the query, key and value of the new token.

The task: attention_step(q, k, v, cache) for the newest position.
- q, k, v: (B, n_head, 1, head_size), the query, key and value of the new token.
- cache: None at the first position, else (keys, values) of the earlier positions, each
  (B, n_head, t, head_size).
Return (y, new_cache):
- new_cache: the keys and values with the new position appended (along dim 2): (B, n_head, t+1, hs).
- y (B, n_head, 1, head_size): attention of q over all t+1 positions, scaled dot product:
      weights = softmax(q @ keys^T / sqrt(head_size)),  y = weights @ values
  (no mask is needed: the cache holds only the past and the token itself).
Step through a sequence one token at a time and you get exactly what the causally masked attention
over the whole sequence computes.

Check: python -m exercises check kv_attention
(token by token, against the project's nanopushkin/models/gpt.py CausalSelfAttention run on the whole
sequence at once, and your cache against the one it returns)
"""
import math

import torch


def attention_step(q, k, v, cache):
    raise NotImplementedError('write attention_step')
