"""How an exercise is checked: load the student's file, run its cases, report each one.

A case is a title and a function that takes the student's module, calls the student's functions
on some input, and compares the result with the project's own implementation (or a direct
computation). A difference raises Mismatch with a short explanation of the first difference; the
helpers below write those explanations, so every exercise reports in the same words. A failed case
is run once more beside each of the exercise's known mistakes (exercises/mistakes.py): when the
answers are the mistake's, the report names it.

The student's code runs under two guards: each case (and the import) has a time limit, so an
endless loop is reported as a timed-out case, and a call of sys.exit or os._exit is caught: the
checker then says it did not check, and never reports a pass.
"""
import copy
import importlib.util
import math
import os
import signal
import sys
import threading
import traceback
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import torch

from exercises.mistakes import MISTAKES


class Mismatch(Exception):
    """The student's answer differs from the expected one; the message says where and how."""


class NotDone(Exception):
    """The student's function (the message names it) still raises NotImplementedError."""


class BadFile(Exception):
    """The file cannot be loaded or lacks a function the exercise asks for."""


class TimedOut(BaseException):
    """The student's code ran past the time limit (a BaseException: `except Exception` in the
    student's code does not swallow it)."""


class Exited(BaseException):
    """The student's code called sys.exit or os._exit (args: the call, its status): whatever it was
    checking was not checked."""


class DidNotCheck(Exception):
    """The check could not run to its end; the message says why. Never a pass."""


@contextmanager
def guarded(seconds):
    """Run the student's code: a TimedOut after `seconds` (on the main thread, where signals can be
    set; elsewhere without a limit), and sys.exit / os._exit turned into Exited."""
    def exit_instead(status=None):
        raise Exited('os._exit', status)
    real_os_exit = os._exit
    os._exit = exit_instead
    use_alarm = seconds and hasattr(signal, 'setitimer') and threading.current_thread() is threading.main_thread()
    if use_alarm:
        def alarm(signum, frame):
            raise TimedOut
        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except SystemExit as e:               # sys.exit(), exit(), quit()
        raise Exited('sys.exit', e.code) from e
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        os._exit = real_os_exit


def load_module(path, functions, seconds=None):
    """Import the file at `path` as a fresh module; it must define every name in `functions`."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(f'{path} does not exist')
    spec = importlib.util.spec_from_file_location(f'exercise_{path.stem}_{id(path)}', path)
    module = importlib.util.module_from_spec(spec)
    try:
        with guarded(seconds):
            spec.loader.exec_module(module)
    except SyntaxError as e:
        raise BadFile(f'{path} line {e.lineno}: syntax error: {e.msg}') from None
    except Exited as e:
        raise DidNotCheck(f'{path} calls {exit_call(e)} when it is imported{where_in(path, e)}: the checker did '
                          'not check anything; keep the file to its functions') from None
    except TimedOut as e:
        raise BadFile(f'importing {path} ran past {seconds:g} s{where_in(path, e)}: does it run an endless '
                      'loop at the top level?') from None
    except Exception as e:
        raise BadFile(f'{path} cannot be imported: {type(e).__name__}: {e}{where_in(path, e)}') from None
    missing = [name for name in functions if not callable(getattr(module, name, None))]
    if missing:
        raise BadFile(f'{path} has no function {", ".join(missing)}; keep the name of the stub')
    return module


def frames_in(path, error):
    """The frames of the error's traceback (or of the error it was raised from) that run in the
    student's file."""
    tb = error.__traceback__ if error.__cause__ is None else error.__cause__.__traceback__
    return [frame for frame in traceback.extract_tb(tb) if Path(frame.filename).resolve() == Path(path).resolve()]


def where_in(path, error):
    """' (line N of the file)' for the deepest line of the student's file in the error's traceback."""
    frames = frames_in(path, error)
    return f' (line {frames[-1].lineno} of {Path(path).name})' if frames else ''


def exit_call(error) -> str:
    call, status = error.args
    return f'{call}({"" if status is None else repr(status)})'


