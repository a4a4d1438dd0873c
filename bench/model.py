"""
Speed of our models next to the references, same config, same batch, same device, one run:

  1. GPT training step (forward + backward + AdamW) vs HF transformers' GPT2LMHeadModel (SDPA attention)
  2. GPT greedy generation with our KV cache (step()) vs HF generate(use_cache=True) and vs
     recomputing the whole context for every new token; and, at block 128, generation far past
     the context window (step() re-encodes half a window once per half window) vs inside it
  3. RNN/GRU/LSTM training step: the fused kernel vs our hand-written cells (the same weights)

Candidates are timed in alternating rounds and the median is reported, so a busy machine slows
all of them alike. The defaults take about 40 s on one CPU core.
Usage: python bench/model.py [--device=cuda] [--dtype=bfloat16] [--threads=0] [--rounds=5] [--n_embd=256]
"""
import os
import statistics
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

import torch
import transformers

from nanopushkin.config import main_parse
from nanopushkin.hf import CONV1D_WEIGHTS
from nanopushkin.models import build_model


@dataclass
class BenchConfig:
    device: str = 'cpu'
    # CPU threads. The ops of a batch-1 generation step are tiny: a second thread mostly adds
    # synchronisation, and on a shared machine it makes every timing erratic. 0: PyTorch's default
    threads: int = 1
    dtype: str = 'float32'      # 'float32' | 'bfloat16' | 'float16'
    rounds: int = 5             # timed runs of every candidate (after one warm-up run)
    seed: int = 1337
    # the GPT: config/gpt.py's model with a BPE-sized vocabulary, block_size room for the generation
    vocab_size: int = 4096
    block_size: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    batch_size: int = 8         # training batch: batch_size x train_len tokens
    train_len: int = 128
    prompt_len: int = 32        # generation: batch of 1, prompt_len tokens then max_new_tokens
    max_new_tokens: int = 200
    window_block_size: int = 128  # generation past the window: a GPT with this context length,
    window_new_tokens: int = 1000 # prompt_len + this many new tokens
    # the recurrent models
    rnn_vocab_size: int = 128
    rnn_n_embd: int = 64
    rnn_n_hidden: int = 256
    rnn_n_layer: int = 2
    rnn_batch_size: int = 16
    rnn_train_len: int = 64


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def race(candidates, rounds, device):
    """Time each function `rounds` times, alternating between them after one warm-up call each.
    Returns the median seconds per call and the last result of each function."""
    times = {name: [] for name in candidates}
    results = {}
    for r in range(rounds + 1):
        for name, fn in candidates.items():
            sync(device)
            t0 = time.perf_counter()
            results[name] = fn()
            sync(device)
            if r > 0:
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}, results


def training_step(model, loss_fn):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return step


def hf_gpt2_like(model, dtype):
    """HF GPT2LMHeadModel with the same config and a copy of our weights (Conv1D weights transposed)."""
    c = model.config
    hf_config = transformers.GPT2Config(
        vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
        n_head=c.n_head, activation_function='gelu_new', resid_pdrop=c.dropout, embd_pdrop=c.dropout,
        attn_pdrop=c.dropout, layer_norm_epsilon=c.layer_norm_epsilon, bos_token_id=None, eos_token_id=None)
    hf = transformers.GPT2LMHeadModel._from_config(hf_config, attn_implementation='sdpa', dtype=dtype)
    ours = model.state_dict()
    with torch.no_grad():
        for name, p in hf.named_parameters():
            p.copy_(ours[name].t() if name.endswith(CONV1D_WEIGHTS) else ours[name])
    return hf.to(next(model.parameters()).device)


@torch.no_grad()
def generate_with_cache(model, idx, max_new_tokens):
    logits, state = model.step(idx)
    out = [idx]
    for _ in range(max_new_tokens):
        next_id = logits.argmax(dim=-1, keepdim=True)
        out.append(next_id)
        logits, state = model.step(next_id, state)
    return torch.cat(out, dim=1)


