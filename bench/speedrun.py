"""
The speedrun's measurements (issue 21): what each idea since GPT-2 buys config/gpt.py at its budget.

Every row is `python train.py config/gpt.py` with some of the newer ideas switched on (IDEAS), so
the rows differ by the ideas alone: same data, shape, context, schedule and held-out tokens.

    python bench/speedrun.py --stage=speed      # idle machine only: each row's 2-thread tokens/s
    python bench/speedrun.py --stage=ablation   # each idea alone, then cumulatively, 2 seeds each
    python bench/speedrun.py --stage=record     # config/speedrun.py on char and BPE, 10 idle minutes
    python bench/speedrun.py --stage=record --variant=untied=False   # a candidate recipe, under its own name
    python bench/speedrun.py --stage=record --tokenizers=bpe1410+contrast  # with other writers' text
                                                # (prepare.py --tokenizer=bpe --vocab_size=1410 --extra_src=contrast)
    python bench/speedrun.py --stage=duel       # gpt.py against speedrun.py, one thread each, same 600 s
    python bench/speedrun.py --stage=samples    # the duel's two models, same prompt and seed: samples.md

The ablation counts its budget in tokens: config/gpt.py's 10 idle minutes (its max_iters x 12 x 64
= 11.5M tokens), times --fraction. A busy machine slows a run but cannot change its figure. Speed
is measured apart (--stage=speed, two threads, on an idle machine, as bench/tune.py does), because
an idea that learns more per token but costs more per token can still lose at equal time: the
table shows both, and the tokens a row would get in the same 600 s.

The record is config/speedrun.py as it stands (or with --variant's changes, a recipe tried before
the config takes it), on each tokenizer, trained for the tokens it processes in the time
config/gpt.py takes for its own budget: gpt.py's tokens times the ratio of their idle speeds. The
speed stage times the two in turns, three times, and keeps the middle ratio: a machine's speed
drifts by 10-15% over minutes, and a ratio of two timings taken apart moves with it. The duel is
the issue's side-by-side test: both configs at once, one thread each, each stopped by
--max_seconds=600 (the learning rate decays over the time).

Results go to results/speedrun/ (results.json, every run; results.md, the tables; ablation.png;
samples.md);
rerunning skips the runs already there.
"""
import json
import math
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run without installing

from bench import tune  # noqa: E402  (after the path is set)
from nanopushkin.config import ConfigError, TrainConfig, load_config_file, main_parse, parse_args  # noqa: E402

# The newer ideas, in the order the cumulative rows add them, as overrides of config/gpt.py.
IDEAS = {
    'rotary': dict(rotary=True),
    'rmsnorm': dict(rmsnorm=True),
    'qk_norm': dict(qk_norm=True),
    'relu2': dict(relu2=True),
    'untied': dict(untied=True),
    'muon': dict(optimizer='muon'),
}
BUDGET_SECONDS = 600
SAMPLE_PROMPT = 'Мой дядя самых честных правил'
# Settings of a variant that leave a step's work as it is (weight decay is one multiply per weight):
# such a variant trains for the tokens of the recipe without them.
SAME_WORK = ('seed', 'learning_rate', 'min_lr', 'weight_decay', 'muon_lr', 'muon_momentum', 'muon_weight_decay')
PAIRS, PAIR_TOKENS = 3, 400_000  # the record's speed ratio: gpt.py and speedrun.py timed in turns, ~30 s each


@dataclass
class SpeedrunConfig:
    stage: str = 'ablation'     # 'speed' | 'ablation' | 'record' | 'duel' | 'samples'
    fraction: float = 1.0       # of the 10-minute token budget, for the ablation
    seeds: str = '1337,1338'    # each ablation row once per seed
    jobs: int = 2               # trainings at the same time (each one thread)
    out: str = 'results/speedrun'
    data_dir: str = 'data/pushkin/char'  # the ablation's and the speed stage's (the duel's configs read their own)
    tokenizers: str = 'char,bpe1410,bpe4096'  # the record's datasets: folders beside data_dir
    variant: str = ''           # a recipe tried on top of config/speedrun.py, e.g. 'untied=False,batch_size=12':
                                # the speed and record stages measure it under names that end '+<variant>'
    timing_tokens: int = 120000  # training tokens of the longer speed timing


