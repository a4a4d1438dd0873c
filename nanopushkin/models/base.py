"""What every model shares: the checks of its config, the loss, and how its parameters are counted."""

import torch.nn as nn
from torch.nn import functional as F


def check_config(config, sizes):
    """A clear error for a config whose sizes (the fields named in `sizes`) are not positive
    integers, or whose dropout is not a probability below 1."""
    name = type(config).__name__
    for field in sizes:
        value = getattr(config, field)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}.{field} must be a positive integer, got {value!r}")
    if not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"{name}.dropout must be in [0, 1), got {config.dropout!r}")


def next_token_loss(logits, targets):
    """Mean cross-entropy of logits (B, T, vocab) against targets (B, T), leaving out the positions
    whose target is -1 (padding); None without targets."""
    if targets is None:
        return None
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)


class LanguageModel(nn.Module):
    """The base class of every model (see models/__init__.py for the interface they all have)."""

    def num_params(self):
        """All parameters, a tied matrix counted once and position embeddings included (nanoGPT
        leaves those out; we count them so every model is measured the same way)."""
        return sum(p.numel() for p in self.parameters())