@torch.no_grad()
def generate_recomputing(model, idx, max_new_tokens):
    for _ in range(max_new_tokens):
        logits, _ = model(idx[:, -model.config.block_size:])
        idx = torch.cat([idx, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return idx


def bench_gpt_training(cfg, gpt, dtype):
    hf = hf_gpt2_like(gpt, dtype).train()
    gpt.train()
    data = torch.randint(0, cfg.vocab_size, (cfg.batch_size, cfg.train_len + 1), device=cfg.device)
    x, y = data[:, :-1], data[:, 1:]
    sec, _ = race({'ours': training_step(gpt, lambda: gpt(x, y)[1]),
                   'hf': training_step(hf, lambda: hf(input_ids=x, labels=x).loss)}, cfg.rounds, cfg.device)
    return [(f'GPT training step (batch {cfg.batch_size}x{cfg.train_len})',
             'GPT', x.numel() / sec['ours'], 'HF GPT2LMHeadModel', x.numel() / sec['hf'], 1.0)]


def bench_gpt_generation(cfg, gpt, dtype):
    hf = hf_gpt2_like(gpt, dtype).eval()
    gpt.eval()
    prompt = torch.randint(0, cfg.vocab_size, (1, cfg.prompt_len), device=cfg.device)
    new = cfg.max_new_tokens
    sec, out = race({
        'kv': lambda: generate_with_cache(gpt, prompt, new),
        'hf': lambda: hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new,
                                  min_new_tokens=new, do_sample=False, use_cache=True, pad_token_id=0),
        'recompute': lambda: generate_recomputing(gpt, prompt, new),
    }, cfg.rounds, cfg.device)
    same = torch.equal(out['kv'], out['hf']) and torch.equal(out['kv'], out['recompute'])
    print(f"greedy tokens identical (KV cache, HF generate, recompute): {same}")
    what = f'GPT greedy generation ({cfg.prompt_len} prompt + {new} new tokens, batch 1)'
    ours = ('step() with KV cache', new / sec['kv'])
    return [(what, *ours, 'HF generate(use_cache=True)', new / sec['hf'], 2.0),
            (what, *ours, 'forward() on the whole context', new / sec['recompute'], 5.0)]


def bench_gpt_past_the_window(cfg, dtype):
    """Tokens/s generating far past block_size next to tokens/s inside it, same model."""
    gpt = build_model('gpt', dict(vocab_size=cfg.vocab_size, block_size=cfg.window_block_size,
                                  n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd, bias=True))
    gpt = gpt.to(device=cfg.device, dtype=dtype).eval()
    prompt = torch.randint(0, cfg.vocab_size, (1, cfg.prompt_len), device=cfg.device)
    inside, past = cfg.window_block_size - cfg.prompt_len, cfg.window_new_tokens
    sec, _ = race({'inside': lambda: generate_with_cache(gpt, prompt, inside),
                   'past': lambda: generate_with_cache(gpt, prompt, past)}, cfg.rounds, cfg.device)
    return [(f'GPT greedy generation at block {cfg.window_block_size}, batch 1',
             f'{cfg.prompt_len} prompt + {past} new tokens (past the window)', past / sec['past'],
             f'{cfg.prompt_len} prompt + {inside} new tokens (inside it)', inside / sec['inside'], 0.7)]


def bench_recurrent(cfg, cell, dtype):
    args = dict(vocab_size=cfg.rnn_vocab_size, n_embd=cfg.rnn_n_embd, n_hidden=cfg.rnn_n_hidden,
                n_layer=cfg.rnn_n_layer, fused=True)
    fused = build_model(cell, args).to(device=cfg.device, dtype=dtype)
    hand = build_model(cell, {**args, 'fused': False}).to(device=cfg.device, dtype=dtype)
    hand.load_state_dict(fused.state_dict())
    data = torch.randint(0, cfg.rnn_vocab_size, (cfg.rnn_batch_size, cfg.rnn_train_len + 1), device=cfg.device)
    x, y = data[:, :-1], data[:, 1:]
    sec, _ = race({'fused': training_step(fused, lambda: fused(x, y)[1]),
                   'hand': training_step(hand, lambda: hand(x, y)[1])}, cfg.rounds, cfg.device)
    return [(f'{cell.upper()} training step ({cfg.rnn_n_layer}x{cfg.rnn_n_hidden}, '
             f'batch {cfg.rnn_batch_size}x{cfg.rnn_train_len})',
             'fused kernel', x.numel() / sec['fused'], 'hand-written cells', x.numel() / sec['hand'], None)]


def main():
    cfg = main_parse(BenchConfig, sys.argv[1:], config_file_allowed=False)
    transformers.logging.set_verbosity_error()
    dtypes = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}
    if cfg.dtype not in dtypes:
        sys.exit(f"error: --dtype must be one of {', '.join(dtypes)}, got {cfg.dtype!r}")
    dtype = dtypes[cfg.dtype]
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    print(f"device {cfg.device}, dtype {cfg.dtype}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"median of {cfg.rounds} alternating rounds, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    gpt = build_model('gpt', dict(vocab_size=cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                                  n_head=cfg.n_head, n_embd=cfg.n_embd, bias=True))
    gpt = gpt.to(device=cfg.device, dtype=dtype)
    print(f"GPT: {cfg.n_layer} layers, {cfg.n_head} heads, n_embd {cfg.n_embd}, vocab {cfg.vocab_size}, "
          f"block_size {cfg.block_size}, {gpt.num_params() / 1e6:.2f}M parameters")

    rows = bench_gpt_training(cfg, gpt, dtype)
    rows += bench_gpt_generation(cfg, gpt, dtype)  # HF gets a fresh copy: training moved the weights
    rows += bench_gpt_past_the_window(cfg, dtype)
    for cell in ('rnn', 'gru', 'lstm'):
        rows += bench_recurrent(cfg, cell, dtype)

    print('\n| benchmark | ours | tokens/s | reference | tokens/s | ratio | goal |')
    print('|---|---|---:|---|---:|---:|---|')
    for what, ours, ours_speed, ref, ref_speed, goal in rows:
        ratio = ours_speed / ref_speed
        verdict = '' if goal is None else f">= {goal:g}x {'met' if ratio >= goal else 'MISSED'}"
        print(f'| {what} | {ours} | {ours_speed:,.0f} | {ref} | {ref_speed:,.0f} | {ratio:.2f}x | {verdict} |')


if __name__ == '__main__':
    main()
