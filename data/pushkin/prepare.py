"""Prepare the Pushkin corpus for training: clean it, split it by work, tokenize it.

    python data/pushkin/prepare.py                                  # -> data/pushkin/char/
    python data/pushkin/prepare.py --tokenizer=bpe --vocab_size=4096  # -> data/pushkin/bpe4096/
    python data/pushkin/prepare.py --tokenizer=word --plots           # -> data/pushkin/word8000/ + PNGs
    python data/pushkin/prepare.py --src=path/to/RusLit-Pushkin --strict
    python data/pushkin/prepare.py --format=hashsep --src=stories.txt # seed project's format

Options: --tokenizer, --vocab_size, --src, --out_root, --format, --plots, --plots_dir, --strict
(see PrepareConfig in nanopushkin/prepare.py, or --help).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere without installing

from nanopushkin.prepare import main

if __name__ == '__main__':
    main()
