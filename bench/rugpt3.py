"""
ruGPT3 at its real size with random weights: nanoPushkin next to HF transformers, one table.

The shape comes from a committed config.json (bench/rugpt3medium.config.json: 24 layers, 16 heads,
1024 dims, 2048 positions, vocabulary 50257, 356M parameters; bench/rugpt3small.config.json: 12
layers, 768 dims, vocabulary 50264, 125M), the architecture fields of the published files
ai-forever/rugpt3{medium,small}_based_on_gpt2/config.json. transformers writes a random
GPT2LMHeadModel of that shape into a temporary folder, once as model.safetensors and once as
pytorch_model.bin, with a byte-level BPE tokenizer of 50257 tokens (256 bytes, 50000 merges of byte
pairs, <|endoftext|>: the real tokenizer's size, not its merges). Then, each case in a fresh
process so that peaks do not mix and one heavy case runs at a time:

  train   one fine-tuning step (forward, backward, gradient clipping, AdamW; --accumulation
          micro-batches), batch B x 512, float32
          or bfloat16 autocast, gradient checkpointing off/on: our GPT loaded through
          nanopushkin.hf.from_pretrained and driven as the trainer drives it, and GPT2LMHeadModel
          (SDPA attention) loaded by transformers. Seconds per step (median of --steps after one
          warm-up step), peak memory, and the trainer's own estimate_memory figure
  load    from_pretrained of model.safetensors and of pytorch_model.bin, ours and transformers':
          seconds, and peak memory after one short forward (so that weights memory-mapped from the
          file count too), against the size of the weights
  sample  128 new tokens after a 32-token prompt, batch 1: greedy and the original nanoPushkin's
          beam sampling (2 beams, top-k 20, top-p 0.8, temperature 0.7, no repeated bigrams), our
          sampler (nanopushkin.sampling.generate) against transformers' generate with its cache.
          The greedy tokens must be identical

Peak memory on the CPU is the process's peak resident set (getrusage) minus its resident set
before the model existed (the Python interpreter with torch imported); on CUDA it is
torch.cuda.max_memory_allocated. Every case first checks the trainer's estimate against
--max_memory_gb and is skipped (and listed) when it would not fit.

Timings on a shared CPU are noisy: a training case also records the CPU time of all its threads,
which other jobs inflate far less than the wall clock, and sampling times ours and transformers'
alternately in one process. The results are merged into
results/rugpt3/<shape>-<device>.json (a case measured again replaces the old one) and the whole
table is rewritten to results/rugpt3/<shape>-<device>.md.

Usage:
  python bench/rugpt3.py                                   # everything, ruGPT3-medium, CPU (hours on a busy 2-core machine)
  python bench/rugpt3.py --parts=load,sample               # a subset
  python bench/rugpt3.py --parts=train --batch_sizes=1 --dtypes=bfloat16 --checkpointing=off
  python bench/rugpt3.py --shape=rugpt3small               # the 125M sibling
  python bench/rugpt3.py --device=cuda                     # the same table on a GPU
"""
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run without installing

import torch

from nanopushkin.config import TrainConfig, main_parse
from nanopushkin.devices import DTYPES, resolve_device
from nanopushkin.hf import from_pretrained, gpt_config_from_hf
from nanopushkin.models.gpt import GPT
from nanopushkin.sampling import generate
from nanopushkin.trainer import estimate_memory, format_bytes, make_optimizer
from tokenizer import BPETokenizer

GB = 1e9
TOKENIZER_SIZE = 50257          # ruGPT3's tokenizer: 256 bytes + 50000 merges + <|endoftext|>
BEAM_SETTINGS = dict(num_beams=2, top_k=20, top_p=0.8, temperature=0.7, no_repeat_ngram_size=2)


