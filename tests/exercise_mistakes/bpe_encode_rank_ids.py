"""encode_word that names merge number r by r, forgetting that ids 0..255 are the bytes."""


def encode_word(word_bytes, merges):
    ids = list(word_bytes)
    while True:
        ranked = [(merges.index(p), i) for i, p in enumerate(zip(ids, ids[1:])) if p in merges]
        if not ranked:
            return ids
        r = min(ranked)[0]
        pair, out, i = merges[r], [], 0
        while i < len(ids):
            if tuple(ids[i:i + 2]) == pair:
                out.append(r)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
