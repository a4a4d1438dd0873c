"""The training loop: one function, `train(config)`, used by train.py and by compare.py.

Read `train`, `train_loop` and `train_step` first: they are the whole idea, in this order.
  1. setup: pick the device and number type, join the other processes when started by torchrun (DDP),
     open the prepared dataset, build the model (from scratch, from our own checkpoint with
     init_from='resume', or from a GPT-2-format folder / hub name: fine-tuning) and the optimizer
     (AdamW, or Muon with AdamW: see make_optimizer);
  2. loop: learning rate (warmup + cosine) -> a few micro-batches forward and backward (gradient
     accumulation) -> clip the gradient -> step; every eval_interval iterations measure train/val
     loss on fixed batches, append to log.jsonl, save ckpt.pt (the latest state, for resuming) and
     best.pt (the lowest val loss, for sampling);
  3. at the end: a last evaluation and checkpoint, the loss-curve picture, a summary dict.
The class Run below them holds what the loop works with; a first reading can skip everything after
it (device choice, the memory estimate, the plot) and nanopushkin/threads.py (the CPU thread count).

Resuming continues the same curve exactly (on the CPU): the checkpoint holds the optimizer and the
random-number states of torch and of the batch sampler, so N iterations straight and N/2 + N/2 with a
resume in between give the same numbers. That holds after Ctrl-C too: the interrupted iteration is
dropped (its batches are drawn again on resume), and the weight update with its log lines and
evaluation is never cut in half (Ctrl-C waits for its end).

What keeps a trained run safe: a scratch run refuses to replace one (--overwrite=True says to),
a second run into the same out_dir stops (out_dir/.lock), a loss that turns to nan or inf stops the
run before anything is saved, and every file is replaced atomically (nanopushkin/checkpoint.py).

Several processes (`torchrun --nproc_per_node=N train.py ...`, DistributedDataParallel): each
process draws its own batches and DDP averages the gradients. gradient_accumulation_steps counts
micro-batches over all processes, like nanoGPT, so the tokens per iteration (and the curve) do not
depend on N; it must be a multiple of N. Only rank 0 evaluates, logs and writes files.
"""
import dataclasses
import json
import math
import os
import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from matplotlib.figure import Figure  # no pyplot: no window, no global state
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from nanopushkin import threads
from nanopushkin.checkpoint import locked, model_from_checkpoint, read_checkpoint, read_log, restart_log, \
    save_checkpoint
from nanopushkin.config import TrainConfig
from nanopushkin.data import Dataset, bits_per_char, unigram_bits_per_char
from nanopushkin.devices import DTYPES, resolve_device, resolve_dtype
from nanopushkin.hf import from_pretrained
from nanopushkin.models import MODEL_TYPES, build_model, model_args_from_config
from nanopushkin.models.gpt import GPTConfig
from nanopushkin.models.linear import LinearConfig
from nanopushkin.models.rnn import RNNConfig
from nanopushkin.optim import Muon, hidden_matrices
from tokenizer import load_tokenizer

RUN_FILES = ('ckpt.pt', 'best.pt', 'log.jsonl', 'loss.png')  # what --overwrite=True replaces
OPTIMIZERS = ('adamw', 'muon')


class TrainingDiverged(ValueError):
    """The loss became nan or inf; nothing was saved after the last good state."""


# -----------------------------------------------------------------------------
# the loop


def train(config: TrainConfig) -> dict:
    """Train as `config` says; returns the summary that is also the last line of log.jsonl."""
    check_config(config)
    rank, world_size, device = start_distributed(resolve_device(config.device))
    threads_before = torch.get_num_threads()
    try:
        writes = rank == 0 and not config.eval_only
        with locked(claim_out_dir(config)) if writes else nullcontext():
            if writes:
                clear_out_dir(config)
            run = Run(config, device, rank, world_size)
            summary = run.evaluate_only() if config.eval_only else train_loop(run)
        if world_size > 1:
            # rank 0 still evaluates and saves after the others finish; leave the group together, since
            # a gloo process that tears down its connections while a peer holds them open can abort
            # at exit ("terminate called without an active exception", about 1 run in 30 on 2 CPUs)
            dist.barrier()
        return summary
    finally:
        torch.set_num_threads(threads_before)
        if world_size > 1:
            dist.destroy_process_group()


