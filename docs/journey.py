"""The figures of docs/journey.md that no other command makes, rerun and checked: python docs/journey.py

    python docs/journey.py                 # about 15 minutes on an idle 2-core CPU (35 on a busy one)
    python docs/journey.py --fast          # about 2 minutes: shorter training, figures of its own (CI runs it)
    python docs/journey.py --commit_results   # for maintainers: write the figures the journey quotes

Every step runs the commands a reader runs (prepare.py, train.py, sample.py) or reads the files
they write, so the journey's numbers are the numbers a reader gets. The figures go to a scratch
folder (out-journey/, out-journey-fast/ with --fast; git ignores both) and are compared with the
committed ones in results/journey/ (figures.json, figures-fast.json): a figure outside its
tolerance (figure_check.py says which and why) makes the command fail, so a change of code or config
that moves a quoted figure cannot go unnoticed. Finished steps are kept: a second run only redoes
what is missing (--redo=NAME,... forces steps again).

The steps, one per chapter that needs one:
  corpus     works and characters per split (chapter 0)
  counting   unigram, bigram and trigram character models from counts, no training (chapter 1)
  words      the out-of-vocabulary share of the held-out words for word vocabularies (chapter 2)
  bpe        characters per token of BPE vocabularies (chapter 3)
  trap       how a model ends "worse than uniform" (chapter 4)
  models     parameters and training settings of every config/ (chapters 5 and 6, the README)
  attention  where each head of a trained GPT looks (chapter 5b)
  fair       perplexity against bits per character across tokenizers (chapter 6)
  sampling   one model under several sampling settings (chapter 7)
"""
import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from nanopushkin.checkpoint import load_checkpoint, read_log  # noqa: E402
from nanopushkin.config import TrainConfig, load_config_file, main_parse, parse_args  # noqa: E402
from nanopushkin.corpus import CorpusNotFound, find_corpus  # noqa: E402
from nanopushkin.data import Dataset, bits_per_char, unigram_bits_per_char  # noqa: E402
from nanopushkin.models import build_model, model_args_from_config  # noqa: E402
from nanopushkin.playground import attention_weights  # noqa: E402
from nanopushkin.prepare import load_split_works  # noqa: E402
from tokenizer import BPETokenizer, WordTokenizer  # noqa: E402
from tokenizer.word import WORD  # noqa: E402

import figure_check  # noqa: E402  (docs/figure_check.py, beside this file)

STEP_NAMES = ('corpus', 'counting', 'words', 'bpe', 'trap', 'models', 'attention', 'fair', 'sampling')
COMMITTED = Path('results/journey')   # the figures the journey quotes


@dataclass(frozen=True)
class Budget:
    """How long the steps that train, train. The fast budget tells within two minutes whether the
    code or a config has moved (its figures are its own), the full one makes the quoted figures."""
    name: str
    trap_iters: int        # chapter 4's GRU on the 1410-token BPE
    sampling_iters: int    # chapter 7's GRU on characters
    sampling_chars: int    # characters each sampling setting writes
    eval_iters: int        # batches per evaluation of those runs (three evaluations each)


FULL = Budget('figures', trap_iters=300, sampling_iters=600, sampling_chars=300, eval_iters=20)
FAST = Budget('figures-fast', trap_iters=40, sampling_iters=80, sampling_chars=100, eval_iters=4)


@dataclass
class JourneyConfig:
    src: str = ''                           # the corpus folder ('': corpus.find_corpus's rule, as every script)
    data_root: str = 'data/pushkin'         # where prepared datasets are (and are made when missing)
    fast: bool = False                      # the two-minute version with figures of its own (CI runs it)
    results_dir: str = ''                   # '' = out-journey/ (out-journey-fast/), a scratch folder git ignores
    commit_results: bool = False            # write into results/journey/, the figures the journey quotes
    check: bool = True                      # compare with the committed figures; fail when one moved
    steps: str = ','.join(STEP_NAMES)       # which steps to run
    redo: str = ''                          # steps to run again although the figures file has them
    attention_model: str = 'models/gpt'     # the trained GPT whose attention chapter 5b reads

    @property
    def budget(self) -> Budget:
        return FAST if self.fast else FULL

    @property
    def data(self) -> Path:
        return Path(self.data_root)

    @property
    def out(self) -> Path:
        if self.results_dir:
            return Path(self.results_dir)
        return COMMITTED if self.commit_results else Path('out-journey-fast' if self.fast else 'out-journey')

    @property
    def figures_file(self) -> Path:
        return self.out / f'{self.budget.name}.json'

    @property
    def committed_file(self) -> Path:
        return COMMITTED / f'{self.budget.name}.json'

    @property
    def runs(self) -> Path:
        return self.out / f'runs{"-fast" if self.fast else ""}'   # checkpoints of the runs below (never committed)


