"""
A GPT-2 style Transformer decoder: pre-LayerNorm blocks of causal self-attention and an MLP,
learned position embeddings, output layer tied to the token embeddings.
Parameter names and shapes follow GPT-2 / nanoGPT (transformer.h.{i}.attn.c_attn, ...; nn.Linear
layout, i.e. HF's Conv1D weights transposed) so GPT-2 family checkpoints (ruGPT3) load 1:1.

Five options of GPTConfig, each off by default (all off: exactly GPT-2), turn it into the small
modern GPT of the speedruns (modded-nanogpt, nanochat), one idea at a time:
  rotary   rotary position embeddings instead of learned ones; past the window the KV cache slides
  rmsnorm  RMSNorm instead of LayerNorm
  qk_norm  each head's queries and keys normalised before their dot product
  relu2    the MLP computes ReLU(x)^2 instead of GELU(x)
  untied   an output layer of its own, started at zero like every block's output projection
RMSNorm and the rotation are in layers.py; the Muon optimizer that goes with them is in optim.py.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from .base import LanguageModel, check_config, next_token_loss
from .layers import RMSNorm, apply_rotary, rotary_tables


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
    # the newer ideas (see the top of this file), all off in GPT-2
    rotary: bool = False    # rotary position embeddings; no learned wpe
    rmsnorm: bool = False   # RMSNorm instead of LayerNorm
    qk_norm: bool = False   # RMSNorm over each head's queries and keys
    relu2: bool = False     # MLP activation ReLU(x)^2 instead of GELU
    untied: bool = False    # lm_head is not wte; lm_head and the c_proj layers start at zero

    def __post_init__(self):
        check_config(self, ('vocab_size', 'block_size', 'n_layer', 'n_head', 'n_embd'))
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"GPTConfig.n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.rotary and (self.n_embd // self.n_head) % 2:
            raise ValueError(f"GPTConfig.rotary turns pairs of a head's dimensions: the head size "
                             f"n_embd / n_head = {self.n_embd // self.n_head} must be even")


def make_norm(config):
    """The normalisation before each sublayer and before the output layer."""
    if config.rmsnorm:
        return RMSNorm(config.n_embd, eps=config.layer_norm_epsilon)
    return nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        # QK-norm: q and k of each head brought to RMS 1 (times a learned gain), so a score q.k / sqrt(d)
        # stays within +-sqrt(d) * gains however the weights grow: the softmax cannot saturate by
        # accident, which lets the model train at the higher learning rates of a short run
        head_size = config.n_embd // config.n_head
        self.q_norm = RMSNorm(head_size, eps=config.layer_norm_epsilon) if config.qk_norm else None
        self.k_norm = RMSNorm(head_size, eps=config.layer_norm_epsilon) if config.qk_norm else None

    def project(self, x, rope=None):
        """Queries, keys and values of x (B, T, C), each (B, n_head, T, head size); q and k normalised
        (qk_norm) and rotated to their positions by rope, the rotary (cos, sin) tables (None: no rotary)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        return q, k, v

    def forward(self, x, past=None, rope=None):
        """x (B, T, C); past: the (keys, values) of earlier positions, each (B, n_head, T_past, head
        size), or None. Returns the output and the (keys, values) including these T positions."""
        B, T, C = x.shape
        q, k, v = self.project(x, rope)
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
        # relu2: ReLU(x)^2 (Primer, So et al. 2021; modded-nanogpt), sparse like ReLU but smooth at 0.
        # Not SwiGLU (Llama's): its gate is a third matrix, so at the same parameter count the hidden
        # layer shrinks to 8/3 n_embd and each step runs three smaller matmuls, which a CPU does less
        # efficiently; at this scale the two are about equally good, and ReLU^2 changes only the
        # activation, so its ablation row measures the activation and nothing else
        self.relu2 = config.relu2

    def forward(self, x):
        h = self.c_fc(x)
        h = F.relu(h).square() if self.relu2 else self.gelu(h)
        return self.dropout(self.c_proj(h))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = make_norm(config)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = make_norm(config)
        self.mlp = MLP(config)

    def forward(self, x, past=None, rope=None):
        a, present = self.attn(self.ln_1(x), past, rope)
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
            # rotary positions are rotations inside attention: no table of positions to learn
            **({} if config.rotary else {'wpe': nn.Embedding(config.block_size, config.n_embd)}),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=make_norm(config),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if not config.untied:
            self.lm_head.weight = self.transformer.wte.weight  # tied: one matrix reads and writes tokens
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith('c_proj.weight') and config.untied:
                nn.init.zeros_(p)
            elif name.endswith('c_proj.weight'):
                # GPT-2: scale the layers that write into the residual stream by 1/sqrt(number of them)
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        if config.untied:
            # Reading a token and predicting the next one are different jobs; untied, each matrix learns
            # its own (vocab_size * n_embd more weights, few for characters). Started at zero, like the
            # c_proj layers above, every block is the identity and the prediction uniform (loss ln V)
            # at step 0: training begins from a clean slate, not from noise it must first undo
            nn.init.zeros_(self.lm_head.weight)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def embed(self, idx, start=0):
        """The residual stream at its start for idx (B, T) at positions start, ..., start + T - 1:
        token embeddings (plus learned position embeddings), and the rotary tables (cos, sin) of
        those positions for the attention layers (None with learned positions)."""
        x = self.transformer.wte(idx)
        if not self.config.rotary:
            return x + self.transformer.wpe.weight[start:start + idx.size(1)], None
        cos, sin = rotary_tables(start, idx.size(1), self.config.n_embd // self.config.n_head)
        return x, (cos.to(x.dtype).to(x.device), sin.to(x.dtype).to(x.device))

    def _run(self, idx, past=None, start=0):
        """Transformer on idx (B, T) at positions start, start + 1, ..., after the cached positions in
        past (a list of the layers' (keys, values), or None). Returns the final hidden states and the
        new cache. With learned positions start is the cache's length; rotary keys carry their own."""
        x, rope = self.embed(idx, start)
        x = self.transformer.drop(x)
        presents = []
        for i, block in enumerate(self.transformer.h):
            layer_past = None if past is None else past[i]
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                x, present = checkpoint(block, x, layer_past, rope, use_reentrant=False)
            else:
                x, present = block(x, layer_past, rope)
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
        and the new state {'tokens': (B, n), 'kv': per layer (keys, values) (B, n_head, n, hs),
        'position': (B,)}: the n tokens the cache holds, their keys and values, and the position
        of the next token.

        Earlier positions come from the key/value cache, so one new token costs one position, as
        long as the context fits in block_size. A prompt longer than that is cropped to its last
        block_size tokens, the window nanoGPT's generate() crops to. When the cache is full:
        - learned positions: sliding the window moves every token to a new position, so all keys
          and values change, and re-encoding the window for every token would be 6x slower than
          the cache at block 128. Instead the cache restarts from the last half window (block_size
          // 2 tokens, the new ones included), re-encoded once, and grows again: about two positions
          per token, and between block_size / 2 and block_size tokens of context (3/4 of the window
          on average) where nanoGPT's crop always has the whole window. Inside it the two agree.
        - rotary positions: a score depends only on how far apart query and key are, so cached keys
          stay valid. The cache drops its oldest entries (as many as come in) and the positions
          count on: a true sliding window, always block_size tokens to attend to, one position per
          token. But a cached key of a deeper layer was made when its token saw the block_size
          tokens before it, so the model reaches further back than the window (as with Mistral's
          sliding-window attention): its predictions are those of a forward over the whole text in
          which each position attends to the last block_size only, not those of a crop."""
        block_size, T_new = self.config.block_size, idx_new.size(1)
        tokens = idx_new if state is None else torch.cat([state['tokens'], idx_new], dim=1)
        if state is None:
            past, start, encode = None, 0, tokens[:, -block_size:]
        elif tokens.size(1) <= block_size:
            past, start, encode = state['kv'], int(state['position'][0]), idx_new
        elif self.config.rotary and T_new < block_size:  # slide: forget the oldest keys and values
            drop = tokens.size(1) - block_size
            past = [(k[:, :, drop:], v[:, :, drop:]) for k, v in state['kv']]
            start, encode = int(state['position'][0]), idx_new
        else:  # the cache is full: start again from the last half window (or all the new tokens)
            keep = min(block_size, max(block_size // 2, T_new))
            past, start, encode = None, 0, tokens[:, -keep:]
        x, kv = self._run(encode, past, start)
        logits = self.lm_head(x[:, -1])
        position = torch.full((tokens.size(0),), start + encode.size(1), device=tokens.device)
        return logits, {'tokens': tokens[:, -kv[0][0].size(2):], 'kv': kv, 'position': position}