def train_loop(run) -> dict:
    """Step, log, evaluate and save until the iterations, tokens or seconds run out."""
    config, state = run.config, run.state
    stop = run.finished()
    if config.init_from != 'resume' or stop:  # the curve starts at the untrained (or pretrained) model
        run.evaluate(final=stop)              # (a resumed run has logged this point already)
    try:
        while not stop:
            lr = get_lr(state.iter_num, config, run.budget_used())
            loss = train_step(run, lr)
            with interrupts_deferred():  # from here the iteration happens whole: Ctrl-C waits
                run.update_weights()
                run.remember_rng()  # the random states at the start of the next iteration
                if state.iter_num % config.log_interval == 0:
                    run.log_step(loss, lr)
                stop = run.finished()
                if stop or state.iter_num % config.eval_interval == 0:
                    run.evaluate(final=stop)
    except KeyboardInterrupt:
        run.save_interrupted()
        raise
    finally:
        run.progress.close()
    return run.finish()


def train_step(run, lr):
    """Forward and backward over the micro-batches of one iteration, without changing the weights;
    returns the mean loss, a tensor on the device (reading it waits for the GPU)."""
    run.step_started = threads.clock()
    for group in run.optimizer.param_groups:  # Muon's matrices: the same schedule from their own peak
        group['lr'] = lr * run.config.muon_lr / run.config.learning_rate if group.get('muon') else lr
    loss_sum = torch.zeros((), device=run.device)
    steps = run.accumulation_steps
    for micro_step in range(steps):
        # DDP averages gradients across processes in backward(): only after the last micro-batch
        sync = run.world_size == 1 or micro_step == steps - 1
        with nullcontext() if sync else run.model.no_sync():
            x, y = run.dataset.get_batch('train', run.config.batch_size, run.config.block_size,
                                         run.generator, run.device)
            with run.autocast:
                _, loss = run.model(x, y)
            loss = loss / steps  # the gradient of the mean over all micro-batches
            run.scaler.scale(loss).backward()
        loss_sum += loss.detach()
    return loss_sum


@contextmanager
def interrupts_deferred():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block ends, then raise it.
    Signal handlers can only be set from the main thread; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and previous is not signal.SIG_IGN:
        raise KeyboardInterrupt


@dataclasses.dataclass
class RunState:
    """What a checkpoint saves and a resume restores, besides the weights and the optimizer."""
    iter_num: int = 0
    tokens_seen: int = 0
    elapsed_before: float = 0.0        # seconds spent by this training before the last resume
    best_val_loss: float = math.inf
    rng: dict | None = None            # the random-number states as of the start of iteration iter_num