def run_case(module, path, check, title, seconds=None, mistakes=()):
    """Run one case: (None, []) when it passes, else (the explanation, the hints of the known
    mistakes whose answers equal the student's). NotDone and DidNotCheck propagate."""
    try:
        with guarded(seconds):
            check(module)
    except Mismatch as e:
        return str(e), matching_mistakes(module, check, mistakes, seconds)
    except NotImplementedError as e:
        frames = frames_in(path, e)
        if frames:
            raise NotDone(frames[-1].name) from None
        return f'NotImplementedError: {e}', []
    except TimedOut as e:
        return (f'timed out: still running after {seconds:g} s{where_in(path, e)} (an endless loop? a loop whose '
                'condition never changes?)'), []
    except Exited as e:
        raise DidNotCheck(f'your code called {exit_call(e)}{where_in(path, e)} during the case "{title}": '
                          'the checker did not check it, nor the cases after it; remove the call') from None
    except Exception as e:       # say what and where, no traceback
        if frames_in(path, e):
            return f'your code raised {type(e).__name__}: {e}{where_in(path, e)}', []
        return f'the checker itself failed, not your code ({type(e).__name__}: {e}); please report it', []
    return None, []


class Probe:
    """The student's module as a case sees it, except that each call of a function the mistake also
    defines runs both on copies of the arguments: the student's answer is returned, and whether the
    two answers are the same is recorded."""

    def __init__(self, module, wrong_functions):
        self.module, self.wrong_functions, self.compared, self.all_same = module, wrong_functions, 0, True

    def __getattr__(self, name):
        theirs = getattr(self.module, name)
        wrong = self.wrong_functions.get(name)
        if wrong is None:
            return theirs

        def both(*args):
            got = theirs(*copy.deepcopy(args))
            try:
                same = same_answer(got, wrong(*copy.deepcopy(args)))
            except Exception:             # the mistake itself fails on this input: not this mistake
                same = False
            self.compared += 1
            self.all_same &= same
            return got
        return both


def matching_mistakes(module, check, mistakes, seconds) -> list[str]:
    """The hints of the known mistakes whose answers on this case are the student's."""
    hints = []
    for mistake in mistakes:
        probe = Probe(module, mistake.functions)
        try:
            with guarded(seconds):
                check(probe)
        except Exception:                 # the case fails again: that is expected
            pass
        if probe.compared and probe.all_same:
            hints.append(mistake.hint)
    return hints


def same_answer(a, b) -> bool:
    """Equal answers, numbers within rounding: tensors, numbers, and lists, tuples and dicts of them.
    Tensors that are inf or nan in the same places blew up the same way: whether an overflow ends as
    inf or nan depends on the order of the operations, so that counts as the same answer."""
    if torch.is_tensor(a) or torch.is_tensor(b):
        if not (torch.is_tensor(a) and torch.is_tensor(b) and a.shape == b.shape):
            return False
        a, b = a.double(), b.double()
        blew_up = ~torch.isfinite(a) & ~torch.isfinite(b)
        return bool((torch.isclose(a, b, rtol=1e-7, atol=1e-9) | blew_up).all())
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict)
                and {k: v for k, v in a.items() if v} == {k: v for k, v in b.items() if v})
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(same_answer(x, y) for x, y in zip(a, b)))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or a == b
    return a == b


