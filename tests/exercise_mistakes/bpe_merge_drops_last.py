"""merge that walks the pairs with `while i < len(ids) - 1`: a last id outside a merged pair is lost."""


def get_pair_counts(ids):
    raise NotImplementedError


def merge(ids, pair, new_id):
    result = []
    i = 0
    while i < len(ids) - 1:
        if ids[i] == pair[0] and ids[i + 1] == pair[1]:
            result.append(new_id)
            i += 2
        else:
            result.append(ids[i])
            i += 1
    return result