class Run:
    """One training run: the setup's products (model, optimizer, data, ...) and the bookkeeping the
    loop calls (update, log, evaluate, save). Only rank 0 evaluates, logs and writes files."""

    def __init__(self, config: TrainConfig, device, rank, world_size):
        self.config, self.device, self.rank, self.world_size = config, device, rank, world_size
        self.master = rank == 0
        self.say = tqdm.write if self.master else (lambda *args, **kwargs: None)
        self.out_dir = Path(config.out_dir)
        self.setup_numerics()
        self.setup_model()
        self.setup_state()
        self.setup_output()

    # --- setup, in the order it happens

    def setup_numerics(self):
        """Device type, number type, micro-batches per process."""
        config = self.config
        self.device_type = torch.device(self.device).type
        if self.device_type == 'cuda':  # TensorFloat-32 matmuls: ~8x faster than full float32, same training
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.dtype = resolve_dtype(config.dtype, self.device_type)
        self.autocast = (nullcontext() if self.dtype == torch.float32
                         else torch.autocast(self.device_type, dtype=self.dtype))
        if config.gradient_accumulation_steps % self.world_size:
            raise ValueError(f'--gradient_accumulation_steps={config.gradient_accumulation_steps} is the total '
                             f'over all {self.world_size} processes and must be a multiple of it, e.g. '
                             f'--gradient_accumulation_steps={self.world_size * config.gradient_accumulation_steps}')
        self.accumulation_steps = config.gradient_accumulation_steps // self.world_size  # per process
        self.tokens_per_iter = config.gradient_accumulation_steps * config.batch_size * config.block_size

    def setup_model(self):
        """The dataset, the model on its device, the optimizer and (float16 only) the gradient scaler."""
        config = self.config
        self.dataset = Dataset(config.data_dir)
        self.dataset.check_block_size(config.block_size)
        torch.manual_seed(config.seed + self.rank)  # the same initial weights on every run with this seed
        self.raw_model, self.model_type, self.model_args, self.checkpoint = init_model(config, self.dataset)
        if 'block_size' in self.model_args and config.block_size > self.model_args['block_size']:
            raise ValueError(f'--block_size={config.block_size} is longer than the {self.model_args["block_size"]} '
                             f'positions this GPT has; use --block_size={self.model_args["block_size"]} or less')
        check_memory(self.raw_model, config, self.device)   # before the first batch is drawn
        if config.gradient_checkpointing:
            if not hasattr(self.raw_model, 'gradient_checkpointing'):
                raise ValueError(f'--gradient_checkpointing is implemented for the gpt model only, '
                                 f'not {self.model_type}')
            self.raw_model.gradient_checkpointing = True
        self.raw_model.to(self.device)
        self.optimizer = make_optimizer(self.raw_model, config, self.device_type)
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=self.dtype == torch.float16)
        # the batch sampler's own generator: its state goes into checkpoints (rank r draws other text)
        self.generator = torch.Generator().manual_seed(config.seed + self.rank)
        # on the CPU: the faster of 1 and all threads, checked again while training (nanopushkin/threads.py)
        self.thread_choice = threads.choose_threads(self) if self.device_type == 'cpu' else None
        self.model = self.raw_model  # what the loop calls; raw_model is what is saved and evaluated
        if config.compile:
            self.say('compiling the model (takes a minute)...')
            self.model = torch.compile(self.model)
        if self.world_size > 1:
            device_ids = [torch.device(self.device).index] if self.device_type == 'cuda' else None
            self.model = DDP(self.model, device_ids=device_ids)

    def setup_state(self):
        """Counters and random-number states: fresh, or restored from the checkpoint to resume."""
        self.state = RunState()
        checkpoint, self.checkpoint = self.checkpoint, None  # free its memory once restored
        if checkpoint is not None:
            saved_config = checkpoint.get('config')  # a damaged one is caught by restore() below
            saved = saved_config.get('optimizer', 'adamw') if isinstance(saved_config, dict) else self.config.optimizer
            if saved != self.config.optimizer:
                raise ValueError(f'{self.out_dir / "ckpt.pt"} was trained with --optimizer={saved}, whose state '
                                 f'it holds: resume with --optimizer={saved}')
            try:
                self.restore(checkpoint)
            except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as e:
                raise ValueError(f'{self.out_dir / "ckpt.pt"} cannot be resumed from: its training state is '
                                 f'damaged ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}); '
                                 'start over with --overwrite=True, or sample from its best.pt') from None
            if not self.master:
                # 7919 (a prime) times the iteration: a stream other than the one this rank used before
                # the resume, and, for fewer than 7919 ranks, other than any rank's seed + rank
                self.generator.manual_seed(self.config.seed + self.rank + 7919 * self.state.iter_num)
            self.say(f'resuming {self.model_type} from iteration {self.state.iter_num} of '
                     f'{self.out_dir / "ckpt.pt"} (the model comes from the checkpoint, the training '
                     'options from this config)')
        self.remember_rng()
        self.start_time, self.start_tokens = time.time(), self.state.tokens_seen
        self.train_seconds = 0.0  # time in training steps only, for tokens/s (evaluation excluded)
        self.window_seconds, self.window_tokens = 0.0, 0  # tokens/s over the last log_interval iterations
        self.last_eval = None

    def setup_output(self):
        """The log (restarted, or cut back to the checkpoint on resume), the opening lines, the bar."""
        config = self.config
        if self.master:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if config.init_from == 'resume' and not config.eval_only:
                restart_log(self.out_dir, self.state.iter_num)
            elif not config.eval_only:
                (self.out_dir / 'log.jsonl').write_text('')
            self.baseline = unigram_bits_per_char(config.data_dir)
            memory = estimate_memory(self.raw_model, config)
            self.say(f'{self.model_type} model: {self.raw_model.num_params():,} parameters, on {self.device} '
                     f'({str(self.dtype)[6:]}), {self.world_size} process{"es" if self.world_size > 1 else ""}')
            self.say(f'data: {config.data_dir} ({self.dataset.meta["tokenizer"]}, vocab {self.dataset.vocab_size});'
                     f' {self.tokens_per_iter:,} tokens per iteration; unigram baseline {self.baseline:.3f} bits/char')
            if config.expected_val_bits_per_char is not None:  # a known-good number: far off means broken
                planned = None if config.max_seconds > 0 else self.total_iters() * self.tokens_per_iter
                self.say(f'this config is expected to reach about {config.expected_val_bits_per_char:.3f} '
                         f'bits/char on the default data{budget_note(config, planned, "is set to train on")}')
            self.say('memory estimate: ' + ' + '.join(f'{k} {format_bytes(v)}' for k, v in memory.items()
                                                      if k != 'total') + f' = {format_bytes(memory["total"])}')
        # the bar's total is the iterations that will run, when they are known: not under a time budget;
        # its right end is the progress line of log_step (loss, tokens/s, time left)
        self.progress = tqdm(total=None if config.max_seconds > 0 else self.total_iters(), initial=self.state.iter_num,
                             disable=not (self.master and config.progress and not config.eval_only),
                             bar_format='{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]', dynamic_ncols=True)

    def restore(self, checkpoint):
        """The optimizer, counters and (rank 0) random-number states of a checkpoint to resume."""
        self.optimizer.load_state_dict(checkpoint['optimizer'])
        self.scaler.load_state_dict(checkpoint['scaler'])
        counters = [checkpoint[key] for key in ('iter_num', 'tokens_seen', 'elapsed', 'best_val_loss')]
        if type(counters[0]) is not int or type(counters[1]) is not int or \
                not all(type(c) in (int, float) for c in counters[2:]):
            raise TypeError(f'iter_num, tokens_seen, elapsed, best_val_loss must be numbers, got {counters!r}')
        self.state = RunState(*counters)
        rng = checkpoint['rng']
        if self.master:  # the other ranks start fresh streams: only rank 0's states are saved
            self.generator.set_state(rng['data'])
            torch.set_rng_state(rng['torch'])
            if self.device_type == 'cuda' and rng['cuda']:
                torch.cuda.set_rng_state_all(rng['cuda'])

    # --- what the loop calls

    def update_weights(self):
        """Clip the gradient, take the optimizer step, count the iteration."""
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)  # clip the true gradient, not the float16-scaled one
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        step_seconds = threads.clock() - self.step_started
        self.train_seconds += step_seconds
        if self.thread_choice is not None:
            count, message = self.thread_choice.step_done(step_seconds)
            if count != torch.get_num_threads():
                torch.set_num_threads(count)
            if message:
                self.say(message)
        self.state.iter_num += 1
        self.state.tokens_seen += self.tokens_per_iter
        self.window_tokens += self.tokens_per_iter
        self.progress.update(1)

    def log_step(self, loss, lr):
        if not self.master:
            return
        loss_value = loss.item()  # .item() waits for the GPU: only every log_interval
        self.check_finite(loss_value, 'training loss')
        tokens_per_sec = self.window_tokens / max(self.train_seconds - self.window_seconds, 1e-9)
        self.window_seconds, self.window_tokens = self.train_seconds, 0
        self.log({'event': 'train', 'iter': self.state.iter_num, 'tokens': self.state.tokens_seen,
                  'elapsed': round(self.elapsed(), 3), 'loss': loss_value, 'lr': lr,
                  'tokens_per_sec': round(tokens_per_sec, 1)})
        left = self.seconds_left(tokens_per_sec)
        speed = f'{tokens_per_sec:,.0f} tokens/s' + (f', {format_duration(left)} left' if left is not None else '')
        self.progress.set_postfix_str(f'loss {loss_value:.4f}, {speed}')
        if not self.config.progress:
            self.say(f'iter {self.state.iter_num}: loss {loss_value:.4f}, lr {lr:.2e}, {speed}')

    def evaluate(self, final=False):
        """Measure and log; write best.pt when val loss improved, ckpt.pt (the latest state) always
        when always_save_checkpoint, else only at the end. Rank 0 only: the others go on."""
        if not self.master:
            return None
        state = self.state
        losses = estimate_loss(self.raw_model, self.dataset, self.config, self.device, self.autocast)
        self.check_finite(losses['val'], 'validation loss')
        record = {'event': 'eval', 'iter': state.iter_num, 'tokens': state.tokens_seen,
                  'elapsed': round(self.elapsed(), 3), 'train_loss': losses['train'], 'val_loss': losses['val'],
                  'val_bits_per_char': bits_per_char(losses['val'], self.dataset.meta),
                  'lr': get_lr(state.iter_num, self.config, self.budget_used(sync=False))}
        self.say(f'iter {state.iter_num}: train loss {losses["train"]:.4f}, val loss {losses["val"]:.4f}, '
                 f'val {record["val_bits_per_char"]:.4f} bits/char')
        self.last_eval = record
        if self.config.eval_only:
            return record
        self.log(record)
        if losses['val'] < state.best_val_loss:
            state.best_val_loss = losses['val']
            save_checkpoint(self.make_checkpoint(with_optimizer=False), self.out_dir / 'best.pt')
        if self.config.resume_checkpoint and (self.config.always_save_checkpoint or final):
            save_checkpoint(self.make_checkpoint(), self.out_dir / 'ckpt.pt')
        return record

    def remember_rng(self):
        """The random-number states at the start of an iteration: what a checkpoint saves, so that a
        resume draws the same batches (and dropout masks) the interrupted iteration was drawing."""
        self.state.rng = {'torch': torch.get_rng_state(), 'data': self.generator.get_state(),
                          'cuda': torch.cuda.get_rng_state_all() if self.device_type == 'cuda' else []}

    def save_interrupted(self):
        """Ctrl-C: save the state as of the last completed iteration (the weights are those of that
        iteration: an update is never interrupted), unless the weights have gone bad."""
        if not self.master:
            return
        self.progress.close()
        healthy = all(torch.isfinite(p).all() for p in self.raw_model.parameters())
        if self.config.resume_checkpoint and healthy:
            save_checkpoint(self.make_checkpoint(), self.out_dir / 'ckpt.pt')
            self.say(f'\ninterrupted at iteration {self.state.iter_num}; saved {self.out_dir / "ckpt.pt"}. To '
                     f'continue, run the same command with --init_from=resume (and --out_dir={self.out_dir})')
        else:
            why = 'the weights are not finite' if not healthy else '--resume_checkpoint=False'
            self.say(f'\ninterrupted at iteration {self.state.iter_num}; nothing saved ({why}); best.pt '
                     'holds the best model so far')

    def finish(self) -> dict:
        """The summary (also the log's last line), the picture, the result beside its expectation."""
        state = self.state
        tokens_per_sec = (state.tokens_seen - self.start_tokens) / max(self.train_seconds, 1e-9)
        summary = summarize(self.last_eval, state.best_val_loss, state.iter_num, state.tokens_seen,
                            self.elapsed(), tokens_per_sec, self.raw_model, self.out_dir)
        self.log({'event': 'done', **summary})
        if self.master and self.config.plot:
            plot_log(self.out_dir, self.baseline)
        if self.master and summary['val_bits_per_char'] is not None:
            self.say(result_line(summary['val_bits_per_char'], self.baseline, self.config, state.tokens_seen))
        return summary

    def evaluate_only(self) -> dict:
        """eval_only: measure the model once, write nothing."""
        record = self.evaluate()
        return summarize(record, self.state.best_val_loss, self.state.iter_num, self.state.tokens_seen,
                         self.elapsed(), 0.0, self.raw_model, self.out_dir)

    # --- small helpers of the above

    def elapsed(self) -> float:
        return self.state.elapsed_before + time.time() - self.start_time

    def budget_used(self, sync=True) -> float:
        """The fraction spent of the max_tokens / max_seconds budget (0 without one). All processes
        must agree (on when to stop, on the learning rate), so rank 0's clock decides."""
        config = self.config
        used = max(self.state.tokens_seen / config.max_tokens if config.max_tokens > 0 else 0.0,
                   self.elapsed() / config.max_seconds if config.max_seconds > 0 else 0.0)
        if sync and self.world_size > 1 and config.max_seconds > 0:
            value = torch.tensor(used, device=self.device)
            dist.broadcast(value, src=0)
            used = value.item()
        return used

    def total_iters(self) -> int:
        """The iterations this run will have done at the end (max_iters, or fewer under max_tokens);
        a max_seconds budget may stop it sooner."""
        total = self.config.max_iters
        if self.config.max_tokens > 0:
            total = min(total, math.ceil(self.config.max_tokens / self.tokens_per_iter))
        return total

    def seconds_left(self, tokens_per_sec) -> float | None:
        """The time to the end of the run at the current speed: the iterations left at the last
        window's tokens/s, plus the share of evaluations and saving seen so far in this session (a
        max_seconds budget caps it). None before a speed is known."""
        if tokens_per_sec <= 0 or self.train_seconds <= 0:
            return None
        iters_left = max(0, self.total_iters() - self.state.iter_num)
        overhead = max(1.0, (time.time() - self.start_time) / self.train_seconds)   # wall / training time
        left = iters_left * self.tokens_per_iter / tokens_per_sec * overhead
        if self.config.max_seconds > 0:
            left = min(left, max(0.0, self.config.max_seconds - self.elapsed()))
        return left

    def finished(self) -> bool:
        """Out of iterations, tokens or time?"""
        return self.state.iter_num >= self.config.max_iters or self.budget_used() >= 1.0

    def log(self, record):
        if self.master:
            with open(self.out_dir / 'log.jsonl', 'a', encoding='utf-8') as f:
                f.write(json.dumps(record, ensure_ascii=False) + '\n')

    def check_finite(self, value, what):
        if not math.isfinite(value):
            raise TrainingDiverged(
                f'the {what} became {value} at iteration {self.state.iter_num}: training diverged (a '
                f'--learning_rate of {self.config.learning_rate:g} is probably too high); stopped without '
                f'saving, so {self.out_dir} keeps the last good checkpoints')

    def make_checkpoint(self, with_optimizer=True) -> dict:
        state = self.state
        return {'model_type': self.model_type, 'model_args': self.model_args,
                'model': self.raw_model.state_dict(),
                'optimizer': self.optimizer.state_dict() if with_optimizer else {},
                'scaler': self.scaler.state_dict(), 'iter_num': state.iter_num, 'tokens_seen': state.tokens_seen,
                'elapsed': self.elapsed(), 'best_val_loss': state.best_val_loss,
                'config': dataclasses.asdict(self.config), 'tokenizer': self.dataset.tokenizer().to_dict(),
                'meta': self.dataset.meta, 'rng': state.rng}