def rows():
    """The ablation's rows, named by their ideas: GPT-2 as it is, each idea alone, then cumulatively."""
    names = ['gpt2'] + list(IDEAS)
    names += ['+'.join(list(IDEAS)[:n]) for n in range(2, len(IDEAS) + 1)]
    return names


def overrides_of(row):
    return {} if row == 'gpt2' else {k: v for idea in row.split('+') for k, v in IDEAS[idea].items()}


def base_config(path='config/gpt.py'):
    return load_config_file(ROOT / path)


def gpt2_tokens():
    """config/gpt.py's budget: the tokens it trains on in 10 minutes on an idle 2-core CPU."""
    base = base_config()
    return base['max_iters'] * base['batch_size'] * base['block_size']


def variant_of(cfg):
    """--variant='untied=False,batch_size=12' as overrides, checked and typed by the config system as
    train.py would read them, and the suffix of the names it is saved under."""
    items = [item for item in cfg.variant.split(',') if item]
    if any('=' not in item for item in items):
        sys.exit(f"error: --variant must read key=value,key=value (e.g. 'untied=False'), not {cfg.variant!r}")
    try:
        config = parse_args(TrainConfig, [str(ROOT / 'config' / 'speedrun.py'), *(f'--{item}' for item in items)])
    except ConfigError as e:
        sys.exit(f'error: --variant: {e}')
    return {item.split('=')[0]: getattr(config, item.split('=')[0]) for item in items}, \
        f'+{cfg.variant}' if cfg.variant else ''


def speed_name(dataset, cfg):
    """The name a variant's idle speed is saved under. Settings that change only the numbers a step
    computes with (SAME_WORK), not how much it computes, share the speed of the variant without them;
    a dataset with other writers' text added (bpe1410+contrast) has the vocabulary, so the speed, of
    the one without."""
    items = [item for item in cfg.variant.split(',') if item and item.split('=')[0] not in SAME_WORK]
    return f'speedrun-{dataset.split("+")[0]}' + (f'+{",".join(items)}' if items else '')


def shape_of(config):
    return {k: config[k] for k in ('batch_size', 'block_size')}


def run(config_file, name, overrides, cfg, results, threads=1, speed=None):
    """Train one run (cached by name in results['runs']); speed names the idle speed its budget came from."""
    if name in results['runs']:
        return results['runs'][name]
    overrides = dict(overrides, out_dir=f'{cfg.out}/runs/{name}', progress=False, plot=False,
                     expected_val_bits_per_char=None)
    print(f'start {name}', flush=True)
    records, cpu_seconds, wall = tune.run_train(config_file, overrides, threads)
    done = [r for r in records if r['event'] == 'done'][-1]
    command = ' '.join(['python'] + tune.train_command(config_file, overrides, threads)[1:])
    record = {'val_bits_per_char': done['val_bits_per_char'], 'tokens': done['tokens'],
              'iters': done['iters'], 'num_params': done['num_params'], 'tokens_per_sec': done['tokens_per_sec'],
              'elapsed': done['elapsed'], 'cpu_seconds': round(cpu_seconds, 1), 'command': command,
              **({'speed': speed} if speed else {})}
    print(f'done  {name}: {record["val_bits_per_char"]:.4f} bits/char in {wall:.0f} s', flush=True)
    save(results, cfg, 'runs', name, record)
    return record


def ablation(cfg, results):
    base = base_config()
    max_iters = max(1, round(base['max_iters'] * cfg.fraction))
    schedule = dict(max_iters=max_iters, warmup_iters=round(base['warmup_iters'] * cfg.fraction),
                    eval_interval=max_iters, data_dir=cfg.data_dir)
    jobs = [(row, int(seed)) for seed in cfg.seeds.split(',') for row in rows()]  # a whole seed first
    with ThreadPoolExecutor(cfg.jobs) as pool:
        list(pool.map(lambda job: run('gpt', f'ablation-{cfg.fraction:g}-{job[0]}-s{job[1]}',
                                      dict(overrides_of(job[0]), seed=job[1], **schedule), cfg, results), jobs))


