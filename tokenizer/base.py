"""The interface every nanoPushkin tokenizer shares.

A tokenizer turns text into a list of integer ids and back. The training loop, the sampler and the
checkpoint format only ever talk to this interface, so any tokenizer works with any model.
"""
import json
from pathlib import Path

from nanopushkin.files import parse_json


class Tokenizer:
    kind = None                      # 'char' | 'word' | 'bpe': names the subclass in saved files
    eot_token = '<|endoftext|>'      # the document boundary; every tokenizer's vocabulary has it
    kinds = {}                       # kind -> subclass, filled as each subclass is defined

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'kind' in cls.__dict__:   # a class that names a new kind (a subclass of BPETokenizer does not)
            Tokenizer.kinds[cls.kind] = cls

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    @property
    def eot_id(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        """Token ids of text; the literal text of the document boundary ('<|endoftext|>') becomes eot_id."""
        ids = []
        for i, part in enumerate(text.split(self.eot_token)):
            if i:
                ids.append(self.eot_id)
            ids += self.encode_ordinary(part)
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of text that has no special tokens in it."""
        raise NotImplementedError

    def decode_bytes(self, ids) -> bytes:
        """Raw bytes of the ids. A byte-level tokenizer can end in the middle of a UTF-8 character,
        which is why a streaming printer works on bytes, not on str."""
        raise NotImplementedError

    def decode(self, ids) -> str:
        # invalid UTF-8 (possible only for byte-level BPE) becomes U+FFFD, as in HF tokenizers
        return self.decode_bytes(ids).decode('utf-8', errors='replace')

    def check_ids(self, ids):
        """Raise a clear error for ids that are not in the vocabulary."""
        bad = sorted({int(i) for i in ids if not 0 <= int(i) < self.vocab_size})
        if bad:
            raise ValueError(f'token ids out of range for this {self.kind} tokenizer '
                             f'(vocab_size {self.vocab_size}): {bad[:10]}'
                             + (' ...' if len(bad) > 10 else ''))

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> 'Tokenizer':
        raise NotImplementedError

    def save(self, path):
        """Write the tokenizer as one readable JSON file."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding='utf-8')


def load_tokenizer(path_or_dict) -> Tokenizer:
    """Load any tokenizer saved with `save` (or its `to_dict()`), whatever its kind."""
    kinds = Tokenizer.kinds        # (importing the package `tokenizer` defines every kind)
    if isinstance(path_or_dict, dict):
        d = path_or_dict
    else:
        path = Path(path_or_dict)
        if not path.is_file():
            raise FileNotFoundError(f'tokenizer file {path} does not exist; '
                                    'run data/pushkin/prepare.py to create it')
        try:
            d = parse_json(path.read_bytes(), f'tokenizer file {path}')
        except ValueError as e:     # not UTF-8, not JSON, nested 100,000 deep
            raise ValueError(f'{e}; re-create it with data/pushkin/prepare.py') from None
    if not isinstance(d, dict) or d.get('kind') not in kinds:
        raise ValueError(f'tokenizer data has kind {d.get("kind") if isinstance(d, dict) else None!r}; '
                         f'expected one of {sorted(kinds)}')
    return kinds[d['kind']].from_dict(d)