# -----------------------------------------------------------------------------
# checks and choices made before training: config, out_dir, device, number type, processes


def check_config(config: TrainConfig):
    """Values the type check of the config system cannot catch."""
    positive = ('batch_size', 'block_size', 'eval_interval', 'log_interval', 'eval_iters',
                'gradient_accumulation_steps')
    for key in positive:
        if getattr(config, key) < 1:
            raise ValueError(f'--{key} must be at least 1, got {getattr(config, key)}')
    if not config.learning_rate > 0:
        raise ValueError(f'--learning_rate must be positive, got {config.learning_rate}')
    for key in ('max_iters', 'warmup_iters', 'lr_decay_iters', 'max_tokens', 'max_seconds', 'grad_clip',
                'weight_decay', 'muon_weight_decay', 'min_lr', 'threads'):
        if not getattr(config, key) >= 0:
            raise ValueError(f'--{key} must not be negative, got {getattr(config, key)}')
    for key in ('beta1', 'beta2'):
        if not 0 <= getattr(config, key) < 1:
            raise ValueError(f'--{key} must be at least 0 and below 1, got {getattr(config, key)}')
    if config.min_lr > config.learning_rate:
        raise ValueError(f'--min_lr={config.min_lr:g} is above --learning_rate={config.learning_rate:g}: '
                         'the cosine decays from learning_rate down to min_lr (usually a tenth of it)')
    if not config.out_dir.strip():
        raise ValueError('--out_dir is empty; name the folder for the run\'s files, e.g. --out_dir=out')
    if config.model not in MODEL_TYPES:
        raise ValueError(f'unknown --model={config.model!r}; choose one of {", ".join(MODEL_TYPES)}')
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f'unknown --optimizer={config.optimizer!r}; choose one of {", ".join(OPTIMIZERS)}')
    if not config.muon_lr > 0:
        raise ValueError(f'--muon_lr must be positive, got {config.muon_lr}')
    if not 0 <= config.muon_momentum < 1:
        raise ValueError(f'--muon_momentum must be at least 0 and below 1, got {config.muon_momentum}')
    if config.dtype != 'auto' and config.dtype not in DTYPES:
        raise ValueError(f'unknown --dtype={config.dtype!r}; choose auto, {", ".join(DTYPES)}')


