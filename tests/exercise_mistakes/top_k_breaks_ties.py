"""warp that keeps exactly k tokens (torch.topk's indices), dropping tokens tied with the k-th."""
import torch


def warp(logits, temperature, top_k):
    logits = logits / temperature
    if top_k == 0:
        return logits
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, torch.topk(logits, top_k).indices, True)
    return logits.masked_fill(~keep, float('-inf'))
