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
from nanopushkin.checkpoint import load_checkpoint, save_checkpoint
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
    streams = {'stdout': subprocess.PIPE, 'stderr': subprocess.PIPE, **kwargs}
    return subprocess.run([sys.executable, *args], cwd=ROOT, text=True, timeout=timeout,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'}, preexec_fn=limit, **streams)


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


# -----------------------------------------------------------------------------
# silently wrong, and hostile checkpoints


@pytest.fixture(scope='module')
def trained(char_dataset, tmp_path_factory):
    """A tiny trained run folder (never changed: tests change copies of its files)."""
    out_dir = tmp_path_factory.mktemp('trained')
    train(tiny_config(char_dataset, out_dir, max_iters=2))
    return out_dir


def damaged_copy(trained, tmp_path, change, name='best.pt'):
    """tmp_path/name: the trained run's checkpoint changed by change(checkpoint)."""
    checkpoint = torch.load(trained / name, weights_only=True)
    change(checkpoint)
    save_checkpoint(checkpoint, tmp_path / name)
    return tmp_path / name


def test_non_finite_weights_are_refused_when_loading(trained, tmp_path, capsys):
    def all_nan(checkpoint):
        for tensor in checkpoint['model'].values():
            tensor.fill_(float('nan'))
    path = damaged_copy(trained, tmp_path, all_nan)
    with pytest.raises(ValueError, match='holds weights that are not finite numbers .* use an earlier checkpoint'):
        load_checkpoint(path)
    import sample
    with pytest.raises(SystemExit) as exit_info:
        sample.main([f'--out_dir={path}', '--temperature=0', '--num_samples=1', '--max_new_tokens=5', '--device=cpu'])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'not finite' in err and len(err.strip().splitlines()) == 1


def set_key(key, value):
    return lambda checkpoint: checkpoint.update({key: value})


def set_model_arg(key, value):
    return lambda checkpoint: checkpoint['model_args'].update({key: value})


@pytest.mark.parametrize('change, message', [
    (set_model_arg('vocab_size', 10 ** 9), 'do not fit the model its model_args describe'),     # 64 GB
    (set_model_arg('n_embd', 2 ** 20), 'do not fit the model its model_args describe'),         # terabytes
    (set_model_arg('n_layer', 10 ** 8), 'do not fit the model its model_args describe'),
    (set_model_arg('n_layer', 'two'), 'do not fit the model its model_args describe'),
    (set_model_arg('n_head', 'two'), 'do not describe a'),
    (set_key('model_args', [1, 2]), 'its model_args must be a dict'),
    (set_key('model', torch.zeros(3)), 'its model_args must be a dict of settings and its model a dict of tensors'),
    (lambda c: c['tokenizer'].update(chars=list(range(len(c['tokenizer']['chars'])))), 'CharTokenizer needs'),
], ids=['vocab 10^9', 'n_embd 2^20', 'n_layer 10^8', 'n_layer text', 'n_head text', 'args a list',
        'model a tensor', 'chars integers'])
def test_a_hostile_checkpoint_is_refused_before_allocating(trained, tmp_path, change, message):
    path = damaged_copy(trained, tmp_path, change)
    start = time.monotonic()
    with pytest.raises(ValueError, match=message):
        load_checkpoint(path)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize('change', [
    lambda c: c.pop('rng'), set_key('iter_num', '7'), lambda c: c['rng'].update(torch=torch.zeros(5, dtype=torch.uint8)),
    lambda c: c['rng'].update(data='garbage'), set_key('optimizer', {'state': 5})],
    ids=['no rng', 'iter_num text', 'rng garbage', 'rng text', 'optimizer garbage'])
def test_a_damaged_resume_state_is_a_one_line_error(trained, char_dataset, tmp_path, change, capsys):
    out_dir = tmp_path / 'run'
    out_dir.mkdir()
    damaged_copy(trained, out_dir, change, 'ckpt.pt')
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 4})
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(['config/gpt.py', *options, '--init_from=resume'])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and 'cannot be resumed from' in err and len(err.strip().splitlines()) == 1, err


def test_resuming_into_a_read_only_folder_exits_non_zero(trained, char_dataset, tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / 'run'
    out_dir.mkdir()
    (out_dir / 'ckpt.pt').write_bytes((trained / 'ckpt.pt').read_bytes())
    out_dir.chmod(0o500)
    if os.geteuid() == 0:               # root writes anyway: the check is what is tested
        real_access = os.access
        monkeypatch.setattr(os, 'access', lambda path, mode: mode != os.W_OK and real_access(path, mode))
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 4})
    try:
        with pytest.raises(SystemExit) as exit_info:
            train_cli.main(['config/gpt.py', *options, '--init_from=resume'])
    finally:
        out_dir.chmod(0o700)
    assert exit_info.value.code == 1 and 'cannot write into --out_dir' in capsys.readouterr().err


@pytest.mark.parametrize('change', [lambda d: d.pop('w'), lambda d: d.update(w=[0.0, 1.0]),
                                    lambda d: d.update(authors=5)], ids=['no w', 'w a list', 'authors a number'])
def test_a_damaged_style_meter_is_a_one_line_error(tmp_path, change):
    from nanopushkin.style import LOG2_BUCKETS, Meter, load_meter
    Meter(torch.zeros(2 ** LOG2_BUCKETS), 0.0).save(tmp_path / 'meter.pt')
    saved = torch.load(tmp_path / 'meter.pt', weights_only=True)
    change(saved)
    torch.save(saved, tmp_path / 'meter.pt')
    with pytest.raises(ValueError, match='is a damaged style meter'):
        load_meter(tmp_path / 'meter.pt')


