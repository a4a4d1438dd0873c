"""Turn the raw corpus into a dataset folder a model can train on.

    corpus folder --read_works/clean--> works --split by work--> train / val
                  --tokenizer--> train.bin, val.bin, tokenizer.json, meta.json

One folder per tokenizer, under out_root (data/pushkin by default):

    char/            one id per character (the default)
    word<N>/         the N most frequent words; word8000 by default
    bpe<N>/          byte-level BPE trained on the train split only; bpe4096 by default
    pretrained-<m>/  the GPT-2-format tokenizer of a model m to fine-tune: a folder, or a hub name
                     or alias (pretrained:rugpt3medium -> pretrained-rugpt3medium/), downloaded
                     into the model cache by nanopushkin/hub.py if it is not there yet
    hashsep-<...>/   the same from a --format=hashsep file of stories (the seed project's format)
    <name>+<extra>/  the same, with other writers' training works (--extra_src=contrast: the contrast
                     corpus, bpe1410+contrast/) added to the train split; the tokenizer and the
                     validation split stay Pushkin's, so the held-out figures compare

Each split is the works' token ids concatenated, with the end-of-text token between two works, as
np.uint16 (np.uint32 once the vocabulary outgrows it). meta.json counts the characters and tokens
of each split, which is what converts a loss per token into bits per character. Every file is
written to a temporary name and renamed, and meta.json comes last, so a folder with a meta.json
is complete and running prepare again simply replaces it.

Defaults and why: the char alphabet is collected from train and val together (like nanoGPT's
shakespeare_char: otherwise a French accent that only the validation works use would be
unencodable); the word and BPE vocabularies see the train split only, so the validation numbers
(including the word tokenizer's out-of-vocabulary rate) are honest. 4096 BPE tokens are about the
most this 1.3M-character corpus can feed: in the vocab_coverage plot (--plots), 94% of the tokens
of a 4096 vocabulary occur at least 10 times in the train split, 92% at 6144, then it collapses
(83% at 8192, 49% at 12288). The seed project's stricter reading (most tokens seen 50-100 times)
gives 1410, also a good choice for small models: --vocab_size=1410. 8000 words still leave 30% of
the validation words unknown, which is why word-level models of Russian disappoint.
"""
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanopushkin import corpus, hub
from nanopushkin.config import main_parse
from nanopushkin.corpus_stats import write_plots
from nanopushkin.files import write_atomically
from tokenizer import BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer

log = logging.getLogger(__name__)

DEFAULT_VOCAB_SIZE = {'word': 8000, 'bpe': 4096}
FORMATS = ('pushkin', 'hashsep')


@dataclass
class PrepareConfig:
    tokenizer: str = 'char'          # 'char' | 'word' | 'bpe' | 'pretrained:<GPT-2-format folder or hub name>'
    vocab_size: int = 0              # word and bpe only; 0: the default (word 8000, bpe 4096)
    src: str = ''                    # corpus folder ('': $PUSHKIN_CORPUS, ../shared/data/pushkin, data/pushkin/raw,
                                     # download: corpus.find_corpus); with format=hashsep: the file of stories
    out_root: str = 'data/pushkin'   # the dataset folder goes into out_root/<name>
    format: str = 'pushkin'          # 'pushkin' (prose/ + poems/) | 'hashsep' (stories split by '#'*10)
    plots: bool = False              # write corpus statistics PNGs (Zipf, token ranks, vocab size)
    plots_dir: str = ''              # where the PNGs go; '' means the dataset folder
    strict: bool = False             # a --src that differs from SHA256SUMS is an error, not a warning
    extra_src: str = ''              # other writers' training works join the train split, as more Russian to
                                     # learn from: 'contrast' (found beside the checkout, cached or downloaded:
                                     # corpus.find_contrast) or a folder of <Author>/{prose,poems}/*.txt


