"""Checkpoints and the training log: the files a run leaves in its out_dir, and how to read them.

Shared by the trainer (which writes them), sample.py, compare.py and the GPT-2 exporter (which read
them), so reading a checkpoint never imports the training loop.

  ckpt.pt   the latest state, with the optimizer and random-number states: for resuming
  best.pt   the model with the lowest val loss so far, without the optimizer: for sampling
  log.jsonl one JSON record per line: 'train' steps, 'eval' measurements, a final 'done'

Checkpoints are made of tensors, strings, numbers, lists and dicts only, so they load with
torch.load(weights_only=True), which cannot run code hidden in a downloaded file.
"""
import json
import os
from pathlib import Path

import torch

from nanopushkin.models import build_model
from tokenizer import load_tokenizer


def save_checkpoint(checkpoint: dict, path):
    """Write to a temporary file next to `path`, then rename it over `path`. A rename within one
    folder is atomic, so a crash or Ctrl-C while writing leaves the previous checkpoint intact."""
    path = Path(path)
    tmp = path.with_name(path.name + '.tmp')
    try:
        with open(tmp, 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename, not just in the OS's buffers
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def find_checkpoint(path_or_out_dir) -> Path:
    """A checkpoint file, or in a run folder best.pt (the lowest val loss: what you want to sample
    from) and else ckpt.pt (the latest state)."""
    path = Path(path_or_out_dir)
    if path.is_dir():
        for name in ('best.pt', 'ckpt.pt'):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f'no checkpoint (best.pt or ckpt.pt) in {path}; train a model first: '
                                f'python train.py config/gpt.py --out_dir={path}')
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    return path


def read_checkpoint(path) -> dict:
    """torch.load a checkpoint of ours, onto the CPU, refusing anything that is not plain data."""
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # a pickle with code in it, a truncated or foreign file
        raise ValueError(f'{path} is not a readable nanoPushkin checkpoint ({type(e).__name__}: '
                         f'{str(e).splitlines()[0] if str(e) else ""})') from None
    keys = set(checkpoint) if isinstance(checkpoint, dict) else set()
    missing = {'model_type', 'model_args', 'model', 'tokenizer'} - keys
    if missing:
        raise ValueError(f'{path} is not a nanoPushkin checkpoint (it lacks {", ".join(sorted(missing))}); '
                         'a GPT-2-format folder is loaded with --init_from=<folder> instead')
    return checkpoint


def load_checkpoint(path_or_out_dir, device='cpu'):
    """Load a trained model for use: returns (model in eval mode on device, tokenizer, checkpoint)."""
    path = find_checkpoint(path_or_out_dir)
    checkpoint = read_checkpoint(path)
    model = build_model(checkpoint['model_type'], checkpoint['model_args'])
    model.load_state_dict(checkpoint['model'])
    model.to(device).eval()
    return model, load_tokenizer(checkpoint['tokenizer']), checkpoint


def read_log(out_dir) -> list[dict]:
    """The records of out_dir/log.jsonl; a last line cut short (the run was killed mid-write) is dropped."""
    path = Path(out_dir) / 'log.jsonl'
    if not path.is_file():
        return []
    lines = [line for line in path.read_text(encoding='utf-8').splitlines() if line.strip()]
    records = [json.loads(line) for line in lines[:-1]]
    try:
        records += [json.loads(line) for line in lines[-1:]]
    except json.JSONDecodeError:
        pass
    return records


def restart_log(out_dir, iter_num):
    """Keep the log of the run so far, up to the iteration being resumed from: lines written after
    the checkpoint (by a run that crashed or was stopped later) would otherwise appear twice."""
    path = Path(out_dir) / 'log.jsonl'
    kept = [r for r in read_log(out_dir) if r['event'] != 'done' and r['iter'] <= iter_num]
    path.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in kept), encoding='utf-8')