@pytest.mark.parametrize('option', ['--epochs=-1', '--epochs=0', '--batch_size=0', '--learning_rate=0',
                                    '--max_passages=-5'])
def test_style_train_refuses_settings_that_train_nothing(tmp_path, capsys, option):
    import style
    code = style.main(['train', option, f'--meter={tmp_path / "meter.pt"}', f'--results_dir={tmp_path}'])
    err = capsys.readouterr().err
    assert code == 1 and option.split('=')[0] in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


# -----------------------------------------------------------------------------
# tracebacks: tiny sampling settings


@pytest.mark.parametrize('setting', ['--temperature=1e-300', '--temperature=5e-324', '--top_p=1e-300',
                                     '--repetition_penalty=1e-300', '--repetition_penalty=1e300'])
def test_tiny_sampling_settings_sample(trained, capsys, setting):
    """float32 logits turn 1e-300 into 0: such settings act as their limit (greedy, the top token)."""
    import sample
    sample.main([f'--out_dir={trained}', setting, '--num_samples=1', '--max_new_tokens=8', '--stop_at_eot=False', '--device=cpu',
                 '--start=Буря'])
    out, err = capsys.readouterr()
    assert out.startswith('Буря') and 'generated 8 tokens' in err
    if setting.startswith(('--temperature', '--top_p')):     # in effect greedy: what temperature 0 writes
        sample.main([f'--out_dir={trained}', '--temperature=0', '--num_samples=1', '--max_new_tokens=8', '--stop_at_eot=False',
                     '--device=cpu', '--start=Буря'])
        assert capsys.readouterr().out == out


# -----------------------------------------------------------------------------
# tracebacks: hostile dataset files, system limits


def hostile_dataset(char_dataset, tmp_path, meta_changes=None, tokenizer_text=None):
    """A copy of the prepared dataset with meta.json changed, or tokenizer.json replaced."""
    import shutil
    data_dir = tmp_path / 'char'
    shutil.copytree(char_dataset, data_dir)
    meta = json.loads((data_dir / 'meta.json').read_text())
    for key, value in (meta_changes or {}).items():
        meta[key] = value(meta[key]) if callable(value) else value
    (data_dir / 'meta.json').write_text(json.dumps(meta))
    if tokenizer_text is not None:
        (data_dir / 'tokenizer.json').write_text(tokenizer_text)
    return data_dir


@pytest.mark.parametrize('meta_changes, tokenizer_text, message', [
    ({'val': lambda counts: {**counts, 'chars': 0}}, None, 'val counts'),
    ({'tokenizer_file': 123}, None, 'tokenizer_file 123'),
    ({'tokenizer_file': '../../etc/passwd'}, None, 'tokenizer_file'),
    (None, '[' * 100_000 + ']' * 100_000, 'nested too deeply'),
    (None, '{"kind": "char", "chars": ' + '7' * 5001 + '}', 'is not valid JSON'),
], ids=['val without characters', 'tokenizer_file a number', 'tokenizer_file a path', 'tokenizer nested',
        'tokenizer 5001 digits'])
def test_a_hostile_dataset_is_a_one_line_error(char_dataset, tmp_path, capsys, meta_changes, tokenizer_text, message):
    data_dir = hostile_dataset(char_dataset, tmp_path, meta_changes, tokenizer_text)
    options = cli_args({**TINY, 'data_dir': data_dir, 'out_dir': tmp_path / 'run', 'max_iters': 1})
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(['config/gpt.py', *options])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert 're-create' in err


def test_the_page_skips_a_tokenizer_nested_too_deeply(char_dataset, tmp_path):
    from nanopushkin.playground import ServeConfig, build_playground
    hostile_dataset(char_dataset, tmp_path, tokenizer_text='[' * 100_000 + ']' * 100_000)
    said = []
    playground = build_playground(ServeConfig(out_dir='', tokenizers=str(tmp_path), meter=''), root=tmp_path,
                                  say=said.append)
    assert playground.tokenizers == {} and 'nested too deeply' in said[0]


def test_a_prompt_file_without_end_is_refused(trained, capsys):
    import sample
    with pytest.raises(SystemExit) as exit_info:
        sample.main([f'--out_dir={trained}', '--start=FILE:/dev/zero', '--device=cpu'])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'longer than 10,000,000 characters' in err and len(err.strip().splitlines()) == 1


def test_samples_to_a_full_disk_are_a_one_line_error(trained):
    with open('/dev/full', 'w') as full:
        result = run_script(['sample.py', f'--out_dir={trained}', '--num_samples=1', '--max_new_tokens=5',
                             '--device=cpu'], stdout=full)
    one_line_error(result, 'cannot write the samples', 'No space left on device')


@pytest.mark.parametrize('value', ['[' * 50_000 + ']' * 50_000, '-' * 50_000 + '1', '(' * 50_000],
                         ids=['list', 'minus signs', 'parentheses'])
def test_a_value_nested_50000_deep_on_the_command_line(char_dataset, tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(['config/gpt.py', f'--max_iters={value}', f'--data_dir={char_dataset}'])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "config key 'max_iters'" in err and len(err) < 500


def test_device_meta_is_refused_by_every_command(trained, char_dataset, tmp_path, capsys):
    import sample
    options = cli_args({**TINY, 'data_dir': char_dataset, 'out_dir': tmp_path / 'run', 'device': 'meta'})
    for main, argv, code in ((train_cli.main, ['config/gpt.py', *options], 1),
                             (sample.main, [f'--out_dir={trained}', '--device=meta'], 2)):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == code and "unknown --device='meta'" in err and len(err.strip().splitlines()) == 1
