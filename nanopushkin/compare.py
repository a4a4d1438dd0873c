"""A fair comparison of every architecture (and tokenizer) under one training budget.

    python compare.py                                    # linear, rnn, gru, lstm, gpt: 5 min each
    python compare.py --tokenizers=char,bpe1410,bpe4096  # the same five on three tokenizers
    python compare.py --search=4                         # + 4 random configs per architecture
    python compare.py --max_tokens=2000000               # budget in tokens seen instead of seconds
    python compare.py --scaling=1M,3M,10M                # every architecture at each token budget
    python compare.py --scaling=1M,3M,10M --report_only  # the report of the runs finished so far
    python compare.py --quick                            # smoke test: 160k tokens per run (15 min on a busy 2-core CPU)

What makes it fair: every run goes through the same `train(config)` loop, reads the same prepared
dataset (the same train/val split by work), starts from the same seed and stops at the same
budget. The budget is wall-clock time by default (what you can afford), or tokens seen
(`--max_tokens`: what the model was shown). Under either the learning rate warms up and then
decays along a cosine over the budget, reaching min_lr exactly when the budget runs out, so no
model is cut off at a high learning rate. Evaluations count against the time budget, and every
run evaluates every eval_interval iterations on eval_iters batches: the same share of each model's
own compute, whatever its speed. Models are compared in bits per character, which does not depend
on the tokenizer, next to the unigram baseline (token frequencies, no context at all). Each run's
style (the style meter's P(Pushkin), and the share of known words that tells word salad from
Russian) and repetition (distinct-2/3, repeated word 4-grams) are measured on its continuations of
STYLE_PROMPTS, next to held-out Pushkin and held-out contrast text scored the same way. Its verse
(nanopushkin/verse.py: line length and rhyme) is measured on its continuations of VERSE_PROMPTS,
the openings of the held-out verse works, next to held-out Pushkin verse and the contrast poets'.

A time budget is the same number of seconds on every device, so on a GPU the same command trains
every model on many more tokens (and on a busy machine on fewer: use a token budget when numbers
must be reproducible across machines). Tokens per iteration come from each config file.

The scaling mode (`--scaling=1M,3M,10M`) asks which architecture wins at which budget: each
config at each token budget, its learning rate decaying over that budget (the model is the same
at every budget: only how long it trains changes), and scaling.png plots the final held-out
bits/char against training compute, one line per architecture, on the axes --scaling_axes names:
tokens seen, training FLOPs (training_flops below) or wall-clock seconds (this machine's).

Everything lands in results/<name>/ (name: tokenizers, budget, search and architectures, e.g.
char-300s): results.md (the table), results.json, curves.png (validation bits/char against tokens
seen and against time), samples.md (each run's continuation of one fixed prompt) and, with
--search, search.png (parameters against bits/char). Each run trains in results/<name>/runs/<id>/
(log.jsonl and checkpoints, not committed). A --quick smoke test writes into out-quick/<name>/
instead, which git ignores: it is nobody's result. Running the same command again reuses every run that
finished with the same config on the same data and trains only the missing, changed or failed
ones; a run that raises is reported as failed in the table and the others go on.

The file reads top to bottom as the comparison runs: the settings and the search space, planning
the runs (plan_runs, with_budget), training them (train_run), sampling and measuring them
(sample_and_measure, style_metrics), the report, and compare() at the end, which ties it together.
A first reading can skip the reference rows (reference_pieces .. reference_metrics), the resume
bookkeeping (record_path .. is_finished) and the plotting.
"""
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from matplotlib.figure import Figure      # no pyplot: no window, no global state

from nanopushkin.checkpoint import load_checkpoint, locked, read_log
from nanopushkin.config import ConfigError, TrainConfig, parse_args
from nanopushkin.corpus import VAL_WORKS, clean_text, find_corpus, read_works, split_contrast
from nanopushkin.data import Dataset, load_meta, unigram_bits_per_char
from nanopushkin.devices import resolve_device
from nanopushkin.models import build_model, model_args_from_config, model_hyperparameters
from nanopushkin.models.gpt import MODERN_OPTIONS, GPTConfig
from nanopushkin.prepare import dataset_name, prepare_dataset
from nanopushkin.sampling import SampleOptions, generate
from nanopushkin.style import known_word_share, load_meter, repetition_metrics, score_texts
from nanopushkin.trainer import check_config, train
from nanopushkin.verse import annotate, complete_lines, distance, rhyme_rate, syllable_counts, tetrameter_share

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CompareConfig:
    archs: str = 'linear,rnn,gru,lstm,gpt'  # config files to compare: names in config/ or paths to .py
    tokenizers: str = 'char'                # datasets: char, word<N>, bpe<N> (made if missing)
    budget_seconds: float = 300.0           # training wall-clock per run (the default budget)
    max_tokens: int = 0                     # budget in training tokens instead (0: use budget_seconds)
    scaling: str = ''                       # token budgets, e.g. '1M,3M,10M': every arch at each one
    scaling_axes: str = 'tokens,flops,seconds'  # x axes of scaling.png (any of these, in this order)
    report_only: bool = False               # train nothing: report the runs that have finished
    search: int = 0                         # this many random configs per architecture (SEARCH_SPACE)
    quick: bool = False                     # smoke test: QUICK_MAX_TOKENS per run, short evals
    name: str = ''                          # results/<name>; '' names it after the arguments
    results_dir: str = ''                   # '': results/, or out-quick/ for --quick (git ignores out*/)
    data_root: str = 'data/pushkin'         # where prepared datasets live (prepare's out_root)
    src: str = ''                           # raw corpus folder ('': found by corpus.find_corpus's rule)
    train_args: str = ''                    # TrainConfig overrides for every run: 'dropout=0.1 batch_size=16'
    eval_interval: int = 100                # iterations between validation points, for every run
    eval_iters: int = 20                    # batches per validation point (20 x 4096 tokens ~ val split)
    prompt: str = 'Однажды играли в карты у конногвардейца Нарумова.'  # 1st line of Пиковая дама (val)
    sample_chars: int = 300                 # length of each run's sample (samples.md)
    style_chars: int = 1000                 # length of each continuation of STYLE_PROMPTS that is scored
    verse_chars: int = 600                  # length of each continuation of VERSE_PROMPTS (~20 lines)
    meter: str = 'data/style/meter.pt'      # the style meter (`python style.py train`)
    contrast_dir: str = '../shared/data/contrast'  # other writers: the held-out contrast reference row
    temperature: float = 0.8
    top_k: int = 0                          # 0: sample from the whole distribution
    seed: int = 1337                        # the same for every run: init, batches, sample
    device: str = 'auto'


