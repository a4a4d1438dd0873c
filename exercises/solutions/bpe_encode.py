"""Reference solution of exercise 3 (bpe_encode): replay the merges, lowest rank first."""


def encode_word(word_bytes: bytes, merges: list[tuple[int, int]]) -> list[int]:
    rank = {pair: r for r, pair in enumerate(merges)}      # pair -> rank; the new token is 256 + rank
    ids = list(word_bytes)
    while len(ids) > 1:
        pairs = set(zip(ids, ids[1:]))
        best = min(pairs, key=lambda p: rank.get(p, len(merges)))
        if best not in rank:
            break                                          # no pair of the word has a merge
        new_id, out, i = 256 + rank[best], [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                out.append(new_id)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return ids
