"""keep_top_p that sorts the probabilities from the least likely up."""
import torch


def keep_top_p(logits, p):
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1)
    before = probs.cumsum(dim=-1) - probs
    drop = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, before >= p)
    return logits.masked_fill(drop, float('-inf'))
