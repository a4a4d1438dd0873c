"""No trained run lost (issue 15): a scratch run over a trained one, a diverging loss, two runs into
one folder, a kill while the log is rewritten, Ctrl-C then resume (the whole curve), and one-line
errors from train.py for a bad out_dir, a full disk and a checkpoint that does not fit its model."""
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import nanopushkin.checkpoint
import nanopushkin.trainer
import train as train_cli
from nanopushkin.checkpoint import load_checkpoint, restart_log, save_checkpoint
from nanopushkin.config import TrainConfig, parse_args
from nanopushkin.data import Dataset
from nanopushkin.trainer import TrainingDiverged, check_config, train

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(n_layer=1, n_head=2, n_embd=16, n_hidden=32, context=4, batch_size=4, block_size=16,
            eval_iters=2, eval_interval=2, log_interval=1, warmup_iters=2, lr_decay_iters=6,
            progress=False, plot=False, device='cpu')


def tiny_config(data_dir, out_dir, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY, 'model': 'gpt', 'data_dir': str(data_dir), 'out_dir': str(out_dir),
                          'max_iters': 4, **overrides})


def cli_args(options: dict) -> list[str]:
    return [f'--{key}={value}' for key, value in options.items()]


def run_cli(args):
    return subprocess.run([sys.executable, 'train.py', *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, 'OMP_NUM_THREADS': '1'})


def main_exit(argv, capsys):
    """train.py's main in this process: (exit code, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(argv)
    return exit_info.value.code, capsys.readouterr().err


def curve(out_dir):
    """Every number of a run's log that must not depend on how it was run (no clock readings)."""
    records = [json.loads(line) for line in (Path(out_dir) / 'log.jsonl').read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ('elapsed', 'tokens_per_sec')}
            for r in records if r['event'] != 'done']


def assert_same_curve(a, b):
    assert [(r['event'], r['iter']) for r in a] == [(r['event'], r['iter']) for r in b]
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for key in x:
            assert x[key] == pytest.approx(y[key], abs=1e-6), (key, x, y)


