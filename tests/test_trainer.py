"""The training loop: every config file through the train.py CLI, exact resume, determinism,
atomic checkpoints, the log and the plot, the data helpers, and clear errors."""
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from nanopushkin.config import TrainConfig, parse_args
from nanopushkin.data import Dataset, bits_per_char, prepare_command, unigram_bits_per_char
from nanopushkin.models import MODEL_TYPES
from nanopushkin.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint
from nanopushkin import threads
from nanopushkin.threads import ThreadChoice
from nanopushkin.trainer import Run, RunState, estimate_memory, format_duration, get_lr, result_line, train

ROOT = Path(__file__).resolve().parent.parent
# small enough for any of the five models to run a few iterations in well under a second
TINY = dict(n_layer=1, n_head=2, n_embd=16, n_hidden=32, context=4, batch_size=4, block_size=16,
            eval_iters=2, eval_interval=2, log_interval=1, warmup_iters=2, lr_decay_iters=6,
            progress=False, plot=False, device='cpu')


def cli_args(options: dict) -> list[str]:
    return [f'--{key}={value}' for key, value in options.items()]


def run_cli(args, **popen):
    """python train.py ARGS from ROOT, one thread (the test machine's cores are shared)."""
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, 'train.py', *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, **popen)


@pytest.fixture
def one_thread():
    """In-process runs: one thread is faster for tiny models and keeps timings stable."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_config(data_dir, out_dir, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY, 'model': 'gpt', 'data_dir': str(data_dir), 'out_dir': str(out_dir),
                          'max_iters': 6, **overrides})


def read_log(out_dir):
    return [json.loads(line) for line in (Path(out_dir) / 'log.jsonl').read_text().splitlines()]


def curve(records):
    """The numbers of a run that must not depend on how it was run (no clock readings)."""
    timing = {'elapsed', 'tokens_per_sec'}
    return [{k: v for k, v in r.items() if k not in timing} for r in records if r['event'] != 'done']


# -----------------------------------------------------------------------------
# the CLI with every config file


@pytest.mark.parametrize('model', MODEL_TYPES)
def test_config_file_trains_through_cli(model, char_dataset, tmp_path):
    out_dir = tmp_path / model
    options = {**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 3, 'plot': model == 'gpt'}
    result = run_cli([f'config/{model}.py', *cli_args(options)])
    assert result.returncode == 0, result.stderr
    assert 'parameters' in result.stdout and 'memory estimate' in result.stdout
    # the config's expected figure is for its full budget, not for these 3 iterations
    budget = parse_args(TrainConfig, [f'config/{model}.py']).expected_after_tokens
    assert result.stdout.splitlines()[-1].endswith(
        f'after its full budget of {budget / 1e6:.1f}M training tokens; this run trained on '
        f'{3 * TINY["batch_size"] * TINY["block_size"]}')
    log = read_log(out_dir)
    assert [r['iter'] for r in log if r['event'] == 'eval'] == [0, 2, 3]
    assert log[-1]['event'] == 'done' and log[-1]['iters'] == 3
    _, tokenizer, checkpoint = load_checkpoint(out_dir)
    assert checkpoint['model_type'] == model and checkpoint['config']['max_iters'] == 3
    assert tokenizer.vocab_size == json.loads((Path(char_dataset) / 'meta.json').read_text())['vocab_size']
    if model == 'gpt':
        assert (out_dir / 'loss.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_bad_options_exit_with_a_message(char_dataset, tmp_path):
    result = run_cli(['config/gpt.py', '--max_iter=5'])
    assert result.returncode == 2
    assert "unknown config key 'max_iter'" in result.stderr and 'max_iters' in result.stderr
    result = run_cli(['--data_dir', str(tmp_path / 'bpe4096'), '--out_dir', str(tmp_path / 'out')])
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert 'python data/pushkin/prepare.py --tokenizer=bpe --vocab_size=4096' in result.stderr


# -----------------------------------------------------------------------------
# resume, determinism, the log


def test_resume_continues_the_same_curve(char_dataset, tmp_path, one_thread):
    # dropout draws from torch's generator, the batches from the data generator: both must resume
    straight = tiny_config(char_dataset, tmp_path / 'straight', dropout=0.1, eval_interval=3, plot=True)
    summary = train(straight)
    halves = replace(straight, out_dir=str(tmp_path / 'halves'), max_iters=3, plot=False)
    train(halves)
    # a run that went on after its last checkpoint and was killed mid-write: resuming drops those lines
    with open(Path(halves.out_dir) / 'log.jsonl', 'a') as f:
        f.write(json.dumps({'event': 'train', 'iter': 5, 'loss': 9.9}) + '\n{"event": "tr')
    resumed = train(replace(halves, init_from='resume', max_iters=6))
    assert resumed['iters'] == summary['iters'] == 6
    assert abs(resumed['val_loss'] - summary['val_loss']) < 1e-6
    # the log of the resumed run is the straight run's log: same losses at the same iterations
    straight_log, resumed_log = curve(read_log(straight.out_dir)), curve(read_log(halves.out_dir))
    assert [r['iter'] for r in resumed_log] == [0, 1, 2, 3, 3, 4, 5, 6, 6]
    assert len(resumed_log) == len(straight_log)
    for a, b in zip(straight_log, resumed_log):
        assert a.keys() == b.keys() and a['iter'] == b['iter'] and a['event'] == b['event']
        for key in ('loss', 'train_loss', 'val_loss'):
            if key in a:
                assert abs(a[key] - b[key]) < 1e-6, (a, b)
    # the log format of the contract, and the picture
    eval_keys = {'event', 'iter', 'tokens', 'elapsed', 'train_loss', 'val_loss', 'val_bits_per_char', 'lr'}
    train_keys = {'event', 'iter', 'tokens', 'elapsed', 'loss', 'lr', 'tokens_per_sec'}
    log = read_log(straight.out_dir)
    assert all(set(r) == (eval_keys if r['event'] == 'eval' else train_keys) for r in log[:-1])
    assert log[-1] == {'event': 'done', **summary}
    assert set(summary) == {'best_val_loss', 'val_loss', 'val_bits_per_char', 'iters', 'tokens', 'elapsed',
                            'tokens_per_sec', 'num_params', 'out_dir'}
    assert summary['tokens'] == 6 * TINY['batch_size'] * TINY['block_size']
    assert (Path(straight.out_dir) / 'loss.png').stat().st_size > 10_000


def test_same_seed_same_losses_other_seed_other_losses(char_dataset, tmp_path, one_thread):
    config = tiny_config(char_dataset, tmp_path / 'a', model='lstm', max_iters=3, dropout=0.1)
    first = train(config)
    again = train(replace(config, out_dir=str(tmp_path / 'b')))
    other = train(replace(config, out_dir=str(tmp_path / 'c'), seed=7))
    assert curve(read_log(tmp_path / 'a')) == curve(read_log(tmp_path / 'b'))
    assert first['val_loss'] == again['val_loss'] != other['val_loss']


def test_training_lowers_the_loss_and_keeps_the_best(char_dataset, tmp_path, one_thread):
    config = tiny_config(char_dataset, tmp_path, model='lstm', max_iters=30, eval_interval=10,
                         learning_rate=1e-2, lr_decay_iters=30, gradient_accumulation_steps=2)
    summary = train(config)
    evals = [r for r in read_log(tmp_path) if r['event'] == 'eval']
    assert evals[-1]['val_loss'] < evals[0]['val_loss'] - 0.5
    assert summary['best_val_loss'] == min(r['val_loss'] for r in evals)
    assert summary['tokens'] == 30 * 2 * TINY['batch_size'] * TINY['block_size']
    # best.pt is what load_checkpoint picks in a run folder; ckpt.pt is the state to resume from
    assert find_checkpoint(tmp_path).name == 'best.pt'
    best = torch.load(tmp_path / 'best.pt', weights_only=True)
    assert best['best_val_loss'] == summary['best_val_loss'] and best['optimizer'] == {}
    (tmp_path / 'best.pt').unlink()
    model, _, checkpoint = load_checkpoint(tmp_path)
    assert checkpoint['iter_num'] == 30 and not model.training


# -----------------------------------------------------------------------------
# the thread count follows the machine's load


def drive(choice, seconds_by_threads, steps):
    """Feed `choice` the step times a machine would give: seconds_by_threads(step, threads).
    Returns the thread count of every step and the lines printed."""
    counts, said, threads_now = [], [], choice.threads
    for step in range(steps):
        counts.append(threads_now)
        threads_now, message = choice.step_done(seconds_by_threads(step, threads_now))
        said += [message] if message else []
    return counts, said


def test_threads_fall_back_when_steps_collapse_and_come_back_later():
    # two threads take 0.1 s a step until step 10, then another program takes a core: 0.8 s with two,
    # 0.3 s with one; from step 400 the machine is idle again
    def machine(step, threads):
        if 10 <= step < 400:
            return 0.8 if threads == 2 else 0.3
        return 0.1 if threads == 2 else 0.15
    counts, said = drive(ThreadChoice([1, 2], 2, recheck_seconds=60.0), machine, 700)
    # the collapse is seen after 2 slow steps (the median of 3), the trial runs 4 steps with 1 thread
    assert counts[:12] == [2] * 12 and counts[12:16] == [1] * 4
    assert said[0] == ('threads: 2 -> 1 (training steps took 800.0 ms with 2, 300.0 ms with 1: the '
                       "machine's load changed; --threads=N to fix the count)")
    # while the load lasts, the periodic trials of 2 threads lose and 1 thread stays
    assert set(counts[16:400]) == {1, 2} and counts[16:400].count(2) < 20
    # once idle, the next periodic trial (60 s of steps later) switches back to two threads
    assert counts[-1] == 2 and said[1].startswith('threads: 1 -> 2') and len(said) == 2


def test_a_trial_that_is_not_faster_keeps_the_count():
    counts, said = drive(ThreadChoice([1, 2], 2, recheck_seconds=1.0), lambda step, n: 0.1 if n == 2 else 0.105, 40)
    assert said == [] and counts.count(1) == 4 * (counts.count(1) // 4) > 0   # whole trials, then back
    assert counts[-1] == 2


def test_the_thread_check_switches_during_a_run_without_changing_the_curve(char_dataset, tmp_path, monkeypatch,
                                                                           capsys):
    # a fake clock: each reading advances by what the current thread count costs; after the start
    # (the first timing reads it 16 times) two threads become slow, as when another program starts
    readings = []

    def fake_clock():
        slow = len(readings) >= 16 + 2 * 4
        readings.append({1: 0.3, 2: 0.8 if slow else 0.1}[torch.get_num_threads()])
        return sum(readings)

    monkeypatch.setattr(threads, 'clock', fake_clock)
    set_num_threads = torch.set_num_threads
    set_num_threads(2)                      # two cores to choose from
    try:
        train(tiny_config(char_dataset, tmp_path / 'auto', model='lstm', max_iters=12, dropout=0.1))
    finally:
        set_num_threads(1)
    printed = capsys.readouterr().out
    assert 'threads: 2 (timed 1: 300.0 ms/step, 2: 100.0 ms/step' in printed
    assert 'threads: 2 -> 1 (training steps took 800.0 ms with 2, 300.0 ms with 1' in printed
    monkeypatch.undo()
    train(tiny_config(char_dataset, tmp_path / 'fixed', model='lstm', max_iters=12, dropout=0.1, threads=1))
    assert curve(read_log(tmp_path / 'auto')) == curve(read_log(tmp_path / 'fixed'))


# -----------------------------------------------------------------------------
# the progress line: tokens/s and the time left


def run_at(config, iter_num, wall_seconds, train_seconds, tokens_per_iter=100):
    """A Run's bookkeeping as it stands `wall_seconds` after its start, without a model."""
    run = object.__new__(Run)
    run.config, run.tokens_per_iter, run.train_seconds = config, tokens_per_iter, train_seconds
    run.state = RunState(iter_num=iter_num, tokens_seen=iter_num * tokens_per_iter)
    run.start_time = time.time() - wall_seconds
    return run


