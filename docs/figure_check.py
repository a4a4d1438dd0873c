"""Does a rerun give the committed figures? The tolerances, and the comparison docs/journey.py runs.

Counting is exact arithmetic, so a counted figure must come out the same. A trained figure is
deterministic on one machine with one thread, but another CPU, another torch build or another
thread count moves the last digits, and a perplexity is exp() of a loss, so it moves as much on a
log scale as the loss does. Each rule says how much a figure may move and why; the first rule whose
pattern matches a figure's dotted name (fnmatch) decides.
"""
import math
from fnmatch import fnmatch

# (pattern, how it is compared, tolerance, why)
RULES = [
    ('trap.diverged_*', 'relative', 0.5,
     'a diverged run is chaos: the lesson is only that it lands far above the uniform loss'),
    ('*perplexity*', 'log', 0.03, 'exp() of a trained loss: compared as the loss is, on a log scale'),
    ('sampling.*.distinct_*', 'absolute', 0.15, 'a slightly different model writes a different text'),
    ('trap.*', 'relative', 0.03, 'a trained loss: other CPUs and thread counts move the last digits'),
    ('*', 'relative', 1e-9, 'counted or read from a file: must come out the same'),
]


def rule_for(name):
    return next(rule for rule in RULES if fnmatch(name, rule[0]))


def flatten(figures, prefix=''):
    """{'trap.val_loss': 4.99, ...}: every leaf of the nested figures under its dotted name."""
    if isinstance(figures, dict):
        items = {}
        for key, value in figures.items():
            items.update(flatten(value, f'{prefix}{key}.'))
        return items
    return {prefix.rstrip('.'): figures}


def agrees(name, committed, rerun) -> bool:
    if not isinstance(committed, (int, float)) or isinstance(committed, bool):
        return committed == rerun        # strings, lists, flags: exactly
    if not isinstance(rerun, (int, float)):
        return False
    _, how, tolerance, _ = rule_for(name)
    if how == 'absolute':
        return abs(rerun - committed) <= tolerance
    if how == 'log':
        if committed <= 0 or rerun <= 0:
            return committed == rerun
        committed, rerun = math.log(committed), math.log(rerun)
    return abs(rerun - committed) <= tolerance * max(abs(committed), 1e-12)


def compare(committed: dict, rerun: dict, steps) -> list[str]:
    """One line per figure of the given steps that moved, is missing or is new; [] when all agree."""
    old = flatten({step: committed[step] for step in steps if step in committed})
    new = flatten({step: rerun[step] for step in steps if step in rerun})
    lines = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f'{name}: committed {old[name]!r}, missing from the rerun')
        elif name not in old:
            lines.append(f'{name}: new in the rerun ({new[name]!r}), not committed')
        elif not agrees(name, old[name], new[name]):
            pattern, how, tolerance, why = rule_for(name)
            lines.append(f'{name}: committed {old[name]!r}, rerun {new[name]!r} '
                         f'(allowed: {tolerance:g} {how}; {why})')
    return lines


def report(committed: dict, rerun: dict, steps) -> bool:
    """Print the comparison; True when every figure of the steps agrees within its tolerance."""
    if not committed:
        print('check: no committed figures to compare with (python docs/journey.py --commit_results makes them)')
        return True
    moved = compare(committed, rerun, steps)
    checked = len(flatten({step: rerun.get(step) for step in steps}))
    if not moved:
        print(f'check: all {checked} figures of {", ".join(steps)} agree with the committed ones')
        return True
    print(f'check: {len(moved)} of {checked} figures differ from the committed ones:')
    for line in moved:
        print('  ' + line)
    if any(line.startswith('models.') for line in moved):
        print('  a config in config/ changed: rerun the commands whose results quote it (docs/README.md '
              'lists them), then python docs/journey.py --commit_results')
    return False
