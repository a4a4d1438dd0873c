"""Which device and number type to run on: the two questions every command that runs a model asks.

Apart from the trainer so that sample.py, compare.py and serve.py can answer them without importing
the training loop (and DDP, tqdm) just to read a checkpoint.
"""
import torch

DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}


def resolve_device(name: str) -> str:
    """'auto' -> the best device present; otherwise check that the named one exists."""
    if name == 'auto':
        if torch.cuda.is_available():
            return 'cuda'
        if torch.backends.mps.is_available():
            return 'mps'
        return 'cpu'
    try:
        device_type = torch.device(name).type
    except RuntimeError:
        device_type = None
    if device_type not in ('cpu', 'cuda', 'mps'):   # 'meta' and the like hold no numbers to run on
        raise ValueError(f'unknown --device={name!r}; use auto, cpu, cuda, cuda:N or mps')
    if device_type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'--device={name} but this torch sees no CUDA GPU; use --device=cpu')
    if device_type == 'mps' and not torch.backends.mps.is_available():
        raise ValueError(f'--device={name} but MPS is not available here; use --device=cpu')
    return name


def resolve_dtype(name: str, device_type: str) -> torch.dtype:
    """The number type of the forward pass. 'auto': bfloat16 on GPUs that have it (same range as
    float32, no loss scaling needed), else float16 (needs a GradScaler); float32 elsewhere."""
    if name == 'auto':
        if device_type == 'cuda':
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if name == 'float16' and device_type == 'cpu':
        raise ValueError('--dtype=float16 needs a GPU (the CPU kernels lack it); on the CPU use '
                         '--dtype=bfloat16 or float32')
    return DTYPES[name]
