"""The project's own implementations that the exercises are checked against: the one place that
knows where they live. When the project moves a function, only this file changes.

Nothing here is an answer to an exercise: these are the library's versions, which the checker runs
side by side with yours (reading them is allowed, but try first).
"""
import json
from pathlib import Path

import numpy as np

from nanopushkin.data import bits_per_char, unigram_bits_per_char
from nanopushkin.models.gpt import CausalSelfAttention, GPTConfig
from nanopushkin.models.layers import apply_rotary, rotary_tables
from nanopushkin.models.rnn import GRUCell, LSTMCell
from nanopushkin.optim import NS_COEFFICIENTS, orthogonalize
from nanopushkin.sampling import keep_top_k, keep_top_p
from tokenizer.bpe import GPT2_SPLIT_REGEX, BPETokenizer
from tokenizer.bpe_reference import merge
from tokenizer.char import CharTokenizer

__all__ = ['bits_per_char', 'project_unigram_bits_per_char', 'attention_layer', 'split_qkv', 'GRUCell',
           'LSTMCell', 'keep_top_k', 'keep_top_p', 'GPT2_SPLIT_REGEX', 'BPETokenizer', 'tokenizer_from_merges',
           'merge', 'apply_rotary', 'rotary_tables', 'orthogonalize', 'NS_COEFFICIENTS']


def project_unigram_bits_per_char(train_text, val_text, folder) -> float:
    """The project's unigram baseline (nanopushkin.data.unigram_bits_per_char) of a character model
    whose vocabulary is every character of the two texts.

    That function reads a prepared dataset folder, so we write a minimal one to `folder`: train.bin,
    val.bin, meta.json (one character per token) and a char tokenizer with as many ids as there are
    characters. A project char tokenizer always has the end-of-text token as its last id, and this
    vocabulary has none, so the last character gets that id: the baseline only counts ids."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted(set(train_text) | set(val_text))
    index = {c: i for i, c in enumerate(chars)}
    tokenizer = CharTokenizer(chars[:-1])
    tokenizer.save(folder / 'tokenizer.json')
    for split, text in (('train', train_text), ('val', val_text)):
        np.array([index[c] for c in text], dtype=np.uint16).tofile(folder / f'{split}.bin')
    meta = {'tokenizer': tokenizer.kind, 'vocab_size': tokenizer.vocab_size, 'dtype': 'uint16',
            'tokenizer_file': 'tokenizer.json', 'train': {'tokens': len(train_text), 'chars': len(train_text)},
            'val': {'tokens': len(val_text), 'chars': len(val_text)}}
    (folder / 'meta.json').write_text(json.dumps(meta), encoding='utf-8')
    return unigram_bits_per_char(folder)


def attention_layer(n_embd, n_head, block_size):
    """The project's causal self-attention layer (one head group of a GPT block), in float64."""
    config = GPTConfig(vocab_size=1, block_size=block_size, n_layer=1, n_head=n_head, n_embd=n_embd)
    return CausalSelfAttention(config).double().eval()


def split_qkv(layer, x):
    """Queries, keys and values of x (B, T, C) exactly as the project's layer computes them: each
    (B, n_head, T, head size)."""
    B, T, C = x.shape
    return layer.c_attn(x).view(B, T, 3, layer.n_head, C // layer.n_head).permute(2, 0, 3, 1, 4)


def tokenizer_from_merges(merges):
    """The project's BPE tokenizer with the bytes as ids 0..255 and these merges (merge i makes id 256 + i)."""
    vocab = [bytes([b]) for b in range(256)]
    for a, b in merges:
        vocab.append(vocab[a] + vocab[b])
    eot = BPETokenizer.eot_token
    return BPETokenizer(vocab + [eot.encode('utf-8')], merges, {eot: len(vocab)})
