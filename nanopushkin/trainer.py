"""The training loop: one function, `train(config)`, used by train.py and by compare.py.

What happens, top to bottom:
  1. pick the device and number type, join the other processes when started by torchrun (DDP);
  2. open the prepared dataset and build the model: from scratch, from our own checkpoint
     (init_from='resume'), or from a GPT-2-format folder / hub name (fine-tuning);
  3. AdamW with weight decay on the matrices only, learning rate warmup + cosine decay;
  4. loop: a few micro-batches (gradient accumulation) -> clip the gradient -> step; every
     eval_interval iterations measure train/val loss on fixed batches, append to log.jsonl, save
     ckpt.pt (the latest state, for resuming) and best.pt (the lowest val loss, for sampling);
  5. at the end: a last evaluation and checkpoint, the loss-curve picture, a summary dict.
     Ctrl-C also saves ckpt.pt first, so an interrupted run can be resumed.

Resuming continues the same curve exactly (on the CPU): the checkpoint holds the optimizer and the
random-number states of torch and of the batch sampler, so N iterations straight and N/2 + N/2
with a resume in between give the same numbers.

The files a run writes (ckpt.pt, best.pt, log.jsonl) and how they are read: nanopushkin/checkpoint.py.

Several processes (`torchrun --nproc_per_node=N train.py ...`, DistributedDataParallel): each
process draws its own batches and DDP averages the gradients. gradient_accumulation_steps counts
micro-batches over all processes, like nanoGPT, so the tokens per iteration (and the curve) do not
depend on N; it must be a multiple of N. Only rank 0 evaluates, logs and writes files.
"""
import dataclasses
import json
import math
import os
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from nanopushkin.checkpoint import read_checkpoint, read_log, restart_log, save_checkpoint
from nanopushkin.config import TrainConfig
from nanopushkin.data import Dataset, bits_per_char, unigram_bits_per_char
from nanopushkin.models import MODEL_TYPES, build_model, model_args_from_config
from nanopushkin.models.gpt import GPTConfig
from nanopushkin.models.linear import LinearConfig
from nanopushkin.models.rnn import RNNConfig
from tokenizer import load_tokenizer

DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}

# -----------------------------------------------------------------------------
# devices, number types, processes


def check_config(config: TrainConfig):
    """Values the type check of the config system cannot catch."""
    positive = ('batch_size', 'block_size', 'eval_interval', 'log_interval', 'eval_iters',
                'gradient_accumulation_steps')
    for key in positive:
        if getattr(config, key) < 1:
            raise ValueError(f'--{key} must be at least 1, got {getattr(config, key)}')
    for key in ('max_iters', 'warmup_iters', 'lr_decay_iters', 'max_tokens', 'max_seconds', 'grad_clip'):
        if getattr(config, key) < 0:
            raise ValueError(f'--{key} must not be negative, got {getattr(config, key)}')
    if config.model not in MODEL_TYPES:
        raise ValueError(f'unknown --model={config.model!r}; choose one of {", ".join(MODEL_TYPES)}')
    if config.dtype != 'auto' and config.dtype not in DTYPES:
        raise ValueError(f'unknown --dtype={config.dtype!r}; choose auto, {", ".join(DTYPES)}')


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
        raise ValueError(f'unknown --device={name!r}; use auto, cpu, cuda, cuda:N or mps') from None
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


def start_distributed(device: str):
    """Join the process group when launched by torchrun (it sets RANK, LOCAL_RANK, WORLD_SIZE).
    Returns (rank, world_size, device): each process of a multi-GPU run gets its own GPU."""
    if 'RANK' not in os.environ:
        return 0, 1, device
    backend = 'nccl' if device.startswith('cuda') else 'gloo'
    dist.init_process_group(backend=backend)
    if device.startswith('cuda'):
        device = f'cuda:{int(os.environ["LOCAL_RANK"])}'
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), device


# -----------------------------------------------------------------------------
# model, optimizer, learning rate


