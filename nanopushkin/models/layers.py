"""Two pieces of the newer GPTs that GPT-2 does without, used by gpt.py when its options say so:
RMSNorm, and rotary position embeddings. Each is checked against an independent computation in
tests/test_speedrun.py (torch.nn.RMSNorm; a rotation of complex numbers).
"""

import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * g, over the last dimension (Zhang & Sennrich, 2019).

    LayerNorm subtracts the mean, divides by the standard deviation and adds a bias; RMSNorm only
    divides by the root mean square. What keeps a deep residual network trainable is fixing the
    scale of each sublayer's input, and that survives: one reduction instead of two, no bias, the
    same quality in practice (Llama, the speedruns). Returns x's dtype, so that normalised 16-bit
    queries and keys stay the values' dtype under autocast."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))  # the gain g, named like LayerNorm's

    def forward(self, x):
        return (x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps) * self.weight).type_as(x)


def rotary_tables(start, length, head_size, base=10000.0):
    """cos and sin, each (length, head_size / 2), of the rotation angles at positions start, ...,
    start + length - 1. Pair i of a head turns at position m by the angle

        theta(m, i) = m * base^(-2i / head_size)

    (RoFormer, Su et al. 2021): the first pairs turn fast and tell near positions apart, the last
    ones turn slowly and still differ far apart. Computed in float64 on the CPU: a position in
    the hundred thousands (GPT.step's sliding window counts on for as long as it generates) still
    gets its angle to about 1e-11 radians; float32 would be off by 1e-2."""
    inv_freq = base ** -(torch.arange(0, head_size, 2, dtype=torch.float64) / head_size)
    angles = torch.arange(start, start + length, dtype=torch.float64)[:, None] * inv_freq
    return angles.cos(), angles.sin()


def apply_rotary(x, cos, sin):
    """x (..., T, head_size) with each pair (a, b) = (x_i, x_{i + head_size/2}) rotated by its angle:

        (a, b) -> (a cos theta - b sin theta,  a sin theta + b cos theta)

    which is the complex number a + ib times e^(i theta). Rotating queries and keys makes the score
    q_m . k_n depend on the positions m and n only through m - n (the two rotations cancel up to
    the angle (m - n) * frequency): attention sees relative positions, and nothing is learned per
    absolute position. The pairs are i and i + head_size/2 (GPT-NeoX, Llama), not neighbours as in
    the paper: the same up to a fixed reordering of a head's dimensions, which the learned query
    and key projections absorb, and two halves are cheaper to cut than interleaved pairs."""
    a, b = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
