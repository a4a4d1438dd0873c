"""Exercise 3 (journey chapter 3, BPE): encode a word with a learned merge list.

Training produced `merges`, a list of pairs in the order they were learned: merges[0] is the pair
that became token 256, merges[1] token 257, and so on (the 256 single bytes are ids 0..255). To
encode a new word, start from its UTF-8 bytes and replay the merges the way training would have:
among the adjacent pairs that have a merge, always apply the one learned earliest (lowest rank),
and repeat until no adjacent pair has a merge. (The order matters: a pair learned late must not be
merged while an earlier-learned pair could still form.) If the pair occurs more than once in the
word, merge every occurrence, left to right, as in exercise 2.

The task: encode_word(word_bytes, merges) -> token ids of that one word.
The checker cuts texts into words with GPT-2's pre-split regex and joins your ids word after word.

Check: python -m exercises check bpe_encode
(against the project's tokenizer, tokenizer/bpe.py BPETokenizer, trained on a Pushkin poem: the ids
of random texts must be identical)
"""


def encode_word(word_bytes: bytes, merges: list[tuple[int, int]]) -> list[int]:
    raise NotImplementedError('write encode_word')