def shown(path) -> str:
    """The path as the student would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_exercise(exercise, path, out=sys.stdout, seconds=10.0) -> bool:
    """Check one exercise against the file at `path`, printing one line per case; True if all pass.
    A case that reaches a function still raising NotImplementedError is 'not done yet', said once
    per function; the other cases still run (an exercise may have two functions). Each case, and
    the import, may take `seconds` (None: no limit). A likely mistake is named once per exercise."""
    print(f'{exercise.name}: {exercise.title} ({shown(path)})', file=out)
    try:
        module = load_module(path, exercise.functions, seconds)
    except BadFile as e:
        print(f'  error: {e}', file=out)
        return False
    except DidNotCheck as e:
        print(f'  NOT CHECKED: {e}', file=out)
        return False
    passed, failed, not_done, explained = 0, 0, [], Counter()    # explained: {hint: failing cases it explains}
    with torch.random.fork_rng(devices=[]):      # building the cases draws from torch's global RNG
        cases = exercise.cases()
    for title, check in cases:
        try:
            with torch.random.fork_rng(devices=[]):      # a case may seed torch; the caller's RNG stays as it was
                problem, hints = run_case(module, path, check, title, seconds, MISTAKES.get(exercise.name, ()))
        except NotDone as e:
            if str(e) not in not_done:
                not_done.append(str(e))
                print(f'  not done yet: {e}() in {shown(path)} still raises NotImplementedError', file=out)
            continue
        except DidNotCheck as e:
            print(f'  NOT CHECKED: {e}', file=out)
            return False
        explained.update(hints)
        passed += problem is None
        failed += problem is not None
        print(f'  {"pass" if problem is None else "FAIL"}  {title}' + (f': {problem}' if problem else ''), file=out)
    if explained:           # the mistake(s) that explain the most failing cases
        most = max(explained.values())
        share = '' if most == failed else f' (it gives your answers in {most} of the {failed} failing cases)'
        for hint in (h for h, n in explained.items() if n == most):
            print(f'  likely mistake: {hint}{share}', file=out)
    if passed < len(cases):
        print(f'  {passed} of {len(cases)} cases pass', file=out)
    else:
        print(f'  all {len(cases)} cases pass', file=out)
    return passed == len(cases)


# -----------------------------------------------------------------------------
# comparisons: each raises Mismatch naming the first difference

def fmt(x) -> str:
    """A number the way a student reads it: short, and -inf said as 'dropped' where it means that."""
    x = float(x)
    return str(x) if math.isinf(x) or math.isnan(x) else f'{x:.6g}'


def same_number(what, expected, got, rel=1e-9, abs_=1e-12):
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise Mismatch(f'{what}: expected a number, got {type(got).__name__} {got!r}') from None
    if not math.isclose(expected, got, rel_tol=rel, abs_tol=abs_):
        raise Mismatch(f'{what}: expected {fmt(expected)}, got {fmt(got)}')


def same_list(what, expected, got):
    """Two lists (of ids, say) equal element for element."""
    got = list(got) if isinstance(got, (list, tuple)) else got
    if not isinstance(got, list):
        raise Mismatch(f'{what}: expected a list, got {type(got).__name__}')
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            raise Mismatch(f'{what}: first difference at position {i}: expected {e!r}, got {g!r} '
                           f'(expected {expected}, got {got})')
    if len(expected) != len(got):
        raise Mismatch(f'{what}: expected {len(expected)} items, got {len(got)} (expected {expected}, got {got})')


def same_tensor(what, expected, got, atol=1e-9, rtol=1e-7):
    """Two tensors equal in shape and, within tolerance, in value; -inf must match -inf exactly."""
    if not torch.is_tensor(got):
        raise Mismatch(f'{what}: expected a tensor, got {type(got).__name__}')
    if tuple(got.shape) != tuple(expected.shape):
        raise Mismatch(f'{what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}')
    expected, got = expected.detach().double(), got.detach().double()
    close = torch.isclose(got, expected, rtol=rtol, atol=atol) | ((got == expected) & torch.isinf(expected))
    if close.all():
        return
    where = tuple(int(i) for i in (~close).nonzero()[0])
    e, g = expected[where], got[where]
    explain = ''
    if torch.isinf(e) != torch.isinf(g):
        explain = ' (expected this token dropped, yours keeps it)' if torch.isinf(e) else \
                  ' (expected this token kept, yours drops it)'
    n_bad = int((~close).sum())
    raise Mismatch(f'{what} at {list(where)}: expected {fmt(e)}, got {fmt(g)}{explain}; '
                   f'{n_bad} of {close.numel()} values differ')