def file_bytes(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


# -----------------------------------------------------------------------------
# a scratch run over a trained one


def test_scratch_run_refuses_to_replace_a_trained_run(char_dataset, tmp_path, capsys):
    out_dir = tmp_path / 'run'
    train(tiny_config(char_dataset, out_dir))
    before = file_bytes(out_dir)
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 2})
    code, err = main_exit(['config/gpt.py', *options], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert '--init_from=resume' in err and '--overwrite=True' in err
    assert file_bytes(out_dir) == before  # nothing touched
    # starting over is said explicitly, and replaces the old run (its best.pt too)
    summary = train(tiny_config(char_dataset, out_dir, max_iters=2, overwrite=True))
    assert summary['iters'] == 2 and load_checkpoint(out_dir)[2]['iter_num'] <= 2
    assert [r['iter'] for r in curve(out_dir) if r['event'] == 'eval'] == [0, 2]


# -----------------------------------------------------------------------------
# nonsense options and a diverging loss


def test_check_config_rejects_nonsense():
    for options, message in [(dict(min_lr=1e-2, learning_rate=1e-3), '--min_lr=0.01 is above --learning_rate'),
                             (dict(weight_decay=-0.1), '--weight_decay must not be negative'),
                             (dict(learning_rate=0.0, min_lr=0.0), '--learning_rate must be positive'),
                             (dict(beta2=1.0), '--beta2 must be at least 0 and below 1'),
                             (dict(threads=-1), '--threads must not be negative'),
                             (dict(learning_rate=float('nan')), '--learning_rate must be positive')]:
        with pytest.raises(ValueError, match=message):
            check_config(TrainConfig(**options))


def test_a_diverging_loss_stops_without_overwriting_the_checkpoints(char_dataset, tmp_path, capsys):
    out_dir = tmp_path / 'run'
    train(tiny_config(char_dataset, out_dir, max_iters=2))
    before = {name: (out_dir / name).read_bytes() for name in ('ckpt.pt', 'best.pt')}
    with pytest.raises(TrainingDiverged, match='became (nan|inf) at iteration'):
        train(tiny_config(char_dataset, out_dir, init_from='resume', max_iters=8, learning_rate=1e30,
                          min_lr=0.0, decay_lr=False))
    assert {name: (out_dir / name).read_bytes() for name in before} == before
    assert not any(r['event'] == 'done' for r in curve(out_dir))
    # through train.py: a one-line message and a non-zero exit
    options = {**TINY, 'data_dir': char_dataset, 'out_dir': tmp_path / 'cli', 'max_iters': 8,
               'learning_rate': 1e30, 'decay_lr': False}
    code, err = main_exit(['config/gpt.py', *cli_args(options)], capsys)
    assert code == 1 and 'training diverged' in err and len(err.strip().splitlines()) == 1
    for name in ('ckpt.pt', 'best.pt'):  # the evaluation at iteration 0 saved the untrained model
        checkpoint = torch.load(tmp_path / 'cli' / name, weights_only=True)
        assert all(torch.isfinite(w).all() for w in checkpoint['model'].values())


# -----------------------------------------------------------------------------
# two runs into one folder


def test_a_second_run_into_a_busy_out_dir_stops(char_dataset, tmp_path):
    out_dir = tmp_path / 'run'
    out_dir.mkdir()
    (out_dir / '.lock').write_text(str(os.getpid()))  # a live process holds it
    with pytest.raises(ValueError, match=rf'another run \(process {os.getpid()}\) is writing into'):
        train(tiny_config(char_dataset, out_dir))
    assert sorted(p.name for p in out_dir.iterdir()) == ['.lock']
    # a lock left by a process that died (kill -9) is taken over, and removed at the end
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (out_dir / '.lock').write_text(str(dead.pid))
    assert train(tiny_config(char_dataset, out_dir, max_iters=1))['iters'] == 1
    assert not (out_dir / '.lock').exists()


def test_concurrent_saves_use_their_own_temporary_files(tmp_path):
    path = tmp_path / 'ckpt.pt'
    (tmp_path / 'ckpt.pt.tmp').write_text('the old fixed name: another writer could be using it')
    errors = []

    def save_many(value):
        try:
            for _ in range(30):
                save_checkpoint({'w': torch.full((20_000,), float(value))}, path)
        except Exception as e:  # noqa: BLE001 -- collected and reported by the assert below
            errors.append(e)

    threads = [threading.Thread(target=save_many, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    w = torch.load(path, weights_only=True)['w']
    assert w.min() == w.max()  # one writer's whole file
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pt', 'ckpt.pt.tmp']
    assert (tmp_path / 'ckpt.pt.tmp').read_text().startswith('the old fixed name')


# -----------------------------------------------------------------------------
# the log rewrite on resume


def test_a_kill_while_the_log_is_rewritten_leaves_the_old_log(tmp_path, monkeypatch):
    records = [{'event': 'eval', 'iter': 0, 'val_loss': 4.0}, {'event': 'train', 'iter': 1, 'loss': 3.9},
               {'event': 'train', 'iter': 2, 'loss': 3.8}]
    log = tmp_path / 'log.jsonl'
    log.write_text(''.join(json.dumps(r) + '\n' for r in records))
    before = log.read_bytes()

    def killed(fd):
        raise KeyboardInterrupt  # stands for a kill in the middle of writing the new file

    monkeypatch.setattr(nanopushkin.checkpoint.os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        restart_log(tmp_path, 1)
    assert log.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ['log.jsonl']
    monkeypatch.undo()
    restart_log(tmp_path, 1)
    assert [json.loads(line)['iter'] for line in log.read_text().splitlines()] == [0, 1]


# -----------------------------------------------------------------------------
# Ctrl-C then resume: the same curve


def test_ctrl_c_mid_iteration_then_resume_gives_the_same_curve(char_dataset, tmp_path, monkeypatch):
    # dropout draws from torch's generator, the batches from the sampler's: both must be as they were
    # at the start of the interrupted iteration; two micro-batches, so the interrupt falls between them
    config = tiny_config(char_dataset, tmp_path / 'straight', max_iters=8, eval_interval=3, dropout=0.1,
                         gradient_accumulation_steps=2, lr_decay_iters=8)
    train(config)
    interrupted = replace(config, out_dir=str(tmp_path / 'interrupted'))
    get_batch, calls = Dataset.get_batch, []

    def interrupt_in_iteration_5(self, split, *args, **kwargs):
        if split == 'train':
            calls.append(1)
            # the second micro-batch of the fifth iteration (the evaluations at 0 and 3 draw 2 each)
            if len(calls) == 2 * 2 + 4 * 2 + 2:
                raise KeyboardInterrupt
        return get_batch(self, split, *args, **kwargs)

    monkeypatch.setattr(Dataset, 'get_batch', interrupt_in_iteration_5)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted)
    monkeypatch.undo()
    assert torch.load(tmp_path / 'interrupted' / 'ckpt.pt', weights_only=True)['iter_num'] == 4
    train(replace(interrupted, init_from='resume'))
    assert_same_curve(curve(tmp_path / 'straight'), curve(tmp_path / 'interrupted'))


def test_ctrl_c_signal_then_resume_gives_the_same_curve(char_dataset, tmp_path):
    """A real SIGINT to train.py, whenever it lands: resuming gives the curve of a straight run."""
    options = {**TINY, 'data_dir': char_dataset, 'out_dir': tmp_path / 'interrupted', 'max_iters': 10**6,
               'eval_interval': 5, 'dropout': 0.1, 'lr_decay_iters': 10**6}
    # A shell that starts the tests in the background makes them ignore SIGINT, and children inherit
    # that (Python then installs no Ctrl-C handler): give train.py the default, as in a terminal.
    process = subprocess.Popen([sys.executable, 'train.py', 'config/gru.py', *cli_args(options)], cwd=ROOT,
                               env={**os.environ, 'OMP_NUM_THREADS': '1'}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = tmp_path / 'interrupted' / 'log.jsonl'
    deadline = time.time() + 60
    while not (log.is_file() and log.read_text().count('"event": "train"') >= 7) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and 'Traceback' not in stderr, stderr
    assert '--init_from=resume' in stdout
    iter_num = torch.load(tmp_path / 'interrupted' / 'ckpt.pt', weights_only=True)['iter_num']
    assert iter_num >= 7
    resume = parse_args(TrainConfig, ['config/gru.py', *cli_args({**options, 'max_iters': iter_num + 3})])
    train(replace(resume, init_from='resume'))
    straight = replace(resume, out_dir=str(tmp_path / 'straight'))
    train(straight)
    assert_same_curve(curve(tmp_path / 'straight'), curve(tmp_path / 'interrupted'))


# -----------------------------------------------------------------------------
# one-line errors from train.py


def test_a_bad_out_dir_is_a_one_line_error(char_dataset, tmp_path, capsys, monkeypatch):
    options = cli_args({**TINY, 'data_dir': char_dataset, 'max_iters': 1})
    (tmp_path / 'a_file').write_text('not a folder')
    for out_dir, message in [(tmp_path / 'a_file', 'is a file, not a folder'),
                             (tmp_path / 'a_file' / 'run', 'cannot create --out_dir')]:
        code, err = main_exit(['config/gpt.py', *options, f'--out_dir={out_dir}'], capsys)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    # a read-only folder (as root, where permissions do not stop writes, the check is what is tested)
    read_only = tmp_path / 'read_only'
    read_only.mkdir()
    read_only.chmod(0o500)
    if os.geteuid() == 0:
        real_access = os.access
        monkeypatch.setattr(os, 'access', lambda path, mode: mode != os.W_OK and real_access(path, mode))
    code, err = main_exit(['config/gpt.py', *options, f'--out_dir={read_only}'], capsys)
    assert code == 1 and 'cannot write into --out_dir' in err and len(err.strip().splitlines()) == 1
    read_only.chmod(0o700)


def test_a_full_disk_is_a_one_line_error(char_dataset, tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / 'run'
    train(tiny_config(char_dataset, out_dir, max_iters=2))
    before = file_bytes(out_dir)

    def disk_full(obj, f):
        f.write(b'part of a checkpoint')
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(nanopushkin.checkpoint.torch, 'save', disk_full)
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 4})
    code, err = main_exit(['config/gpt.py', *options, '--init_from=resume'], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert 'No space left on device' in err and ('best.pt' in err or 'ckpt.pt' in err)
    after = file_bytes(out_dir)
    assert {n: after[n] for n in ('ckpt.pt', 'best.pt')} == {n: before[n] for n in ('ckpt.pt', 'best.pt')}
    assert not [name for name in after if name.endswith('.tmp') or name == '.lock']


def test_a_checkpoint_that_does_not_fit_its_model_is_a_one_line_error(char_dataset, tmp_path, capsys):
    out_dir = tmp_path / 'run'
    train(tiny_config(char_dataset, out_dir, max_iters=1))
    checkpoint = torch.load(out_dir / 'ckpt.pt', weights_only=True)
    checkpoint['model_args']['n_embd'] = 32  # the weights are 16 wide
    save_checkpoint(checkpoint, out_dir / 'ckpt.pt')
    with pytest.raises(ValueError, match='do not fit the model its model_args describe'):
        load_checkpoint(out_dir / 'ckpt.pt')
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 2})
    code, err = main_exit(['config/gpt.py', *options, '--init_from=resume'], capsys)
    assert code == 1 and 'do not fit the model' in err and len(err.strip().splitlines()) == 1


# -----------------------------------------------------------------------------
# options: keep no resume checkpoint, threads, the expected result


def test_no_resume_checkpoint_keeps_best_pt_only(char_dataset, tmp_path):
    train(tiny_config(char_dataset, tmp_path, resume_checkpoint=False))
    assert (tmp_path / 'best.pt').is_file() and not (tmp_path / 'ckpt.pt').exists()


def test_threads_option_and_auto_choice(char_dataset, tmp_path, capsys, monkeypatch):
    chosen = []
    set_num_threads = torch.set_num_threads
    monkeypatch.setattr(torch, 'set_num_threads', lambda n: chosen.append(n) or set_num_threads(n))
    train(tiny_config(char_dataset, tmp_path / 'three', max_iters=1, threads=3))
    assert chosen[0] == 3 and torch.get_num_threads() == 1  # the caller's setting comes back
    assert 'threads:' not in capsys.readouterr().out
    # auto with two cores to choose from: both are timed, the choice is printed, nothing else changes
    chosen.clear()
    set_num_threads(2)
    try:
        auto = train(tiny_config(char_dataset, tmp_path / 'auto', max_iters=1))
        assert torch.get_num_threads() == 2
    finally:
        set_num_threads(1)
    assert chosen[:2] == [1, 2] and chosen[2] in (1, 2)
    assert 'ms/step' in capsys.readouterr().out
    one = train(tiny_config(char_dataset, tmp_path / 'one', max_iters=1, threads=1))
    first_eval = [curve(tmp_path / name)[0] for name in ('auto', 'one')]
    assert first_eval[0]['val_loss'] == pytest.approx(first_eval[1]['val_loss'], abs=1e-5)
    assert auto['val_loss'] == pytest.approx(one['val_loss'], abs=1e-4)


def test_the_result_is_printed_beside_the_expectation(char_dataset, tmp_path, capsys):
    config_file = tmp_path / 'expected.py'
    config_file.write_text("model = 'gpt'\nexpected_val_bits_per_char = 2.38\n")
    config = parse_args(TrainConfig, [str(config_file), *cli_args({**TINY, 'data_dir': char_dataset,
                                                                   'out_dir': tmp_path / 'run', 'max_iters': 1})])
    assert config.expected_val_bits_per_char == 2.38
    summary = train(config)
    printed = capsys.readouterr().out
    # said before training starts (so a reader knows the target) and beside the result at the end
    assert printed.index('this config is expected to reach about 2.380 bits/char') < printed.index('iter 0')
    # (no budget stated: the figure is taken as the one for this run)
    assert f'val {summary["val_bits_per_char"]:.3f} bits/char' in printed.splitlines()[-1]
    assert printed.splitlines()[-1].endswith('; this config is expected to reach about 2.380 on the default data')


def test_a_json_file_given_as_a_checkpoint_is_refused_without_torchs_unsafe_advice(tmp_path):
    """torch.load's message for a non-pickle suggests weights_only=False, which would run the code
    a malicious pickle holds: our error names the file and leaves that advice out."""
    path = tmp_path / 'config.json'
    path.write_text('{"n_layer": 2}', encoding='utf-8')
    with pytest.raises(ValueError) as error:
        nanopushkin.checkpoint.read_checkpoint(path)
    message = str(error.value)
    assert str(path) in message and 'not a readable nanoPushkin checkpoint' in message
    assert 'weights_only' not in message and '\n' not in message
