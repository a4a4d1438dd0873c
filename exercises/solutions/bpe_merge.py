"""Reference solution of exercise 2 (bpe_merge): pair counts and one merge."""
from collections import Counter


def get_pair_counts(ids: list[int]) -> dict[tuple[int, int], int]:
    return Counter(zip(ids, ids[1:]))


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2                      # both ids are used up
        else:
            out.append(ids[i])
            i += 1
    return out
