"""Reference solution of exercise 7 (kv_attention)."""
import math

import torch


def attention_step(q, k, v, cache):
    if cache is not None:
        k = torch.cat([cache[0], k], dim=2)
        v = torch.cat([cache[1], v], dim=2)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1)   # (B, nh, 1, t+1)
    return weights @ v, (k, v)