# --quick trains each run on this many tokens: a token budget, so the smoke test ends in the same
# state however busy the machine is (a wall-clock budget gave a loaded machine two iterations)
QUICK_MAX_TOKENS = 160_000


def sample_options(settings: CompareConfig) -> SampleOptions:
    """How every run's samples are drawn: the comparison's temperature, top_k and seed, the same for
    every run (max_new_tokens is set per text). Made, and so checked, before any training."""
    return SampleOptions(temperature=settings.temperature, top_k=settings.top_k, seed=settings.seed)

# The style and repetition columns are measured on every run's continuations of these prompts (two
# prose openings, two verse openings), style_chars characters each, sampled with the comparison's
# temperature, top_k and seed; the prompts themselves are not scored. The reference rows score the
# same number of pieces of the same length cut from held-out Pushkin and held-out contrast text.
STYLE_PROMPTS = (
    'Однажды играли в карты у конногвардейца Нарумова.',   # Пиковая дама
    'В последних числах сентября',                         # Барышня-крестьянка
    'Мой дядя самых честных правил,',                      # Евгений Онегин
    'Буря мглою небо кроет,',                              # Зимний вечер
)
# The verse columns: every run continues these openings of the held-out verse works by verse_chars
# characters (same sampling as above); the lines it wrote are pooled and measured: the distance of
# their syllable counts from held-out Pushkin verse's, the share with 8-9 syllables, the rhyme rate.
# The reference rows measure as many pieces of the same length (whole lines) of real verse: for
# held-out Pushkin, its distance is what the sample size alone gives.
VERSE_PROMPTS = (
    'На берегу пустынных волн\nСтоял он, дум великих полн,\n',            # Медный всадник
    'Люблю тебя, Петра творенье,\nЛюблю твой строгий, стройный вид,\n',    # Медный всадник
    'Над омраченным Петроградом\nДышал ноябрь осенним хладом.\n',         # Медный всадник
    'Жил старик со своею старухой\nУ самого синего моря;\n',              # Сказка о рыбаке и рыбке
)
CONTRAST_POETS = ('Lermontov', 'Nekrasov')
UNREACHABLE_ITERS = 10**9   # max_iters of a run that a time budget stops

# Random search (--search N): N configs per model type, each key drawn independently.
# A list is a set of choices; a (low, high) tuple is a log-uniform range.
# min_lr always follows learning_rate / 10.
SEARCH_SPACE = {
    'linear': {'context': [3, 5, 8, 12, 16], 'n_embd': [16, 32, 64, 128],
               'n_hidden': [128, 256, 512, 1024], 'learning_rate': (3e-4, 3e-3)},
    'rnn': {'n_layer': [1, 2, 3], 'n_embd': [32, 64, 128], 'n_hidden': [128, 256, 384, 512],
            'dropout': [0.0, 0.1, 0.2], 'learning_rate': (3e-4, 3e-3)},
    'gpt': {'n_layer': [2, 3, 4, 6], 'n_embd': [64, 96, 128, 192, 256], 'n_head': [2, 4],
            'dropout': [0.0, 0.1, 0.2], 'learning_rate': (3e-4, 3e-3)},
}
SEARCH_SPACE['gru'] = SEARCH_SPACE['lstm'] = SEARCH_SPACE['rnn']


def sample_search_config(model_type, rng: random.Random) -> dict:
    """One random point of SEARCH_SPACE[model_type], as TrainConfig overrides."""
    point = {}
    for key, space in SEARCH_SPACE[model_type].items():
        if isinstance(space, tuple):
            low, high = space
            point[key] = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            point[key] = rng.choice(space)
    if 'learning_rate' in point:
        point['min_lr'] = point['learning_rate'] / 10
    return point


# ----------------------------------------------------------------------------------------------
# the runs


@dataclass
class Run:
    run_id: str        # '<tokenizer>-<arch>' or '<tokenizer>-<arch>-search<k>': the folder name
    arch: str          # the config file's name (gpt, lstm, ...)
    tokenizer: str     # the dataset name (char, bpe4096, ...)
    config: TrainConfig


def split_list(text, what) -> list[str]:
    items = [item.strip() for item in text.split(',') if item.strip()]
    if not items:
        raise ConfigError(f'--{what} is empty; give a comma-separated list')
    if len(set(items)) != len(items):
        raise ConfigError(f'--{what} lists an item twice: {text!r}')
    return items


def config_file(arch) -> Path:
    """The config file of an architecture: config/<arch>.py, or a path to a .py file."""
    path = Path(arch) if arch.endswith('.py') else ROOT / 'config' / f'{arch}.py'
    if not path.is_file():
        known = sorted(p.stem for p in (ROOT / 'config').glob('*.py'))
        raise ConfigError(f'no config file for architecture {arch!r} ({path} does not exist); '
                          f'known: {", ".join(known)} (or give the path of a .py config file)')
    return path


def tokenizer_spec(name) -> tuple[str, int | None, str]:
    """'char' -> ('char', None, 'char'), 'bpe' -> ('bpe', None, 'bpe4096'), 'bpe1410' -> ('bpe', 1410,
    'bpe1410'): prepare_dataset's arguments and the dataset folder's name."""
    kind, digits = name.rstrip('0123456789'), name[len(name.rstrip('0123456789')):]
    if kind not in ('char', 'word', 'bpe') or (kind == 'char' and digits) or digits.startswith('0'):
        raise ConfigError(f'unknown tokenizer {name!r}; use char, word<N> or bpe<N> (e.g. bpe4096)')
    vocab_size = int(digits) if digits else None
    return kind, vocab_size, dataset_name(kind, vocab_size)


