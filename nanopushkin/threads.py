"""How many CPU threads a training run uses: the faster of one thread and all of them, chosen at the
start and checked again while training, because the answer changes when other programs start.

On an idle 2-core laptop two threads win for most of our models; once another program holds a core,
the two threads wait for each other at every operation and a step can take ten times longer than
with one thread. So every `recheck_seconds` of training, and at once when steps become much slower
than they were, the next few training steps run with the other thread count (the real steps of the
run: nothing extra is computed) and the faster count is kept. Only the thread count changes: no
weight, batch or random state does, so the curve is the one of a run with a fixed --threads.
"""
import statistics
import time

import torch

clock = time.perf_counter   # the clock training steps are timed with (a test replaces it)


class ThreadChoice:
    """Decides, from the measured seconds of each training step, the thread count of the next one.

    steady: steps run with `threads`; `recent` holds their last few durations. Every
            recheck_seconds of steps, or when the recent steps take `collapse` times as long as the
            first steps after the count was chosen (the reference), a trial starts.
    trial:  the next trial_steps + 1 steps run with the other count (the first is dropped: a thread
            pool waking up is slow once); the count whose median step is faster is kept.
    """

    def __init__(self, candidates, threads, recheck_seconds=60.0, trial_steps=3, collapse=2.0):
        self.candidates, self.threads = sorted(candidates), threads
        self.reference = None                   # seconds per step of `threads` when last chosen
        self.recheck_seconds, self.trial_steps, self.collapse = recheck_seconds, trial_steps, collapse
        self.recent, self.trial, self.since_check = [], None, 0.0

    def step_done(self, seconds: float) -> tuple[int, str | None]:
        """Record the step just finished; returns (threads for the next step, a line to print
        when the choice changed, else None)."""
        self.since_check += seconds
        if self.trial is None:
            self.recent = (self.recent + [seconds])[-self.trial_steps:]
            if len(self.recent) < self.trial_steps:
                return self.threads, None
            if self.reference is None:
                self.reference = statistics.median(self.recent)
            slowed = statistics.median(self.recent) > self.collapse * self.reference
            if slowed or self.since_check >= self.recheck_seconds:
                self.trial = []
                return self.other(), None
            return self.threads, None
        self.trial.append(seconds)
        if len(self.trial) <= self.trial_steps:
            return self.other(), None
        return self.decide()

    def other(self) -> int:
        return next(n for n in self.candidates if n != self.threads)

    def decide(self) -> tuple[int, str | None]:
        """The end of a trial: keep the faster count (the other one must be 10% faster to win, so
        that noise does not switch back and forth)."""
        current, trial = statistics.median(self.recent), statistics.median(self.trial[1:])
        message = None
        if trial < 0.9 * current:
            message = (f'threads: {self.threads} -> {self.other()} (training steps took {1000 * current:.1f} ms '
                       f'with {self.threads}, {1000 * trial:.1f} ms with {self.other()}: the machine\'s load '
                       'changed; --threads=N to fix the count)')
            self.threads, self.reference = self.other(), trial
        else:
            self.reference = current
        self.recent, self.trial, self.since_check = [], None, 0.0
        return self.threads, message


def choose_threads(run) -> ThreadChoice | None:
    """CPU threads for the run: --threads when given (returns None: nothing to watch), else the
    faster of one thread and all of them, timed on a few forward/backward passes (more threads lose
    when another process holds a core, and tiny models lose to the threads' overhead), and the
    ThreadChoice that checks it again during training. The timing changes no weight or random state."""
    if run.config.threads > 0:
        torch.set_num_threads(run.config.threads)
        return None
    candidates = sorted({1, torch.get_num_threads()})
    if len(candidates) == 1:
        return None
    times = {threads: seconds_per_step(run, threads) for threads in candidates}
    best = min(times, key=times.get)
    torch.set_num_threads(best)
    run.say(f'threads: {best} (timed ' + ', '.join(f'{n}: {1000 * t:.1f} ms/step' for n, t in times.items())
            + '; checked again while training; --threads=N to choose)')
    return ThreadChoice(candidates, best)


def seconds_per_step(run, threads, repeats=3) -> float:
    """The fastest of a few forward/backward passes with `threads` threads (the first warms up)."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)  # not the run's batch sampler
    times = []
    with torch.random.fork_rng(devices=[]):  # dropout's draws are given back
        for _ in range(repeats + 1):
            start = clock()
            x, y = run.dataset.get_batch('train', run.config.batch_size, run.config.block_size, generator)
            with run.autocast:
                _, loss = run.raw_model(x, y)
            loss.backward()
            times.append(clock() - start)
    run.optimizer.zero_grad(set_to_none=True)
    return min(times[1:])