def claim_out_dir(config: TrainConfig) -> Path:
    """Create out_dir and check that we may write into it. Returns it, for the lock; nothing in it
    is touched before the lock is held (clear_out_dir)."""
    out_dir = Path(config.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f'--out_dir={out_dir} is a file, not a folder; choose another --out_dir')
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f'cannot create --out_dir={out_dir} ({e.strerror}); choose another --out_dir') from None
    if not os.access(out_dir, os.W_OK):
        raise ValueError(f'cannot write into --out_dir={out_dir} (permission denied); choose another --out_dir')
    return out_dir


def clear_out_dir(config: TrainConfig):
    """With out_dir locked: refuse to start a new run over a trained one unless overwrite says so,
    and then remove the old run's files."""
    out_dir = Path(config.out_dir)
    trained = [name for name in ('ckpt.pt', 'best.pt') if (out_dir / name).is_file()]
    if config.init_from != 'resume' and trained:
        if not config.overwrite:
            raise ValueError(f'{out_dir} already holds a trained run ({trained[0]}): continue it with '
                             '--init_from=resume, start over with --overwrite=True, or choose another --out_dir')
        for name in RUN_FILES:
            (out_dir / name).unlink(missing_ok=True)


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
        model = model_from_checkpoint(checkpoint, path)
        return model, checkpoint['model_type'], checkpoint['model_args'], checkpoint
    options = {} if config.dropout is None else {'dropout': config.dropout}
    model, model_tokenizer = from_pretrained(config.init_from, **options)
    check_same_tokenizer(model_tokenizer, dataset, f'the pretrained model {config.init_from}')
    return model, 'gpt', dataclasses.asdict(model.config), None


