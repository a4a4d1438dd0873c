"""encode_word that applies the best merge once and stops."""


def encode_word(word_bytes, merges):
    ids = list(word_bytes)
    present = [p for p in zip(ids, ids[1:]) if p in merges]
    if not present:
        return ids
    best = min(present, key=merges.index)
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
            out.append(256 + merges.index(best))
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