def trap_run(budget):
    """chapter 4: a GRU on the seed project's 1410-token BPE, trained briefly (about 2 minutes on one core)"""
    return ['config/gru.py', '--batch_size=16', '--block_size=64', f'--max_iters={budget.trap_iters}',
            f'--eval_interval={budget.trap_iters // 3}', f'--eval_iters={budget.eval_iters}', '--warmup_iters=20']


# the same with a learning rate 100 times too high
DIVERGED_LR = 0.5
# chapter 7: the sampling settings shown side by side (the seed project's last)
SAMPLING = {   # key in figures.json: (what the journey calls it, the options)
    'greedy': ('greedy', ['--temperature=0']),
    'temperature_05': ('temperature 0.5', ['--temperature=0.5']),
    'temperature_08': ('temperature 0.8', ['--temperature=0.8']),
    'temperature_10': ('temperature 1.0', ['--temperature=1.0']),
    'temperature_15': ('temperature 1.5', ['--temperature=1.5']),
    'top_k_10': ('top-k 10', ['--temperature=1.0', '--top_k=10']),
    'top_p_09': ('top-p 0.9', ['--temperature=1.0', '--top_p=0.9']),
    'repetition_penalty_13': ('repetition penalty 1.3', ['--temperature=0.8', '--repetition_penalty=1.3']),
    'beams_4_greedy': ('4 beams, greedy', ['--temperature=0', '--num_beams=4']),
    'seed_project': ("the seed project's", ['--num_beams=2', '--top_k=20', '--top_p=0.8', '--temperature=0.7',
                                             '--no_repeat_ngram_size=2']),
}
TOKENIZER_COMPARISON = 'char+bpe1410+bpe4096-500ktok-gpt'
SAMPLING_PROMPT = 'Мой дядя самых честных правил'


def run(*args):
    """One of the project's commands, as a reader types it; its output goes to ours."""
    print('$ python', ' '.join(args), flush=True)
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}  # small models: one thread
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout


def prepared(name, *prepare_args, cfg):
    """The dataset folder <data_root>/<name>, prepared first if it is missing."""
    if not (cfg.data / name / 'meta.json').is_file():
        run('data/pushkin/prepare.py', f'--src={cfg.src}', f'--out_root={cfg.data_root}', *prepare_args)
    return Dataset(cfg.data / name)


# -----------------------------------------------------------------------------
# chapters 0-3: counting, no training


def corpus_step(cfg):
    train, val, _ = load_split_works(cfg.src, 'pushkin', False)
    meta = prepared('char', cfg=cfg).meta   # its counts include one separator between works
    return {'train_works': len(train), 'val_works': len(val),
            'train_chars': sum(len(w.text) for w in train), 'val_chars': sum(len(w.text) for w in val),
            'train_chars_with_separators': meta['train']['chars'], 'val_chars_with_separators': meta['val']['chars'],
            'val_titles': [w.name for w in val]}


def ngram_bits_per_char(train, val, order, vocab_size):
    """Held-out bits/char of an add-one smoothed character n-gram model: the probability of a
    character after the previous order-1 ones is (count of the n-gram + 1) / (count of the context
    + vocab_size). Counting is all there is to it; the +1 keeps unseen n-grams possible."""
    def grams(ids):
        return [tuple(ids[i:i + order]) for i in range(len(ids) - order + 1)]
    counts = Counter(grams(train))
    contexts = Counter(g[:-1] for g in grams(train)) if order > 1 else {(): len(train)}
    val_grams = grams(val)
    log2_probs = [math.log2((counts[g] + 1) / (contexts.get(g[:-1], 0) + vocab_size)) for g in val_grams]
    unseen = sum(counts[g] == 0 for g in val_grams) / len(val_grams)
    return -sum(log2_probs) / len(log2_probs), unseen