def make_optimizer(model, config: TrainConfig, device_type: str):
    """AdamW for every weight, or with optimizer='muon' Muon for the hidden matrices and AdamW for the
    rest (embeddings, output layer, gains, biases; nanopushkin/optim.py). AdamW's weight decay pulls
    matrices (linear layers, embeddings) towards zero, but not biases and LayerNorm gains, which are
    vectors: shrinking them only hurts (nanoGPT does the same)."""
    params = [p for p in model.parameters() if p.requires_grad]
    muon = {id(p) for p in hidden_matrices(model)} if config.optimizer == 'muon' else set()
    adamw = [p for p in params if id(p) not in muon]
    groups = [{'params': [p for p in adamw if p.dim() >= 2], 'weight_decay': config.weight_decay},
              {'params': [p for p in adamw if p.dim() < 2], 'weight_decay': 0.0}]
    betas = (config.beta1, config.beta2)
    if config.optimizer == 'adamw':
        # the fused CUDA kernel updates all parameters in one launch instead of a few per tensor
        return torch.optim.AdamW(groups, lr=config.learning_rate, betas=betas,
                                 fused=True if device_type == 'cuda' else None)
    groups.append({'params': [p for p in params if id(p) in muon], 'muon': True, 'lr': config.muon_lr,
                   'weight_decay': config.muon_weight_decay})
    return Muon(groups, lr=config.learning_rate, momentum=config.muon_momentum, betas=betas)


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
      optimizer   8P: AdamW's two float32 averages per parameter (4 bytes for a matrix Muon updates:
                  its momentum)
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
    muon = sum(p.numel() for p in hidden_matrices(model)) if config.optimizer == 'muon' else 0
    estimate = {'weights': 4 * n_params, 'gradients': 4 * (n_params + largest), 'optimizer': 8 * n_params - 4 * muon}
    if act_bytes < 4:
        estimate['autocast copies'] = 2 * sum(linear_weights.values())
    estimate['activations'] = int(per_token * tokens)
    estimate['total'] = sum(estimate.values())
    return estimate


