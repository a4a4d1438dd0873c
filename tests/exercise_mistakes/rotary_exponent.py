"""rotate with the exponent -i / head_size: the frequencies fall half as fast as they should."""
import torch


def rotate(x, start):
    T, head_size = x.shape[-2:]
    frequencies = 10000.0 ** (-torch.arange(head_size // 2, dtype=x.dtype) / head_size)
    angles = torch.arange(start, start + T, dtype=x.dtype).outer(frequencies)
    a, b = x[..., :head_size // 2], x[..., head_size // 2:]
    return torch.cat([a * angles.cos() - b * angles.sin(), a * angles.sin() + b * angles.cos()], dim=-1)