def parse_budgets(text) -> list[int]:
    """'300k,1M,3M' -> [300000, 1000000, 3000000]: the token budgets of --scaling."""
    budgets = []
    for item in split_list(text, 'scaling'):
        number, unit = (item[:-1], item[-1].upper()) if item[-1].upper() in 'KMG' else (item, '')
        try:
            value = float(number) * {'': 1, 'K': 1e3, 'M': 1e6, 'G': 1e9}[unit]
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(f'--scaling takes token budgets like 300k,1M,3M; got {item!r}')
        budgets.append(int(value))
    return sorted(budgets)


def with_budget(cfg: TrainConfig, settings: CompareConfig, max_tokens: int = 0) -> TrainConfig:
    """`cfg` stopped by the comparison's budget (or by max_tokens, a scaling run's), its learning rate
    decaying over exactly that budget.

    A token budget is a number of iterations (tokens per iteration are fixed), so max_iters and
    lr_decay_iters say it directly. A time budget has no iteration count known in advance: the
    trainer then runs the cosine over the fraction of max_seconds used, and max_iters only has to
    be out of reach. The config's expected_val_bits_per_char is dropped: it is the figure of the
    config's own budget, not of this one.
    """
    cfg = dataclasses.replace(cfg, expected_val_bits_per_char=None)
    max_tokens = max_tokens or settings.max_tokens
    if max_tokens:
        tokens_per_iter = cfg.batch_size * cfg.block_size * cfg.gradient_accumulation_steps
        iters = math.ceil(max_tokens / tokens_per_iter)
        return dataclasses.replace(cfg, max_tokens=max_tokens, max_seconds=0.0,
                                   max_iters=iters, lr_decay_iters=iters)
    return dataclasses.replace(cfg, max_seconds=settings.budget_seconds, max_tokens=0,
                               max_iters=UNREACHABLE_ITERS, lr_decay_iters=UNREACHABLE_ITERS)


def plan_runs(settings: CompareConfig) -> list[Run]:
    """Every run of the comparison, its TrainConfig complete (so it can be compared on resume)."""
    sample_options(settings)                                   # bad sampling settings fail here
    archs = split_list(settings.archs, 'archs')
    tokenizers = [tokenizer_spec(name)[2] for name in split_list(settings.tokenizers, 'tokenizers')]
    # evaluating every eval_interval iterations costs every model the same share of its compute
    # (eval_iters forward passes per eval_interval training steps), so the time budget stays fair
    common = dict(seed=settings.seed, device=settings.device, eval_interval=settings.eval_interval,
                  eval_iters=settings.eval_iters, init_from='scratch', eval_only=False, progress=False,
                  plot=False)
    extra_args = ['--' + arg for arg in settings.train_args.split()]
    budgets = parse_budgets(settings.scaling) if settings.scaling else [0]  # 0: the comparison's budget
    runs = []
    for tokenizer in tokenizers:
        data_dir = str(Path(settings.data_root) / tokenizer)
        for arch in archs:
            base = parse_args(TrainConfig, [str(config_file(arch))] + extra_args)
            variants = [(f'{tokenizer}-{Path(arch).stem}' + (f'-{human(b)}tok' if b else ''), {}, b)
                        for b in budgets]
            for k in range(1, settings.search + 1):
                if base.model not in SEARCH_SPACE:
                    raise ConfigError(f'no search space for model type {base.model!r}')
                # the same random configs for every tokenizer: seeded by arch and index only
                rng = random.Random(f'{settings.seed}-{Path(arch).stem}-{k}')
                variants.append((f'{tokenizer}-{Path(arch).stem}-search{k}',
                                 sample_search_config(base.model, rng), 0))
            for run_id, point, max_tokens in variants:
                out_dir = str(Path(settings.results_dir) / settings.name / 'runs' / run_id)
                config = dataclasses.replace(base, **point, **common, data_dir=data_dir, out_dir=out_dir)
                config = with_budget(config, settings, max_tokens)
                try:
                    check_config(config)
                except ValueError as e:
                    raise ConfigError(f'{run_id}: {e}') from None
                runs.append(Run(run_id, Path(arch).stem, tokenizer, config))
    return runs


def done_line(log) -> dict | None:
    return next((entry for entry in reversed(log) if entry.get('event') == 'done'), None)


def record_path(run: Run) -> Path:
    return Path(run.config.out_dir) / 'compare.json'


def read_record(run: Run) -> dict:
    path = record_path(run)
    return json.loads(path.read_text(encoding='utf-8')) if path.is_file() else {}


def write_record(run: Run, record: dict):
    record_path(run).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding='utf-8')


def run_identity(run: Run) -> dict:
    """What a finished run must match to be reused: its whole config and its dataset (meta.json
    changes when the dataset is prepared from other text or with another tokenizer)."""
    meta = (Path(run.config.data_dir) / 'meta.json').read_bytes()
    return {'config': dataclasses.asdict(run.config), 'dataset': hashlib.sha256(meta).hexdigest()}


def is_finished(run: Run) -> bool:
    """Finished = trained to the end (a 'done' line in log.jsonl) with the same config and data."""
    record = read_record(run)
    return (record.get('status') == 'done' and record.get('identity') == run_identity(run)
            and done_line(read_log(run.config.out_dir)) is not None)