@dataclass
class BenchConfig:
    shape: str = 'rugpt3medium'         # bench/<shape>.config.json, or the path of a GPT-2 config.json
    device: str = 'cpu'                 # 'cpu' | 'cuda' | 'cuda:N'
    parts: str = 'train,load,sample'    # which measurements, comma-separated
    batch_sizes: str = '1,2'            # training batches of batch x block_size tokens
    dtypes: str = 'float32,bfloat16'    # training number types (bfloat16: autocast, float32 weights)
    checkpointing: str = 'off,on'       # gradient checkpointing
    impls: str = 'ours,hf'              # whose model: ours, hf (transformers)
    block_size: int = 512
    steps: int = 2                      # timed training steps per case, after one warm-up step
    accumulation: int = 1               # micro-batches per step (gradient_accumulation_steps)
    max_memory_gb: float = 12.0         # skip training cases whose estimate exceeds this
    prompt_len: int = 32
    max_new_tokens: int = 128
    rounds: int = 1                     # timed generations of each kind, alternating ours and HF
    seed: int = 1337
    out_dir: str = 'results/rugpt3'
    case: str = ''                      # internal: one case as JSON, measured in this process


# -----------------------------------------------------------------------------
# memory and time


def rss_bytes() -> int:
    """The resident set of this process now (Linux /proc; elsewhere the peak so far)."""
    try:
        return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024   # Linux reports kilobytes


class PeakMemory:
    """The peak memory of what runs after construction: CUDA allocations on a GPU; on the CPU the
    process's peak resident set above what it held at construction."""

    def __init__(self, device):
        self.cuda = torch.device(device).type == 'cuda'
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(device)
            self.device, self.baseline = device, torch.cuda.memory_allocated(device)
        else:
            self.baseline = rss_bytes()

    def peak(self) -> int:
        if self.cuda:
            return torch.cuda.max_memory_allocated(self.device) - self.baseline
        return peak_rss_bytes() - self.baseline