def dataset_name(tokenizer: str, vocab_size: int | None = None, fmt: str = 'pushkin') -> str:
    """'char', 'word8000', 'bpe4096', 'pretrained-<model>'; prefixed 'hashsep-' for that format.

    <model> is the last part of the folder or hub name: pretrained:rugpt3medium -> pretrained-rugpt3medium,
    pretrained:ai-forever/rugpt3small_based_on_gpt2 -> pretrained-rugpt3small_based_on_gpt2."""
    kind, model = parse_tokenizer_arg(tokenizer)
    if kind == 'pretrained':
        name = 'pretrained-' + Path(model).resolve().name      # resolve: 'models/gpt/.' is 'gpt'
    elif kind == 'char':
        name = 'char'
    else:
        name = f'{kind}{vocab_size or DEFAULT_VOCAB_SIZE[kind]}'
    return name if fmt == 'pushkin' else f'{fmt}-{name}'


def parse_tokenizer_arg(tokenizer: str) -> tuple[str, str | None]:
    """'bpe' -> ('bpe', None); 'pretrained:rugpt3small' -> ('pretrained', 'rugpt3small')."""
    kind, sep, model = tokenizer.partition(':')
    if kind == 'pretrained' and sep and model:
        return kind, model
    if kind in ('char', 'word', 'bpe') and not sep:
        return kind, None
    raise ValueError(f'unknown --tokenizer {tokenizer!r}; use char, word, bpe, or pretrained:<model>, where '
                     '<model> is a folder with a GPT-2-format tokenizer (vocab.json + merges.txt) or a hub '
                     'name or alias such as rugpt3medium')


def build_tokenizer(tokenizer: str, vocab_size: int | None, train_text: str, all_text: str) -> Tokenizer:
    """Train (or load) the tokenizer. train_text is the train split; all_text adds the val split."""
    kind, model = parse_tokenizer_arg(tokenizer)
    if vocab_size and kind in ('char', 'pretrained'):
        raise ValueError(f'--vocab_size applies to word and bpe tokenizers only; the {kind} tokenizer '
                         'has the vocabulary it has')
    if vocab_size is not None and vocab_size < 0:
        raise ValueError(f'--vocab_size must be positive (or 0 for the default), got {vocab_size}')
    if kind == 'char':
        return CharTokenizer.train(all_text)
    if kind == 'word':
        return WordTokenizer.train(train_text, vocab_size or DEFAULT_VOCAB_SIZE['word'])
    if kind == 'bpe':
        return BPETokenizer.train(train_text, vocab_size=vocab_size or DEFAULT_VOCAB_SIZE['bpe'],
                                  special_tokens=(Tokenizer.eot_token,))
    try:
        folder = hub.resolve(model)                # the model's folder, downloaded first for a hub name
    except FileNotFoundError as e:
        raise FileNotFoundError(f'--tokenizer=pretrained:{model}: {e}') from None
    return BPETokenizer.from_pretrained(folder)


def encode_works(tok: Tokenizer, works) -> list[int]:
    """The works' ids, with the end-of-text token between two works."""
    ids = []
    for i, w in enumerate(works):
        if i:
            ids.append(tok.eot_id)
        ids.extend(tok.encode(w.text))
    return ids


def token_dtype(vocab_size: int):
    return np.uint16 if vocab_size <= 65535 else np.uint32


def json_bytes(obj) -> bytes:
    """A JSON file's bytes as Tokenizer.save writes them (readable: UTF-8, indented)."""
    return json.dumps(obj, ensure_ascii=False, indent=1).encode('utf-8')


def split_stats(works, ids) -> dict:
    # the boundary token counts as one character (and byte), so for the char tokenizer tokens == chars
    boundaries = len(works) - 1
    return {'chars': sum(len(w.text) for w in works) + boundaries,
            'bytes': sum(len(w.text.encode('utf-8')) for w in works) + boundaries,
            'tokens': len(ids),
            'works': [w.name for w in works]}


