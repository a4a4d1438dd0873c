"""The GPT-2 / Hugging Face tokenizer files, read and written for tokenizer/bpe.py's BPETokenizer.

A GPT-2 tokenizer folder holds

    vocab.json                {token: id}, each token written in GPT-2's byte-to-unicode alphabet
    merges.txt                '#version: 0.2', then one merge 'left right' per line, in rank order
    special_tokens_map.json   optional: which token is bos/eos/unk/..., additional special tokens
    tokenizer_config.json     optional: the same roles, and added tokens with their ids
    added_tokens.json         optional (older files): tokens added on top of vocab.json

This module only turns those files into plain data (token bytes by id, merges as id pairs, special
tokens) and back; the BPE itself is in tokenizer/bpe.py. A first reading can skip everything below
`bytes_to_unicode`: it is careful bookkeeping of HF's file conventions, with an error for each way a
file can be wrong (these files come from the internet).
"""
import json
from pathlib import Path

from nanopushkin.files import parse_json
from tokenizer.base import Tokenizer

# the keys of special_tokens_map.json / tokenizer_config.json that name a special token
SPECIAL_TOKEN_ROLES = ('bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token')


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters.

    vocab.json and merges.txt are text files, and a token such as b' \\xd0' (a space and half of a
    Cyrillic letter) cannot be written as text directly. GPT-2 therefore writes each byte as one
    visible character: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls,
    space, ...) are shifted to code points 256 and up, in byte order. So ' ' becomes 'Ġ', '\\n' 'Ċ'.
    """
    printable = (list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1))
                 + list(range(ord('®'), ord('ÿ') + 1)))
    mapping, shifted = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


BYTE_TO_UNICODE = bytes_to_unicode()
UNICODE_TO_BYTE = {ch: b for b, ch in BYTE_TO_UNICODE.items()}


def write_folder(folder, vocab, merges, special_tokens, eot_token):
    """Write vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json, the files
    HF `GPT2Tokenizer.from_pretrained(folder)` reads. The end-of-text token is also bos/eos/unk,
    as in GPT-2; other specials are 'additional_special_tokens'."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special_of = {i: s for s, i in special_tokens.items()}
    names = [special_of.get(i) or ''.join(BYTE_TO_UNICODE[b] for b in token) for i, token in enumerate(vocab)]
    _write_json(folder / 'vocab.json', {name: i for i, name in enumerate(names)})
    merge_lines = [f'{names[a]} {names[b]}\n' for a, b in merges]
    (folder / 'merges.txt').write_text('#version: 0.2\n' + ''.join(merge_lines), encoding='utf-8')
    roles = {}
    if eot_token in special_tokens:
        roles = {'bos_token': eot_token, 'eos_token': eot_token, 'unk_token': eot_token}
    roles['additional_special_tokens'] = [s for s in special_tokens if s != eot_token]
    config = {'tokenizer_class': 'GPT2Tokenizer', 'add_prefix_space': False, 'errors': 'replace',
              **roles,
              'added_tokens_decoder': {str(i): {'content': s, 'special': True, 'lstrip': False,
                                                'rstrip': False, 'normalized': False, 'single_word': False}
                                       for s, i in special_tokens.items()}}
    _write_json(folder / 'special_tokens_map.json', roles)
    _write_json(folder / 'tokenizer_config.json', config)


