"""
Tune each config/<arch>.py for the budget its header names: 10 minutes of training on an idle 2-core CPU.

Wall-clock budgets do not reproduce on a shared machine (a run that gets a third of a core learns a
third as much), so the budget is a number of training tokens: what the candidate itself processes
in budget_seconds (600 s, --budget_seconds) on an idle 2-core CPU. Its speed is measured in CPU
time, which a busy machine hardly changes (a process waiting for a core uses none): two short
one-thread runs of the candidate, of a few and of more iterations, and the difference of their
CPU times (the kernel's count for that child process) over the difference of their tokens is the
CPU cost of a token, without the start-up.
One-thread tokens per CPU second times TWO_THREAD_SPEEDUP (measured for the GRU: 5,500 tokens/s on
one thread, 8,400 on two, idle) is the idle 2-core speed:

    budget_tokens = budget_seconds * 1.53 * (tokens per CPU second, one thread)

It assumes every model gains as much from a second core as the GRU; matmul-heavy models gain more,
so this undercounts a GPT's budget, if anything. The budget becomes --max_iters, so a config trains
the same on any machine.

The search, per architecture, is two rounds at a fraction of the budget and a confirmation:
  1. shapes:    every entry of SEARCH[arch]['shapes'] (batch, context, width, depth, ...) with the
                architecture's base schedule;
  2. schedules: the best shape with every entry of SEARCH[arch]['schedules'] (learning rate,
                warmup, min_lr, ...);
  3. confirm:   the overall best at the full budget (fraction 1).
Warmup is scaled with the fraction, so a screening run has the shape of the full schedule. A
schedule that is best at a fraction of the budget need not be best at all of it (longer runs like
lower rates); the confirmation measures the chosen one where it counts.

Every run is `python train.py config/<arch>.py --key=value ...` in a subprocess with one thread;
held-out bits/char is the trainer's final evaluation, on about 64K validation tokens (the same
windows for every candidate with the same batch and context). Results go to results/tune/
(results.json, every run; results.md, the tables); rerunning skips the runs already there.

    python bench/tune.py                          # everything (hours on a busy machine)
    python bench/tune.py --archs=gpt,gru --jobs=2 # two runs at a time
    python bench/tune.py --stage=screen           # rounds 1 and 2 only
    python bench/tune.py --stage=budget           # only measure the budget of every shape
    python bench/tune.py --stage=speed            # on an idle machine: check the budgets' premise

The speed stage checks the premise on the wall clock: it trains every shape with two threads, two
runs again, and reports the measured idle 2-core tokens/s beside the estimate and the minutes that
each shape's estimated budget really takes here. Run it alone on an idle machine, or it measures
the load. Once a shape's speed is measured, its budget is budget_seconds at that speed, not the estimate.
"""
import json
import math
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run without installing

from nanopushkin.config import main_parse  # noqa: E402  (after the path is set)

TWO_THREAD_SPEEDUP = 8400 / 5500  # config/gru.py (2x384, batch 32x128), idle 2-core CPU
EVAL_TOKENS = 65536          # validation tokens in the final evaluation (val.bin has 66,737)
SHAPE_KEYS = ('n_layer', 'n_head', 'n_embd', 'n_hidden', 'context', 'batch_size', 'block_size')

# Candidates are overrides of config/<arch>.py. GPT's shapes start from nanoGPT's own CPU recipe
# (block 64, batch 12, 4 layers, 4 heads, 128 dims, lr 1e-3): small steps buy many updates.
SEARCH = {
    'gpt': {
        'base': dict(learning_rate=2e-3, min_lr=2e-4, warmup_iters=100, dropout=0.0),
        'shapes': [
            dict(n_layer=4, n_head=4, n_embd=128, batch_size=12, block_size=64),
            dict(n_layer=4, n_head=4, n_embd=128, batch_size=8, block_size=128),
            dict(n_layer=4, n_head=4, n_embd=128, batch_size=24, block_size=64),
            dict(n_layer=6, n_head=6, n_embd=192, batch_size=12, block_size=64),
        ],
        'schedules': [
            dict(learning_rate=1e-3, min_lr=1e-4),
            dict(learning_rate=3e-3, min_lr=3e-4),
            dict(warmup_iters=300),
        ],
    },
    'gru': {
        'base': dict(learning_rate=5e-3, min_lr=5e-4, warmup_iters=100),
        'shapes': [
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=32, block_size=128),
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=16, block_size=64),
            dict(n_embd=64, n_hidden=512, n_layer=1, batch_size=16, block_size=128),
        ],
        'schedules': [
            dict(learning_rate=3e-3, min_lr=3e-4),
            dict(learning_rate=8e-3, min_lr=8e-4),
        ],
    },
    'lstm': {
        'base': dict(learning_rate=5e-3, min_lr=5e-4, warmup_iters=100),
        'shapes': [
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=32, block_size=128),
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=16, block_size=64),
        ],
        'schedules': [dict(learning_rate=8e-3, min_lr=8e-4)],
    },
    'rnn': {
        'base': dict(learning_rate=2e-3, min_lr=2e-4, warmup_iters=100),
        'shapes': [
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=32, block_size=128),
            dict(n_embd=64, n_hidden=384, n_layer=2, batch_size=16, block_size=64),
        ],
        'schedules': [dict(learning_rate=4e-3, min_lr=4e-4)],
    },
    'linear': {
        'base': dict(learning_rate=3e-3, min_lr=3e-4, warmup_iters=100),
        'shapes': [
            dict(context=16, n_embd=24, n_hidden=512, n_layer=2, batch_size=64, block_size=64),
            dict(context=16, n_embd=24, n_hidden=512, n_layer=2, batch_size=16, block_size=64),
        ],
        'schedules': [dict(learning_rate=6e-3, min_lr=6e-4)],
    },
}


