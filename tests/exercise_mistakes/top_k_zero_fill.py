"""warp that sets the dropped logits to 0 instead of -inf."""


def warp(logits, temperature, top_k):
    logits = logits / temperature
    if top_k == 0 or top_k >= logits.shape[-1]:
        return logits
    kth = logits.sort(dim=-1, descending=True).values[:, top_k - 1:top_k]
    return logits.masked_fill(logits < kth, 0.0)