def test_time_left_counts_the_iterations_left_at_the_current_speed():
    # 50 of 100 iterations done, 1000 tokens/s: 50 x 100 tokens take 5 s of steps; the wall clock ran
    # twice the training time (evaluations, saving), so about 10 s are left
    assert run_at(TrainConfig(max_iters=100), 50, 20, 10).seconds_left(1000) == pytest.approx(10, rel=0.01)
    # a token budget that ends the run at iteration 60
    assert run_at(TrainConfig(max_iters=100, max_tokens=6000), 50, 20, 10).seconds_left(1000) == \
        pytest.approx(2, rel=0.01)
    # a time budget caps it; no speed yet, no estimate
    assert run_at(TrainConfig(max_iters=100, max_seconds=25), 50, 20, 10).seconds_left(1000) == \
        pytest.approx(5, abs=0.1)
    assert run_at(TrainConfig(), 0, 1, 0).seconds_left(0) is None
    assert [format_duration(s) for s in (0.4, 45, 600, 5400, 7500)] == ['0 s', '45 s', '10 min', '1 h 30 min',
                                                                        '2 h 05 min']


def test_the_progress_line_says_tokens_per_second_and_the_time_left(char_dataset, tmp_path, capsys):
    train(tiny_config(char_dataset, tmp_path, max_iters=4, log_interval=2))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith('iter') and 'lr' in line]
    assert [line.split(':')[0] for line in lines] == ['iter 2', 'iter 4']
    assert all(re.search(r'loss [0-9.]+, lr [0-9.e+-]+, [0-9,]+ tokens/s, [0-9]+ (s|min) left$', line)
               for line in lines), lines
    assert lines[-1].endswith(', 0 s left')


