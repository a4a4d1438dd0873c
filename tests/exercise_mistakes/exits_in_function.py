"""bits_per_char that calls sys.exit(0) instead of returning."""
import sys


def bits_per_char(loss, meta, split='val'):
    print('done')
    sys.exit(0)
