"""keep_top_p that sums the sorted logits themselves, not their probabilities."""
import torch


def keep_top_p(logits, p):
    values, order = torch.sort(logits, dim=-1, descending=True)
    before = torch.cumsum(values, dim=-1) - values
    drop = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, before >= p)
    return logits.masked_fill(drop, float('-inf'))