def test_the_last_line_compares_with_the_unigram_baseline_and_the_configs_budget():
    config = TrainConfig(expected_val_bits_per_char=2.456, expected_after_tokens=5_808_128)
    # --max_iters=50 of config/lstm.py: above the unigram line, and a figure for a longer run
    assert result_line(4.845, 4.832, config, 51_200) == (
        'val 4.845 bits/char, not below the 4.832 of the unigram baseline (a model that ignores the context): '
        'this run trained too little, or something is broken; this config is expected to reach about 2.456 on '
        'the default data after its full budget of 5.8M training tokens; this run trained on 51,200')
    # the full budget: the comparison stands as it is
    assert result_line(2.47, 4.832, config, 5_808_128) == (
        'val 2.470 bits/char (unigram baseline 4.832); this config is expected to reach about 2.456 on the '
        'default data')
    assert result_line(2.47, 4.832, TrainConfig(), 100) == 'val 2.470 bits/char (unigram baseline 4.832)'


def test_learning_rate_schedule():
    config = TrainConfig(learning_rate=1e-3, min_lr=1e-4, warmup_iters=10, lr_decay_iters=110)
    lrs = [get_lr(it, config) for it in range(130)]
    assert lrs[0] == pytest.approx(1e-3 / 11) and lrs[9] == pytest.approx(1e-3 * 10 / 11)
    assert lrs[10] == pytest.approx(1e-3) and lrs[60] == pytest.approx(5.5e-4)  # half way down the cosine
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[110:] == [1e-4] * 20
    assert get_lr(5000, replace(config, decay_lr=False)) == 1e-3
    # a budget (seconds or tokens) half used is half way down the cosine, whatever the iteration
    assert get_lr(20, config, budget_used=0.5) == pytest.approx(5.5e-4)
    assert get_lr(20, config, budget_used=1.0) == 1e-4