def load_split_works(src, fmt, strict):
    """(train works, val works, {source file: sha256}) for either input format."""
    if fmt == 'pushkin':
        folder = corpus.find_corpus(src or None, strict=strict)
        works = corpus.read_works(folder)
        train, val = corpus.split_works(works)
        return train, val, {w.path: w.sha256 for w in works}
    if fmt == 'hashsep':
        if not src:
            raise ValueError('--format=hashsep needs --src FILE: a text file of stories separated by '
                             'lines of ten "#"')
        works = corpus.read_hashsep(src)
        train, val = corpus.split_works(works, corpus.hashsep_val_names(works))
        return train, val, {works[0].path: works[0].sha256}
    raise ValueError(f'unknown --format {fmt!r}; use one of {list(FORMATS)}')


def prepare_dataset(tokenizer='char', vocab_size=None, src=None, out_root='data/pushkin', fmt='pushkin',
                    plots=False, plots_dir=None, strict=False, extra_src=None) -> Path:
    """Build (or rebuild) one dataset folder and return its path."""
    name = dataset_name(tokenizer, vocab_size, fmt)       # validates the tokenizer argument early
    train, val, sources = load_split_works(src, fmt, strict)
    eot = Tokenizer.eot_token
    train_text = eot.join(w.text for w in train)
    extra = corpus.contrast_train_works(corpus.find_contrast(None if extra_src == 'contrast' else extra_src)) \
        if extra_src else []
    # BPE and word vocabularies learn from Pushkin's train split alone, extra or not, so bpe1410+contrast
    # has bpe1410's tokenizer; the char alphabet is every character there is to encode
    all_text = eot.join(w.text for w in train + val + extra)
    tok = build_tokenizer(tokenizer, vocab_size, train_text, all_text)
    if extra:
        extra_name = Path(extra_src).resolve().name          # 'contrast' for the keyword and the shared folder
        name, train = f'{name}+{extra_name}', train + extra
        sources.update({f'{extra_name}/{w.path}': w.sha256 for w in extra})
    log.info('%s tokenizer: vocab_size %d', tok.kind, tok.vocab_size)

    out_dir = Path(out_root) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = token_dtype(tok.vocab_size)
    meta = {'tokenizer': tok.kind, 'vocab_size': tok.vocab_size, 'dtype': np.dtype(dtype).name,
            'eot_id': tok.eot_id, 'tokenizer_file': 'tokenizer.json', 'format': fmt}
    for split, works in (('train', train), ('val', val)):
        ids = np.array(encode_works(tok, works), dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= tok.vocab_size):
            raise RuntimeError(f'the {tok.kind} tokenizer produced ids outside 0..{tok.vocab_size - 1}')
        write_atomically(out_dir / f'{split}.bin', lambda f: ids.astype(dtype).tofile(f))
        meta[split] = split_stats(works, ids)
        separators = f'{len(works) - 1} end-of-text separator' + ('s' if len(works) != 2 else '')
        log.info('%-5s %2d works: %d characters of text, %d with the %s that meta.json counts; %d bytes; '
                 '%d tokens (%.2f characters/token)', split, len(works), sum(len(w.text) for w in works),
                 meta[split]['chars'], separators, meta[split]['bytes'], meta[split]['tokens'],
                 meta[split]['chars'] / max(1, meta[split]['tokens']))
    if tok.kind == 'word':
        meta['val']['oov_rate'] = tok.oov_rate(eot.join(w.text for w in val))
        log.info('word tokenizer: %.1f%% of the validation words are <unk>', 100 * meta['val']['oov_rate'])
    meta['sources'] = sources
    write_atomically(out_dir / 'tokenizer.json', lambda f: f.write(json_bytes(tok.to_dict())))
    write_atomically(out_dir / 'meta.json', lambda f: f.write(json_bytes(meta)))
    log.info('wrote %s', out_dir)

    if plots:
        write_plots(train_text, tok, Path(plots_dir) if plots_dir else out_dir)
    return out_dir


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    cfg = main_parse(PrepareConfig, sys.argv[1:] if argv is None else argv, config_file_allowed=False)
    try:
        prepare_dataset(cfg.tokenizer, cfg.vocab_size or None, cfg.src or None, cfg.out_root, cfg.format,
                        cfg.plots, cfg.plots_dir or None, cfg.strict, cfg.extra_src or None)
    except (ValueError, OSError) as e:   # bad input, missing files, offline, unwritable --out_root: no traceback
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