def read_folder(folder) -> tuple[list[bytes], list[tuple[int, int]], dict, str]:
    """(token bytes by id, merges, {special text: id}, the eos text) of a GPT-2 tokenizer folder:
    vocab.json + merges.txt, and the special tokens named in added_tokens.json /
    special_tokens_map.json / tokenizer_config.json when those exist. As in HF `GPT2Tokenizer`:
    '<|endoftext|>' is the bos/eos/unk token unless these files say otherwise, and a named special
    token that the vocabulary lacks is appended to it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'tokenizer folder {folder} does not exist; '
                                'it should hold vocab.json and merges.txt')
    for name in ('vocab.json', 'merges.txt'):
        if not (folder / name).is_file():
            raise FileNotFoundError(f'{folder / name} is missing: a GPT-2 tokenizer folder needs '
                                    'vocab.json and merges.txt')
    token_to_id = _read_json(folder / 'vocab.json', required=True)
    if not (isinstance(token_to_id, dict) and all(isinstance(i, int) for i in token_to_id.values())):
        raise ValueError(f'{folder / "vocab.json"} must be a JSON object mapping token strings to integer ids')
    special_tokens, eot = _read_special_tokens(folder, token_to_id)
    vocab = _vocab_from_token_ids(folder / 'vocab.json', token_to_id, special_tokens)
    merges = _read_merges(folder / 'merges.txt', token_to_id)
    return vocab, merges, special_tokens, eot

def _read_special_tokens(folder: Path, token_to_id: dict) -> tuple[dict, str]:
    """({special text: id}, the eos text) from the optional HF files in folder. Adds the tokens that
    these files add on top of vocab.json to token_to_id."""
    added = _read_json(folder / 'added_tokens.json') or {}
    config = _read_json(folder / 'tokenizer_config.json') or {}
    roles = _read_json(folder / 'special_tokens_map.json') or {}
    if not all(isinstance(x, dict) for x in (added, config, roles)):
        raise ValueError(f'added_tokens.json, special_tokens_map.json and tokenizer_config.json in {folder} '
                         'must each be a JSON object')
    if not all(isinstance(i, int) for i in added.values()):
        raise ValueError(f'{folder / "added_tokens.json"} must map token strings to integer ids')
    # tokens added on top of vocab.json: in added_tokens.json, or with their id in tokenizer_config.json
    token_to_id.update(added)
    decoder = config.get('added_tokens_decoder', {})
    where = f'{folder / "tokenizer_config.json"} (added_tokens_decoder)'
    if not (isinstance(decoder, dict) and all(i.isdigit() for i in decoder)):
        raise ValueError(f'{where} must map token ids to tokens, got {str(decoder)[:100]}')
    decoder = {int(i): _token_text(token, where) for i, token in decoder.items()}
    for i, token in decoder.items():
        token_to_id.setdefault(token, i)

    def role(key):        # the token named for a role (bos_token, ...); GPT-2's default for bos/eos/unk
        for source, name in ((roles, 'special_tokens_map.json'), (config, 'tokenizer_config.json')):
            if key in source:
                return source[key], f'{folder / name} ({key})'
        return (Tokenizer.eot_token if key in ('bos_token', 'eos_token', 'unk_token') else None), None

    extra, where = role('additional_special_tokens')
    if not isinstance(extra or [], list):
        raise ValueError(f'{where} must be a list of tokens, got {extra!r}')
    specials = list(decoder.values()) + list(added)
    specials += [_token_text(*role(key)) for key in SPECIAL_TOKEN_ROLES if role(key)[0]]
    specials += [_token_text(t, where) for t in extra or []]
    special_tokens = {}
    for s in specials:
        if s not in token_to_id:               # named but not in the vocabulary: HF appends it
            token_to_id[s] = len(token_to_id)
        special_tokens[s] = token_to_id[s]
    eos = role('eos_token')
    return special_tokens, _token_text(*eos) if eos[0] else Tokenizer.eot_token


def _vocab_from_token_ids(path: Path, token_to_id: dict, special_tokens: dict) -> list[bytes]:
    """The token bytes by id; the ids must run 0..N-1, each once. vocab.json writes a token in
    GPT-2's byte-to-unicode alphabet (one character per byte), a special token as its text."""
    id_to_token = {}
    for token, i in token_to_id.items():
        if i in id_to_token:
            raise ValueError(f'{path}: id {i} is used by both {id_to_token[i]!r} and {token!r}')
        id_to_token[i] = token
    gaps = sorted(set(range(len(id_to_token))) - set(id_to_token))
    if gaps:
        raise ValueError(f'{path}: ids must run from 0 to {len(id_to_token) - 1} without gaps; missing {gaps[:10]}')
    vocab = []
    for i in range(len(id_to_token)):
        token = id_to_token[i]
        if token in special_tokens:
            vocab.append(token.encode('utf-8'))
        elif all(ch in UNICODE_TO_BYTE for ch in token):
            vocab.append(bytes(UNICODE_TO_BYTE[ch] for ch in token))
        else:
            raise ValueError(f"{path}: token {token!r} (id {i}) is not written in GPT-2's byte-to-unicode "
                             'alphabet and is not declared a special token')
    return vocab


def _read_merges(path: Path, token_to_id: dict) -> list[tuple[int, int]]:
    """merges.txt: an optional '#version' line, then one merge per line, 'left right' in rank order."""
    merges = []
    for lineno, line in enumerate(_read_text(path).split('\n'), 1):
        line = line.removesuffix('\r')
        if (lineno == 1 and line.startswith('#version')) or not line:
            continue
        parts = line.split(' ')
        if len(parts) != 2 or parts[0] not in token_to_id or parts[1] not in token_to_id:
            raise ValueError(f'{path} line {lineno} ({line!r}) is not two tokens of vocab.json separated by one space')
        if parts[0] + parts[1] not in token_to_id:
            raise ValueError(f'{path} line {lineno} ({line!r}) makes the token {parts[0] + parts[1]!r}, '
                             'which vocab.json does not have')
        merges.append((token_to_id[parts[0]], token_to_id[parts[1]]))
    return merges


def _token_text(token, where) -> str:
    """HF config files write a token either as its text or as {'content': text, ...}; `where` names
    the file and key it comes from, for the error if it is neither."""
    text = token.get('content') if isinstance(token, dict) else token
    if not isinstance(text, str) or not text:
        raise ValueError(f'{where} names a token as {str(token)[:100]}; a token is its text or '
                         '{"content": text, ...}: is this tokenizer folder damaged?')
    return text


def _write_json(path: Path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding='utf-8')


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding='utf-8')
    except UnicodeDecodeError as e:
        raise ValueError(f'{path} is not valid UTF-8 text ({e})') from None


def _read_json(path: Path, required=False):
    """The parsed JSON file, or None if it is optional and absent; a clear error if it is corrupt."""
    if not path.is_file() and not required:
        return None
    return parse_json(path.read_bytes(), path)
