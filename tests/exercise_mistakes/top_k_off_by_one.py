"""warp that takes the k-th highest logit at index k of the sorted logits: it keeps k + 1 tokens."""
import torch


def warp(logits, temperature, top_k):
    logits = logits / temperature
    if top_k == 0 or top_k >= logits.shape[-1]:
        return logits
    kth = logits.sort(dim=-1, descending=True).values[:, top_k].unsqueeze(-1)
    return logits.masked_fill(logits < kth, float('-inf'))