# -----------------------------------------------------------------------------
# Ctrl-C and atomic checkpoints


# (Ctrl-C then resume, with the whole curve compared: tests/test_reliability.py)


def test_failed_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pt'
    save_checkpoint({'iter_num': 1, 'w': torch.ones(3)}, path)
    with pytest.raises(Exception):
        save_checkpoint({'iter_num': 2, 'w': torch.zeros(3), 'bad': lambda: 0}, path)  # cannot pickle
    kept = torch.load(path, weights_only=True)
    assert kept['iter_num'] == 1 and torch.equal(kept['w'], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pt']  # no temporary file left behind


# -----------------------------------------------------------------------------
# clear errors


def test_clear_errors_for_bad_runs(char_dataset, tmp_path, one_thread):
    with pytest.raises(FileNotFoundError, match='no checkpoint .*ckpt.pt'):
        train(tiny_config(char_dataset, tmp_path / 'nothing', init_from='resume'))
    with pytest.raises(ValueError, match="unknown --model='transformer'"):
        train(tiny_config(char_dataset, tmp_path, model='transformer'))
    n_val = len(Dataset(char_dataset).splits['val'])  # the val split is the shorter one
    with pytest.raises(ValueError, match=f'the val split .* has {n_val} tokens, fewer than block_size'):
        train(tiny_config(char_dataset, tmp_path, block_size=n_val))
    with pytest.raises(ValueError, match='--batch_size must be at least 1'):
        train(tiny_config(char_dataset, tmp_path, batch_size=0))
    with pytest.raises(ValueError, match="unknown --dtype='float8'"):
        train(tiny_config(char_dataset, tmp_path, dtype='float8'))
    with pytest.raises(ValueError, match='gradient_checkpointing is implemented for the gpt model only'):
        train(tiny_config(char_dataset, tmp_path, model='rnn', gradient_checkpointing=True))
    # a GPT cannot be resumed with a longer context than its position embeddings cover
    train(tiny_config(char_dataset, tmp_path / 'short', max_iters=1))
    with pytest.raises(ValueError, match='--block_size=32 is longer than the 16 positions'):
        train(tiny_config(char_dataset, tmp_path / 'short', init_from='resume', block_size=32, max_iters=2))


def test_init_from_a_gpt2_format_folder(tiny_corpus_dir, char_dataset, tmp_path, one_thread):
    """Fine-tuning: the model and its tokenizer come from a GPT-2-format folder (nanopushkin.hf), the
    data must have been prepared with that tokenizer."""
    from nanopushkin import hf
    from nanopushkin.models.gpt import GPT, GPTConfig
    from nanopushkin.prepare import prepare_dataset
    from tokenizer import BPETokenizer
    chars = Dataset(char_dataset)
    tokenizer = BPETokenizer.train(chars.tokenizer().decode(chars.splits['train'][:5000].tolist()), vocab_size=280)
    torch.manual_seed(0)
    pretrained = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16))
    hf.save_pretrained(pretrained, tokenizer, tmp_path / 'tiny-gpt2')
    data_dir = prepare_dataset(f'pretrained:{tmp_path / "tiny-gpt2"}', src=tiny_corpus_dir, out_root=tmp_path)
    config = tiny_config(data_dir, tmp_path / 'out', init_from=str(tmp_path / 'tiny-gpt2'), max_iters=2)
    summary = train(config)
    assert summary['iters'] == 2
    _, _, checkpoint = load_checkpoint(tmp_path / 'out' / 'ckpt.pt')
    assert checkpoint['model_type'] == 'gpt' and checkpoint['model_args']['block_size'] == 16
    # the first evaluation is of the pretrained model itself, on eval_iters batches
    generator, losses = torch.Generator().manual_seed(config.seed), []
    for _ in range(config.eval_iters):
        x, y = Dataset(data_dir).get_batch('val', config.batch_size, config.block_size, generator)
        losses.append(pretrained(x, y)[1].item())
    assert read_log(tmp_path / 'out')[0]['val_loss'] == pytest.approx(sum(losses) / len(losses), abs=1e-5)
    with pytest.raises(ValueError, match='vocabulary of 280 tokens but the dataset .* has'):
        train(replace(config, data_dir=str(char_dataset), out_dir=str(tmp_path / 'other')))
    with pytest.raises(ValueError, match='--block_size=32 is longer than the 16 positions'):
        train(replace(config, block_size=32, out_dir=str(tmp_path / 'other')))


