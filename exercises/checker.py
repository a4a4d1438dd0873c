"""How an exercise is checked: load the student's file, run its cases, report each one.

A case is a title and a function that takes the student's module, calls the student's functions
on some input, and compares the result with the project's own implementation (or a direct
computation). A difference raises Mismatch with a short explanation of the first difference; the
helpers below write those explanations, so every exercise reports in the same words.
"""
import importlib.util
import math
import sys
import traceback
from pathlib import Path

import torch


class Mismatch(Exception):
    """The student's answer differs from the expected one; the message says where and how."""


class NotDone(Exception):
    """The student's function (the message names it) still raises NotImplementedError."""


class BadFile(Exception):
    """The file cannot be loaded or lacks a function the exercise asks for."""


def load_module(path, functions):
    """Import the file at `path` as a fresh module; it must define every name in `functions`."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(f'{path} does not exist')
    spec = importlib.util.spec_from_file_location(f'exercise_{path.stem}_{id(path)}', path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise BadFile(f'{path} line {e.lineno}: syntax error: {e.msg}') from None
    except Exception as e:
        raise BadFile(f'{path} cannot be imported: {type(e).__name__}: {e}{where_in(path, e)}') from None
    missing = [name for name in functions if not callable(getattr(module, name, None))]
    if missing:
        raise BadFile(f'{path} has no function {", ".join(missing)}; keep the name of the stub')
    return module


def frames_in(path, error):
    """The frames of the error's traceback that run in the student's file."""
    return [frame for frame in traceback.extract_tb(error.__traceback__)
            if Path(frame.filename).resolve() == Path(path).resolve()]


def where_in(path, error):
    """' (line N of the file)' for the deepest line of the student's file in the error's traceback."""
    frames = frames_in(path, error)
    return f' (line {frames[-1].lineno} of {Path(path).name})' if frames else ''


def run_case(module, path, check):
    """Run one case: None when it passes, else the explanation. NotDone propagates."""
    try:
        check(module)
    except Mismatch as e:
        return str(e)
    except NotImplementedError as e:
        frames = frames_in(path, e)
        if frames:
            raise NotDone(frames[-1].name) from None
        return f'NotImplementedError: {e}'
    except Exception as e:       # say what and where, no traceback
        if frames_in(path, e):
            return f'your code raised {type(e).__name__}: {e}{where_in(path, e)}'
        return f'the checker itself failed, not your code ({type(e).__name__}: {e}); please report it'
    return None


def shown(path) -> str:
    """The path as the student would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_exercise(exercise, path, out=sys.stdout) -> bool:
    """Check one exercise against the file at `path`, printing one line per case; True if all pass.
    A case that reaches a function still raising NotImplementedError is 'not done yet', said once
    per function; the other cases still run (an exercise may have two functions)."""
    print(f'{exercise.name}: {exercise.title} ({shown(path)})', file=out)
    try:
        module = load_module(path, exercise.functions)
    except BadFile as e:
        print(f'  error: {e}', file=out)
        return False
    passed, not_done = 0, []
    with torch.random.fork_rng(devices=[]):      # building the cases draws from torch's global RNG
        cases = exercise.cases()
    for title, check in cases:
        try:
            with torch.random.fork_rng(devices=[]):      # a case may seed torch; the caller's RNG stays as it was
                problem = run_case(module, path, check)
        except NotDone as e:
            if str(e) not in not_done:
                not_done.append(str(e))
                print(f'  not done yet: {e}() in {shown(path)} still raises NotImplementedError', file=out)
            continue
        passed += problem is None
        print(f'  {"pass" if problem is None else "FAIL"}  {title}' + (f': {problem}' if problem else ''), file=out)
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
