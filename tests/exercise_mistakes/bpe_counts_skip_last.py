"""get_pair_counts whose loop stops one pair early (range(len(ids) - 2))."""


def get_pair_counts(ids):
    counts = {}
    for i in range(len(ids) - 2):
        pair = (ids[i], ids[i + 1])
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, new_id):
    raise NotImplementedError
