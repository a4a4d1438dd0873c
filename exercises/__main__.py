"""python -m exercises: list the exercises, or check your solutions against the project.

    python -m exercises list
    python -m exercises check gru_cell                 your exercises/gru_cell.py
    python -m exercises check gru_cell --file my.py    another file
    python -m exercises check --all                    every exercise, in the order of the journey
    python -m exercises check --all --solutions        the reference solutions (what CI runs)

The exit status is 0 only when every case of every exercise checked passes.
"""
import argparse
import sys
from pathlib import Path

from exercises.cases import EXERCISES
from exercises.checker import check_exercise

HERE = Path(__file__).resolve().parent
BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m exercises', description='Self-checking exercises.')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='the exercises, in the order of the journey')
    check = commands.add_parser('check', help='check your solution of one exercise, or of all')
    check.add_argument('name', nargs='?', help=f'one of: {", ".join(BY_NAME)}')
    check.add_argument('--all', action='store_true', help='check every exercise')
    check.add_argument('--file', help='check this file instead of exercises/<name>.py')
    check.add_argument('--solutions', action='store_true', help='check the reference solutions in exercises/solutions/')
    args = parser.parse_args(argv)
    if args.command == 'check':
        if args.all == bool(args.name):
            parser.error('give one exercise name or --all')
        if args.name and args.name not in BY_NAME:
            parser.error(f'no exercise {args.name!r}; the exercises are: {", ".join(BY_NAME)}')
        if args.file and (args.all or args.solutions):
            parser.error('--file checks one exercise: give its name, without --all or --solutions')
    return args


def main(argv=None, out=sys.stdout) -> int:
    args = parse_args(argv)
    if args.command == 'list':
        for i, exercise in enumerate(EXERCISES, 1):
            print(f'{i}. {exercise.name:18} {exercise.title}  (exercises/{exercise.name}.py)', file=out)
        return 0
    folder = HERE / 'solutions' if args.solutions else HERE
    chosen = EXERCISES if args.all else [BY_NAME[args.name]]
    passed = []
    for exercise in chosen:
        path = Path(args.file) if args.file else folder / f'{exercise.name}.py'
        passed.append(check_exercise(exercise, path, out))
    if len(chosen) > 1:
        left = [e.name for e, ok in zip(chosen, passed) if not ok]
        print(f'{sum(passed)} of {len(chosen)} exercises pass' + (f'; not yet: {", ".join(left)}' if left else ''),
              file=out)
    return 0 if all(passed) else 1


if __name__ == '__main__':
    sys.exit(main())
