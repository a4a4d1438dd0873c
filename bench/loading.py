"""
Peak memory of loading a GPT-2-format folder through nanopushkin.hf.from_pretrained, next to the
straightforward way it was done before (all tensors read into a dict, a randomly initialised model
built, the tensors copied into it), for model.safetensors and pytorch_model.bin.

A random GPT-2 of the chosen shape is written to a temporary folder (the default, 6 x 512 with
GPT-2's vocabulary of 50257, is a 180 MB float32 file; --n_layer=24 --n_embd=1024
--n_positions=2048 is ruGPT3-medium's 1.4 GB). Each load runs in a fresh Python process, which
reports its resident memory after the imports and its peak resident memory during the load; the
difference is what loading cost, shown as a multiple of the weight file's size. Goal: at most
about 1.3x. Linux only (it reads /proc/self).
Usage: python bench/loading.py [--n_layer=6] [--n_embd=512] [--n_positions=1024] [--vocab_size=50257]
"""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

import torch

from nanopushkin import hf
from nanopushkin.config import main_parse
from nanopushkin.models.gpt import GPT, GPTConfig
from tokenizer import BPETokenizer

ROOT = Path(__file__).resolve().parent.parent

# run in a fresh process: resident memory (KiB) after the imports, then the peak during the load.
# The imports alone peak higher than they end, so the peak (VmHWM, what ru_maxrss reports) is reset
# after them by writing 5 to /proc/self/clear_refs (Linux).
CHILD = r'''
import sys
sys.path.insert(0, sys.argv[1])
import torch
from nanopushkin import hf, hub
from nanopushkin.models.gpt import GPT, GPTConfig
torch.set_num_threads(1)
folder, way = sys.argv[2], sys.argv[3]

def status(key):
    return int(open('/proc/self/status').read().split(key + ':')[1].split()[0])

# warm-up: the first model torch builds (on any device) loads code worth ~75 MB, whatever its size
for device in ('meta', 'cpu'):
    with torch.device(device):
        GPT(GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=1, n_embd=8))
open('/proc/self/clear_refs', 'w').write('5')
before = status('VmRSS')
if way == 'now':
    model, _ = hf.from_pretrained(folder)
else:   # before: every tensor in a dict, a random model, the tensors copied into its parameters
    config = hf.gpt_config_from_hf(hf.read_hf_config(folder), folder)
    tensors = dict(hf.read_tensors(hub.weight_files(folder)))
    model = GPT(config)
    state = {hf.our_name(k): t.t() if k.endswith(hf.CONV1D_WEIGHTS) else t for k, t in tensors.items()}
    state['lm_head.weight'] = state['transformer.wte.weight']
    model.load_state_dict(state)
print(before, status('VmHWM'))
'''


@dataclass
class BenchConfig:
    n_layer: int = 6
    n_head: int = 8
    n_embd: int = 512
    n_positions: int = 1024
    vocab_size: int = 50257


def write_folder(cfg, folder: Path):
    """model.safetensors (through save_pretrained) and the same weights as pytorch_model.bin."""
    config = GPTConfig(vocab_size=cfg.vocab_size, block_size=cfg.n_positions, n_layer=cfg.n_layer,
                       n_head=cfg.n_head, n_embd=cfg.n_embd)
    tokenizer = BPETokenizer.train('Буря мглою небо кроет, вихри снежные крутя. ' * 20, vocab_size=300)
    model = GPT(config)
    hf.save_pretrained(model, tokenizer, folder / 'safetensors')
    bin_folder = folder / 'bin'
    hf.save_pretrained(model, tokenizer, bin_folder)
    (bin_folder / 'model.safetensors').unlink()
    torch.save(hf.state_dict_to_hf(model), bin_folder / 'pytorch_model.bin')


def peak_mb(folder, way) -> float:
    out = subprocess.run([sys.executable, '-c', CHILD, str(ROOT), str(folder), way], check=True,
                         capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'}).stdout
    before, after = map(int, out.split())
    return (after - before) / 1024


def main():
    cfg = main_parse(BenchConfig, sys.argv[1:], config_file_allowed=False)
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(cfg, Path(tmp))
        print(f'a random GPT-2, {json.dumps(vars(cfg))}; memory: the growth of peak RSS during the load')
        print()
        print('| weights file | size | before: peak | now: peak | now / file size |')
        print('|---|---|---|---|---|')
        for fmt, name in (('safetensors', 'model.safetensors'), ('bin', 'pytorch_model.bin')):
            folder = Path(tmp) / fmt
            size = (folder / name).stat().st_size / 2 ** 20
            before, now = peak_mb(folder, 'before'), peak_mb(folder, 'now')
            print(f'| {name} | {size:.0f} MB | {before:.0f} MB ({before / size:.2f}x) | {now:.0f} MB | '
                  f'{now / size:.2f}x |')


if __name__ == '__main__':
    main()
