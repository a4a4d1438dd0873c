"""Reference solution of exercise 4 (bits_per_char)."""
import math


def bits_per_char(loss: float, meta: dict, split: str = 'val') -> float:
    nats_per_char = loss * meta[split]['tokens'] / meta[split]['chars']   # total nats / characters
    return nats_per_char / math.log(2)                                    # 1 bit = ln 2 nats
