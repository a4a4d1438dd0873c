"""Exercise 2 (journey chapter 3, BPE): one step of byte-pair encoding training.

BPE training starts from the UTF-8 bytes of the text (ids 0..255) and repeats one step: count every
adjacent pair of ids, take the most frequent pair, and replace it everywhere with a new id.

The task: the two halves of that step.
- get_pair_counts(ids): how often each adjacent pair (ids[i], ids[i+1]) occurs, as a dict
  {(a, b): count}. Pairs overlap: [7, 7, 7] holds the pair (7, 7) twice.
- merge(ids, pair, new_id): a new list in which every occurrence of `pair` is replaced by new_id,
  scanning left to right; once two ids are merged they are not used again, so merge([7, 7, 7],
  (7, 7), 256) is [256, 7], not [256, 256].
`ids` must not be changed in place.

Check: python -m exercises check bpe_merge
(merge against the project's textbook BPE, tokenizer/bpe_reference.py; then your two functions
drive 40 training steps on a Pushkin poem, and must learn exactly the merges of the project's
BPETokenizer.train)
"""


def get_pair_counts(ids: list[int]) -> dict[tuple[int, int], int]:
    raise NotImplementedError('write get_pair_counts')


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    raise NotImplementedError('write merge')