def check_same_tokenizer(model_tokenizer, dataset, what):
    """The model's token ids must mean the same strings as the dataset's: same vocabulary size, and
    the same ids for a piece of the dataset's own text."""
    data_tokenizer = dataset.tokenizer()
    if model_tokenizer.vocab_size != data_tokenizer.vocab_size:
        raise ValueError(f'{what} has a vocabulary of {model_tokenizer.vocab_size} tokens but the dataset '
                         f'{dataset.data_dir} has {data_tokenizer.vocab_size}: prepare the data with the '
                         "model's tokenizer (or point --data_dir at the right folder)")
    sample = data_tokenizer.decode(dataset.splits['val'][:500].tolist())
    try:
        same = model_tokenizer.encode(sample) == data_tokenizer.encode(sample)
    except ValueError:  # e.g. a character the model's tokenizer has never seen
        same = False
    if not same:
        raise ValueError(f'{what} and the dataset {dataset.data_dir} both have {data_tokenizer.vocab_size} '
                         'tokens but encode text differently: they are different tokenizers')


def init_model(config: TrainConfig, dataset: Dataset):
    """Returns (model, model_type, model_args, checkpoint or None) as config.init_from says."""
    if config.init_from == 'scratch':
        model_args = model_args_from_config(config, dataset.vocab_size)
        return build_model(config.model, model_args), config.model, model_args, None
    if config.init_from == 'resume':
        path = Path(config.out_dir) / 'ckpt.pt'
        if not path.is_file():
            raise FileNotFoundError(f'--init_from=resume but there is no checkpoint {path}; train from '
                                    'scratch first, or point --out_dir at the run to continue')
        checkpoint = read_checkpoint(path)
        check_same_tokenizer(load_tokenizer(checkpoint['tokenizer']), dataset, f'the checkpoint {path}')
        model = build_model(checkpoint['model_type'], checkpoint['model_args'])
        model.load_state_dict(checkpoint['model'])
        return model, checkpoint['model_type'], checkpoint['model_args'], checkpoint
    from nanopushkin.hf import from_pretrained  # only fine-tuning needs the GPT-2 adapter
    model, model_tokenizer = from_pretrained(config.init_from, dropout=config.dropout)
    check_same_tokenizer(model_tokenizer, dataset, f'the pretrained model {config.init_from}')
    return model, 'gpt', dataclasses.asdict(model.config), None


