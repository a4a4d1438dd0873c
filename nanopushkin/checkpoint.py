"""Checkpoints and the training log: the files a run leaves in its out_dir, and how to read them.

Shared by the trainer (which writes them), sample.py, compare.py and the GPT-2 exporter (which read
them), so reading a checkpoint never imports the training loop.

  ckpt.pt   the latest state, with the optimizer and random-number states: for resuming
  best.pt   the model with the lowest val loss so far, without the optimizer: for sampling
  log.jsonl one JSON record per line: 'train' steps, 'eval' measurements, a final 'done'
  .lock     while a run (or compare.py, for its run folders) writes: its process id, so that a
            second one into the folder stops before it touches anything

Every file is written whole or not at all (a temporary file renamed over the old one), so a kill or a
full disk at any moment leaves the previous version readable.

Checkpoints are made of tensors, strings, numbers, lists and dicts only, so they load with
torch.load(weights_only=True), which cannot run code hidden in a downloaded file.
"""
import json
import os
from contextlib import contextmanager
from pathlib import Path

import torch

from nanopushkin.files import process_exists, write_atomically
from nanopushkin.models import build_model, shapes_only
from tokenizer import load_tokenizer


def save_checkpoint(checkpoint: dict, path):
    """torch.save `checkpoint` to `path` atomically (see nanopushkin/files.py)."""
    write_atomically(path, lambda f: torch.save(checkpoint, f))


_held_locks = set()  # the out_dirs this process holds: compare.py holds a run's, then trains in it


@contextmanager
def locked(out_dir):
    """Hold out_dir/.lock, which holds our process id, while a run writes into out_dir. A lock left
    by a process that no longer exists (killed with kill -9) is taken over. Taking a lock this
    process already holds is a no-op: the outer holder releases it."""
    path = Path(out_dir) / '.lock'
    key = path.resolve()
    if key in _held_locks:
        yield
        return
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            pid = _lock_owner(path)
            if attempt == 0 and pid is not None and not process_exists(pid):
                path.unlink(missing_ok=True)  # stale: its owner died without cleaning up
                continue
            raise ValueError(f'another run (process {pid}) is writing into {out_dir}: wait for it to finish, '
                             f'or give this run another --out_dir (if no such process runs, delete {path})') from None
    with os.fdopen(fd, 'w') as f:
        f.write(str(os.getpid()))
    _held_locks.add(key)
    try:
        yield
    finally:
        _held_locks.discard(key)
        path.unlink(missing_ok=True)


def _lock_owner(path):
    try:
        return int(path.read_text())
    except (OSError, ValueError):  # gone meanwhile, or being written right now
        return None


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
    except Exception as e:  # a pickle with code in it, a truncated or foreign file (JSON, text)
        raise ValueError(f'{path} is not a readable nanoPushkin checkpoint ({why_unreadable(e)})') from None
    keys = set(checkpoint) if isinstance(checkpoint, dict) else set()
    missing = {'model_type', 'model_args', 'model', 'tokenizer'} - keys
    if missing:
        raise ValueError(f'{path} is not a nanoPushkin checkpoint (it lacks {", ".join(sorted(missing))}); '
                         'a GPT-2-format folder is loaded with --init_from=<folder> instead')
    return checkpoint


def why_unreadable(error) -> str:
    """torch.load's reason in one line, without its advice to pass weights_only=False: that would
    run whatever code a pickle holds, which is exactly what reading with weights_only=True avoids."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = next((line for line in lines if 'weights_only' not in line and 'WeightsUnpickler' not in line),
                  lines[0] if lines else '')
    return f'{type(error).__name__}: {reason}' if reason else type(error).__name__


def model_from_checkpoint(checkpoint: dict, path):
    """The model a checkpoint describes (model_type, model_args) with its weights, on the CPU. The
    weights are checked before the model is built: their names and shapes against those of the model
    the settings describe (built without memory: settings that say 10^12 parameters beside a 100 kB
    file are refused, not allocated), and their values (a run that diverged saves nan)."""
    model_type, model_args, state = checkpoint['model_type'], checkpoint['model_args'], checkpoint['model']
    if not (isinstance(model_args, dict) and isinstance(state, dict)
            and all(isinstance(t, torch.Tensor) for t in state.values())):
        raise ValueError(f'{path} is damaged: its model_args must be a dict of settings and its model a dict of '
                         f'tensors (got {type(model_args).__name__} and {type(state).__name__}); train again')
    if not isinstance(model_args.get('n_layer', 0), int) or model_args.get('n_layer', 0) > len(state):
        problem = f'n_layer = {model_args.get("n_layer")!r} in {len(state)} tensors'
    else:
        try:
            with shapes_only():
                expected = {name: tuple(t.shape) for name, t in build_model(model_type, model_args).state_dict().items()}
        except (TypeError, ValueError) as e:   # a setting of the wrong type or value
            raise ValueError(f'the model_args in {path} do not describe a {model_type!r} model ({e})') from None
        problem = weights_problem(expected, state)
    if problem:
        raise ValueError(f'the weights in {path} do not fit the model its model_args describe ({problem})')
    not_finite = [name for name, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if not_finite:
        raise ValueError(f'{path} holds weights that are not finite numbers (nan or inf, in {not_finite[0]}): the '
                         'run that saved it diverged; use an earlier checkpoint or train again')
    model = build_model(model_type, model_args)
    model.load_state_dict(state)
    return model


def weights_problem(expected: dict, state: dict) -> str:
    """The first difference between the shapes a model expects ({name: shape}) and a state dict."""
    missing, unexpected = sorted(expected.keys() - state.keys()), sorted(state.keys() - expected.keys())
    if missing or unexpected:
        return f'missing {missing[:3]}, unexpected {unexpected[:3]}'
    wrong = [name for name, shape in expected.items() if tuple(state[name].shape) != shape]
    if wrong:
        return f'{wrong[0]} has shape {list(state[wrong[0]].shape)}, the model expects {list(expected[wrong[0]])}'
    return ''


def load_checkpoint(path_or_out_dir, device='cpu'):
    """Load a trained model for use: returns (model in eval mode on device, tokenizer, checkpoint)."""
    path = find_checkpoint(path_or_out_dir)
    checkpoint = read_checkpoint(path)
    model = model_from_checkpoint(checkpoint, path)
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
    kept = [r for r in read_log(out_dir) if r['event'] != 'done' and r['iter'] <= iter_num]
    text = ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in kept)
    write_atomically(Path(out_dir) / 'log.jsonl', lambda f: f.write(text.encode('utf-8')))