def speed(cfg, results):
    """Each ablation row's idle 2-thread speed, one at a time; then config/speedrun.py's on every
    tokenizer, timed in turns with config/gpt.py (paired_speed), since the record's budget is their ratio."""
    shape = shape_of(base_config())
    for row in rows():
        if row not in results['speed']:
            load = os.getloadavg()[0]  # a busy machine measures its load, not the row: say which it was
            _, tokens_per_sec, timing = tune.time_shape('gpt', dict(shape, **overrides_of(row)), cfg, 2,
                                                        cfg.timing_tokens)
            print(f'{row}: {tokens_per_sec:,.0f} tokens/s on 2 threads (load {load:.2f} before)', flush=True)
            save(results, cfg, 'speed', row, {'tokens_per_sec': round(tokens_per_sec),
                                              'load_average_before': round(load, 2), **timing})
    variant, _ = variant_of(cfg)
    record_shape = dict(shape_of({**base_config('config/speedrun.py'), **variant}), **variant)
    for t in cfg.tokenizers.split(','):
        if speed_name(t, cfg) not in results['speed']:
            data_dir = str(beside_data_dir(t, cfg))
            save(results, cfg, 'speed', speed_name(t, cfg), paired_speed(record_shape, data_dir, shape, cfg))


def paired_speed(record_shape, data_dir, gpt_shape, cfg):
    """config/speedrun.py's 2-thread tokens/s on data_dir and its ratio to config/gpt.py's (on cfg.data_dir),
    the two timed in turns PAIRS times for PAIR_TOKENS each: a machine's speed drifts by 10-15% over
    minutes (short single timings of one config differed that much), and alternating puts the drift
    on both sides of the ratio; the median pair is kept."""
    load = os.getloadavg()[0]
    pairs = []
    for _ in range(PAIRS):
        _, gpt, _ = tune.time_shape('gpt', gpt_shape, cfg, 2, PAIR_TOKENS)
        _, new, timing = tune.time_shape('speedrun', record_shape, replace(cfg, data_dir=data_dir), 2, PAIR_TOKENS)
        pairs.append((new / gpt, new, gpt))
        print(f'speedrun on {Path(data_dir).name}: {new:,.0f} tokens/s, gpt.py {gpt:,.0f} ({new / gpt:.3f})', flush=True)
    ratio, new, gpt = sorted(pairs)[len(pairs) // 2]
    return {'tokens_per_sec': round(new), 'gpt2_tokens_per_sec': round(gpt), 'vs_gpt2': round(ratio, 4),
            'pairs': [[round(r, 4), round(n), round(g)] for r, n, g in pairs], 'load_average_before': round(load, 2),
            'measured_at': timing['measured_at']}


def record(cfg, results):
    """config/speedrun.py on every tokenizer, each for the tokens it trains on while gpt.py trains on its own."""
    variant, suffix = variant_of(cfg)
    config = {**base_config('config/speedrun.py'), **variant}
    jobs = []
    for t in cfg.tokenizers.split(','):
        measured = results['speed'].get(speed_name(t, cfg))
        if not measured or 'vs_gpt2' not in measured:
            sys.exit(f'error: no idle speed for {speed_name(t, cfg)}: run --stage=speed on an idle machine first')
        # gpt.py's 10-minute tokens scaled by the two speeds measured in one session, so a machine
        # slower or faster than the one gpt.py was tuned on cannot change the budget
        tokens_per_iter = config['batch_size'] * config['block_size']
        tokens = gpt2_tokens() * measured['vs_gpt2']
        max_iters = round(tokens / tokens_per_iter)
        data_dir = beside_data_dir(t, cfg)
        val_tokens = (ROOT / data_dir / 'val.bin').stat().st_size // 2  # uint16 ids; BPE's are fewer than chars
        eval_iters = math.ceil(min(tune.EVAL_TOKENS, val_tokens) / tokens_per_iter)
        schedule = dict(max_iters=max_iters, eval_iters=eval_iters, eval_interval=max_iters)
        jobs.append((f'record-{t}{suffix}', speed_name(t, cfg), dict(variant, data_dir=str(data_dir), **schedule)))
    with ThreadPoolExecutor(cfg.jobs) as pool:
        list(pool.map(lambda job: run('speedrun', job[0], job[2], cfg, results, speed=job[1]), jobs))


def duel(cfg, results):
    """The two configs side by side, one thread each, each stopped after 600 s of training, each on
    the dataset its config names (the record may be on BPE, gpt.py is on characters)."""
    budget = dict(max_seconds=BUDGET_SECONDS, max_iters=10 ** 6, eval_interval=10 ** 6)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: run(c, f'duel-{c}', dict(budget, data_dir=dataset_of(c, cfg)), cfg, results),
                      ('gpt', 'speedrun')))


