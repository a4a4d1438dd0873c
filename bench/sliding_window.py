"""
Generating past the context window: three ways to keep going once the text is longer than
block_size, side by side on the same rotary GPT, in one process.

  crop         nanoGPT's generate(): a forward over the last block_size tokens for every new token;
               no cache, always the whole window, block_size positions of work per token
  half window  what GPT.step does with learned positions: when the cache is full, re-encode the
               last block_size // 2 tokens once and grow again; 1/2 to all of the window as context
  sliding      what GPT.step does with rotary positions: drop the oldest key and value and go on;
               always the whole window, one position per token, nothing re-encoded (and the
               deeper layers' cached keys remember tokens that have left the window)

For each way: tokens/s of greedy generation (batch 1) after a prompt that fills the window, and the
tokens each prediction attends to (mean and least). With --checkpoint (a trained rotary GPT, e.g.
out-speedrun): also the held-out bits per character of each way, predicting the validation text
token by token past the window, which says what the context each keeps is worth.
Timings alternate between the ways (bench/model.py's race), so a busy machine slows them alike.
Usage: python bench/sliding_window.py [--checkpoint=out-speedrun] [--new_tokens=1000] [--rounds=3]
"""
import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

import torch
from torch.nn import functional as F

from bench.model import race
from nanopushkin.checkpoint import load_checkpoint
from nanopushkin.config import main_parse
from nanopushkin.data import Dataset, bits_per_char
from nanopushkin.models import build_model


@dataclass
class BenchConfig:
    checkpoint: str = ''        # a trained rotary GPT (run folder or .pt): adds held-out bits/char
    data_dir: str = ''          # its held-out text; default: the checkpoint's data_dir
    eval_tokens: int = 2000     # held-out tokens each way predicts past the window
    device: str = 'cpu'
    threads: int = 1            # batch-1 steps are tiny: more threads mostly add synchronisation
    rounds: int = 3             # timed runs of every way (after one warm-up run)
    seed: int = 1337
    new_tokens: int = 1000      # generated after the prompt, all past the window
    # without --checkpoint, a random rotary GPT: config/speedrun.py's shape at block 128
    vocab_size: int = 170
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128


# Each way: (model, tokens so far (1, t), its state) -> (next-token logits, state, tokens attended)

def crop(model, tokens, state):
    window = tokens[:, -model.config.block_size:]
    return model(window)[0][:, -1], None, window.size(1)


def half_window(model, tokens, state):
    block_size = model.config.block_size
    if state is None or state['tokens'].size(1) == block_size:  # the start, or full: re-encode
        logits, state = model.step(tokens[:, -(block_size // 2 if state else block_size):])
    else:
        logits, state = model.step(tokens[:, -1:], state)
    return logits, state, state['tokens'].size(1)


def sliding(model, tokens, state):
    logits, state = model.step(tokens if state is None else tokens[:, -1:], state)
    return logits, state, state['tokens'].size(1)


WAYS = {'crop': crop, 'half window': half_window, 'sliding': sliding}


@torch.no_grad()
def decode(model, way, prompt, n, targets=None):
    """n tokens after prompt (1, P), greedy or (targets (1, n) given) the targets themselves.
    Returns the tokens, the summed negative log-likelihood of the targets (0 without them), and the
    tokens each prediction attended to."""
    tokens, state, nll, attended = prompt, None, 0.0, []
    for i in range(n):
        logits, state, context = way(model, tokens, state)
        attended.append(context)
        if targets is None:
            next_id = logits.argmax(-1, keepdim=True)
        else:
            next_id = targets[:, i:i + 1]
            nll -= F.log_softmax(logits.float(), dim=-1).gather(1, next_id).item()
        tokens = torch.cat([tokens, next_id], dim=1)
    return tokens, nll, attended


def measure(cfg, model, meta=None, held_out=None) -> list[dict]:
    """One row per way: tokens/s, tokens attended (mean, least), and with held_out (a 1-D tensor of
    the validation tokens) and its dataset's meta, held-out bits per character."""
    block_size = model.config.block_size
    generator = torch.Generator().manual_seed(cfg.seed)
    prompt = torch.randint(0, model.config.vocab_size, (1, block_size), generator=generator).to(cfg.device)
    ways = {name: way for name, way in WAYS.items() if name != 'sliding' or model.config.rotary}
    seconds, results = race({name: (lambda way=way: decode(model, way, prompt, cfg.new_tokens))
                             for name, way in ways.items()}, cfg.rounds, cfg.device)
    rows = []
    for name, way in ways.items():
        _, _, attended = results[name]
        row = {'way': name, 'tokens_per_sec': cfg.new_tokens / seconds[name],
               'mean_context': sum(attended) / len(attended), 'least_context': min(attended)}
        if held_out is not None:
            text = held_out[:block_size + cfg.eval_tokens].to(cfg.device).unsqueeze(0)
            _, nll, _ = decode(model, way, text[:, :block_size], text.size(1) - block_size, text[:, block_size:])
            row['bits_per_char'] = bits_per_char(nll / (text.size(1) - block_size), meta)
        rows.append(row)
    return rows


def load_model(cfg):
    """(model, dataset meta, held-out tokens): the checkpoint's, or a random rotary GPT's (no data)."""
    if not cfg.checkpoint:
        torch.manual_seed(cfg.seed)
        model = build_model('gpt', dict(vocab_size=cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                                        n_head=cfg.n_head, n_embd=cfg.n_embd, rotary=True))
        return model.to(cfg.device).eval(), None, None
    model, _, checkpoint = load_checkpoint(cfg.checkpoint, cfg.device)
    if checkpoint['model_type'] != 'gpt':
        raise ValueError(f'{cfg.checkpoint} holds a {checkpoint["model_type"]} model; this bench needs a GPT')
    dataset = Dataset(cfg.data_dir or checkpoint['config']['data_dir'])
    return model, dataset.meta, torch.from_numpy(dataset.splits['val'][:].astype('int64'))


def main(argv):
    cfg = main_parse(BenchConfig, argv, config_file_allowed=False)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        model, meta, held_out = load_model(cfg)
    except (ValueError, OSError) as e:
        sys.exit(f'error: {e}')
    c = model.config
    print(f'GPT: {c.n_layer} layers, n_embd {c.n_embd}, block_size {c.block_size}, '
          f'{"rotary" if c.rotary else "learned"} positions, {cfg.checkpoint or "random weights"}; '
          f'device {cfg.device}, {torch.get_num_threads()} threads, median of {cfg.rounds} alternating rounds, '
          f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores')
    if not c.rotary:
        print('learned positions: no sliding window (its cached keys would sit at the wrong positions)')
    rows = measure(cfg, model, meta, held_out)
    print(f'\n{cfg.new_tokens} greedy tokens after a {c.block_size}-token prompt, batch 1'
          + (f'; held-out: {cfg.eval_tokens} validation tokens past the window' if held_out is not None else ''))
    print('| way | tokens/s | tokens attended: mean | least |' + (' held-out bits/char |' if held_out is not None else ''))
    print('|---|---:|---:|---:|' + ('---:|' if held_out is not None else ''))
    for r in rows:
        bpc = f' {r["bits_per_char"]:.3f} |' if 'bits_per_char' in r else ''
        print(f'| {r["way"]} | {r["tokens_per_sec"]:,.0f} | {r["mean_context"]:.1f} | {r["least_context"]} |{bpc}')


if __name__ == '__main__':
    main(sys.argv[1:])