def train_run(run: Run) -> dict:
    """Train one run from scratch unless it already finished; its record (status, error).
    The run folder's lock (the trainer's) is held throughout: another comparison training the same
    run stops here with a one-line error instead of deleting the folder under it."""
    out_dir = Path(run.config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with locked(out_dir):
        return train_locked_run(run, out_dir)


def train_locked_run(run: Run, out_dir: Path) -> dict:
    if is_finished(run):
        print(f'[{run.run_id}] finished earlier with the same config: reusing it')
        return read_record(run)
    for path in out_dir.iterdir():      # a stale or failed attempt: start clean (but keep our lock)
        if path.name != '.lock':
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    record = {'identity': run_identity(run), 'status': 'running'}
    write_record(run, record)
    print(f'[{run.run_id}] training {run.config.model} on {run.tokenizer}')
    try:
        train(run.config)
        record['status'] = 'done'
    except Exception as e:               # one broken run must not stop the comparison
        traceback.print_exc()
        record.update(status='failed', error=f'{type(e).__name__}: {e}')
        print(f'[{run.run_id}] failed: {record["error"]}')
    write_record(run, record)
    return record


# Per-run metrics beyond the trainer's: each function gets (model, tokenizer, texts, settings) of a
# finished run, texts being its continuations of STYLE_PROMPTS (prompts cut off), and returns
# {column name: value}; their columns are added to the table. The reference rows call them with
# model = tokenizer = None and pieces of held-out text.
def style_metrics(model, tokenizer, texts, settings) -> dict:
    """The style meter's P(Pushkin) of the texts (mean over all their 500-character passages), the
    share of their words that the meter's training works know (P(Pushkin) judges character n-grams,
    so word salad of Pushkin's syllables scores high; this column shows it), both '—' when there is
    no trained meter (see `python style.py train`), and how much they repeat themselves. The
    per-text metrics are measured on each text alone, then averaged."""
    try:
        meter = load_meter(settings.meter)
    except FileNotFoundError:
        meter = None
    per_text = [repetition_metrics(text) for text in texts]
    if meter is not None:
        for metrics, text in zip(per_text, texts):
            metrics['known_words'] = known_word_share(text, meter.vocabulary)
        probs = np.concatenate(score_texts(meter, texts))

    def mean(key):
        values = [m[key] for m in per_text if key in m and not math.isnan(m[key])]
        return float(np.mean(values)) if values else None
    return {'P(Pushkin)': float(probs.mean()) if meter is not None and len(probs) else None,
            'known words': mean('known_words'), 'distinct-2': mean('distinct_2'),
            'distinct-3': mean('distinct_3'), 'repeated 4-grams': mean('repeated_4gram_share')}


EXTRA_METRICS = [style_metrics]


def verse_metrics(texts, pushkin_counts) -> dict:
    """The verse columns of texts (lines a model wrote, or pieces of real verse), their lines pooled;
    pushkin_counts: the syllable counts of held-out Pushkin verse. None where there is no line."""
    text = '\n\n'.join(texts)                 # a blank line between texts: no rhyme across two of them
    figures = {'syllables vs Pushkin': distance(syllable_counts(text), pushkin_counts),
               '8-9 syllables': tetrameter_share(text), 'rhyme rate': rhyme_rate(text)}
    return {name: None if math.isnan(value) else value for name, value in figures.items()}


def sample_and_measure(run: Run, settings: CompareConfig, record: dict, pushkin_verse_counts) -> dict:
    """The run's sample from the fixed prompt, its continuations of STYLE_PROMPTS and VERSE_PROMPTS
    and their metrics, cached in its record (recomputed when a sampling setting or the metrics
    change). pushkin_verse_counts: syllable counts of held-out Pushkin verse, for verse_metrics."""
    options = sample_options(settings)
    key = {'prompt': settings.prompt, 'chars': settings.sample_chars, 'temperature': options.temperature,
           'top_k': options.top_k, 'seed': options.seed, 'style_prompts': list(STYLE_PROMPTS),
           'style_chars': settings.style_chars, 'meter': settings.meter, 'length_rule': '2x tokens, cut',
           'metrics': [f.__name__ for f in EXTRA_METRICS], 'verse_prompts': list(VERSE_PROMPTS),
           'verse_chars': settings.verse_chars,   # and the reference as lists, as the JSON record reads back
           'verse_reference': [[n, count] for n, count in sorted(pushkin_verse_counts.items())]}
    if record.get('sample_key') == key:
        return record
    model, tokenizer, ckpt = load_checkpoint(run.config.out_dir, 'cpu')
    # enough tokens for the characters asked at this tokenizer's characters per token, twice over
    # (a small model's BPE tokens are shorter than the corpus's), the text then cut to length
    chars_per_token = ckpt['meta']['val']['chars'] / ckpt['meta']['val']['tokens']

    def continuation(prompt, chars):
        [ids] = generate(model, tokenizer, prompt, options, max_new_tokens=math.ceil(2 * chars / chars_per_token))
        return tokenizer.decode(ids)[:chars]
    sample = settings.prompt + continuation(settings.prompt, settings.sample_chars)
    texts = [continuation(prompt, settings.style_chars) for prompt in STYLE_PROMPTS]
    verse = [continuation(prompt, settings.verse_chars) for prompt in VERSE_PROMPTS]
    extra, complete = {}, True
    for metric in EXTRA_METRICS:
        try:
            extra.update(metric(model, tokenizer, texts, settings))
        except Exception as e:  # the run stands; the metric's columns stay empty until a rerun
            print(f'[{run.run_id}] metric {metric.__name__} failed: {type(e).__name__}: {e}')
            complete = False
    lines_written = [complete_lines(prompt, text) for prompt, text in zip(VERSE_PROMPTS, verse)]
    extra.update(verse_metrics(lines_written, pushkin_verse_counts))
    record.update(sample=sample, verse_sample=annotate(VERSE_PROMPTS[0] + verse[0]), extra=extra,
                  sample_key=key if complete else None)
    write_record(run, record)
    return record


def reference_pieces(text, n, chars) -> list[str]:
    """n pieces of `chars` characters at evenly spaced offsets of `text` (fewer if it is short)."""
    if len(text) <= chars:
        return [text] if text else []
    offsets = np.linspace(0, len(text) - chars, n).round().astype(int)
    return [text[i:i + chars] for i in offsets]


def held_out_pushkin(data_dir) -> str:
    """The validation split of a prepared dataset (the held-out Pushkin works), decoded."""
    data = Dataset(data_dir)
    tokenizer, ids, eot = data.tokenizer(), np.asarray(data.splits['val']), data.meta.get('eot_id')
    works = np.split(ids, np.flatnonzero(ids == eot)) if eot is not None else [ids]
    return '\n'.join(tokenizer.decode([int(i) for i in work if i != eot]) for work in works)


def reference_metrics(settings: CompareConfig, data_dir) -> dict:
    """{'held-out Pushkin': extra, 'held-out contrast': extra}: the EXTRA_METRICS of held-out text
    (the validation split of the dataset in data_dir; the contrast authors' works that the style
    meter holds out), cut into as many pieces of style_chars characters as there are STYLE_PROMPTS:
    what the model columns read for real text. The contrast pieces take turns over the authors.
    {} with a note when the meter or the contrast corpus is missing."""
    if not Path(settings.meter).is_file():
        print(f'note: no style meter at {settings.meter}: no reference rows (`python style.py train`)')
        return {}
    folders = sorted(p for p in Path(settings.contrast_dir).glob('*') if p.is_dir())
    if not folders:
        print(f'note: no contrast corpus (<Author>/ folders) at {settings.contrast_dir}: no reference rows')
        return {}
    pushkin = held_out_pushkin(data_dir)
    others = ['\n'.join(w.text for w in split_contrast(read_works(folder), folder)[1]) for folder in folders]
    n, chars = len(STYLE_PROMPTS), settings.style_chars
    per_author = [reference_pieces(text, math.ceil(n / len(others)), chars) for text in others]
    contrast = []                    # author 1's first piece, author 2's first, ..., author 1's second...
    for i in range(n):
        pieces = per_author[i % len(others)]
        if i // len(others) < len(pieces):
            contrast.append(pieces[i // len(others)])
    references = {}
    for name, pieces in (('held-out Pushkin', reference_pieces(pushkin, n, chars)),
                         ('held-out contrast', contrast)):
        extra = {}
        for metric in EXTRA_METRICS:
            try:
                extra.update(metric(None, None, pieces, settings))
            except Exception as e:
                print(f'[{name}] metric {metric.__name__} failed: {type(e).__name__}: {e}')
        references[name] = extra
    return references


def line_pieces(text, n, chars) -> list[str]:
    """reference_pieces cut to whole lines (from the first line start to the last line end)."""
    return [piece[piece.find('\n') + 1:piece.rfind('\n') + 1] for piece in reference_pieces(text, n, chars)]


def verse_references(settings: CompareConfig) -> tuple[Counter, dict]:
    """The syllable counts of held-out Pushkin verse (the poems among corpus.VAL_WORKS), and the verse
    columns of real verse: as many pieces of verse_chars characters as there are VERSE_PROMPTS, cut
    from held-out Pushkin verse and from each contrast poet's poems."""
    folder = find_corpus(settings.src or None)
    held_out = [folder / 'poems' / f'{name}.txt' for name in VAL_WORKS]
    texts = {'held-out Pushkin verse': '\n\n'.join(clean_text(p.read_bytes())[0] for p in held_out if p.is_file())}
    for poet in CONTRAST_POETS:
        poems = sorted((Path(settings.contrast_dir) / poet / 'poems').glob('*.txt'))
        if not poems:
            print(f'note: no {poet}/poems/ in {settings.contrast_dir}: no {poet} verse reference row')
            continue
        texts[f'{poet} verse'] = '\n\n'.join(clean_text(p.read_bytes())[0] for p in poems)
    counts = syllable_counts(texts['held-out Pushkin verse'])
    return counts, {name: verse_metrics(line_pieces(text, len(VERSE_PROMPTS), settings.verse_chars), counts)
                    for name, text in texts.items()}


def run_result(run: Run, record: dict) -> dict:
    """One row of results.json: the run's identity, its hyperparameters and the trainer's numbers
    from its log.jsonl (the same file a reader can open to check them)."""
    row = {'run_id': run.run_id, 'arch': run.arch, 'tokenizer': run.tokenizer, 'model': run.config.model,
           'status': record.get('status', 'failed'), 'config': model_summary(run.config)}
    if row['status'] != 'done':
        row['error'] = record.get('error', 'did not finish')
        return row
    log = read_log(run.config.out_dir)
    done = done_line(log)
    for key in ('val_loss', 'best_val_loss', 'val_bits_per_char', 'num_params', 'iters', 'tokens',
                'elapsed', 'tokens_per_sec'):
        row[key] = done.get(key)
    row['flops'] = training_flops(run.config, done['tokens'])
    row['max_tokens'] = run.config.max_tokens
    row['curve'] = [{'tokens': e['tokens'], 'elapsed': e['elapsed'], 'val_bits_per_char': e['val_bits_per_char']}
                    for e in log if e.get('event') == 'eval']
    row['sample'] = record.get('sample')
    row['verse_sample'] = record.get('verse_sample')
    row['extra'] = record.get('extra', {})
    return row


def training_flops(cfg: TrainConfig, tokens) -> int:
    """Floating-point operations of training on `tokens` tokens, as Kaplan et al. (2020) count them:
    6 per token for every weight that multiplies (2 forward, 4 backward; embedding lookups and
    biases are free, a tied output layer counts), plus for a GPT's attention
    6 * n_layer * block_size * n_embd per token (scores and weighted sums over the context).
    The same formula for every model, so the axis is fair; evaluations are not counted."""
    with torch.device('meta'):  # shapes only: no memory, no initialisation
        model = build_model(cfg.model, model_args_from_config(cfg, load_meta(cfg.data_dir)['vocab_size']))
    lookups = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    outputs = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    weights = sum(p.numel() for p in model.parameters()
                  if p.dim() >= 2 and (id(p) not in lookups or id(p) in outputs))
    per_token = 6 * weights
    if isinstance(model.config, GPTConfig):
        per_token += 6 * model.config.n_layer * cfg.block_size * model.config.n_embd
    return per_token * tokens


def model_summary(cfg: TrainConfig) -> dict:
    """The hyperparameters that tell the runs apart (the model's own, defaults filled in; whether an
    RNN runs through torch's fused kernel is not one: same function, same weights). A GPT's newer
    options are named only when on, and the optimizer only when it is Muon: GPT-2 with AdamW is
    described as it always was."""
    model = {key: value for key, value in model_hyperparameters(cfg).items()
             if key != 'fused' and not (key in MODERN_OPTIONS and value is False)}
    optimizer = {'optimizer': cfg.optimizer, 'muon_lr': cfg.muon_lr} if cfg.optimizer != 'adamw' else {}
    return {**model, **optimizer, 'learning_rate': cfg.learning_rate, 'batch_size': cfg.batch_size,
            'block_size': cfg.block_size}


# ----------------------------------------------------------------------------------------------
# the report


def fmt(value, digits=3) -> str:
    if value is None:
        return '—'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def human(n) -> str:
    """12345678 -> '12.3M': parameter and token counts at a glance."""
    if n is None:
        return '—'
    for unit, size in (('G', 1e9), ('M', 1e6), ('k', 1e3)):
        if n >= size:
            return f'{n / size:.{1 if n < 100 * size else 0}f}{unit}'
    return str(round(n))


def hyperparameters(config: dict) -> str:
    """'n_layer=2 n_embd=64 n_hidden=384 lr=2e-03': what a run's model is, in one cell."""
    cells = [f'{key}={value}' for key, value in config.items() if key not in ('learning_rate', 'dropout',
                                                                             'batch_size', 'block_size')]
    cells.append(f"lr={config['learning_rate']:.0e}")
    if config['dropout']:
        cells.append(f"dropout={config['dropout']}")
    return ' '.join(cells)


def results_table(results: dict) -> str:
    """The markdown table of results.md: runs best first, then failed runs, then the baselines."""
    extra_columns = list(dict.fromkeys(key for row in results['runs'] for key in row.get('extra', {})))
    header = ['run', 'model', 'tokenizer', 'params', 'val loss', 'val bits/char', 'tokens seen', 'tokens/s',
              'wall time'] + extra_columns + ['hyperparameters']
    rows = []
    for r in sorted((r for r in results['runs'] if r['status'] == 'done'), key=lambda r: r['val_bits_per_char']):
        rows.append([r['run_id'], r['model'], r['tokenizer'], human(r['num_params']), fmt(r['val_loss']),
                     fmt(r['val_bits_per_char']), human(r['tokens']), human(r['tokens_per_sec']),
                     f"{r['elapsed']:.0f} s"] + [fmt(r['extra'].get(c)) for c in extra_columns]
                    + [hyperparameters(r['config'])])
    blank = ['—'] * (len(header) - 6)
    for r in results['runs']:
        if r['status'] != 'done':
            message = ' '.join(r['error'].replace('|', '/').split())
            status = 'not run' if r['status'] == 'not run' else 'failed'
            rows.append([r['run_id'], r['model'], r['tokenizer'], '—', f'{status}: {message}'] + blank
                        + [hyperparameters(r['config'])])
    for tokenizer, bpc in results['unigram_bits_per_char'].items():
        rows.append([f'unigram ({tokenizer})', 'unigram', tokenizer, '—', '—', fmt(bpc)] + blank)
    for name, extra in results.get('reference', {}).items():
        rows.append([name, 'text', '—', '—', '—', '—', '—', '—', '—'] + [fmt(extra.get(c)) for c in extra_columns]
                    + ['—'])
    lines = [header, ['---'] * len(header)] + rows
    return '\n'.join('| ' + ' | '.join(cells) + ' |' for cells in lines)


def write_report(results: dict, folder: Path):
    settings = results['settings']
    budget = (f"{human(settings['max_tokens'])} training tokens per run" if settings['max_tokens']
              else f"{settings['budget_seconds']:g} s of training per run (wall clock, evaluations included)")
    if settings['scaling']:
        budget = f"each architecture at {settings['scaling']} training tokens"
    md = [f"# Comparison `{results['name']}`", '',
          f"Budget: {budget}; device: {results['device']}, torch {results['torch']}; seed {settings['seed']}; "
          f"validation on the held-out works every {settings['eval_interval']} iterations, "
          f"{settings['eval_iters']} batches each.", '',
          f"Command: `{results['command']}`", '',
          results_table(results), '',
          *([scaling_table(results), '', '![bits per character against compute](scaling.png)', '']
            if settings['scaling'] else []),
          'Bits per character = validation loss (nats per token) x tokens / characters / ln 2 of the '
          'validation split, the same scale for every tokenizer. The unigram rows are the no-context '
          'baseline: token frequencies alone.', '',
          f"Style and repetition columns: each run continues {len(STYLE_PROMPTS)} fixed prompts "
          f"({', '.join('«' + p + '»' for p in STYLE_PROMPTS)}) by {settings['style_chars']} characters "
          f"(temperature {settings['temperature']}, top_k {settings['top_k'] or 'off'}, seed {settings['seed']}); "
          'P(Pushkin) is the style meter\'s mean over all their 500-character passages, known words the '
          'share of their words that occur in the meter\'s training works (of all five authors), distinct-2/3 and '
          'the share of repeated word 4-grams are averaged over the continuations (prompts not counted). '
          'The held-out rows score as many pieces of the same length cut from held-out Pushkin works and '
          'from held-out works of the contrast authors.', '',
          f"Verse columns (nanopushkin/verse.py): each run continues {len(VERSE_PROMPTS)} openings of the held-out "
          f"verse works by {settings['verse_chars']} characters, and the complete lines it wrote are pooled: "
          '*syllables vs Pushkin* is the total variation distance between their syllable counts and those of '
          'held-out Pushkin verse (0: the same distribution, 1: no count in common), *8-9 syllables* the share '
          'of lines in the tetrameter range, *rhyme rate* the share of lines that rhyme (from letters) with a '
          'line at most 3 lines away. The verse rows measure as many pieces of the same length (whole lines) '
          'of held-out Pushkin verse and of the contrast poets\' poems; the Pushkin row\'s distance is what '
          'the sample size alone gives. samples.md shows each run\'s first verse continuation line by line.', '',
          '![validation bits per character](curves.png)', '']
    if settings['search']:
        md += ['![parameters against bits per character](search.png)', '']
    (folder / 'results.md').write_text('\n'.join(md), encoding='utf-8')
    (folder / 'results.json').write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding='utf-8')
    samples = [f"# Samples `{results['name']}`", '',
               f"Prompt: «{settings['prompt']}», temperature {settings['temperature']}, "
               f"top_k {settings['top_k'] or 'off'}, seed {settings['seed']}, from each run's best checkpoint.", '']
    for r in results['runs']:
        if r['status'] == 'done':
            samples += [f"## {r['run_id']} ({r['val_bits_per_char']:.3f} bits/char)", '', '```text', r['sample'],
                        '```', '', 'Verse (syllables, rhyme letter; - for no rhyme):', '', '```text',
                        r['verse_sample'] or '', '```', '']
    (folder / 'samples.md').write_text('\n'.join(samples), encoding='utf-8')
    plot_curves(results, folder / 'curves.png')
    if settings['search']:
        plot_search(results, folder / 'search.png')
    if settings['scaling']:
        plot_scaling(results, folder / 'scaling.png')


def plot_curves(results: dict, path: Path):
    """Validation bits/char against tokens seen (characters seen when the tokenizers differ) and
    against wall-clock time (what the budget buys), one line per run, unigram baselines in gray."""
    fig = Figure(figsize=(13, 5), layout='constrained')
    ax_tokens, ax_time = fig.subplots(1, 2, sharey=True)
    tokenizers = list(results['unigram_bits_per_char'])
    # a BPE token is several characters: across tokenizers, compare the amount of text seen
    scale = results['chars_per_token'] if len(tokenizers) > 1 else dict.fromkeys(tokenizers, 1)
    colors = {}
    for r in results['runs']:
        if r['status'] != 'done':
            continue
        color = colors.setdefault(r['arch'], f'C{len(colors) % 10}')
        style = ['-', '--', ':', '-.'][tokenizers.index(r['tokenizer']) % 4]
        searched = '-search' in r['run_id']   # the search's runs: thin, unlabelled, behind the base runs
        seen = [p['tokens'] * scale[r['tokenizer']] for p in r['curve']]
        for ax, xs in ((ax_tokens, seen), (ax_time, [p['elapsed'] for p in r['curve']])):
            ax.plot(xs, [p['val_bits_per_char'] for p in r['curve']], style,
                    color=color, alpha=0.3 if searched else 1.0, linewidth=0.8 if searched else 1.5,
                    label=None if searched else r['run_id'])
    for tokenizer, bpc in results['unigram_bits_per_char'].items():
        for ax in (ax_tokens, ax_time):
            ax.axhline(bpc, color='gray', linewidth=0.8, linestyle='--')
        ax_tokens.annotate(f'unigram ({tokenizer})', (0, bpc), xycoords=('axes fraction', 'data'),
                           textcoords='offset points', xytext=(4, 3), fontsize=8, color='gray')
    # untrained models start far above the baseline: show from a little above it (or above the
    # worst final result) down, where the runs differ
    finals = [r['val_bits_per_char'] + 0.3 for r in results['runs'] if r['status'] == 'done']
    ax_tokens.set_ylim(top=max([bpc + 1.0 for bpc in results['unigram_bits_per_char'].values()] + finals))
    ax_tokens.set(xlabel='training characters seen (tokens x characters per token)' if len(tokenizers) > 1
                  else 'training tokens seen', ylabel='validation bits per character')
    ax_time.set(xlabel='wall-clock time (s), evaluations included')
    if ax_tokens.get_legend_handles_labels()[0]:
        ax_tokens.legend(fontsize=8)
    for ax in (ax_tokens, ax_time):
        ax.grid(alpha=0.3)
    fig.suptitle(f"nanoPushkin: {results['name']}")
    fig.savefig(path, dpi=110)


def scaling_points(results: dict) -> dict:
    """{(arch, tokenizer): [finished rows in budget order]}: one line of the scaling plot each."""
    lines = {}
    for r in sorted(results['runs'], key=lambda r: r.get('max_tokens') or 0):
        if r['status'] == 'done':
            lines.setdefault((r['arch'], r['tokenizer']), []).append(r)
    return lines


def scaling_table(results: dict) -> str:
    """Held-out bits/char per architecture (rows) and token budget (columns)."""
    budgets = parse_budgets(results['settings']['scaling'])
    header = ['model'] + [f'{human(b)} tokens' for b in budgets]
    rows = []
    for (arch, tokenizer), points in scaling_points(results).items():
        by_budget = {r['max_tokens']: r['val_bits_per_char'] for r in points}
        rows.append([f'{tokenizer}-{arch}'] + [fmt(by_budget.get(b)) for b in budgets])
    for tokenizer, bpc in results['unigram_bits_per_char'].items():
        rows.append([f'unigram ({tokenizer})'] + [fmt(bpc)] * len(budgets))
    lines = [header, ['---'] * len(header)] + rows
    return '\n'.join('| ' + ' | '.join(cells) + ' |' for cells in lines)


SCALING_AXES = {'tokens': ('tokens', 'training tokens seen'),
                'flops': ('flops', 'training FLOPs (6 x multiplying weights x tokens, + attention)'),
                'seconds': ('elapsed', 'wall-clock seconds on this machine, evaluations included')}


def plot_scaling(results: dict, path: Path):
    """Final held-out bits/char against training compute, one line per architecture (a point per
    budget), one panel per axis of --scaling_axes, the unigram baseline in gray."""
    axes_names = split_list(results['settings']['scaling_axes'], 'scaling_axes')
    fig = Figure(figsize=(5.5 * len(axes_names), 5), layout='constrained')
    panels = fig.subplots(1, len(axes_names), sharey=True, squeeze=False)[0]
    for ax, name in zip(panels, axes_names):
        key, label = SCALING_AXES[name]
        for i, ((arch, tokenizer), points) in enumerate(scaling_points(results).items()):
            ax.plot([r[key] for r in points], [r['val_bits_per_char'] for r in points], 'o-',
                    color=f'C{i % 10}', label=f'{tokenizer}-{arch}')
        for tokenizer, bpc in results['unigram_bits_per_char'].items():
            ax.axhline(bpc, color='gray', linewidth=0.8, linestyle='--', label=f'unigram ({tokenizer})')
        ax.set_xscale('log')
        ax.set(xlabel=label)
        ax.grid(alpha=0.3, which='both')
    panels[0].set(ylabel='held-out bits per character (end of training)')
    panels[0].legend(fontsize=8)
    fig.suptitle(f"nanoPushkin: {results['name']}")
    fig.savefig(path, dpi=110)


def plot_search(results: dict, path: Path):
    """Parameters against bits/char of every finished run: what size pays off within the budget."""
    fig = Figure(figsize=(7, 5), layout='constrained')
    ax = fig.subplots()
    by_arch = {}
    for r in results['runs']:
        if r['status'] == 'done':
            by_arch.setdefault(r['arch'], []).append(r)
    for arch, rows in by_arch.items():
        ax.scatter([r['num_params'] for r in rows], [r['val_bits_per_char'] for r in rows], label=arch, alpha=0.8)
    ax.set_xscale('log')
    ax.set(xlabel='parameters', ylabel='validation bits per character',
           title=f"random search under one budget: {results['name']}")
    ax.grid(alpha=0.3)
    if by_arch:
        ax.legend()
    fig.savefig(path, dpi=110)


# ----------------------------------------------------------------------------------------------


def default_name(settings: CompareConfig) -> str:
    """A results folder name that tells the comparisons apart: 'char-300s', 'char+bpe4096-2Mtok'..."""
    budget = ('quick' if settings.quick else f'{human(settings.max_tokens)}tok' if settings.max_tokens
              else f'{settings.budget_seconds:g}s')
    if settings.scaling:
        budget = 'scaling' + '+'.join(human(b) for b in parse_budgets(settings.scaling))
    parts = ['+'.join(tokenizer_spec(name)[2] for name in split_list(settings.tokenizers, 'tokenizers')), budget]
    if settings.search:
        parts.append(f'search{settings.search}')
    if settings.archs != CompareConfig.archs:
        parts.append('+'.join(Path(a).stem for a in split_list(settings.archs, 'archs')))
    return '-'.join(parts)


def device_name(device) -> str:
    device = resolve_device(device)
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    return f'{device} ({torch.get_num_threads()} threads)'


def prepare_datasets(settings: CompareConfig) -> tuple[dict, dict]:
    """Prepare every dataset the comparison needs (once; later runs reuse it); returns the unigram
    baseline in bits/char and the characters per token of the training split, per dataset."""
    unigram, chars_per_token = {}, {}
    for name in split_list(settings.tokenizers, 'tokenizers'):
        kind, vocab_size, tokenizer = tokenizer_spec(name)
        data_dir = Path(settings.data_root) / tokenizer
        if not (data_dir / 'meta.json').is_file():
            print(f'preparing the {tokenizer} dataset in {data_dir}')
            prepare_dataset(kind, vocab_size, src=settings.src or None, out_root=settings.data_root)
        unigram[tokenizer] = unigram_bits_per_char(data_dir)
        train_split = load_meta(data_dir)['train']
        chars_per_token[tokenizer] = train_split['chars'] / train_split['tokens']
    return unigram, chars_per_token


def compare(settings: CompareConfig, command: str = '') -> dict:
    """Run (or resume) the whole comparison and write its report; returns results.json's dict."""
    if settings.quick:
        settings = dataclasses.replace(settings, max_tokens=QUICK_MAX_TOKENS, eval_interval=20,
                                       eval_iters=5, sample_chars=120, style_chars=200, verse_chars=200,
                                       train_args=f'warmup_iters=10 {settings.train_args}')
    if not settings.results_dir:   # a smoke test's report is nobody's result: it goes where git ignores it
        settings = dataclasses.replace(settings, results_dir='out-quick' if settings.quick else 'results')
    if settings.max_tokens < 0 or settings.search < 0 or (not settings.max_tokens and settings.budget_seconds <= 0):
        raise ConfigError('the budget must be positive (--budget_seconds=300 or --max_tokens=2000000) '
                          'and --search at least 0')
    if settings.scaling and (settings.quick or settings.max_tokens or settings.search):
        raise ConfigError('--scaling sets each run\'s token budget: use it without --quick, --max_tokens '
                          'and --search')
    unknown_axes = set(split_list(settings.scaling_axes, 'scaling_axes')) - set(SCALING_AXES)
    if unknown_axes:
        raise ConfigError(f'unknown --scaling_axes {", ".join(sorted(unknown_axes))}; use any of '
                          f'{", ".join(SCALING_AXES)}')
    if not settings.name:
        settings = dataclasses.replace(settings, name=default_name(settings))
    folder = Path(settings.results_dir) / settings.name
    runs = plan_runs(settings)       # checks every argument before anything slow happens
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f'cannot create the results folder {folder} ({e.strerror}); choose another '
                          '--results_dir') from None
    if not os.access(folder, os.W_OK):
        raise ConfigError(f'cannot write into the results folder {folder} (permission denied); choose another '
                          '--results_dir')

    unigram, chars_per_token = prepare_datasets(settings)
    pushkin_verse_counts, verse_reference = verse_references(settings)
    results = {'name': settings.name, 'command': command or 'compare(...)',
               'settings': dataclasses.asdict(settings), 'device': device_name(settings.device),
               'torch': torch.__version__, 'unigram_bits_per_char': unigram,
               'chars_per_token': chars_per_token, 'runs': [],
               'reference': {**reference_metrics(settings, Path(settings.data_root) / tokenizer_spec(
                   split_list(settings.tokenizers, 'tokenizers')[0])[2]), **verse_reference}}
    for i, run in enumerate(runs, 1):
        print(f'--- run {i}/{len(runs)}: {run.run_id}')
        if settings.report_only and not is_finished(run):  # e.g. still training in another process
            record = {'status': 'not run', 'error': 'not trained yet'}
        else:
            record = train_run(run)
        if record['status'] == 'done':
            try:
                record = sample_and_measure(run, settings, record, pushkin_verse_counts)
            except Exception as e:
                traceback.print_exc()
                record.update(status='failed', error=f'sampling failed: {type(e).__name__}: {e}')
        results['runs'].append(run_result(run, record))
        write_report(results, folder)    # after every run: a long comparison shows its progress
    print(results_table(results))
    print(f'wrote {folder}/results.md, results.json, curves.png, samples.md')
    return results
