"""python -m exercises: list the exercises, start one in your own copy, check it against the project.

    python -m exercises list
    python -m exercises start gru_cell                 copy the stub to exercises/mine/gru_cell.py
    python -m exercises check gru_cell                 check your exercises/mine/gru_cell.py
    python -m exercises check gru_cell --file my.py    another file
    python -m exercises check --all                    every exercise you started, in the order of the journey
    python -m exercises check --all --solutions        the reference solutions (what CI runs)

You solve an exercise in your copy under exercises/mine/, which git ignores: the stubs stay as they
are (the test suite checks that they are untouched) and `git pull` never meets your work.
The exit status is 0 only when every case of every exercise checked passes.
"""
import argparse
import shutil
import sys
from pathlib import Path

from exercises.cases import EXERCISES
from exercises.checker import check_exercise, shown

HERE = Path(__file__).resolve().parent
MINE = HERE / 'mine'            # the learner's copies (in .gitignore)
BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m exercises', description='Self-checking exercises.')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='the exercises, in the order of the journey')
    start = commands.add_parser('start', help='copy an exercise\'s stub into exercises/mine/, where you solve it')
    start.add_argument('name', help=f'one of: {", ".join(BY_NAME)}')
    check = commands.add_parser('check', help='check your solution of one exercise, or of all')
    check.add_argument('name', nargs='?', help=f'one of: {", ".join(BY_NAME)}')
    check.add_argument('--all', action='store_true', help='check every exercise')
    check.add_argument('--file', help='check this file instead of exercises/mine/<name>.py')
    check.add_argument('--solutions', action='store_true', help='check the reference solutions in exercises/solutions/')
    check.add_argument('--time_limit', type=float, default=10.0, metavar='SECONDS',
                       help='the most a case may run (default 10); 0: no limit')
    args = parser.parse_args(argv)
    if args.command == 'check' and args.all == bool(args.name):
        parser.error('give one exercise name or --all')
    if getattr(args, 'name', None) and args.name not in BY_NAME:
        parser.error(f'no exercise {args.name!r}; the exercises are: {", ".join(BY_NAME)}')
    if args.command == 'check' and args.file and (args.all or args.solutions):
        parser.error('--file checks one exercise: give its name, without --all or --solutions')
    return args


def start(name, out) -> int:
    """Copy the stub to exercises/mine/<name>.py, never over a copy that is there (your work)."""
    copy = MINE / f'{name}.py'
    if copy.exists():
        print(f'{shown(copy)} is there already (your work is kept); check it with '
              f'`python -m exercises check {name}`', file=out)
        return 0
    MINE.mkdir(exist_ok=True)
    shutil.copyfile(HERE / f'{name}.py', copy)
    print(f'copied the stub to {shown(copy)}: read its docstring, write the function(s) there, then run '
          f'`python -m exercises check {name}`', file=out)
    return 0


def file_to_check(exercise, args) -> Path:
    """--file, the reference solution, or the learner's copy in exercises/mine/."""
    if args.file:
        return Path(args.file)
    if args.solutions:
        return HERE / 'solutions' / f'{exercise.name}.py'
    return MINE / f'{exercise.name}.py'


def main(argv=None, out=sys.stdout) -> int:
    args = parse_args(argv)
    if args.command == 'list':
        for i, exercise in enumerate(EXERCISES, 1):
            print(f'{i}. {exercise.name:18} {exercise.title}  (exercises/{exercise.name}.py)', file=out)
        return 0
    if args.command == 'start':
        return start(args.name, out)
    chosen = EXERCISES if args.all else [BY_NAME[args.name]]
    passed = []
    for exercise in chosen:
        path = file_to_check(exercise, args)
        if not path.exists() and not args.file and not args.solutions:
            print(f'{exercise.name}: not started; `python -m exercises start {exercise.name}` copies the stub to '
                  f'{shown(path)}', file=out)
            passed.append(False)
            continue
        passed.append(check_exercise(exercise, path, out, seconds=args.time_limit or None))
    if len(chosen) > 1:
        left = [e.name for e, ok in zip(chosen, passed) if not ok]
        print(f'{sum(passed)} of {len(chosen)} exercises pass' + (f'; not yet: {", ".join(left)}' if left else ''),
              file=out)
    return 0 if all(passed) else 1


if __name__ == '__main__':
    sys.exit(main())
