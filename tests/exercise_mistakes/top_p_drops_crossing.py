"""keep_top_p that drops the token whose probability makes the sum cross p (it keeps only the
tokens whose running sum, themselves included, is still below p; the most likely always)."""
import torch


def keep_top_p(logits, p):
    sorted_probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    drop_sorted = sorted_probs.cumsum(dim=-1) >= p
    drop_sorted[:, 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float('-inf'))
