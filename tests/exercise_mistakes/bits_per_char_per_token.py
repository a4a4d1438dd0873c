"""bits_per_char that converts nats to bits but forgets the tokens-per-character ratio."""
import math


def bits_per_char(loss, meta, split='val'):
    return loss / math.log(2)