def counting_step(cfg):
    char = prepared('char', cfg=cfg)
    train = char.splits['train'].tolist()
    val = char.splits['val'].tolist()
    figures = {'vocab_size': char.vocab_size, 'uniform_bits_per_char': math.log2(char.vocab_size),
               'unigram_bits_per_char': unigram_bits_per_char(cfg.data / 'char')}
    for order, name in ((2, 'bigram'), (3, 'trigram'), (5, '5gram')):
        bpc, unseen = ngram_bits_per_char(train, val, order, char.vocab_size)
        figures[f'{name}_bits_per_char'] = bpc
        figures[f'{name}_unseen_share'] = unseen
    return figures


def words_step(cfg):
    train, val, _ = load_split_works(cfg.src, 'pushkin', False)
    train_text = '\n'.join(w.text for w in train)
    val_text = '\n'.join(w.text for w in val)
    train_words = Counter(WORD.findall(train_text))
    figures = {'train_words': sum(train_words.values()), 'distinct_train_words': len(train_words),
               'seen_once': sum(1 for c in train_words.values() if c == 1)}
    for size in (1000, 8000, 32000):
        figures[f'oov_share_{size}'] = WordTokenizer.train(train_text, size).oov_rate(val_text)
    every_word = WordTokenizer.train(train_text, len(train_words) + 1000)
    figures['oov_share_every_train_word'] = every_word.oov_rate(val_text)
    return figures


def bpe_step(cfg):
    figures = {}
    for vocab_size in (1410, 4096):
        meta = prepared(f'bpe{vocab_size}', '--tokenizer=bpe', f'--vocab_size={vocab_size}', cfg=cfg).meta
        figures[f'bpe{vocab_size}_chars_per_token'] = meta['val']['chars'] / meta['val']['tokens']
    return figures


# -----------------------------------------------------------------------------
# chapter 4: the trap


@torch.no_grad()
def mean_loss(model, ids, block_size, windows=64):
    """Mean loss in nats per token over `windows` evenly spaced windows of the held-out ids."""
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    starts = torch.linspace(0, len(ids) - block_size - 1, windows).long()
    x = torch.stack([ids[s:s + block_size] for s in starts])
    y = torch.stack([ids[s + 1:s + 1 + block_size] for s in starts])
    _, loss = model(x, y)
    return loss.item()


def trap_step(cfg):
    """The seed project reported perplexity near 2000 on a 1410-token vocabulary, worse than the
    1410 of guessing uniformly. Train the same vocabulary's model briefly, then measure it four
    ways: three mistakes and the right way."""
    data = prepared('bpe1410', '--tokenizer=bpe', '--vocab_size=1410', cfg=cfg)
    train, val, _ = load_split_works(cfg.src, 'pushkin', False)
    val_text = '<|endoftext|>'.join(w.text for w in val)
    val_words = len(WORD.findall(val_text))
    meta = data.meta

    good = cfg.runs / 'trap-gru'
    if not (good / 'best.pt').is_file():
        run('train.py', *trap_run(cfg.budget), f'--data_dir={cfg.data / "bpe1410"}', f'--out_dir={good}',
            '--progress=False', '--plot=False')
    diverged = cfg.runs / 'trap-gru-lr'
    if not (diverged / 'ckpt.pt').is_file() and not (diverged / 'best.pt').is_file():
        run('train.py', *trap_run(cfg.budget), f'--data_dir={cfg.data / "bpe1410"}', f'--learning_rate={DIVERGED_LR}',
            f'--min_lr={DIVERGED_LR / 10}', '--grad_clip=0', f'--out_dir={diverged}', '--progress=False', '--plot=False')

    model, _, checkpoint = load_checkpoint(good)
    block_size = checkpoint['config']['block_size']
    loss = mean_loss(model, data.splits['val'], block_size)
    tokens_per_word = meta['val']['tokens'] / val_words

    # the same model fed ids of another tokenizer of the same size: one trained on the prose alone
    prose = BPETokenizer.train('<|endoftext|>'.join(w.text for w in train if w.kind == 'prose'), 1410)
    wrong_loss = mean_loss(model, prose.encode(val_text), block_size)
    diverged_loss = [r for r in read_log(diverged) if r['event'] == 'eval'][-1]['val_loss']
    return {
        'vocab_size': 1410, 'uniform_perplexity': 1410.0, 'uniform_loss': math.log(1410),
        'val_loss': loss, 'token_perplexity': math.exp(loss),
        'val_bits_per_char': bits_per_char(loss, meta),
        'unigram_bits_per_char': unigram_bits_per_char(cfg.data / 'bpe1410'),
        'val_words': val_words, 'tokens_per_word': tokens_per_word,
        'word_perplexity': math.exp(loss * tokens_per_word),
        # cross-entropy in bits (log2) put through exp() instead of 2**: perplexity ** (1 / ln 2)
        'mixed_bases_perplexity': math.exp(loss / math.log(2)),
        'perplexity_that_mixed_bases_turn_into_2000': 2000 ** math.log(2),
        'wrong_tokenizer_loss': wrong_loss, 'wrong_tokenizer_perplexity': math.exp(wrong_loss),
        'wrong_tokenizer_bits_per_char': bits_per_char(wrong_loss, meta),
        'diverged_lr': DIVERGED_LR, 'diverged_loss': diverged_loss,
        'diverged_perplexity': math.exp(diverged_loss),
        'diverged_bits_per_char': bits_per_char(diverged_loss, meta),
    }