def test_missing_data_names_the_prepare_command(tmp_path):
    assert prepare_command('data/pushkin/char') == 'python data/pushkin/prepare.py'
    assert prepare_command('data/pushkin/word8000') == \
        'python data/pushkin/prepare.py --tokenizer=word --vocab_size=8000'
    assert prepare_command(tmp_path / 'bpe512').endswith(f'--vocab_size=512 --out_root={tmp_path}')
    assert prepare_command('data/pushkin/bpe1410+contrast') == \
        'python data/pushkin/prepare.py --tokenizer=bpe --vocab_size=1410 --extra_src=contrast'
    with pytest.raises(FileNotFoundError, match=r'create it with: python data/pushkin/prepare.py --out_root='):
        Dataset(tmp_path / 'char')


# -----------------------------------------------------------------------------
# data helpers and the memory estimate


def test_batches_are_shifted_windows_of_the_data(char_dataset):
    dataset = Dataset(char_dataset)
    x, y = dataset.get_batch('val', 8, 16, torch.Generator().manual_seed(0))
    x2, _ = dataset.get_batch('val', 8, 16, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 16) and x.dtype == torch.int64 and torch.equal(x, x2)
    assert torch.equal(x[:, 1:], y[:, :-1])
    text = dataset.splits['val'].tolist()
    for row in torch.cat([x, y[:, -1:]], dim=1).tolist():
        starts = [i for i in range(len(text) - 16) if text[i:i + 17] == row]
        assert starts, 'every window is a piece of the val split'


