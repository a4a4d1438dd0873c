"""
A GPT-2 style Transformer decoder: pre-LayerNorm blocks of causal self-attention and an MLP,
learned position embeddings, output layer tied to the token embeddings.
Parameter names and shapes follow GPT-2 / nanoGPT (transformer.h.{i}.attn.c_attn, ...; nn.Linear
layout, i.e. HF's Conv1D weights transposed) so GPT-2 family checkpoints (ruGPT3) load 1:1.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from .base import LanguageModel, check_config, next_token_loss


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 256   # longest sequence the position embeddings cover
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.0
    bias: bool = True       # biases in the Linear layers and LayerNorms (GPT-2 has them)
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        check_config(self, ('vocab_size', 'block_size', 'n_layer', 'n_head', 'n_embd'))
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"GPTConfig.n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x, past=None):
        """x (B, T, C); past: the (keys, values) of earlier positions, each (B, n_head, T_past, head
        size), or None. Returns the output and the (keys, values) including these T positions."""
        B, T, C = x.shape
        # (B, T, 3C) -> q, k, v, each (B, n_head, T, head size)
        q, k, v = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        mask = None
        if past is not None and T > 1:
            # query i sits at position T_past + i: it sees every key up to and including that one
            mask = torch.ones(T, k.size(2), dtype=torch.bool, device=x.device).tril(k.size(2) - T)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=past is None,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y)), (k, v)


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate='tanh')  # GPT-2's "gelu_new"
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, past=None):
        a, present = self.attn(self.ln_1(x), past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present


class GPT(LanguageModel):

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.gradient_checkpointing = False  # recompute each block in backward: less memory, ~30% slower
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one matrix reads and writes tokens
        self.apply(self._init_weights)
        # GPT-2: scale the layers that write into the residual stream by 1/sqrt(number of them)
        for name, p in self.named_parameters():
            if name.endswith('c_proj.weight'):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _run(self, idx, past=None):
        """Transformer on idx (B, T) placed after the cached positions in past (a list of the layers'
        (keys, values), or None). Returns the final hidden states and the new cache."""
        T_past = 0 if past is None else past[0][0].size(2)
        pos_emb = self.transformer.wpe.weight[T_past:T_past + idx.size(1)]  # positions T_past, T_past+1, ...
        x = self.transformer.drop(self.transformer.wte(idx) + pos_emb)
        presents = []
        for i, block in enumerate(self.transformer.h):
            layer_past = None if past is None else past[i]
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                x, present = checkpoint(block, x, layer_past, use_reentrant=False)
            else:
                x, present = block(x, layer_past)
            presents.append(present)
        return self.transformer.ln_f(x), presents

    def forward(self, idx, targets=None):
        if idx.size(1) > self.config.block_size:
            raise ValueError(f"sequence of length {idx.size(1)} is longer than block_size "
                             f"{self.config.block_size}; crop it (step() handles long contexts)")
        x, _ = self._run(idx)
        logits = self.lm_head(x)
        return logits, next_token_loss(logits, targets)

    @torch.no_grad()
    def step(self, idx_new, state=None):
        """Feed idx_new (B, T) after the tokens in state; returns the next-token logits (B, vocab)
        and the new state {'tokens': (B, n), 'kv': per layer (keys, values) (B, n_head, n, hs)}:
        the n tokens the cache holds and their keys and values.

        Earlier positions come from the key/value cache, so one new token costs one position, as
        long as the context fits in block_size. A prompt longer than that is cropped to its last
        block_size tokens, the window nanoGPT's generate() crops to. When the cache is full, the
        next token would need a window that slides by one, and sliding moves every token to a new
        position: all keys and values change, and re-encoding the window for every token costs
        block_size positions per token (6x slower than the cache at block 128). Instead the
        cache keeps the last half of the window (block_size // 2 tokens, the new ones included),
        re-encodes them once, and grows again to block_size: one re-encode of block_size / 2
        positions per block_size / 2 new tokens, about two positions per token on average.
        The trade-off: past the window the model sees between block_size / 2 and block_size
        tokens of context (3/4 of the window on average) instead of always the full window, so
        its predictions there differ slightly from nanoGPT's crop; inside the window nothing is
        cropped and the two agree exactly."""
        block_size = self.config.block_size
        tokens = idx_new if state is None else torch.cat([state['tokens'], idx_new], dim=1)
        if state is None:
            past, encode = None, tokens[:, -block_size:]
        elif state['tokens'].size(1) + idx_new.size(1) <= block_size:
            past, encode = state['kv'], idx_new
        else:  # the cache is full: start again from the last half window (or all the new tokens)
            keep = min(block_size, max(block_size // 2, idx_new.size(1)))
            past, encode = None, tokens[:, -keep:]
        x, kv = self._run(encode, past)
        logits = self.lm_head(x[:, -1])
        return logits, {'tokens': tokens[:, -kv[0][0].size(2):], 'kv': kv}