# -----------------------------------------------------------------------------
# chapter 7: sampling


def distinct(text, n):
    """The share of distinct character n-grams: low when the text repeats itself."""
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def sampling_step(cfg):
    prepared('char', cfg=cfg)
    model_dir = cfg.runs / 'sampling-gru'
    iters, chars = cfg.budget.sampling_iters, cfg.budget.sampling_chars
    if not (model_dir / 'best.pt').is_file():
        run('train.py', 'config/gru.py', f'--data_dir={cfg.data / "char"}', '--batch_size=16', '--block_size=64',
            f'--max_iters={iters}', f'--eval_interval={iters // 3}', f'--eval_iters={cfg.budget.eval_iters}',
            f'--out_dir={model_dir}', '--progress=False', '--plot=False')
    figures, lines = {}, [f'# One GRU, ten ways to sample\n\nPrompt: {SAMPLING_PROMPT}. Regenerate: '
                          '`python docs/journey.py --redo=sampling`.\n']
    for key, (name, options) in SAMPLING.items():
        text = run('sample.py', f'--out_dir={model_dir}', '--start', SAMPLING_PROMPT, '--num_samples=1',
                   f'--max_new_tokens={chars}', '--seed=7', '--stop_at_eot=False', *options)
        text = text.split('\n---')[0].strip()
        figures[key] = {'setting': name, 'options': ' '.join(options), 'distinct_3': distinct(text, 3),
                        'distinct_8': distinct(text, 8)}
        lines.append(f'## {name}: `{" ".join(options)}`\n\n```text\n{text}\n```\n')
    (cfg.out / f'sampling{"-fast" if cfg.fast else ""}.md').write_text('\n'.join(lines), encoding='utf-8')
    return figures


# -----------------------------------------------------------------------------
# chapters 5 and 6: the configs every comparison trains


def models_step(cfg):
    """Each training config's parameter count on characters and every value its file sets: when a
    config changes, this step's check fails and names it, so whatever quotes its runs is rerun."""
    char = prepared('char', cfg=cfg)
    figures = {}
    for path in sorted(Path('config').glob('*.py')):
        settings = load_config_file(path)
        if settings.get('init_from', 'scratch') != 'scratch':
            continue   # the fine-tuning configs: their model is ruGPT3's (chapter 8)
        train_config = parse_args(TrainConfig, [str(path)])
        model_args = model_args_from_config(train_config, char.vocab_size)
        figures[path.stem] = {'num_params': build_model(train_config.model, model_args).num_params(),
                              'settings': settings}
    return figures


