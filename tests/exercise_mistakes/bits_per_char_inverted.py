"""bits_per_char with the ratio upside down: characters per token instead of tokens per character."""
import math


def bits_per_char(loss, meta, split='val'):
    return loss * meta[split]['chars'] / meta[split]['tokens'] / math.log(2)
