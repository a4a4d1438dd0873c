"""The prepared dataset: token ids on disk, random training windows, and bits per character.

`data/pushkin/prepare.py` writes a folder with train.bin and val.bin (one flat array of token ids
per split, works joined by the end-of-text token) and meta.json (tokenizer, dtype, and how many
characters and tokens each split has). Here we map the .bin files into memory without reading
them (np.memmap) and cut random windows of block_size+1 tokens out of them: the first block_size
tokens are the input, the same window shifted by one is the target.

Loss is measured in nats per token, which depends on the tokenizer: a BPE token covers several
characters, so its loss is naturally higher. Bits per character divides that out, so a char-level
LSTM and a BPE GPT can be compared on the same scale.
"""
import math
import re
from pathlib import Path

import numpy as np
import torch

from nanopushkin.files import parse_json
from tokenizer import load_tokenizer


def prepare_command(data_dir) -> str:
    """The command that creates `data_dir`, read off its folder name (see nanopushkin/prepare.py):
    char, word8000, bpe4096, pretrained-<model folder>, each optionally prefixed hashsep- and
    followed by +<other writers' folder> (bpe1410+contrast)."""
    data_dir = Path(data_dir)
    name, _, extra = data_dir.name.partition('+')
    args = []
    if name.startswith('hashsep-'):
        name = name[len('hashsep-'):]
        args += ['--format=hashsep', '--src=<your stories file>']
    if (m := re.fullmatch(r'(word|bpe)(\d+)', name)):
        args += [f'--tokenizer={m.group(1)}', f'--vocab_size={m.group(2)}']
    elif name.startswith('pretrained-'):
        args += [f'--tokenizer=pretrained:<path to the model folder {name[len("pretrained-"):]}>']
    elif name != 'char':
        return 'python data/pushkin/prepare.py with the options that make it (see --help)'
    if extra:
        args.append('--extra_src=contrast' if extra == 'contrast' else f'--extra_src=<the folder {extra}>')
    if data_dir.parent != Path('data/pushkin'):
        args.append(f'--out_root={data_dir.parent}')
    return ' '.join(['python data/pushkin/prepare.py'] + args)


TOKEN_DTYPES = ('uint16', 'uint32')      # what prepare.py writes: uint16, uint32 past 65535 tokens
META_KEYS = ('tokenizer', 'vocab_size', 'dtype', 'tokenizer_file', 'train', 'val')


def load_meta(data_dir) -> dict:
    """meta.json of a prepared dataset, or an error that says how to prepare it."""
    path = Path(data_dir) / 'meta.json'
    if not path.is_file():
        raise FileNotFoundError(f'no prepared dataset in {data_dir} ({path} is missing); '
                                f'create it with: {prepare_command(data_dir)}')
    redo = f're-create the dataset with: {prepare_command(data_dir)}'
    try:
        meta = parse_json(path.read_bytes(), path)
    except ValueError as e:
        raise ValueError(f'{e}; {redo}') from None

    if not isinstance(meta, dict):
        raise ValueError(f'{path} is a JSON {type(meta).__name__}, not an object; {redo}')
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ValueError(f'{path} lacks {", ".join(missing)}; {redo}')
    problems = []
    if meta['dtype'] not in TOKEN_DTYPES:
        problems.append(f'dtype {meta["dtype"]!r} (prepare.py writes {" or ".join(TOKEN_DTYPES)})')
    elif type(meta['vocab_size']) is not int or not 0 < meta['vocab_size'] <= np.iinfo(meta['dtype']).max + 1:
        problems.append(f'vocab_size {meta["vocab_size"]!r} (a positive integer that {meta["dtype"]} can hold)')
    for split in ('train', 'val'):
        counts = meta[split]
        if not isinstance(counts, dict) or not all(type(counts.get(k)) is int and counts[k] > 0
                                                   for k in ('tokens', 'chars')):
            problems.append(f'{split} counts {counts!r:.100} (tokens and chars: positive integers)')
    if not (isinstance(meta['tokenizer_file'], str) and meta['tokenizer_file']
            and Path(meta['tokenizer_file']).name == meta['tokenizer_file']):
        problems.append(f'tokenizer_file {meta["tokenizer_file"]!r:.100} (the name of a file in the folder)')
    if problems:
        raise ValueError(f'{path} has {"; ".join(problems)}; {redo}')
    return meta