@torch.no_grad()
def attention_step(cfg):
    """Where each head of a trained GPT looks, averaged over windows of held-out text: the weight
    on the position itself, on the character before it, on the first character of the window, on
    spaces and line breaks (the word boundaries), and the mean distance looked back. The weights are
    those the playground's Attention tab shows."""
    model, tokenizer, checkpoint = load_checkpoint(cfg.attention_model)
    if checkpoint['model_type'] != 'gpt':
        raise SystemExit(f'error: --attention_model={cfg.attention_model} is a {checkpoint["model_type"]}, not a GPT')
    block_size = model.config.block_size
    val = prepared('char', cfg=cfg).splits['val']
    windows = [val[start:start + block_size].tolist() for start in range(0, 16 * block_size, block_size)]
    offsets = torch.arange(block_size)
    distance = (offsets[:, None] - offsets[None, :]).clamp(min=0).float()   # i - j for j <= i
    boundary = torch.tensor([[tokenizer.decode([i]) in (' ', '\n') for i in ids] for ids in windows]).float()
    figures = {'boundary_share_of_text': boundary.mean().item()}
    for layer in range(model.config.n_layer):
        per_window = torch.stack([attention_weights(model, ids, layer) for ids in windows])  # (windows, heads, T, T)
        on_boundaries = (per_window * boundary[:, None, None, :]).sum(-1)[:, :, 1:].mean((0, 2))
        weights = per_window.mean(0)
        rows = weights[:, 1:]            # every position but the first, which can only read itself
        for head in range(weights.size(0)):
            figures[f'layer{layer}_head{head}'] = {
                'self': rows[head].diagonal(offset=1).mean().item(),
                'previous': rows[head].diagonal(offset=0).mean().item(),
                'first': rows[head, :, 0].mean().item(),
                'boundaries': on_boundaries[head].item(),
                'mean_distance': (weights[head] * distance)[1:].sum(-1).mean().item()}
    return figures


# -----------------------------------------------------------------------------
# chapter 6: comparing fairly


def fair_step(cfg):
    """Perplexity per token next to bits per character, for the runs of the tokenizer comparison
    (python compare.py --tokenizers=char,bpe1410,bpe4096 --archs=gru,gpt ..., see the README)."""
    results = json.loads((Path('results') / TOKENIZER_COMPARISON / 'results.json').read_text(encoding='utf-8'))
    figures = {}
    for run in results['runs']:
        figures[run['run_id']] = {'val_loss': run['val_loss'], 'perplexity': math.exp(run['val_loss']),
                                  'val_bits_per_char': run['val_bits_per_char']}
    return figures


STEPS = {'corpus': corpus_step, 'counting': counting_step, 'words': words_step, 'bpe': bpe_step,
         'trap': trap_step, 'models': models_step, 'attention': attention_step, 'fair': fair_step,
         'sampling': sampling_step}


def main(argv):
    cfg = main_parse(JourneyConfig, argv, config_file_allowed=False)
    steps, redo = cfg.steps.split(','), set(filter(None, cfg.redo.split(',')))
    if not set(steps) | redo <= set(STEPS):
        sys.exit(f'error: unknown step in --steps/--redo; the steps are {",".join(STEPS)}')
    try:   # the corpus once, before the working folder changes (a relative --src means the caller's)
        cfg = dataclasses.replace(cfg, src=str(find_corpus(cfg.src or None).resolve()))
    except (CorpusNotFound, ValueError) as e:
        sys.exit(f'error: {e}')
    os.chdir(ROOT)
    torch.set_num_threads(1)
    committed = read_figures(cfg.committed_file)   # before --commit_results rewrites it
    figures = run_steps(cfg, steps, redo)
    print(f'wrote {cfg.figures_file}')
    if cfg.check and not cfg.commit_results and not figure_check.report(committed, figures, steps):
        sys.exit(f'error: the figures above moved; if your change meant to move them, rerun with '
                 f'--commit_results{" --fast" if cfg.fast else ""} and update the text that quotes them')


def read_figures(path):
    return json.loads(path.read_text(encoding='utf-8')) if path.is_file() else {}


def run_steps(cfg, steps, redo) -> dict:
    """Run the steps not yet in the figures file (and those in redo), saving after each; the
    seconds each took go to a file of their own (they depend on the machine, not on the code)."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    figures = read_figures(cfg.figures_file)
    seconds_file = cfg.out / f'{cfg.budget.name}-seconds.json'
    seconds = read_figures(seconds_file)
    for name in steps:
        if name in figures and name not in redo:
            continue
        print(f'== {name}', flush=True)
        start = time.time()
        figures[name] = STEPS[name](cfg)
        seconds[name] = round(time.time() - start, 1)
        print(f'   {name}: {seconds[name]:.0f} s', flush=True)
        cfg.figures_file.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding='utf-8')
        seconds_file.write_text(json.dumps(seconds, indent=1), encoding='utf-8')
    return figures


if __name__ == '__main__':
    main(sys.argv[1:])
