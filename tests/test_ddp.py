"""Distributed data parallel training: two CPU processes (gloo) started by torchrun."""
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def torchrun_train(config_file, options):
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
               'train.py', config_file, *(f'--{k}={v}' for k, v in options.items())]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, 'OMP_NUM_THREADS': '1'},
                          capture_output=True, text=True, timeout=120)


def test_two_processes_train_and_rank0_saves(char_dataset, tmp_path):
    out_dir = tmp_path / 'ddp'
    options = dict(data_dir=char_dataset, out_dir=out_dir, n_layer=1, n_head=2, n_embd=16, batch_size=4,
                   block_size=16, max_iters=4, eval_interval=2, eval_iters=2, log_interval=1,
                   gradient_accumulation_steps=2, progress=False, plot=False, device='cpu')
    result = torchrun_train('config/gpt.py', options)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '2 processes' in result.stdout
    assert result.stdout.count('parameters') == 1  # only rank 0 prints
    log = [json.loads(line) for line in (out_dir / 'log.jsonl').read_text().splitlines()]
    assert [r['iter'] for r in log if r['event'] == 'eval'] == [0, 2, 4]  # only rank 0 writes
    # gradient_accumulation_steps is the total over both processes: one micro-batch each
    assert log[-1]['event'] == 'done' and log[-1]['tokens'] == 4 * 2 * 4 * 16
    checkpoint = torch.load(out_dir / 'ckpt.pt', weights_only=True)
    assert checkpoint['iter_num'] == 4 and 'module.' not in next(iter(checkpoint['model']))


def test_two_processes_with_muon_and_the_speedrun_options(char_dataset, tmp_path):
    """Muon steps on the gradients DDP has averaged, so every process makes the same update; the
    run trains, saves Muon's state on rank 0, and resumes from it with two processes again."""
    out_dir = tmp_path / 'ddp-muon'
    options = dict(data_dir=char_dataset, out_dir=out_dir, n_layer=1, n_head=2, n_embd=16, batch_size=4,
                   block_size=16, max_iters=2, eval_interval=2, eval_iters=2, log_interval=1,
                   gradient_accumulation_steps=2, progress=False, plot=False, device='cpu')
    result = torchrun_train('config/speedrun.py', options)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = torch.load(out_dir / 'ckpt.pt', weights_only=True)
    assert checkpoint['config']['optimizer'] == 'muon' and checkpoint['model_args']['rotary'] is True
    assert sum('momentum_buffer' in s for s in checkpoint['optimizer']['state'].values()) == 4  # 1 block x 4
    result = torchrun_train('config/speedrun.py', {**options, 'init_from': 'resume', 'max_iters': 4})
    assert result.returncode == 0, result.stderr[-3000:]
    log = [json.loads(line) for line in (out_dir / 'log.jsonl').read_text().splitlines()]
    assert [r['iter'] for r in log if r['event'] == 'eval'] == [0, 2, 4] and log[-1]['iters'] == 4
