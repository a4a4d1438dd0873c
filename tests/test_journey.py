"""The journey (docs/journey.md, docs/journey.ru.md) cannot drift from the measurements.

Every figure the journey quotes is written as a link to its source, e.g.
[4.83](../results/journey/figures.json#counting.unigram_bits_per_char): the link shows the reader
where the number comes from, and here we read that file and check the number equals it, to the
digits shown. The English and Russian texts must quote the same figures.
"""
import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from nanopushkin.compare import CompareConfig
from nanopushkin.config import TrainConfig, parse_args
from nanopushkin.data import Dataset
from nanopushkin.prepare import PrepareConfig
from nanopushkin.sampling import SampleConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
import journey  # noqa: E402  (docs/journey.py, the script that makes the figures)

DOCS = {'en': ROOT / 'docs' / 'journey.md', 'ru': ROOT / 'docs' / 'journey.ru.md'}
FIGURE = re.compile(r'\[([^\]]+)\]\((\.\./results/[^)#]+\.json)#([^)]+)\)')


def figure_links(lang):
    return FIGURE.findall(DOCS[lang].read_text(encoding='utf-8'))


def lookup(obj, dotted):
    """obj['a']['b'][2] for 'a.b.2'; a key that has dots of its own ('0.25', a budget) is found whole."""
    parts = dotted.split('.')
    while parts:
        if isinstance(obj, list):
            obj = obj[int(parts.pop(0))]
            continue
        n = next((n for n in range(1, len(parts) + 1) if '.'.join(parts[:n]) in obj), None)
        if n is None:
            raise KeyError(f'{".".join(parts)} in {dotted}')
        obj, parts = obj['.'.join(parts[:n])], parts[n:]
    return obj


def parse_number(text, lang):
    """The number as written: '4.83', '1,322,416', '30.5%' in English; '4,83', '1 322 416',
    '30,5 %' in Russian; '7.09 GB' is a count of bytes. Returns (value, decimals, is_percent, scale)."""
    text = text.strip().replace('\u00a0', ' ').replace('\u2009', ' ')
    scale = 1.0
    for unit in (' GB', ' ГБ'):          # a byte count shown in GB (10^9 bytes)
        if text.endswith(unit):
            text, scale = text.removesuffix(unit), 1e9
    percent = text.endswith('%')
    text = text.rstrip('% ').lstrip('~≈')
    if lang == 'ru':
        text = text.replace(' ', '').replace(',', '.')
    else:
        text = text.replace(',', '')
    text = text.removesuffix('x').removesuffix('×')
    decimals = len(text.split('.')[1]) if '.' in text else 0
    return float(text), decimals, percent, scale


@pytest.mark.parametrize('lang', DOCS)
def test_every_quoted_figure_equals_its_source(lang):
    links = figure_links(lang)
    assert len(links) >= 30, f'{DOCS[lang].name} quotes only {len(links)} linked figures'
    wrong = []
    for shown, source, key in links:
        path = (DOCS[lang].parent / unquote(source)).resolve()  # %2B: a '+' in a folder name
        assert path.is_file(), f'{DOCS[lang].name}: {source} does not exist'
        value = lookup(json.loads(path.read_text(encoding='utf-8')), unquote(key))  # %20: a space
        number, decimals, percent, scale = parse_number(shown, lang)
        expected = round(float(value) * (100 if percent else 1) / scale, decimals)
        if abs(number - expected) > 10 ** -decimals / 2 + 1e-9:
            wrong.append(f'{shown!r} is {source}#{key} = {value!r}')
    assert not wrong, f'{DOCS[lang].name}: figures that do not match their source:\n' + '\n'.join(wrong)


def test_both_languages_quote_the_same_figures():
    en = sorted({(source, key) for _, source, key in figure_links('en')})
    ru = sorted({(source, key) for _, source, key in figure_links('ru')})
    assert en == ru


def test_linked_code_and_files_exist():
    for lang, path in DOCS.items():
        for target in re.findall(r'\]\((\.\./[^)#\s]+)', path.read_text(encoding='utf-8')):
            assert (path.parent / unquote(target)).exists(), f'{path.name} links to {target}, which does not exist'