def machine_memory(device) -> int:
    """Bytes of memory the device has: the GPU's, or the machine's RAM for the CPU (and MPS, which
    shares it)."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.mem_get_info(device)[1]
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def check_memory(model, config: TrainConfig, device):
    """Refuse a run whose estimated peak does not fit the device at all (a batch_size of 10^7), before
    the first step tries to allocate it and the machine swaps or kills us."""
    need, have = estimate_memory(model, config)['total'], machine_memory(device)
    if need > have:
        raise ValueError(f'this run needs about {format_bytes(need)} of memory (the memory estimate), but '
                         f'{device} has {format_bytes(have)}: use a smaller --batch_size or --block_size '
                         '(or --gradient_checkpointing=True)')


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '2 h 05 min': as precise as a time left can be."""
    if seconds < 90:
        return f'{seconds:.0f} s'
    minutes = round(seconds / 60)
    return f'{minutes} min' if minutes < 90 else f'{minutes // 60} h {minutes % 60:02d} min'


def format_bytes(n: float) -> str:
    for unit in ('B', 'KB', 'MB', 'GB'):
        if n < 1024 or unit == 'GB':
            return f'{n:.1f} {unit}' if unit != 'B' else f'{int(n)} B'
        n /= 1024


# -----------------------------------------------------------------------------
# evaluation, the plot, the summary


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