def test_unigram_baseline_and_bits_per_char(char_dataset):
    dataset = Dataset(char_dataset)
    train_counts = Counter(dataset.splits['train'].tolist())
    total = len(dataset.splits['train']) + dataset.vocab_size
    val = dataset.splits['val'].tolist()
    nats = -sum(math.log((train_counts[t] + 1) / total) for t in val) / len(val)
    # char tokenizer: one token per character, so bits per char is just nats per token in bits
    assert dataset.meta['val']['tokens'] == dataset.meta['val']['chars']
    assert unigram_bits_per_char(char_dataset) == pytest.approx(nats / math.log(2), rel=1e-9)
    assert bits_per_char(math.log(2), {'val': {'tokens': 300, 'chars': 1000}}) == pytest.approx(0.3)


def test_memory_estimate_counts_what_training_keeps():
    from nanopushkin.models import build_model, model_args_from_config
    config = TrainConfig(model='gpt', n_layer=2, n_head=2, n_embd=32, block_size=64, batch_size=8, device='cpu')
    model = build_model('gpt', model_args_from_config(config, vocab_size=100))
    n = sum(p.numel() for p in model.parameters())
    memory = estimate_memory(model, config)
    largest = max(p.numel() for p in model.parameters())    # the token embedding's gradient, built whole
    assert (memory['weights'], memory['gradients'], memory['optimizer']) == (4 * n, 4 * (n + largest), 8 * n)
    assert memory['total'] == sum(v for k, v in memory.items() if k != 'total')
    # the activations, per layer and token, are checked against what autograd keeps in test_rugpt3.py
    assert estimate_memory(model, replace(config, batch_size=16))['activations'] == 2 * memory['activations']
    checkpointed = estimate_memory(model, replace(config, gradient_checkpointing=True))
    assert checkpointed['activations'] < memory['activations']


def test_eval_only_measures_without_writing(char_dataset, tmp_path, one_thread):
    summary = train(tiny_config(char_dataset, tmp_path, max_iters=2))
    log_before = (tmp_path / 'log.jsonl').read_text()
    evaluated = train(tiny_config(char_dataset, tmp_path, init_from='resume', eval_only=True))
    assert evaluated['val_loss'] == pytest.approx(summary['val_loss'], abs=1e-6) and evaluated['iters'] == 2
    assert (tmp_path / 'log.jsonl').read_text() == log_before


def test_checkpoints_hold_plain_types_only(char_dataset, tmp_path, one_thread):
    train(tiny_config(char_dataset, tmp_path, max_iters=1))
    checkpoint = torch.load(tmp_path / 'ckpt.pt', weights_only=True)  # would refuse anything else
    assert isinstance(checkpoint['rng']['data'], torch.Tensor) and isinstance(checkpoint['config'], dict)
    assert np.array_equal(checkpoint['model']['lm_head.weight'].numpy(),
                          checkpoint['model']['transformer.wte.weight'].numpy())
