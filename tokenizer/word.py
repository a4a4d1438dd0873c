"""Word-level tokenizer: the most frequent words of the training text, everything else is <unk>.

Text is cut into words (runs of letters/digits), single punctuation marks and runs of whitespace,
each a token, so decoding gives the text back exactly, except that a word outside the vocabulary
comes back as '<unk>'. That exception is the whole story of word-level models on Russian: every
noun has a dozen case forms and every verb dozens more, so a vocabulary of thousands of words still
leaves a large share of a new text unknown (see `oov_rate`), and a model can never write those words.
"""
from collections import Counter

import regex as re

from tokenizer.base import Tokenizer

# a word, one punctuation mark, or a run of whitespace; together they cover every character
PIECE = re.compile(r'\w+|\s+|[^\w\s]')
WORD = re.compile(r'\w+')


def split_pieces(text: str) -> list[str]:
    return PIECE.findall(text)


class WordTokenizer(Tokenizer):
    kind = 'word'
    unk_token = '<unk>'

    def __init__(self, pieces):
        pieces = list(pieces)
        if len(set(pieces)) != len(pieces) or any(not isinstance(p, str) or not p for p in pieces):
            raise ValueError('WordTokenizer needs a list of distinct non-empty strings')
        self.pieces = pieces                       # ids 0..len-1; then <unk>, then the eot token
        self.stoi = {p: i for i, p in enumerate(pieces)}

    @classmethod
    def train(cls, text: str, vocab_size: int) -> 'WordTokenizer':
        """Keep the vocab_size - 2 most frequent pieces of `text` (ties broken alphabetically, so the
        result does not depend on the order of the text); <unk> and the eot token complete it."""
        if vocab_size < 3:
            raise ValueError(f'vocab_size must be at least 3 (<unk>, the eot token and one word), '
                             f'got {vocab_size}')
        counts = Counter(p for part in text.split(cls.eot_token) for p in split_pieces(part))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(p for p, _ in ranked[:vocab_size - 2])

    @property
    def vocab_size(self) -> int:
        return len(self.pieces) + 2

    @property
    def unk_id(self) -> int:
        return len(self.pieces)

    @property
    def eot_id(self) -> int:
        return len(self.pieces) + 1

    def encode_ordinary(self, text: str) -> list[int]:
        return [self.stoi.get(p, self.unk_id) for p in split_pieces(text)]

    def decode_bytes(self, ids) -> bytes:
        ids = [int(i) for i in ids]
        self.check_ids(ids)
        specials = {self.unk_id: self.unk_token, self.eot_id: self.eot_token}
        return ''.join(specials.get(i) or self.pieces[i] for i in ids).encode('utf-8')

    def oov_rate(self, text: str) -> float:
        """The share of the words in `text` (punctuation and spaces not counted) that are <unk>."""
        words = WORD.findall(text.replace(self.eot_token, ' '))
        if not words:
            return 0.0
        return sum(w not in self.stoi for w in words) / len(words)

    def to_dict(self) -> dict:
        return {'kind': self.kind, 'pieces': self.pieces,
                'unk_token': self.unk_token, 'eot_token': self.eot_token}

    @classmethod
    def from_dict(cls, d: dict) -> 'WordTokenizer':
        if d.get('kind') != cls.kind or not isinstance(d.get('pieces'), list):
            raise ValueError(f"not a saved word tokenizer (kind {d.get('kind')!r}, needs a 'pieces' list)")
        return cls(d['pieces'])
