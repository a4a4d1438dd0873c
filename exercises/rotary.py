"""Exercise 10 (journey chapter 5 and docs/training.md, the newer GPT): rotary position embeddings.

GPT-2 adds a learned vector per position to each token's embedding. The newer GPTs (config/
speedrun.py, `--rotary=True`) learn nothing per position: inside attention they turn each query
and key by an angle that grows with its position. Then the score q_m . k_n of a query at position
m and a key at position n depends on m - n only: attention sees how far back a token is.

A head's head_size dimensions are cut into head_size / 2 pairs, and this project pairs dimension i
with dimension i + head_size / 2 (the two halves of the head, as GPT-NeoX and Llama do; not the
neighbours 2i, 2i + 1). Pair i of a row at position m turns by the angle

    theta(m, i) = m * base^(-2i / head_size),   base = 10000,   i = 0, 1, ..., head_size/2 - 1

so pair 0 turns by a radian per position and the last pairs very slowly. Turning the pair (a, b)
by theta is multiplying the complex number a + ib by e^(i theta):

    (a, b) -> (a cos theta - b sin theta,  a sin theta + b cos theta)

The task: rotate(x, start) for x (B, n_head, T, head_size), the queries (or the keys) of T
consecutive positions start, start + 1, ..., start + T - 1 (start > 0 when a key/value cache
already holds the earlier positions). Return a new tensor of x's shape and dtype; do not change x
in place. x is float64 in the checks: compute the angles in float64 too (torch.arange(...,
dtype=x.dtype)); float32 angles are already off by 1e-6 radians at position 100.

Check: python -m exercises check rotary
(against the project's nanopushkin/models/layers.py apply_rotary and rotary_tables, and against a
rotation of complex numbers)
"""
import torch

BASE = 10000.0


def rotate(x, start):
    raise NotImplementedError('write rotate')
