"""A small reader and writer for the safetensors file format, so the project needs no extra package.

A .safetensors file is three things, one after another:

    8 bytes     N, the length of the header, an unsigned 64-bit little-endian integer
    N bytes     the header: UTF-8 JSON, {"name": {"dtype": "F32", "shape": [2, 3],
                "data_offsets": [start, end]}, ..., "__metadata__": {"format": "pt"}}
    the rest    the raw bytes of every tensor, row-major, little-endian; a tensor's bytes are
                data[start:end], counted from the end of the header

There is no pickle anywhere, which is the point of the format: loading a file can run no code.
"""
import json
import math
import sys
from pathlib import Path

import torch

# the format's dtype names and the torch dtypes they are stored as
DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'F8_E4M3': torch.float8_e4m3fn, 'F8_E5M2': torch.float8_e5m2,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
    'U8': torch.uint8, 'BOOL': torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}

MAX_HEADER_BYTES = 100_000_000   # a header is JSON of names and shapes; more than this is a broken file

if sys.byteorder != 'little':    # the raw bytes below are interpreted in the machine's byte order
    raise ImportError('nanopushkin.safetensors reads little-endian data and needs a little-endian machine')


def _corrupt(path, what):
    return ValueError(f'{path} is not a valid safetensors file: {what}. '
                      'Download it again (delete the file first) or re-export it.')


def read_header(path) -> tuple[dict, int]:
    """Parse the header of a .safetensors file: (header dict, byte offset where the data starts)."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, 'rb') as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise _corrupt(path, f'it is only {size} bytes long, shorter than the 8-byte header length')
        n = int.from_bytes(prefix, 'little')
        if n > MAX_HEADER_BYTES or 8 + n > size:
            raise _corrupt(path, f'the header length says {n} bytes but the file has {size} bytes')
        raw = f.read(n)
    try:
        header = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f'the header is not UTF-8 JSON ({e})') from None
    except RecursionError:
        raise _corrupt(path, 'the header is JSON nested too deeply to be a list of tensors') from None
    if not isinstance(header, dict):
        raise _corrupt(path, f'the header is JSON {type(header).__name__}, not an object')

    data_size = size - 8 - n
    for name, info in header.items():
        if name == '__metadata__':
            continue
        if not (isinstance(info, dict) and info.get('dtype') in DTYPES
                and isinstance(info.get('shape'), list)
                and all(isinstance(d, int) and d >= 0 for d in info['shape'])
                and isinstance(info.get('data_offsets'), list) and len(info['data_offsets']) == 2
                and all(isinstance(o, int) for o in info['data_offsets'])):
            raise _corrupt(path, f'tensor {name!r} has a bad entry {info!r} (expected a dtype from '
                                 f'{sorted(DTYPES)}, a shape list and two data_offsets)')
        start, end = info['data_offsets']
        expected = math.prod(info['shape']) * DTYPES[info['dtype']].itemsize
        if not 0 <= start <= end <= data_size or end - start != expected:
            raise _corrupt(path, f'tensor {name!r} ({info["dtype"]} {info["shape"]}, {expected} bytes) has '
                                 f'data_offsets [{start}, {end}] but the data section has {data_size} bytes')
    check_no_overlap(path, header)
    return header, 8 + n


def check_no_overlap(path, header):
    """Two tensors must not share bytes: an overlap is a damaged (or crafted) file."""
    spans = sorted((info['data_offsets'], name) for name, info in header.items()
                   if name != '__metadata__' and info['data_offsets'][0] < info['data_offsets'][1])
    for ((_, end), name), ((start, _), next_name) in zip(spans, spans[1:]):
        if start < end:
            raise _corrupt(path, f'tensors {name!r} and {next_name!r} overlap (bytes {start} to {end} '
                                 'belong to both)')


def iter_tensors(path):
    """Yield (name, CPU tensor) for every tensor of a .safetensors file, reading one at a time, so
    a caller that converts or stores each one never holds the file twice in memory."""
    header, data_start = read_header(path)
    with open(path, 'rb') as f:
        for name, info in header.items():
            if name == '__metadata__':
                continue
            start, end = info['data_offsets']
            dtype = DTYPES[info['dtype']]
            if end == start:          # torch.frombuffer cannot make an empty tensor
                yield name, torch.empty(info['shape'], dtype=dtype)
                continue
            f.seek(data_start + start)
            buffer = bytearray(end - start)   # a fresh, writable, aligned buffer the tensor will own
            if f.readinto(buffer) != len(buffer):
                raise _corrupt(path, f'the file ended inside tensor {name!r} (was it cut short?)')
            yield name, torch.frombuffer(buffer, dtype=dtype).reshape(info['shape'])


def load_file(path) -> dict[str, torch.Tensor]:
    """Read every tensor of a .safetensors file into a dict of CPU tensors."""
    return dict(iter_tensors(path))


def save_file(tensors: dict[str, torch.Tensor], path, metadata: dict | None = None):
    """Write a dict of tensors as a .safetensors file (tensors in name order, back to back).

    The format has no aliases: two names that share memory (tied weights) would be stored as two
    copies, so save a tied matrix under one name (as GPT-2 files do: wte, not lm_head)."""
    header = {'__metadata__': dict(metadata or {'format': 'pt'})}
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in DTYPE_NAMES:
            raise ValueError(f'tensor {name!r} has dtype {t.dtype}, which safetensors cannot store')
        size = t.numel() * t.element_size()
        header[name] = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * (-len(raw) % 8)      # pad with spaces so the data starts 8-byte aligned
    with open(path, 'wb') as f:
        f.write(len(raw).to_bytes(8, 'little'))
        f.write(raw)
        for name in sorted(tensors):
            # the tensor's memory as bytes, row-major (contiguous), written without an extra copy
            f.write(tensors[name].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
