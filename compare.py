"""Compare every architecture (and tokenizer) under the same training budget.

    python compare.py                                   # linear, rnn, gru, lstm, gpt: 5 min each on chars
    python compare.py --tokenizers=char,bpe1410,bpe4096 # the same in bits per character on 3 tokenizers
    python compare.py --search=4 --budget_seconds=120   # random hyperparameter search per architecture
    python compare.py --quick                           # smoke test, about 2 minutes on a laptop CPU

Writes results/<name>/{results.md,results.json,curves.png,samples.md} (--quick: out-quick/<name>/,
which git ignores); see nanopushkin/compare.py.
"""
import shlex
import sys

from nanopushkin.compare import CompareConfig, compare
from nanopushkin.config import main_parse


def main(argv):
    settings = main_parse(CompareConfig, argv, config_file_allowed=False)
    try:
        compare(settings, command=shlex.join(['python', 'compare.py'] + argv))
    except ValueError as e:          # bad arguments (ConfigError), no corpus, a run folder another comparison trains in
        sys.exit(f'error: {e}')
    except OSError as e:             # a full disk, a folder we may not write to, no corpus (CorpusNotFound)
        sys.exit(f'error: {e.strerror or e}' + (f' ({e.filename})' if e.filename else ''))


if __name__ == '__main__':
    main(sys.argv[1:])
