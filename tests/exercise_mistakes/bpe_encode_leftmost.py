"""encode_word that merges the leftmost pair that has a merge, whatever its rank."""


def encode_word(word_bytes, merges):
    rank = {pair: r for r, pair in enumerate(merges)}
    ids = list(word_bytes)
    while True:
        for i, pair in enumerate(zip(ids, ids[1:])):
            if pair in rank:
                ids[i:i + 2] = [256 + rank[pair]]
                break
        else:
            return ids