def open_split(data_dir, meta, split):
    """The token ids of one split, memory-mapped, checked against meta.json: the file's size must be
    the token count times the dtype's size, and every id must be below vocab_size."""
    path = Path(data_dir) / f'{split}.bin'
    redo = f're-create the dataset with: {prepare_command(data_dir)}'
    if not path.is_file():
        raise FileNotFoundError(f'{path} is missing; {redo}')
    dtype = np.dtype(meta['dtype'])
    size, tokens = path.stat().st_size, meta[split]['tokens']
    if size != tokens * dtype.itemsize:
        raise ValueError(f'{path} has {size} bytes, but meta.json says it holds {tokens} {dtype.name} tokens '
                         f'({tokens * dtype.itemsize} bytes): cut short, or from another run; {redo}')
    if size == 0:                       # an empty file cannot be mapped
        return np.zeros(0, dtype)
    # memmap: the OS pages in only the windows we touch, so corpus size does not matter
    data = np.memmap(path, dtype=dtype, mode='r')
    if int(data.max()) >= meta['vocab_size']:        # one pass over the file: a second or so per 100M tokens
        raise ValueError(f'{path} holds token id {int(data.max())}, but meta.json says vocab_size is '
                         f'{meta["vocab_size"]}; {redo}')
    return data


class Dataset:
    """The train and val token arrays of one prepared folder, plus its meta.json and tokenizer,
    checked against each other when the folder is opened."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.meta = load_meta(data_dir)
        self.splits = {split: open_split(data_dir, self.meta, split) for split in ('train', 'val')}
        tokenizer_path = self.data_dir / self.meta['tokenizer_file']
        redo = f're-create the dataset with: {prepare_command(data_dir)}'
        try:
            self._tokenizer = load_tokenizer(tokenizer_path)
        except (ValueError, OSError) as e:
            raise ValueError(f'the tokenizer of {data_dir} cannot be read ({e}); {redo}') from None
        if self._tokenizer.vocab_size != self.meta['vocab_size']:
            raise ValueError(f'{self.data_dir / "meta.json"} says vocab_size {self.meta["vocab_size"]}, but its '
                             f'tokenizer {tokenizer_path} has {self._tokenizer.vocab_size} tokens; {redo}')

    @property
    def vocab_size(self) -> int:
        return self.meta['vocab_size']

    def tokenizer(self):
        """The tokenizer that made the token ids (saved next to them by prepare.py)."""
        return self._tokenizer

    def check_block_size(self, block_size):
        """Every split must hold at least one window of block_size inputs plus one target."""
        for split, data in self.splits.items():
            if len(data) < block_size + 1:
                raise ValueError(f'the {split} split of {self.data_dir} has {len(data)} tokens, fewer than '
                                 f'block_size+1 = {block_size + 1}; use a smaller --block_size')

    def get_batch(self, split, batch_size, block_size, generator, device='cpu'):
        """`batch_size` random windows: inputs x (B, T) and targets y = x shifted left by one.

        The window starts come from `generator` (a torch.Generator on the CPU), so the sequence of
        batches is fixed by its seed, and saving its state lets a resumed run draw the same batches
        it would have drawn without the interruption.
        """
        data = self.splits[split]
        starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator).tolist()
        x = torch.from_numpy(np.stack([data[i:i + block_size] for i in starts]).astype(np.int64))
        y = torch.from_numpy(np.stack([data[i + 1:i + 1 + block_size] for i in starts]).astype(np.int64))
        device = torch.device(device)
        if device.type == 'cuda':
            # page-locked host memory lets the copy to the GPU run while the GPU is still busy
            return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        return x.to(device), y.to(device)


def bits_per_char(loss, meta, split='val') -> float:
    """Convert a mean loss in nats per token of `split` into bits per character of its text."""
    counts = meta[split]
    return loss * counts['tokens'] / counts['chars'] / math.log(2)


def unigram_bits_per_char(data_dir) -> float:
    """The baseline every model must beat: no context at all, just how common each token is.

    Cross-entropy of the val tokens under the train token frequencies (add-one smoothed, so a token
    never seen in training costs a finite amount), in bits per character.
    """
    dataset = Dataset(data_dir)
    counts = np.bincount(dataset.splits['train'], minlength=dataset.vocab_size).astype(np.float64) + 1.0
    log_probs = np.log(counts / counts.sum())
    val = np.asarray(dataset.splits['val'], dtype=np.int64)
    loss = -log_probs[val].mean()
    return bits_per_char(float(loss), dataset.meta, 'val')
