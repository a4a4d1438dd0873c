"""bits_per_char that stops at nats per character (no division by ln 2)."""


def bits_per_char(loss, meta, split='val'):
    return loss * meta[split]['tokens'] / meta[split]['chars']
