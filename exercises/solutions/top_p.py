"""Reference solution of exercise 9 (top_p)."""
import torch


def keep_top_p(logits, p: float):
    probs = torch.softmax(logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs      # probability of the tokens before
    drop_sorted = mass_before >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)   # back to vocabulary order
    return logits.masked_fill(drop, float('-inf'))
