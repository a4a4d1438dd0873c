"""Character-level tokenizer: one id per character of the training text, plus the document boundary.

The simplest tokenizer there is, and the one every model here starts with: no training beyond
collecting the alphabet, nothing unknown inside the corpus, and bits per character are directly
the loss. Its weakness: a character knows nothing, so the model has to learn words itself.
"""
from tokenizer.base import Tokenizer


class CharTokenizer(Tokenizer):
    kind = 'char'

    def __init__(self, chars):
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError('CharTokenizer needs a list of distinct single characters')
        self.chars = chars                            # id i <-> chars[i]; the eot token comes last
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def train(cls, text: str) -> 'CharTokenizer':
        """The vocabulary is the sorted set of characters in `text` (the eot token is not a character)."""
        return cls(sorted(set(text.replace(cls.eot_token, ''))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    @property
    def eot_id(self) -> int:
        return len(self.chars)

    def encode_ordinary(self, text: str) -> list[int]:
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            shown = ', '.join(repr(c) for c in unknown[:20]) + (' ...' if len(unknown) > 20 else '')
            raise ValueError(f'characters not in the vocabulary: {shown}; a char tokenizer only knows '
                             f'the {len(self.chars)} characters of its training text')
        return [self.stoi[c] for c in text]

    def decode_bytes(self, ids) -> bytes:
        ids = [int(i) for i in ids]
        self.check_ids(ids)
        return ''.join(self.eot_token if i == self.eot_id else self.chars[i] for i in ids).encode('utf-8')

    def to_dict(self) -> dict:
        return {'kind': self.kind, 'chars': self.chars, 'eot_token': self.eot_token}

    @classmethod
    def from_dict(cls, d: dict) -> 'CharTokenizer':
        if d.get('kind') != cls.kind or not isinstance(d.get('chars'), list):
            raise ValueError(f"not a saved char tokenizer (kind {d.get('kind')!r}, needs a 'chars' list)")
        return cls(d['chars'])
