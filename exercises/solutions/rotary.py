"""Reference solution of exercise 10 (rotary)."""
import torch

BASE = 10000.0


def rotate(x, start):
    T, head_size = x.size(-2), x.size(-1)
    frequencies = BASE ** -(torch.arange(0, head_size, 2, dtype=x.dtype) / head_size)   # (head_size/2,)
    angles = torch.arange(start, start + T, dtype=x.dtype)[:, None] * frequencies        # (T, head_size/2)
    cos, sin = angles.cos(), angles.sin()
    a, b = x.chunk(2, dim=-1)                  # pair i is (a_i, b_i) = (x_i, x_{i + head_size/2})
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