@dataclass
class TuneConfig:
    archs: str = 'gpt,gru,lstm,rnn,linear'  # in this order
    stage: str = 'all'          # 'screen' (rounds 1 and 2) | 'confirm' (round 3) | 'all'
                                # | 'budget' (only the budget of every shape) | 'speed' (see above)
    fraction: float = 0.1       # of the budget, for the screening rounds
    jobs: int = 1               # trainings at the same time (each one thread)
    archs_at_once: int = 2      # architectures tuned side by side (in --archs order)
    out: str = 'results/tune'
    data_dir: str = 'data/pushkin/char'
    timing_tokens: int = 40000  # training tokens of the longer throughput timing
    budget_seconds: int = 600   # the budget the configs are tuned for, on an idle 2-core CPU


# several architectures are tuned at once (one thread each); at most cfg.jobs trainings run at a time
results_lock = threading.Lock()
budget_lock = threading.Lock()
training_slots = None  # a Semaphore(cfg.jobs), set in main()


def train_command(arch, overrides, threads=1):
    # one thread (the budget is per thread); overwrite: a run not in results.json never finished
    args = [f'--{k}={v}' for k, v in {**overrides, 'threads': threads, 'overwrite': True}.items()]
    return [sys.executable, 'train.py', f'config/{arch}.py', *args]


def run_train(arch, overrides, threads=1):
    """Run train.py; returns its log records, the CPU seconds it used and its wall seconds."""
    out_dir = ROOT / overrides['out_dir']
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'PYTHONPATH': str(ROOT)}
    with training_slots, open(out_dir / 'stdout.txt', 'w') as output:
        start = time.perf_counter()
        process = subprocess.Popen(train_command(arch, overrides, threads), cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # the CPU time of this child alone
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f'train.py failed for {out_dir}:\n{(out_dir / "stdout.txt").read_text()[-2000:]}')
    records = [json.loads(line) for line in (out_dir / 'log.jsonl').read_text().splitlines() if line]
    return records, usage.ru_utime + usage.ru_stime, wall


def shape_key(arch, shape):
    return arch + ' ' + ' '.join(f'{k}={shape[k]}' for k in SHAPE_KEYS if k in shape)