def journey_commands():
    """The `python ...` lines of the journey's sh blocks, as argument lists."""
    text = DOCS['en'].read_text(encoding='utf-8')
    commands = []
    for block in re.findall(r'```sh\n(.*?)```', text, re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            while words and '=' in words[0] and not words[0].startswith('-'):
                words = words[1:]                          # PUSHKIN_CORPUS=... python ...
            if words[:1] == ['python'] and len(words) > 1:
                commands.append(words[1:])
    return commands


# the config dataclass each script reads its options with (style.py has sub-commands: not parsed here)
SCRIPT_OPTIONS = {'train.py': TrainConfig, 'sample.py': SampleConfig, 'compare.py': CompareConfig,
                  'data/pushkin/prepare.py': PrepareConfig, 'docs/journey.py': journey.JourneyConfig}


def test_every_journey_command_is_a_real_script_with_real_options():
    """Each `python SCRIPT --key=value ...` line of the journey names a script that exists, and
    its options parse with that script's own config class, as they would when the reader runs it."""
    commands = journey_commands()
    assert len(commands) >= 10
    for words in commands:
        if words[0] == '-m':
            assert words[1] == 'exercises'
            continue
        script, argv = words[0], words[1:]
        assert (ROOT / script).is_file(), f'{script} does not exist'
        if script in SCRIPT_OPTIONS:
            parse_args(SCRIPT_OPTIONS[script], argv)   # raises ConfigError naming a wrong key or value


def test_the_counting_chapters_regenerate_on_a_tiny_corpus(tiny_corpus_dir, tmp_path):
    """docs/journey.py's no-training steps, run as a reader runs them: their figures are sane."""
    result = subprocess.run([sys.executable, 'docs/journey.py', f'--src={tiny_corpus_dir}',
                             '--steps=corpus,counting,words', '--check=False', f'--results_dir={tmp_path / "journey"}',
                             f'--data_root={tmp_path / "data"}'], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads((tmp_path / 'journey' / 'figures.json').read_text(encoding='utf-8'))   # not the real corpus's
    counting = figures['counting']
    assert counting['bigram_bits_per_char'] < counting['unigram_bits_per_char'] < counting['uniform_bits_per_char']
    assert figures['corpus']['val_works'] == 3
    words = figures['words']
    assert 0 < words['oov_share_every_train_word'] <= words['oov_share_8000'] <= words['oov_share_1000'] < 1


def test_the_fast_journey_reproduces_its_committed_figures(corpus_dir, tmp_path):
    """CI's figure check: every step of docs/journey.py at the fast budget, on the real corpus, as a
    reader runs it, compared with results/journey/figures-fast.json within each figure's tolerance.
    A change of code or config that moves a figure fails here, naming it (the script exits 1)."""
    result = subprocess.run([sys.executable, 'docs/journey.py', '--fast', f'--src={corpus_dir}',
                             f'--results_dir={tmp_path / "journey"}', f'--data_root={tmp_path / "data"}'],
                            cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert 'agree with the committed ones' in result.stdout


def test_the_figure_check_fails_on_a_moved_figure_and_names_it():
    """The check itself: a figure outside its tolerance is reported with the rule that allowed less."""
    import figure_check
    committed = {'trap': {'val_loss': 5.0, 'token_perplexity': 148.0}, 'counting': {'vocab_size': 170},
                 'models': {'gru': {'num_params': 985898}}}
    same = {'trap': {'val_loss': 5.05, 'token_perplexity': 150.0}, 'counting': {'vocab_size': 170},
            'models': {'gru': {'num_params': 985898}}}
    assert figure_check.compare(committed, same, ['trap', 'counting', 'models']) == []
    moved = {'trap': {'val_loss': 5.5, 'token_perplexity': 148.0}, 'counting': {'vocab_size': 171},
             'models': {'gru': {'num_params': 1481770}}}
    lines = figure_check.compare(committed, moved, ['trap', 'counting', 'models'])
    assert [line.split(':')[0] for line in lines] == ['counting.vocab_size', 'models.gru.num_params', 'trap.val_loss']
    assert 'must come out the same' in lines[0]


def test_one_training_step_prints_every_shape(char_dataset, tmp_path):
    """docs/one_step.py, the script chapter 5a reads, on the tiny corpus: the batch, each module's
    shapes, the logits, the loss near ln V, the update."""
    result = subprocess.run([sys.executable, 'docs/one_step.py', 'config/gpt.py', f'--data_dir={char_dataset}',
                             '--batch_size=3', '--block_size=16', '--n_layer=2', '--n_embd=32', '--n_head=2'],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    vocab = Dataset(char_dataset).vocab_size
    assert 'batch: x (3, 16)' in out
    assert 'transformer.h.0.attn.c_attn' in out and '(3, 16, 32) -> (3, 16, 96)' in out
    assert 'transformer.h.1.' not in out                    # later blocks repeat block 0's shapes
    assert f'logits (3, 16, {vocab})' in out
    loss = float(out.split('positions = ')[1].split(' nats')[0])
    assert abs(loss - math.log(vocab)) < 0.5
    assert 'AdamW step' in out
