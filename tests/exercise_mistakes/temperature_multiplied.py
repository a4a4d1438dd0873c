"""warp that multiplies the logits by the temperature."""
import torch


def warp(logits, temperature, top_k):
    logits = logits * temperature
    if top_k == 0 or top_k >= logits.shape[-1]:
        return logits
    threshold = torch.sort(logits, dim=-1, descending=True).values[:, top_k - 1].unsqueeze(-1)
    return torch.where(logits < threshold, torch.full_like(logits, float('-inf')), logits)
