"""The small trained models shipped in models/: each loads, samples through sample.py as the README
says, appears in the playground, and its README quotes the figures its own training log recorded
and the command that trained it."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nanopushkin.checkpoint import load_checkpoint, read_log
from nanopushkin.config import TrainConfig, parse_args
from nanopushkin.playground import find_run_folders

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ('gru-quickstart', 'gpt', 'speedrun')
PROMPT = 'Мой дядя самых честных правил'


def test_the_shipped_models_are_there_and_small():
    for name in SHIPPED:
        folder = ROOT / 'models' / name
        assert (folder / 'best.pt').is_file() and (folder / 'log.jsonl').is_file() and (folder / 'README.md').is_file()
        assert (folder / 'best.pt').stat().st_size < 5_000_000, f'{name}: ship the model without its optimizer state'
    assert not list((ROOT / 'models').glob('*/ckpt.pt')), 'resume checkpoints (optimizer state) are not shipped'
    megabytes = sum(f.stat().st_size for f in (ROOT / 'models').glob('*/*') if f.is_file()) / 2 ** 20
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    assert f'in `models/` ({round(megabytes)} MB in all)' in readme, f'the README should say models/ holds {megabytes:.1f} MB'


@pytest.mark.parametrize('name', SHIPPED)
def test_each_readme_quotes_its_log_and_the_command_that_trained_it(name):
    folder = ROOT / 'models' / name
    readme = (folder / 'README.md').read_text(encoding='utf-8')
    evals = [r for r in read_log(folder) if r['event'] == 'eval']
    best = min(r['val_bits_per_char'] for r in evals)
    assert f'{best:.3f}' in readme, f'models/{name}/README.md does not quote its best held-out figure {best:.3f}'
    command = re.search(r'^python train\.py (config/\S+\.py.*)$', readme, re.M)
    assert command, f'models/{name}/README.md names no `python train.py config/...` command'
    config = parse_args(TrainConfig, command.group(1).split())      # the command parses as written
    _, _, checkpoint = load_checkpoint(folder)
    assert checkpoint['model_type'] == config.model
    assert evals[-1]['iter'] == config.max_iters                    # the log is that command's run, to its end


@pytest.mark.parametrize('name', SHIPPED)
def test_sample_py_samples_from_each_shipped_model(name):
    result = subprocess.run([sys.executable, 'sample.py', f'--out_dir=models/{name}', '--start', PROMPT,
                             '--num_samples=1', '--max_new_tokens=40', '--seed=1'],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout.split('\n---')[0]
    assert text.startswith(PROMPT) and len(text) > len(PROMPT) + 20


def test_the_playground_serves_the_shipped_models():
    names = [folder.name for folder in find_run_folders(ROOT)]
    assert set(SHIPPED) <= set(names)


def test_the_readme_quotes_the_shipped_models_figures():
    """The README's quickstart figure and its table of shipped models are these models' own logs."""
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    for name in SHIPPED:
        best = min(r['val_bits_per_char'] for r in read_log(ROOT / 'models' / name) if r['event'] == 'eval')
        assert f'{best:.3f}' in readme, f'the README does not quote models/{name}\'s {best:.3f}'


def test_the_readme_stanza_is_what_its_command_prints(corpus_dir):
    """The README's verse section shows the stanza its seeded command writes with models/speedrun
    and the corpus as rhyme dictionary."""
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    section = readme.split('## Verse: a whole Onegin stanza')[1].split('\n## ')[0]
    command = re.search(r'^python sample\.py (.*)$', section, re.M).group(1)
    shown = re.search(r'```text\n(.*?)\n```', section, re.S).group(1)
    result = subprocess.run([sys.executable, 'sample.py', *shlex.split(command)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split('-' * 40)[0].rstrip('\n') == shown
