"""rotate that pairs neighbouring dimensions (2i, 2i + 1), the paper's layout, not the two halves."""
import torch


def rotate(x, start):
    T, head_size = x.shape[-2:]
    frequencies = 10000.0 ** (-torch.arange(0, head_size, 2, dtype=x.dtype) / head_size)
    angles = torch.arange(start, start + T, dtype=x.dtype).outer(frequencies)
    out = x.clone()
    out[..., 0::2] = x[..., 0::2] * angles.cos() - x[..., 1::2] * angles.sin()
    out[..., 1::2] = x[..., 0::2] * angles.sin() + x[..., 1::2] * angles.cos()
    return out