def dataset_of(config_file, cfg):
    """The dataset folder a config trains on (char, bpe1410...), found beside --data_dir as the record's are."""
    config = parse_args(TrainConfig, [str(ROOT / 'config' / f'{config_file}.py')])
    return str(beside_data_dir(Path(config.data_dir).name, cfg))


def beside_data_dir(dataset, cfg):
    """Every dataset the bench reads (char, bpe1410, ...) is a folder beside --data_dir, as prepare.py
    writes them all into one folder: a test can point the whole bench at its own tiny datasets."""
    return Path(cfg.data_dir).parent / dataset


def samples(cfg, results):
    """The duel's two models continue one prompt with one seed, into samples.md: what the bits/char buy."""
    lines = ['# The duel\'s models, side by side', '',
             'Each model of `--stage=duel` (600 s on one thread each) continues the same prompt with the same seed:',
             f'`python sample.py --out_dir=... --start "{SAMPLE_PROMPT}" --seed=1337 --max_new_tokens=400`.', '']
    for config_file in ('gpt', 'speedrun'):
        name = f'duel-{config_file}'
        if name not in results['runs']:
            sys.exit(f'error: no {name} run yet: run --stage=duel first')
        command = [sys.executable, 'sample.py', f'--out_dir={cfg.out}/runs/{name}', '--start', SAMPLE_PROMPT,
                   '--seed=1337', '--max_new_tokens=400']
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f'error: sampling {name} failed:\n{out.stderr}')
        bits = results['runs'][name]['val_bits_per_char']
        lines += [f'## config/{config_file}.py: {bits:.3f} held-out bits/char', '',
                  '```text', out.stdout.strip(), '```', '']
    (ROOT / cfg.out / 'samples.md').write_text('\n'.join(lines), encoding='utf-8')
    print(f'wrote {cfg.out}/samples.md')


def save(results, cfg, table, key, record):
    """Add one record, recompute the ablation's summary, rewrite results.json and results.md. What
    another bench process saved meanwhile (two record variants at once) is read back in first."""
    with lock:
        out = ROOT / cfg.out
        for name, saved in read_results(out / 'results.json').items():
            if name != 'ablation':
                results[name] = {**saved, **results[name]}
        results[table][key] = record
        results['ablation'] = summary(results)
        out.mkdir(parents=True, exist_ok=True)
        (out / 'results.json').write_text(json.dumps(results, indent=1, ensure_ascii=False) + '\n')
        (out / 'results.md').write_text(markdown(results))


lock = threading.Lock()


def read_results(path):
    results = {'speed': {}, 'runs': {}, 'ablation': {}}
    if path.exists():
        results.update(json.loads(path.read_text()))
    return results


def summary(results):
    """Per fraction and row, from the finished ablation runs: the seeds' figures, their mean, its
    difference from GPT-2's and the seeds' spread (the figures docs/journey.md links to)."""
    figures = {}  # fraction -> row -> [bits/char per seed]
    for name, r in results['runs'].items():
        if name.startswith('ablation-'):
            _, fraction, rest = name.split('-', 2)
            row, _ = rest.rsplit('-s', 1)
            figures.setdefault(fraction, {}).setdefault(row, []).append(r['val_bits_per_char'])
    out = {}
    for fraction, table in figures.items():
        base = mean(table['gpt2']) if 'gpt2' in table else None
        out[fraction] = {row: {'seeds': table[row], 'mean': round(mean(table[row]), 4),
                               'vs_gpt2': round(mean(table[row]) - base, 4) if base is not None else None,
                               'spread': round(max(table[row]) - min(table[row]), 4)}
                         for row in rows() if row in table}
    return out