def time_shape(arch, shape, cfg, threads, timing_tokens):
    """Train the shape for 2 and for more iterations; returns (tokens per CPU second, tokens per wall
    second, timing) from the differences of the two runs, which leave out the start-up and the final
    evaluation; timing has the iterations and seconds of both runs, for the record."""
    name = shape_key(arch, shape).replace(' ', '_').replace('=', '')
    tokens_per_iter = shape['batch_size'] * shape['block_size']
    iters = (2, 2 + max(10, timing_tokens // tokens_per_iter))
    cpu, wall = [], []
    for n in iters:
        overrides = dict(shape, max_iters=n, eval_iters=1, eval_interval=10 ** 6, out_dir=f'{cfg.out}/runs/timing-{name}',
                         progress=False, plot=False, always_save_checkpoint=False, data_dir=cfg.data_dir)
        _, cpu_seconds, wall_seconds = run_train(arch, overrides, threads)
        cpu.append(cpu_seconds)
        wall.append(wall_seconds)
    tokens = (iters[1] - iters[0]) * tokens_per_iter
    timing = {'timing_iters': iters, 'cpu_seconds': [round(c, 2) for c in cpu],
              'wall_seconds': [round(w, 2) for w in wall], 'measured_at': time.strftime('%Y-%m-%d %H:%M:%S')}
    return tokens / (cpu[1] - cpu[0]), tokens / (wall[1] - wall[0]), timing


def budget_tokens(arch, shape, cfg, results):
    """Training tokens this shape processes in cfg.budget_seconds on an idle 2-core CPU: from its
    measured 2-thread speed once --stage=speed has timed it, else the CPU-time estimate."""
    speed = results['speed'].get(shape_key(arch, shape))
    if speed:
        return round(cfg.budget_seconds * speed['tokens_per_sec'])
    return estimated_budget_tokens(arch, shape, cfg, results)


def estimated_budget_tokens(arch, shape, cfg, results):
    """cfg.budget_seconds of training from the shape's one-thread CPU time x TWO_THREAD_SPEEDUP (cached)."""
    key = shape_key(arch, shape)
    with budget_lock:  # each shape timed once
        if key in results['budgets']:
            return results['budgets'][key]['tokens']
    per_cpu_second, _, timing = time_shape(arch, shape, cfg, 1, cfg.timing_tokens)
    idle = per_cpu_second * TWO_THREAD_SPEEDUP
    record = {'tokens_per_cpu_second': round(per_cpu_second), 'idle_2core_tokens_per_sec': round(idle),
              'tokens': int(cfg.budget_seconds * idle), **timing}
    save(results, cfg, 'budgets', key, record)
    return record['tokens']


def run_candidate(arch, stage, params, fraction, cfg, results):
    """Train one candidate at `fraction` of its budget; cached in results by its name."""
    tokens_per_iter = params['batch_size'] * params['block_size']
    budget = budget_tokens(arch, params, cfg, results)
    max_iters = max(1, round(budget * fraction / tokens_per_iter))
    name = f'{arch}-{stage}-' + '-'.join(f'{k}{v}' for k, v in params.items())
    if name in results['runs']:  # finished earlier: resume where the search stopped
        return results['runs'][name]
    eval_iters = math.ceil(EVAL_TOKENS / tokens_per_iter)
    warmup = round(params['warmup_iters'] * fraction)  # the full schedule's shape, shrunk
    overrides = dict(params, warmup_iters=warmup, max_iters=max_iters, eval_interval=max_iters,
                     eval_iters=eval_iters, out_dir=f'{cfg.out}/runs/{name}', progress=False, plot=False,
                     data_dir=cfg.data_dir)
    print(f'{time.strftime("%H:%M:%S")} start {name}: {max_iters} iters, {max_iters * tokens_per_iter:,} tokens',
          flush=True)
    records, cpu_seconds, _ = run_train(arch, overrides)
    done = [r for r in records if r['event'] == 'done'][-1]
    command = ' '.join(['python'] + train_command(arch, overrides)[1:])
    record = {'arch': arch, 'stage': stage, 'fraction': fraction, 'params': params, 'max_iters': max_iters,
              'tokens': done['tokens'], 'val_bits_per_char': done['val_bits_per_char'],
              'num_params': done['num_params'], 'elapsed': done['elapsed'],
              'cpu_seconds': round(cpu_seconds, 1), 'command': command}
    print(f'{time.strftime("%H:%M:%S")} done  {name}: {done["val_bits_per_char"]:.4f} bits/char '
          f'in {done["elapsed"]:.0f} s', flush=True)
    save(results, cfg, 'runs', name, record)
    return record


def best(records):
    return min(records, key=lambda r: r['val_bits_per_char'])


def idle_speed(arch, shape, cfg, results):
    """The premise of the budgets, checked: this shape's wall-clock tokens/s with two threads."""
    load = os.getloadavg()[0]
    _, measured, timing = time_shape(arch, shape, cfg, 2, 3 * cfg.timing_tokens)
    budget = estimated_budget_tokens(arch, shape, cfg, results)
    record = {'tokens_per_sec': round(measured), 'budget_tokens': budget,
              'budget_minutes': round(budget / measured / 60, 1), 'load_average_before': round(load, 2), **timing}
    print(f'{shape_key(arch, shape)}: {measured:,.0f} tokens/s on 2 threads, the budget takes '
          f'{record["budget_minutes"]} minutes (load {load:.2f} before)', flush=True)
    save(results, cfg, 'speed', shape_key(arch, shape), record)


def tune_arch(arch, cfg, results):
    space = SEARCH[arch]
    shapes = [dict(shape, **space['base']) for shape in space['shapes']]
    if cfg.stage in ('budget', 'speed'):
        for shape in shapes:  # one at a time: a speed timing must have the machine to itself
            (estimated_budget_tokens if cfg.stage == 'budget' else idle_speed)(arch, shape, cfg, results)
        return
    with ThreadPoolExecutor(cfg.jobs) as pool:  # candidates of a round run side by side
        round1 = list(pool.map(lambda p: run_candidate(arch, 'shape', p, cfg.fraction, cfg, results), shapes))
        winner = best(round1)['params']
        schedules = [dict(winner, **s) for s in space['schedules']]
        round2 = list(pool.map(lambda p: run_candidate(arch, 'schedule', p, cfg.fraction, cfg, results), schedules))
    chosen = best(round1 + round2)['params']
    if cfg.stage in ('confirm', 'all'):
        run_candidate(arch, 'confirm', chosen, 1.0, cfg, results)


def save(results, cfg, table, key, record):
    """Add one record and rewrite results.json and results.md (threads share `results`)."""
    with results_lock:
        results[table][key] = record
        out = ROOT / cfg.out
        out.mkdir(parents=True, exist_ok=True)
        (out / 'results.json').write_text(json.dumps(results, indent=1, ensure_ascii=False) + '\n')
        (out / 'results.md').write_text(markdown(results, cfg.budget_seconds))


def markdown(results, budget_seconds):
    lines = ['# Tuning runs (python bench/tune.py)', '',
             f'Budget: the tokens each shape trains on in {budget_seconds} s on an idle 2-core CPU: its '
             f'one-thread tokens per CPU second x {TWO_THREAD_SPEEDUP:.2f} (the GRU\'s two-thread speedup). '
             'Wall time is on a shared machine and says nothing about speed; CPU seconds do.', '',
             '| arch | stage | fraction | params | iters | tokens | val bits/char | CPU s | wall s |',
             '|---|---|---:|---|---:|---:|---:|---:|---:|']
    for r in sorted(results['runs'].values(), key=lambda r: (r['arch'], r['fraction'], r['val_bits_per_char'])):
        params = ' '.join(f'{k}={v}' for k, v in r['params'].items())
        lines.append(f"| {r['arch']} | {r['stage']} | {r['fraction']:g} | {params} | {r['max_iters']:,} | "
                     f"{r['tokens']:,} | {r['val_bits_per_char']:.4f} | {r['cpu_seconds']:.0f} | {r['elapsed']:.0f} |")
    lines += ['', '## Budgets', '', '| shape | tokens per CPU second (1 thread) | idle 2-core tokens/s | '
              f'tokens in {budget_seconds} s |', '|---|---:|---:|---:|']
    for key, b in results['budgets'].items():
        lines.append(f"| {key} | {b['tokens_per_cpu_second']:,} | {b['idle_2core_tokens_per_sec']:,} | {b['tokens']:,} |")
    if results.get('speed'):
        lines += ['', '## The budgets on the wall clock (python bench/tune.py --stage=speed)', '',
                  'Each shape trained with two threads on a machine that was otherwise idle (the load '
                  'average before each timing is beside it): how many minutes its budget really takes.', '',
                  '| shape | estimated 2-core tokens/s | measured 2-core tokens/s | budget minutes | load before |',
                  '|---|---:|---:|---:|---:|']
        for key, r in results['speed'].items():
            estimate = results['budgets'][key]['idle_2core_tokens_per_sec']
            lines.append(f"| {key} | {estimate:,} | {r['tokens_per_sec']:,} | {r['budget_minutes']} | "
                         f"{r['load_average_before']} |")
    return '\n'.join(lines) + '\n'


def main():
    cfg = main_parse(TuneConfig, sys.argv[1:], config_file_allowed=False)
    archs = cfg.archs.split(',')
    unknown = [a for a in archs if a not in SEARCH]
    if unknown or cfg.stage not in ('screen', 'confirm', 'all', 'budget', 'speed'):
        sys.exit(f"error: --archs must be among {', '.join(SEARCH)} and --stage screen, confirm, all, budget "
                 "or speed")
    path = ROOT / cfg.out / 'results.json'
    results = {'budgets': {}, 'runs': {}, 'speed': {}}
    if path.exists():
        results.update(json.loads(path.read_text()))
    global training_slots
    training_slots = threading.Semaphore(cfg.jobs)
    side_by_side = 1 if cfg.stage == 'speed' else cfg.archs_at_once  # a speed timing runs alone
    with ThreadPoolExecutor(side_by_side) as pool:  # each architecture's rounds in order
        for future in [pool.submit(tune_arch, arch, cfg, results) for arch in archs]:
            future.result()


if __name__ == '__main__':
    main()