def result_line(reached, baseline, config: TrainConfig, tokens_seen) -> str:
    """The trainer's last line: the held-out bits/char beside the unigram baseline (a model that
    ignores the context; above it, something is wrong) and beside what the config is expected to
    reach, saying when that figure is for a longer budget than this run trained."""
    if reached >= baseline:
        line = (f'val {reached:.3f} bits/char, not below the {baseline:.3f} of the unigram baseline (a model that '
                'ignores the context): this run trained too little, or something is broken')
    else:
        line = f'val {reached:.3f} bits/char (unigram baseline {baseline:.3f})'
    expected = config.expected_val_bits_per_char
    if expected is None:
        return line
    return (line + f'; this config is expected to reach about {expected:.3f} on the default data'
            + budget_note(config, tokens_seen, 'trained on'))


def budget_note(config: TrainConfig, tokens, verb) -> str:
    """' after its full budget of N training tokens; this run <verb> M' when the config's expected
    figure was measured after another number of tokens than `tokens` (None: not known), else ''."""
    full = config.expected_after_tokens
    if not full or tokens is None or tokens == full:
        return ''
    return f' after its full budget of {format_tokens(full)} training tokens; this run {verb} {format_tokens(tokens)}'


def format_tokens(n: int) -> str:
    return f'{n / 1e6:.1f}M' if n >= 100_000 else f'{n:,}'


def summarize(last_eval, best_val_loss, iter_num, tokens_seen, elapsed, tokens_per_sec, model, out_dir):
    """The run in one dict (evaluation numbers are None on ranks other than 0, which do not evaluate)."""
    return {'best_val_loss': best_val_loss if last_eval else None,
            'val_loss': last_eval['val_loss'] if last_eval else None,
            'val_bits_per_char': last_eval['val_bits_per_char'] if last_eval else None,
            'iters': iter_num, 'tokens': tokens_seen, 'elapsed': round(elapsed, 3),
            'tokens_per_sec': round(tokens_per_sec, 1), 'num_params': model.num_params(),
            'out_dir': str(out_dir)}
