"""The style meter: how much does a text read like Pushkin?

    python style.py train                          # train on Pushkin and the contrast authors,
                                                   # print held-out figures, save data/style/meter.pt,
                                                   # write metrics.json, histogram.png to out-style/
    python style.py train --commit_results=True    # ... into results/style/ (the committed figures)
    python style.py score FILE                     # P(Pushkin) per 500-character passage
    python style.py score --text "Мой дядя самых честных правил..."

Options are --key=value (see `python style.py train --help`); the logic is in nanopushkin/style.py.
"""
import sys
from pathlib import Path

from nanopushkin.config import ConfigError, main_parse, split_positionals
from nanopushkin.corpus import decode_bytes
from nanopushkin.style import StyleConfig, format_scores, load_meter, score_text, train_meter

USAGE = 'usage: python style.py train [--key=value ...] | python style.py score (FILE | --text "...") [--meter PATH]'


def split_file_argument(args):
    """(FILE, the other arguments): FILE is the one argument that is neither an option nor the value
    of an option given as `--key value` (read as the config parser reads it)."""
    files, options = split_positionals(StyleConfig, args)
    if len(files) > 1:
        raise ConfigError(f'give one FILE to score, got {len(files)}: {", ".join(files)}')
    return (files[0] if files else None), options


def read_input(file, cfg) -> str:
    if file is not None and cfg.text:
        raise ValueError('give either a FILE or --text, not both')
    if file is None:
        if not cfg.text:
            raise ValueError('nothing to score: give a FILE or --text "..."')
        return cfg.text
    path = Path(file)
    if not path.is_file():
        raise FileNotFoundError(f'{path} is not a file')
    return decode_bytes(path.read_bytes())[0]        # UTF-8, or cp1251 as some corpus files are


def main(argv) -> int:
    if not argv or argv[0] not in ('train', 'score'):
        print(USAGE, file=sys.stderr if argv[:1] not in (['-h'], ['--help']) else sys.stdout)
        return 0 if argv[:1] in (['-h'], ['--help']) else 2
    command, rest = argv[0], argv[1:]
    try:
        file, rest = split_file_argument(rest) if command == 'score' else (None, rest)
    except ConfigError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    cfg = main_parse(StyleConfig, rest, config_file_allowed=False)
    try:
        if command == 'train':
            train_meter(cfg)
        else:
            text = read_input(file, cfg)
            meter = load_meter(cfg.meter)
            passages, probs = score_text(meter, text)
            print(format_scores(passages, probs, meter.vocabulary))
    except (ValueError, OSError) as e:                  # OSError: unreadable or unwritable files
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
