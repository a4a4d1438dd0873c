"""Faults of round two (issue 23): no work lost to a second run or comparison in the same folder,
to a killed write or a full disk; hostile files and options end in a one-line error that says what
to do, never a traceback, a hang or a silently wrong result."""
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import train as train_cli
from nanopushkin import compare as cmp
from nanopushkin.checkpoint import save_checkpoint
from nanopushkin.config import TrainConfig
from nanopushkin.trainer import train

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(n_layer=1, n_head=2, n_embd=16, batch_size=4, block_size=16, eval_iters=2, eval_interval=2,
            log_interval=1, warmup_iters=2, lr_decay_iters=6, progress=False, plot=False, device='cpu')


def tiny_config(data_dir, out_dir, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY, 'model': 'gpt', 'data_dir': str(data_dir), 'out_dir': str(out_dir),
                          'max_iters': 2, **overrides})


def cli_args(options: dict) -> list[str]:
    return [f'--{key}={value}' for key, value in options.items()]


def file_bytes(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


def run_script(args, file_size_limit=None, timeout=120, **kwargs):
    """A script of the repository in a subprocess; file_size_limit: RLIMIT_FSIZE, a disk that is
    full after that many bytes of any one file (Python ignores SIGXFSZ: the write fails with EFBIG)."""
    def limit():
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'}, preexec_fn=limit, **kwargs)


def one_line_error(result, *fragments):
    """A non-zero exit whose stderr ends in one 'error: ' line (warnings may come before it)."""
    err = result.stderr.strip()
    assert result.returncode != 0 and 'Traceback' not in err and err.splitlines()[-1].startswith('error: '), err
    for fragment in fragments:
        assert fragment in err.splitlines()[-1], err


# -----------------------------------------------------------------------------
# lost work


def test_overwrite_into_a_busy_out_dir_stops_before_touching_it(char_dataset, tmp_path, capsys):
    out_dir = tmp_path / 'run'
    train(tiny_config(char_dataset, out_dir))
    (out_dir / '.lock').write_text(str(os.getpid()))     # a live process is writing into it
    before = file_bytes(out_dir)
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 2})
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(['config/gpt.py', *options, '--overwrite=True'])
    assert exit_info.value.code == 1 and 'another run' in capsys.readouterr().err
    assert file_bytes(out_dir) == before                    # ckpt.pt, best.pt and log.jsonl untouched


def test_an_empty_out_dir_is_refused(char_dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)                             # where an empty out_dir would write
    options = cli_args({**TINY, 'data_dir': char_dataset, 'max_iters': 1})
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main([str(ROOT / 'config/gpt.py'), *options, '--out_dir='])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and '--out_dir is empty' in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_comparison_does_not_take_over_a_run_folder_in_use(char_dataset, tmp_path):
    config = tiny_config(char_dataset, tmp_path / 'runs' / 'char-gpt')
    run = cmp.Run('char-gpt', 'gpt', 'char', config)
    folder = Path(config.out_dir)
    folder.mkdir(parents=True)
    (folder / '.lock').write_text(str(os.getpid()))         # the first comparison trains here
    (folder / 'log.jsonl').write_text('{"event": "eval", "iter": 0}\n')
    before = file_bytes(folder)
    with pytest.raises(ValueError, match=r'another run \(process \d+\) is writing into'):
        cmp.train_run(run)
    assert file_bytes(folder) == before
    # once the folder is free, a comparison holds the lock while it trains there, and lets go
    (folder / '.lock').write_text(str(dead_pid()))
    assert cmp.train_run(run)['status'] == 'done'
    assert not (folder / '.lock').exists() and (folder / 'best.pt').is_file()


def test_a_results_folder_that_cannot_be_made_is_a_one_line_error(tmp_path):
    (tmp_path / 'a_file').write_text('not a folder')
    result = run_script(['compare.py', '--archs=gpt', '--max_tokens=1000', f'--results_dir={tmp_path / "a_file"}'])
    one_line_error(result, 'cannot create the results folder', '--results_dir')


def test_temporary_files_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / 'ckpt.pt'
    writer = subprocess.Popen([sys.executable, '-c', (
        'import sys, time; from nanopushkin.files import write_atomically\n'
        'def write(f):\n    f.write(b"half a checkpoint"); f.flush(); time.sleep(60)\n'
        f'write_atomically({str(path)!r}, write)')], cwd=ROOT)
    deadline = time.time() + 30
    while not list(tmp_path.glob('ckpt.pt.*.tmp')) and time.time() < deadline:
        time.sleep(0.02)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert len(list(tmp_path.glob('ckpt.pt.*.tmp'))) == 1
    live = tmp_path / f'ckpt.pt.{os.getpid()}-0123abcd.tmp'    # a writer that still runs keeps its file
    live.write_bytes(b'being written')
    other = tmp_path / 'other.pt.1-0123abcd.tmp'               # another file's temporaries are not ours
    other.write_bytes(b'x')
    save_checkpoint({'w': torch.zeros(3)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['ckpt.pt', live.name, other.name])


def test_a_file_size_limit_while_a_checkpoint_is_written(char_dataset, tmp_path):
    out_dir = tmp_path / 'run'
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 2})
    result = run_script(['train.py', 'config/gpt.py', *options], file_size_limit=20_000)
    one_line_error(result, 'best.pt', 'free some disk space')
    assert not [p.name for p in out_dir.iterdir() if p.suffix == '.tmp' or p.name == '.lock']


def test_prepare_leaves_no_partial_file_when_the_disk_fills(tiny_corpus_dir, tmp_path):
    result = run_script(['data/pushkin/prepare.py', f'--src={tiny_corpus_dir}', f'--out_root={tmp_path}'],
                        file_size_limit=4096)
    one_line_error(result, 'train.bin', 'free some disk space')
    assert [p.name for p in (tmp_path / 'char').iterdir()] == []


# -----------------------------------------------------------------------------
# hangs


def test_a_batch_that_cannot_fit_in_memory_is_refused_before_the_first_step(char_dataset, tmp_path, monkeypatch):
    import nanopushkin.trainer
    monkeypatch.setattr(nanopushkin.trainer, 'machine_memory', lambda device: 1_000_000, raising=False)
    with pytest.raises(ValueError, match=r'needs about .* of memory .* has 976.6 KB: use a smaller --batch_size'):
        train(tiny_config(char_dataset, tmp_path / 'small', batch_size=64))
    monkeypatch.undo()
    start = time.monotonic()
    with pytest.raises(ValueError, match='use a smaller --batch_size'):     # the real machine
        train(tiny_config(char_dataset, tmp_path / 'absurd', batch_size=10_000_000, block_size=128))
    assert time.monotonic() - start < 10
    assert not list((tmp_path / 'absurd').glob('*.pt'))