def make_optimizer(model, config: TrainConfig, device_type: str):
    """AdamW; weight decay pulls matrices (linear layers, embeddings) towards zero, but not biases
    and LayerNorm gains, which are vectors: shrinking them only hurts (nanoGPT does the same)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{'params': [p for p in params if p.dim() >= 2], 'weight_decay': config.weight_decay},
              {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}]
    # the fused CUDA kernel updates all parameters in one launch instead of a few per tensor
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=(config.beta1, config.beta2),
                             fused=True if device_type == 'cuda' else None)


def get_lr(it: int, config: TrainConfig, budget_used: float = 0.0) -> float:
    """Linear warmup for warmup_iters, then cosine decay to min_lr at lr_decay_iters (0: max_iters).

    budget_used is the fraction (0..1) spent of a max_seconds or max_tokens budget. The cosine follows
    iterations or budget, whichever is further along, so a run that its budget stops still ends at
    min_lr: compare.py gives every model the same seconds this way (no iteration count is known)."""
    if not config.decay_lr:
        return config.learning_rate
    if it < config.warmup_iters:
        return config.learning_rate * (it + 1) / (config.warmup_iters + 1)
    decay_iters = config.lr_decay_iters or config.max_iters   # 0 means: decay over the whole run
    if it >= decay_iters or budget_used >= 1.0:
        return config.min_lr
    progress = max(budget_used, (it - config.warmup_iters) / max(1, decay_iters - config.warmup_iters))
    return config.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.learning_rate - config.min_lr)


def estimate_memory(model, config: TrainConfig) -> dict:
    """Bytes a training step of `model` with `config` needs at its peak, and what they are made of.

    Checked on the CPU by bench/rugpt3.py at ruGPT3's real size, against the process's peak
    resident memory. The parts, P being the number of parameters:
      weights     4P: float32 (autocast computes in 16 bits but keeps float32 weights)
      gradients   4P, plus one more copy of the largest parameter: the token embedding's gradient
                  is built whole (twice for a GPT, whose output layer is the same matrix) and summed
                  into its .grad at the end of backward; AdamW's update makes temporaries that size
      optimizer   8P: AdamW's two float32 averages per parameter
      autocast copies  (16-bit dtypes only) 2 bytes per weight of a Linear layer: autocast casts
                  each weight once per forward, and backward needs the copy
      activations what the forward pass keeps for backward, per token of the batch (B*T tokens).
        gpt, per layer: 2 float32 copies of the residual stream (the LayerNorms' inputs), 14*n_embd
            numbers in the compute type (2 LayerNorm outputs, queries/keys/values 3, the attention
            output 1, the MLP's 4*n_embd before and after GELU 8), 4*n_head + 16 bytes of statistics
            (fused attention keeps no T x T matrix). Dropout forces the CPU's plain attention,
            which keeps 3 float32 T x T matrices per head (probabilities, mask, dropped) and 3 masks.
            Gradient checkpointing keeps only each block's input and recomputes one block at a time.
          rnn/gru/lstm: per layer about (2, 6, 8) * n_hidden numbers (states and gates at every step)
          linear: context*n_embd (the joined embeddings) + 2*n_hidden per hidden layer
        plus the loss: the logits (held by the training step until it returns, so with gradient
        accumulation two micro-batches' logits meet in a forward), the float32 log-softmax, and at
        the start of backward the gradients of both (3 * 4 bytes * vocab_size).
    The parts add up. Backward frees each layer's activations as it makes that layer's gradients,
    but the freed blocks stay with the process (the allocator keeps them for reuse, and gradients
    are allocated anew), so the resident peak is the sum: measured within 15%, see README. On a GPU,
    torch.cuda.max_memory_allocated can be lower; what the card must have free is the sum plus the
    CUDA context. Use it to choose batch_size, and whether to turn on gradient checkpointing.
    """
    n_params = sum(p.numel() for p in model.parameters())
    # (the device need not be present: you can plan a GPU run on a laptop)
    device_type = torch.device(resolve_device('auto') if config.device == 'auto' else config.device).type
    dtype = config.dtype if config.dtype != 'auto' else 'bfloat16' if device_type == 'cuda' else 'float32'
    act_bytes = torch.finfo(DTYPES[dtype]).bits // 8
    tokens = config.batch_size * config.block_size
    cfg = model.config
    if isinstance(cfg, GPTConfig):
        C, T = cfg.n_embd, config.block_size
        per_layer = 2 * 4 * C + 14 * C * act_bytes + 4 * cfg.n_head + 16
        if cfg.dropout > 0:
            per_layer += 3 * 4 * cfg.n_head * T + 3 * 4 * C
        if config.gradient_checkpointing:
            per_token = 4 * C * cfg.n_layer + per_layer
        else:
            per_token = per_layer * cfg.n_layer
        per_token += 4 * C + C * act_bytes + 16 + 8   # final LayerNorm in and out, input and target ids
    elif isinstance(cfg, RNNConfig):
        per_token = {'rnn': 2, 'gru': 6, 'lstm': 8}[cfg.cell] * cfg.n_hidden * cfg.n_layer * act_bytes
    elif isinstance(cfg, LinearConfig):
        per_token = (cfg.context * cfg.n_embd + 2 * cfg.n_hidden * cfg.n_layer) * act_bytes
    else:
        raise ValueError(f'no memory formula for a {type(model).__name__} model')
    # the loss; with accumulation the previous micro-batch's logits are held during the next forward
    held_logits = 2 if config.gradient_accumulation_steps > 1 else 1
    per_token += held_logits * cfg.vocab_size * act_bytes + 3 * 4 * cfg.vocab_size
    largest = max(p.numel() for p in model.parameters())
    linear_weights = {id(m.weight): m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear)}
    estimate = {'weights': 4 * n_params, 'gradients': 4 * (n_params + largest), 'optimizer': 8 * n_params}
    if act_bytes < 4:
        estimate['autocast copies'] = 2 * sum(linear_weights.values())
    estimate['activations'] = int(per_token * tokens)
    estimate['total'] = sum(estimate.values())
    return estimate


def format_bytes(n: float) -> str:
    for unit in ('B', 'KB', 'MB', 'GB'):
        if n < 1024 or unit == 'GB':
            return f'{n:.1f} {unit}' if unit != 'B' else f'{int(n)} B'
        n /= 1024


# -----------------------------------------------------------------------------
# evaluation, checkpoints, the log


@torch.no_grad()
def estimate_loss(model, dataset, config, device, autocast) -> dict:
    """Mean loss over eval_iters batches of each split. The batches come from a generator seeded
    the same way at every evaluation, so successive evaluations see the same text and differ only
    because the model changed (and evaluating does not disturb the training batch sequence)."""
    model.eval()
    losses = {}
    for split in ('train', 'val'):
        generator = torch.Generator().manual_seed(config.seed)
        total = 0.0
        for _ in range(config.eval_iters):
            x, y = dataset.get_batch(split, config.batch_size, config.block_size, generator, device)
            with autocast:
                _, loss = model(x, y)
            total += loss.item()
        losses[split] = total / config.eval_iters
    model.train()
    return losses


def plot_log(out_dir, baseline_bits_per_char=None):
    """out_dir/loss.png: train and val loss against iterations, and val bits per character."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state
    records = read_log(out_dir)
    steps = [r for r in records if r['event'] == 'train']
    evals = [r for r in records if r['event'] == 'eval']
    fig = Figure(figsize=(11, 4), layout='constrained')
    ax_loss, ax_bpc = fig.subplots(1, 2)
    if steps:
        ax_loss.plot([r['iter'] for r in steps], [r['loss'] for r in steps], alpha=0.4,
                     label='train (one batch)')
    iters = [r['iter'] for r in evals]
    ax_loss.plot(iters, [r['train_loss'] for r in evals], 'o-', label='train')
    ax_loss.plot(iters, [r['val_loss'] for r in evals], 'o-', label='val')
    ax_loss.set(xlabel='iteration', ylabel='loss (nats per token)', title=str(out_dir))
    ax_loss.legend()
    ax_bpc.plot(iters, [r['val_bits_per_char'] for r in evals], 'o-', color='C1', label='val')
    if baseline_bits_per_char is not None:
        ax_bpc.axhline(baseline_bits_per_char, color='gray', linestyle='--', label='unigram baseline')
    ax_bpc.set(xlabel='iteration', ylabel='bits per character', title='validation')
    ax_bpc.legend()
    fig.savefig(Path(out_dir) / 'loss.png', dpi=100)


# -----------------------------------------------------------------------------
# the loop


def train(config: TrainConfig) -> dict:
    """Train as `config` says; returns the summary that is also the last line of log.jsonl."""
    check_config(config)
    device = resolve_device(config.device)
    rank, world_size, device = start_distributed(device)
    try:
        summary = _train(config, device, rank, world_size)
        if world_size > 1:
            # rank 0 still evaluates and saves after the others finish; leave the group together, since
            # a gloo process that tears down its connections while a peer holds them open can abort
            # at exit ("terminate called without an active exception", about 1 run in 30 on 2 CPUs)
            dist.barrier()
        return summary
    finally:
        if world_size > 1:
            dist.destroy_process_group()


def _train(config, device, rank, world_size):
    master = rank == 0  # only the first process writes files and prints
    say = tqdm.write if master else (lambda *args, **kwargs: None)
    device_type = torch.device(device).type
    if device_type == 'cuda':  # TensorFloat-32 matmuls: ~8x faster than full float32, same training
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    dtype = resolve_dtype(config.dtype, device_type)
    autocast = nullcontext() if dtype == torch.float32 else torch.autocast(device_type, dtype=dtype)
    if config.gradient_accumulation_steps % world_size:
        raise ValueError(f'--gradient_accumulation_steps={config.gradient_accumulation_steps} is the total over '
                         f'all {world_size} processes and must be a multiple of it, e.g. '
                         f'--gradient_accumulation_steps={world_size * config.gradient_accumulation_steps}')
    accumulation_steps = config.gradient_accumulation_steps // world_size  # per process, like nanoGPT

    dataset = Dataset(config.data_dir)
    dataset.check_block_size(config.block_size)
    torch.manual_seed(config.seed + rank)  # the same initial weights on every run with this seed
    model, model_type, model_args, checkpoint = init_model(config, dataset)
    if 'block_size' in model_args and config.block_size > model_args['block_size']:
        raise ValueError(f'--block_size={config.block_size} is longer than the {model_args["block_size"]} '
                         f'positions this GPT has; use --block_size={model_args["block_size"]} or less')
    if config.gradient_checkpointing:
        if not hasattr(model, 'gradient_checkpointing'):
            raise ValueError(f'--gradient_checkpointing is implemented for the gpt model only, not {model_type}')
        model.gradient_checkpointing = True
    model.to(device)
    optimizer = make_optimizer(model, config, device_type)
    scaler = torch.amp.GradScaler(device_type, enabled=dtype == torch.float16)  # float16 only

    # the batch sampler's own generator: its state goes into checkpoints (rank r draws other text)
    generator = torch.Generator().manual_seed(config.seed + rank)
    iter_num, tokens_seen, elapsed_before, best_val_loss = 0, 0, 0.0, float('inf')
    if checkpoint is not None:
        optimizer.load_state_dict(checkpoint['optimizer'])
        scaler.load_state_dict(checkpoint['scaler'])
        iter_num, tokens_seen = checkpoint['iter_num'], checkpoint['tokens_seen']
        elapsed_before, best_val_loss = checkpoint['elapsed'], checkpoint['best_val_loss']
        rng = checkpoint['rng']
        if master:  # the other ranks keep fresh streams: only rank 0's states are saved
            generator.set_state(rng['data'])
            torch.set_rng_state(rng['torch'])
            if device_type == 'cuda' and rng['cuda']:
                torch.cuda.set_rng_state_all(rng['cuda'])
        else:
            generator.manual_seed(config.seed + rank + 7919 * iter_num)
        say(f'resuming {model_type} from iteration {iter_num} of {Path(config.out_dir) / "ckpt.pt"} '
            '(the model comes from the checkpoint, the training options from this config)')
        checkpoint = None  # free the memory before training

    raw_model = model  # the plain module: what is saved and evaluated
    if config.compile:
        say('compiling the model (takes a minute)...')
        model = torch.compile(model)
    if world_size > 1:
        model = DDP(model, device_ids=[torch.device(device).index] if device_type == 'cuda' else None)

    out_dir = Path(config.out_dir)
    tokens_per_iter = config.gradient_accumulation_steps * config.batch_size * config.block_size
    tokenizer_dict = dataset.tokenizer().to_dict()
    if master:
        out_dir.mkdir(parents=True, exist_ok=True)
        if config.init_from == 'resume' and not config.eval_only:
            restart_log(out_dir, iter_num)
        elif not config.eval_only:
            (out_dir / 'log.jsonl').write_text('')
        baseline = unigram_bits_per_char(config.data_dir)
        memory = estimate_memory(raw_model, config)
        say(f'{model_type} model: {raw_model.num_params():,} parameters, on {device} ({str(dtype)[6:]}), '
            f'{world_size} process{"es" if world_size > 1 else ""}')
        say(f'data: {config.data_dir} ({dataset.meta["tokenizer"]}, vocab {dataset.vocab_size}); '
            f'{tokens_per_iter:,} tokens per iteration; unigram baseline {baseline:.3f} bits/char')
        say('memory estimate: ' + ' + '.join(f'{k} {format_bytes(v)}' for k, v in memory.items() if k != 'total')
            + f' = {format_bytes(memory["total"])}')

    start_time, start_tokens = time.time(), tokens_seen
    train_seconds = 0.0  # time in training steps only, for tokens/s (evaluation excluded)

    def elapsed():
        return elapsed_before + time.time() - start_time

    def log(record):
        if master:
            with open(out_dir / 'log.jsonl', 'a', encoding='utf-8') as f:
                f.write(json.dumps(record, ensure_ascii=False) + '\n')

    def make_checkpoint(with_optimizer=True):
        rng = {'torch': torch.get_rng_state(), 'data': generator.get_state(),
               'cuda': torch.cuda.get_rng_state_all() if device_type == 'cuda' else []}
        return {'model_type': model_type, 'model_args': model_args, 'model': raw_model.state_dict(),
                'optimizer': optimizer.state_dict() if with_optimizer else {},
                'scaler': scaler.state_dict(), 'iter_num': iter_num, 'tokens_seen': tokens_seen,
                'elapsed': elapsed(), 'best_val_loss': best_val_loss, 'config': dataclasses.asdict(config),
                'tokenizer': tokenizer_dict, 'meta': dataset.meta, 'rng': rng}

    def evaluate(final=False):
        """Measure and log; write best.pt when val loss improved, ckpt.pt (the latest state) always
        when always_save_checkpoint, else only at the end. Rank 0 only: the others go on."""
        nonlocal best_val_loss
        if not master:
            return None
        losses = estimate_loss(raw_model, dataset, config, device, autocast)
        record = {'event': 'eval', 'iter': iter_num, 'tokens': tokens_seen, 'elapsed': round(elapsed(), 3),
                  'train_loss': losses['train'], 'val_loss': losses['val'],
                  'val_bits_per_char': bits_per_char(losses['val'], dataset.meta),
                  'lr': get_lr(iter_num, config, budget_used(sync=False))}
        say(f'iter {iter_num}: train loss {losses["train"]:.4f}, val loss {losses["val"]:.4f}, '
            f'val {record["val_bits_per_char"]:.4f} bits/char')
        if config.eval_only:
            return record
        log(record)
        if losses['val'] < best_val_loss:
            best_val_loss = losses['val']
            save_checkpoint(make_checkpoint(with_optimizer=False), out_dir / 'best.pt')
        if config.always_save_checkpoint or final:
            save_checkpoint(make_checkpoint(), out_dir / 'ckpt.pt')
        return record

    def budget_used(sync=True):
        """The fraction spent of the max_tokens / max_seconds budget (0 without one). All processes
        must agree (on when to stop, on the learning rate), so rank 0's clock decides."""
        used = max(tokens_seen / config.max_tokens if config.max_tokens > 0 else 0.0,
                   elapsed() / config.max_seconds if config.max_seconds > 0 else 0.0)
        if sync and world_size > 1 and config.max_seconds > 0:
            value = torch.tensor(used, device=device)
            dist.broadcast(value, src=0)
            used = value.item()
        return used

    def finished():
        """Out of iterations, tokens or time?"""
        return iter_num >= config.max_iters or budget_used() >= 1.0

    stop = finished()
    if config.eval_only:
        return summarize(evaluate(), best_val_loss, iter_num, tokens_seen, elapsed(), 0.0, raw_model, out_dir)
    # the curve starts at the untrained (or pretrained) model; a resumed run has logged this point
    last_eval = evaluate(final=stop) if config.init_from != 'resume' or stop else None
    # the bar's total is the iterations that will run, when they are known: not under a time budget
    total_iters = config.max_iters
    if config.max_tokens > 0:
        total_iters = min(total_iters, math.ceil(config.max_tokens / tokens_per_iter))
    progress = tqdm(total=None if config.max_seconds > 0 else total_iters, initial=iter_num,
                    disable=not (master and config.progress), unit='it', dynamic_ncols=True)
    window_seconds, window_tokens = 0.0, 0  # tokens/s over the last log_interval iterations
    try:
        while not stop:
            step_start = time.time()
            lr = get_lr(iter_num, config, budget_used())
            for group in optimizer.param_groups:
                group['lr'] = lr
            loss_sum = torch.zeros((), device=device)
            for micro_step in range(accumulation_steps):
                # DDP averages gradients across processes in backward(): only after the last micro-batch
                last = micro_step == accumulation_steps - 1
                with model.no_sync() if world_size > 1 and not last else nullcontext():
                    x, y = dataset.get_batch('train', config.batch_size, config.block_size, generator, device)
                    with autocast:
                        _, loss = model(x, y)
                    loss = loss / accumulation_steps  # the gradient of the mean over all micro-batches
                    scaler.scale(loss).backward()
                loss_sum += loss.detach()
            if config.grad_clip > 0:
                scaler.unscale_(optimizer)  # clip the true gradient, not the float16-scaled one
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            train_seconds += time.time() - step_start
            iter_num += 1
            tokens_seen += tokens_per_iter
            window_tokens += tokens_per_iter
            progress.update(1)

            if iter_num % config.log_interval == 0 and master:
                loss_value = loss_sum.item()  # .item() waits for the GPU: only every log_interval
                tokens_per_sec = window_tokens / (train_seconds - window_seconds)
                window_seconds, window_tokens = train_seconds, 0
                log({'event': 'train', 'iter': iter_num, 'tokens': tokens_seen, 'elapsed': round(elapsed(), 3),
                     'loss': loss_value, 'lr': lr, 'tokens_per_sec': round(tokens_per_sec, 1)})
                progress.set_postfix(loss=f'{loss_value:.4f}', tok_per_s=f'{tokens_per_sec:,.0f}')
                if not config.progress:
                    say(f'iter {iter_num}: loss {loss_value:.4f}, lr {lr:.2e}, {tokens_per_sec:,.0f} tokens/s')
            stop = finished()
            if stop or iter_num % config.eval_interval == 0:
                last_eval = evaluate(final=stop)
    except KeyboardInterrupt:
        progress.close()
        if master:
            save_checkpoint(make_checkpoint(), out_dir / 'ckpt.pt')
            say(f'\ninterrupted at iteration {iter_num}; saved {out_dir / "ckpt.pt"}. To continue, run the '
                f'same command with --init_from=resume (and --out_dir={out_dir})')
        raise
    progress.close()

    tokens_per_sec = (tokens_seen - start_tokens) / max(train_seconds, 1e-9)
    summary = summarize(last_eval, best_val_loss, iter_num, tokens_seen, elapsed(), tokens_per_sec,
                        raw_model, out_dir)
    log({'event': 'done', **summary})
    if master and config.plot:
        plot_log(out_dir, baseline)
    return summary


def summarize(last_eval, best_val_loss, iter_num, tokens_seen, elapsed, tokens_per_sec, model, out_dir):
    """The run in one dict (evaluation numbers are None on ranks other than 0, which do not evaluate)."""
    return {'best_val_loss': best_val_loss if last_eval else None,
            'val_loss': last_eval['val_loss'] if last_eval else None,
            'val_bits_per_char': last_eval['val_bits_per_char'] if last_eval else None,
            'iters': iter_num, 'tokens': tokens_seen, 'elapsed': round(elapsed, 3),
            'tokens_per_sec': round(tokens_per_sec, 1), 'num_params': model.num_params(),
            'out_dir': str(out_dir)}
