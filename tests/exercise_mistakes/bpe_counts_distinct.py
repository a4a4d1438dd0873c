"""get_pair_counts that counts each distinct pair once per list (a set, not a count)."""


def get_pair_counts(ids):
    return {pair: 1 for pair in set(zip(ids, ids[1:]))}


def merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