def sync(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize()


# -----------------------------------------------------------------------------
# the random checkpoint folders


def synthetic_tokenizer(size=TOKENIZER_SIZE) -> BPETokenizer:
    """A byte-level BPE of `size` tokens: the 256 bytes, merges of byte pairs, <|endoftext|>."""
    vocab = [bytes([b]) for b in range(256)]
    merges = [(a, b) for a in range(256) for b in range(256)][:size - 257]
    vocab += [bytes([a, b]) for a, b in merges] + [b'<|endoftext|>']
    return BPETokenizer(vocab, merges, {'<|endoftext|>': size - 1})


def make_folders(case) -> dict:
    """A random GPT2LMHeadModel of the shape, in a folder with model.safetensors and in one with
    pytorch_model.bin, each with the tokenizer."""
    import transformers  # (imported where used: a process measuring our model must not hold the library)
    hf_config = transformers.GPT2Config(**json.loads(Path(case['shape_file']).read_text()))
    torch.manual_seed(case['seed'])
    model = transformers.GPT2LMHeadModel(hf_config)
    tokenizer = synthetic_tokenizer()
    sizes = {}
    for fmt in ('safetensors', 'bin'):
        folder = Path(case['folder']) / fmt
        if fmt == 'safetensors':
            model.save_pretrained(folder)
        else:  # transformers 5 writes safetensors only; older versions wrote this torch.save'd dict
            hf_config.save_pretrained(folder)
            torch.save(model.state_dict(), folder / 'pytorch_model.bin')
        tokenizer.save_pretrained(folder)
        sizes[fmt] = (folder / ('model.safetensors' if fmt == 'safetensors' else 'pytorch_model.bin')).stat().st_size
    return {'file_bytes': sizes, 'num_params': sum(p.numel() for p in model.parameters())}


# -----------------------------------------------------------------------------
# the cases, each run in a fresh process


def load_ours(folder, device):
    model, tokenizer = from_pretrained(folder)
    return model.to(device), tokenizer


def load_hf(folder, device, **overrides):
    import transformers  # (imported where used, see make_folders)
    transformers.logging.set_verbosity_error()
    model = transformers.GPT2LMHeadModel.from_pretrained(folder, attn_implementation='sdpa', **overrides)
    return model.to(device)


def train_case(case) -> dict:
    """Fine-tuning steps as the trainer takes them (same optimizer, autocast, clipping)."""
    device = case['device']
    if case['impl'] == 'hf':
        import transformers  # noqa: F401  (before the baseline: the library's own memory is not the model's)
    config = TrainConfig(init_from=case['folder'], batch_size=case['batch_size'], block_size=case['block_size'],
                         dtype=case['dtype'], gradient_checkpointing=case['checkpointing'], device=device,
                         gradient_accumulation_steps=case['accumulation'], dropout=0.0)
    memory = PeakMemory(device)
    if case['impl'] == 'ours':
        model, _ = load_ours(case['folder'], device)
        model.gradient_checkpointing = config.gradient_checkpointing
        forward = lambda x, y: model(x, y)              # noqa: E731  (logits, loss)
        estimate = estimate_memory(model, config)['total']
    else:  # the same computation: no dropout, SDPA attention
        model = load_hf(case['folder'], device, embd_pdrop=0.0, attn_pdrop=0.0, resid_pdrop=0.0, use_cache=False)
        if config.gradient_checkpointing:  # (transformers 5 renamed gradient_checkpointing_enable)
            enable = getattr(model, 'activation_checkpointing_enable', None) or model.gradient_checkpointing_enable
            enable({'use_reentrant': False})
        forward = lambda x, y: model(input_ids=x, labels=x)       # noqa: E731  (HF shifts the labels)
        estimate = None
    model.train()
    device_type = torch.device(device).type
    if device_type == 'cuda':  # TensorFloat-32 matmuls, as the trainer sets them
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    optimizer = make_optimizer(model, config, device_type)
    dtype = DTYPES[config.dtype]
    autocast = nullcontext() if dtype == torch.float32 else torch.autocast(device_type, dtype=dtype)
    generator = torch.Generator().manual_seed(case['seed'])
    seconds, cpu_seconds = [], []     # wall clock, and CPU time of all threads (what a busy machine cannot inflate)
    for step in range(case['steps'] + 1):
        data = torch.randint(0, model.config.vocab_size, (config.batch_size, config.block_size + 1),
                             generator=generator).to(device)
        sync(device)
        t0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(config.gradient_accumulation_steps):
            with autocast:  # the output stays referenced until the next forward ends, as in the trainer
                output = forward(data[:, :-1], data[:, 1:])
            loss = output[1] if case['impl'] == 'ours' else output.loss
            (loss / config.gradient_accumulation_steps).backward()
        del output                                      # (the trainer's train_step returns here)
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        if step > 0:                                    # step 0 warms up and creates AdamW's state
            seconds.append(time.perf_counter() - t0)
            cpu_seconds.append(time.process_time() - cpu0)
    return {'seconds': statistics.median(seconds), 'cpu_seconds': statistics.median(cpu_seconds),
            'threads': torch.get_num_threads(), 'peak': memory.peak(), 'estimate': estimate, 'loss': loss.item()}


@torch.no_grad()
def load_case(case) -> dict:
    """from_pretrained, then one forward of 8 tokens: a memory-mapped file's pages count in the
    resident set only once they are read, so the peak is measured with every weight used once."""
    if case['impl'] == 'hf':
        import transformers  # noqa: F401  (before the clock and the baseline start)
    memory = PeakMemory('cpu')                          # loading reads into CPU memory
    t0 = time.perf_counter()
    model = load_ours(case['folder'], 'cpu')[0] if case['impl'] == 'ours' else load_hf(case['folder'], 'cpu')
    seconds = time.perf_counter() - t0
    model.eval()(torch.zeros((1, 8), dtype=torch.long))
    n_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    return {'seconds': seconds, 'peak': memory.peak(), 'weight_bytes': n_bytes}


def sample_case(case) -> dict:
    """Both models in one process, timed alternately, so a busy machine slows both alike."""
    device = case['device']
    ours, tokenizer = load_ours(case['folder'], device)
    hf = load_hf(case['folder'], device).eval()
    ours.eval()
    generator = torch.Generator().manual_seed(case['seed'])
    prompt = torch.randint(0, tokenizer.vocab_size, (1, case['prompt_len']), generator=generator)
    new = case['max_new_tokens']
    # ids the tokenizer cannot decode (a padded vocabulary): transformers must not pick them either
    padding = list(range(tokenizer.vocab_size, ours.config.vocab_size))
    hf_args = dict(attention_mask=torch.ones_like(prompt).to(device), max_new_tokens=new, min_new_tokens=new,
                   use_cache=True, pad_token_id=0, eos_token_id=None, suppress_tokens=padding or None)
    runs = {
        ('greedy', 'ours'): lambda: generate(ours, tokenizer, prompt[0].tolist(), max_new_tokens=new,
                                             temperature=0.0, stop_at_eot=False)[0],
        ('greedy', 'hf'): lambda: hf.generate(prompt.to(device), do_sample=False, **hf_args)[0, prompt.size(1):].tolist(),
        ('beam', 'ours'): lambda: generate(ours, tokenizer, prompt[0].tolist(), max_new_tokens=new,
                                           stop_at_eot=False, generator=torch.Generator(device).manual_seed(1),
                                           **BEAM_SETTINGS)[0],
        ('beam', 'hf'): lambda: hf.generate(prompt.to(device), do_sample=True, **BEAM_SETTINGS,
                                            **hf_args)[0, prompt.size(1):].tolist(),
    }
    seconds = {key: [] for key in runs}
    tokens = {}
    for _ in range(case['rounds']):
        for key, run in runs.items():
            sync(device)
            t0 = time.perf_counter()
            tokens[key] = run()
            sync(device)
            seconds[key].append(time.perf_counter() - t0)
    result = {f'{mode}_{impl}_tokens_per_s': new / statistics.median(s) for (mode, impl), s in seconds.items()}
    result['greedy_identical'] = tokens['greedy', 'ours'] == tokens['greedy', 'hf']
    result['undecodable_ids_drawn'] = sum(t >= tokenizer.vocab_size for key in tokens if key[1] == 'ours'
                                          for t in tokens[key])
    result['tokenizer_size'], result['model_vocab_size'] = tokenizer.vocab_size, ours.config.vocab_size
    return result


CASES = {'make': make_folders, 'train': train_case, 'load': load_case, 'sample': sample_case}


def run_in_fresh_process(case) -> dict:
    """Run one case as `python bench/rugpt3.py --case=JSON`; its last output line is the result."""
    t0 = time.time()
    proc = subprocess.run([sys.executable, __file__, '--case=' + json.dumps(case)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'case {case} failed:\n{proc.stderr[-3000:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f'  {time.time() - t0:6.0f} s  {case_key(case)}: {result}', file=sys.stderr, flush=True)
    return result


# -----------------------------------------------------------------------------
# the grid, the estimates that decide what fits, the table


def case_key(case) -> str:
    if case['part'] == 'train':
        batch = f"{case['accumulation']}x" * (case['accumulation'] > 1) + f"{case['batch_size']}x{case['block_size']}"
        return f"train {case['impl']} {batch} {case['dtype']} checkpointing {'on' if case['checkpointing'] else 'off'}"

    if case['part'] == 'load':
        return f"load {case['impl']} {case['format']}"
    return case['part']


def planned_estimate(shape_file, case) -> int:
    """The trainer's estimate for a training case, from the shape alone (no weights allocated)."""
    with torch.device('meta'):
        model = GPT(gpt_config_from_hf(json.loads(Path(shape_file).read_text()), shape_file))
    config = TrainConfig(batch_size=case['batch_size'], block_size=case['block_size'], dtype=case['dtype'],
                         gradient_checkpointing=case['checkpointing'], device=case['device'],
                         gradient_accumulation_steps=case['accumulation'])
    return estimate_memory(model, config)['total']


def split(text):
    return [s.strip() for s in text.split(',') if s.strip()]


def training_cases(cfg, common):
    switch = {'off': False, 'on': True}
    for batch_size in map(int, split(cfg.batch_sizes)):
        for dtype in split(cfg.dtypes):
            for checkpointing in split(cfg.checkpointing):
                for impl in split(cfg.impls):
                    yield {**common, 'part': 'train', 'impl': impl, 'batch_size': batch_size,
                           'block_size': cfg.block_size, 'dtype': dtype, 'checkpointing': switch[checkpointing],
                           'steps': cfg.steps, 'accumulation': cfg.accumulation}


def gb(n):
    return '' if n is None else f'{n / GB:.2f}'


def seconds(result):
    """'wall (CPU)' seconds: the CPU time of all threads, unlike the wall clock, does not grow while
    other jobs have the cores (results from before it was recorded show the wall clock only)."""
    if not result:
        return ''
    cpu = f" ({result['cpu_seconds']:.0f})" if 'cpu_seconds' in result else ''
    return f"{result['seconds']:.1f}{cpu}"


def training_table(results) -> list[str]:
    lines = ['## Fine-tuning step (forward, backward, clip, AdamW)', '',
             '| batch | dtype | checkpointing | ours s/step (CPU s) | HF s/step (CPU s) | ours peak GB | '
             'HF peak GB | trainer estimate GB | estimate / ours peak |',
             '|---|---|---|---:|---:|---:|---:|---:|---:|']
    for key in dict.fromkeys(k.replace(' hf ', ' ours ') for k in results if k.startswith('train ')):
        ours, hf = results.get(key, {}), results.get(key.replace(' ours ', ' hf '), {})
        _, _, size, dtype, _, checkpointing = key.split(' ')
        estimate = ours.get('estimate')
        ratio = f"{estimate / ours['peak']:.2f}" if estimate else ''
        lines.append(f"| {size} | {dtype} | {checkpointing} | {seconds(ours)} | {seconds(hf)} | {gb(ours.get('peak'))} "
                     f"| {gb(hf.get('peak'))} | {gb(estimate)} | {ratio} |")
    return lines + ['']


def loading_table(results, meta) -> list[str]:
    lines = ['## Loading (from_pretrained into CPU memory, then one 8-token forward)', '',
             '| file | size GB | ours s | HF s | ours peak GB | ours peak / weights | HF peak GB | HF peak / weights |',
             '|---|---:|---:|---:|---:|---:|---:|---:|']
    for fmt, name in (('safetensors', 'model.safetensors'), ('bin', 'pytorch_model.bin')):
        ours, hf = results.get(f'load ours {fmt}'), results.get(f'load hf {fmt}')
        if ours and hf:
            weights = ours['weight_bytes']
            lines.append(f"| {name} | {meta['file_bytes'][fmt] / GB:.2f} | {ours['seconds']:.1f} | {hf['seconds']:.1f} "
                         f"| {gb(ours['peak'])} | {ours['peak'] / weights:.2f} | {gb(hf['peak'])} "
                         f"| {hf['peak'] / weights:.2f} |")
    return lines + ['']


def sampling_table(sample, meta) -> list[str]:
    lines = [f"## Sampling ({meta['prompt_len']}-token prompt, {meta['max_new_tokens']} new tokens, batch 1, float32)",
             '', '| decoding | ours tokens/s | HF generate tokens/s | ours/HF |', '|---|---:|---:|---:|']
    for mode, what in (('greedy', 'greedy'),
                       ('beam', 'beam sampling: 2 beams, top-k 20, top-p 0.8, temperature 0.7, no repeated bigrams')):
        ours, hf = sample[f'{mode}_ours_tokens_per_s'], sample[f'{mode}_hf_tokens_per_s']
        lines.append(f'| {what} | {ours:.2f} | {hf:.2f} | {ours / hf:.2f}x |')
    return lines + ['', f"Greedy tokens identical to transformers': {sample['greedy_identical']}. Tokenizer "
                    f"{sample['tokenizer_size']} tokens, model vocabulary {sample['model_vocab_size']}; ids our "
                    f"sampler drew that the tokenizer cannot decode: {sample['undecodable_ids_drawn']}.", '']


def markdown(results, meta) -> str:
    # the commands that measured the cases in this table, each once (a case measured again is replaced)
    commands = ', '.join(f'`{c}`' for c in dict.fromkeys(r['command'] for r in results.values() if 'command' in r))
    lines = [f"# {meta['shape']} ({meta['num_params'] / 1e6:.0f}M parameters, random weights) on {meta['device']}",
             '', f"Made by {commands}. {meta['machine']}. Each case in a fresh process; memory is the peak above "
             'the process before the model existed (CPU: resident set, CUDA: max_memory_allocated); GB = 10^9 '
             'bytes. Timings on a shared machine are noisy: the CPU seconds are steadier than the wall clock.', '']
    if any(k.startswith('train ') for k in results):
        lines += training_table(results)
    if meta.get('skipped'):
        lines += ['Skipped (the estimate exceeds --max_memory_gb): ' + '; '.join(meta['skipped']), '']
    if any(k.startswith('load ') for k in results):
        lines += loading_table(results, meta)
    if 'sample' in results:
        lines += sampling_table(results['sample'], meta)
    return '\n'.join(lines)


def measure(cfg, parts, shape_file, device, results, meta):
    """Write the random checkpoints to a temporary folder and run the selected cases, each in a fresh
    process, into `results` (keyed by case); the shape's sizes and what did not fit go into `meta`."""
    with tempfile.TemporaryDirectory() as tmp:
        common = {'folder': '', 'device': device, 'seed': cfg.seed}
        print(f'writing random {cfg.shape} checkpoints to a temporary folder...', file=sys.stderr, flush=True)
        made = run_in_fresh_process({**common, 'part': 'make', 'shape_file': str(shape_file), 'folder': tmp})
        meta.update(made)
        common['folder'] = str(Path(tmp) / 'safetensors')
        if 'train' in parts:
            meta['skipped'] = []
            for case in training_cases(cfg, common):
                estimate = planned_estimate(shape_file, case)
                if estimate > cfg.max_memory_gb * GB:
                    meta['skipped'].append(f'{case_key(case)} (estimate {format_bytes(estimate)})')
                    continue
                results[case_key(case)] = {**run_in_fresh_process(case),    # (the folder is gone after the run)
                                           'case': {k: v for k, v in case.items() if k != 'folder'}}
        if 'load' in parts:
            for fmt in ('safetensors', 'bin'):
                for impl in split(cfg.impls):
                    case = {**common, 'part': 'load', 'impl': impl, 'format': fmt, 'folder': str(Path(tmp) / fmt)}
                    results[case_key(case)] = run_in_fresh_process(case)
        if 'sample' in parts:
            results['sample'] = run_in_fresh_process({**common, 'part': 'sample', 'prompt_len': cfg.prompt_len,
                                                      'max_new_tokens': cfg.max_new_tokens, 'rounds': cfg.rounds})
            meta.update(prompt_len=cfg.prompt_len, max_new_tokens=cfg.max_new_tokens)


def main():
    cfg = main_parse(BenchConfig, sys.argv[1:], config_file_allowed=False)
    if cfg.case:                                        # a worker: measure one case, print its result
        case = json.loads(cfg.case)
        torch.manual_seed(case['seed'])
        print(json.dumps(CASES[case['part']](case)))
        return
    shape_file = Path(cfg.shape) if cfg.shape.endswith('.json') else ROOT / 'bench' / f'{cfg.shape}.config.json'
    if not shape_file.is_file():
        sys.exit(f'error: no shape file {shape_file}; the committed shapes are '
                 + ', '.join(p.name.removesuffix('.config.json') for p in sorted((ROOT / 'bench').glob('*.config.json'))))
    try:
        device = resolve_device(cfg.device)
    except ValueError as e:
        sys.exit(f'error: {e}')
    parts = split(cfg.parts)
    if set(parts) - {'train', 'load', 'sample'}:
        sys.exit(f'error: --parts takes train, load and sample (or nothing: rewrite the table), got {cfg.parts!r}')

    out = ROOT / cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{shape_file.name.removesuffix('.json').removesuffix('.config')}-{torch.device(device).type}"
    new_results, new_meta = {}, {}
    if parts:
        measure(cfg, parts, shape_file, device, new_results, new_meta)
        for result in new_results.values():
            result['command'] = ' '.join(['python', 'bench/rugpt3.py', *sys.argv[1:]])
    # read the file only now: another run may have added cases to it in the meantime
    saved = json.loads((out / f'{stem}.json').read_text()) if (out / f'{stem}.json').is_file() else {}
    results, meta = {**saved.get('results', {}), **new_results}, {**saved.get('meta', {}), **new_meta}
    if parts:
        meta['machine'] = (f'{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, '
                           f'load average {os.getloadavg()[0]:.1f} at the end of the last run')
    meta.update(shape=cfg.shape, device=device)
    for result in results.values():  # the estimate column follows the trainer's current formula
        if result.get('estimate') is not None:
            result['estimate'] = planned_estimate(shape_file, result['case'])
    (out / f'{stem}.json').write_text(json.dumps({'meta': meta, 'results': results}, indent=1) + '\n')
    table = markdown(results, meta)
    (out / f'{stem}.md').write_text(table)
    print(table)


if __name__ == '__main__':
    main()
