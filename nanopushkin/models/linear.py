"""
The n-gram MLP language model of Bengio et al. (2003), "A Neural Probabilistic Language Model":
embed the last `context` tokens, concatenate the embeddings, pass them through tanh hidden layers
and predict the next token. It sees a fixed window and nothing before it.

It is applied to whole (B, T) sequences like the other models: position t predicts token t+1 from
tokens t-context+1 .. t. Positions near the start have fewer than `context` tokens before them;
the missing ones are filled with a padding token that has its own learned embedding (the extra
row vocab_size of the embedding table), which also lets the model know it is at the start.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import LanguageModel, check_config, next_token_loss


@dataclass
class LinearConfig:
    vocab_size: int
    context: int = 8      # how many previous tokens the model sees
    n_embd: int = 32      # embedding size of each token
    n_hidden: int = 256   # width of the hidden layers
    n_layer: int = 1      # number of tanh hidden layers
    dropout: float = 0.0

    def __post_init__(self):
        check_config(self, ('vocab_size', 'context', 'n_embd', 'n_hidden', 'n_layer'))


class NGramMLP(LanguageModel):
    """Model type 'linear': a fixed window of tokens through an MLP, no recurrence, no attention."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.pad_id = config.vocab_size  # the extra embedding row, used only for padding
        self.wte = nn.Embedding(config.vocab_size + 1, config.n_embd)
        layers = []
        width = config.context * config.n_embd
        for _ in range(config.n_layer):
            layers += [nn.Linear(width, config.n_hidden), nn.Tanh(), nn.Dropout(config.dropout)]
            width = config.n_hidden
        self.mlp = nn.Sequential(*layers)
        self.lm_head = nn.Linear(width, config.vocab_size)

    def _logits(self, padded):
        """padded (B, context-1+T) -> logits (B, T, vocab) for the last T positions."""
        windows = padded.unfold(1, self.config.context, 1)   # (B, T, context): window t ends at t
        x = self.wte(windows).flatten(2)                    # (B, T, context * n_embd)
        return self.lm_head(self.mlp(x))

    def _pad(self, idx):
        padding = idx.new_full((idx.size(0), self.config.context - 1), self.pad_id)
        return torch.cat([padding, idx], dim=1)

    def forward(self, idx, targets=None):
        logits = self._logits(self._pad(idx))
        return logits, next_token_loss(logits, targets)

    @torch.no_grad()
    def step(self, idx_new, state=None):
        """The state is the last context-1 tokens seen, (B, context-1), padding included."""
        padded = self._pad(idx_new) if state is None else torch.cat([state, idx_new], dim=1)
        logits = self._logits(padded[:, -self.config.context:])  # just the last window
        new_state = padded[:, padded.size(1) - (self.config.context - 1):]
        return logits[:, -1], new_state
