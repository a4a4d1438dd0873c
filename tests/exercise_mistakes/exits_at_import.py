"""A file that calls sys.exit(0) when it is imported (a leftover of running it as a script)."""
import sys


def bits_per_char(loss, meta, split='val'):
    return 0.0


sys.exit(0)