def mean(values):
    return sum(values) / len(values)


def markdown(results):
    lines = ['# The speedrun (python bench/speedrun.py)', '']
    base_speed = results['speed'].get('gpt2', {}).get('tokens_per_sec')
    for fraction, table in sorted(results['ablation'].items(), key=lambda item: float(item[0])):
        lines += [f'## Ablation at {fraction} of the 10-minute budget '
                  f'({round(base_config()["max_iters"] * float(fraction)):,} iterations of 12 x 64 tokens)', '',
                  'Each row is config/gpt.py with the named ideas on; bits/char held out, one figure per seed. '
                  'Speed: idle, 2 threads (--stage=speed), and the ratio to GPT-2\'s: a row whose ratio is '
                  'below 1 gets fewer tokens in the same 10 minutes.', '',
                  '| row | bits/char (seeds) | mean | vs GPT-2 | idle tokens/s | speed vs GPT-2 |',
                  '|---|---|---:|---:|---:|---:|']
        for row, r in table.items():
            speed_of = results['speed'].get(row, {}).get('tokens_per_sec')
            ratio = f'{speed_of / base_speed:.2f}' if speed_of and base_speed else ''
            vs = f"{r['vs_gpt2']:+.3f}" if r['vs_gpt2'] is not None else ''
            lines.append(f"| {row} | {', '.join(f'{v:.3f}' for v in r['seeds'])} | {r['mean']:.3f} | {vs} | "
                         f"{f'{speed_of:,}' if speed_of else ''} | {ratio} |")
        lines.append('')
    for title, prefix in (('The record: config/speedrun.py, 600 idle seconds of tokens', 'record-'),
                          ('The duel: one thread each, side by side, 600 s each', 'duel-')):
        found = {k: r for k, r in results['runs'].items() if k.startswith(prefix)}
        if found:
            lines += [f'## {title}', '', '| run | bits/char | tokens | iterations | command |', '|---|---:|---:|---:|---|']
            lines += [f"| {k} | {r['val_bits_per_char']:.3f} | {r['tokens']:,} | {r['iters']} | `{r['command']}` |"
                      for k, r in found.items()]
            lines.append('')
    return '\n'.join(lines)


def plot(results, path):
    if not results['ablation']:
        return
    fraction, table = max(results['ablation'].items(), key=lambda item: float(item[0]))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (row, r) in enumerate(table.items()):
        ax.barh(i, r['mean'], color='tab:orange' if '+' in row else 'tab:blue')
        ax.plot(r['seeds'], [i] * len(r['seeds']), 'k.')
    ax.set_yticks(range(len(table)), [row.replace('+', ' + ') for row in table], fontsize=8)
    ax.invert_yaxis()
    figures = [v for r in table.values() for v in r['seeds']]
    ax.set_xlim(min(figures) - 0.05, max(figures) + 0.02)
    ax.set_xlabel(f'held-out bits/char at {fraction} of the 10-minute token budget (dots: seeds)', fontsize=9)
    ax.set_title('Ideas since GPT-2 on config/gpt.py: alone (blue), cumulative (orange)', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    cfg = main_parse(SpeedrunConfig, sys.argv[1:], config_file_allowed=False)
    stages = {'speed': speed, 'ablation': ablation, 'record': record, 'duel': duel, 'samples': samples}
    if cfg.stage not in stages:
        sys.exit(f"error: --stage must be one of {', '.join(stages)}, not {cfg.stage!r}")
    results = read_results(ROOT / cfg.out / 'results.json')
    tune.training_slots = threading.Semaphore(cfg.jobs)
    stages[cfg.stage](cfg, results)
    plot(results, ROOT / cfg.out / 'ablation.png')


if __name__ == '__main__':
    main()
