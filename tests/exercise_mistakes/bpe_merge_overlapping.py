"""merge that lets two merges share an id: after a match it steps one position, not two, so
merge([7, 7, 7], (7, 7), 256) gives [256, 256] instead of [256, 7]."""
from collections import Counter


def get_pair_counts(ids):
    return Counter(zip(ids, ids[1:]))


def merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            if i + 2 < len(ids) and (ids[i + 1], ids[i + 2]) == pair:
                i += 1                  # the mistake: ids[i + 1] is used again by the next match
            else:
                i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
