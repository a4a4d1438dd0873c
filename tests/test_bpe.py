"""Byte-level BPE: the fast trainer against the textbook one, and encoding against Hugging Face.

HF oracles are built from local files only (no network): `transformers.GPT2Tokenizer` and a bare
`tokenizers` byte-level BPE, both loaded from the vocab.json/merges.txt our tokenizer wrote.
"""
import json
import os
import random
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')         # the oracles must never reach for the network
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tokenizer import BPETokenizer, load_tokenizer
from tokenizer.bpe import merge_long, merge_short
from tokenizer.bpe_reference import encode_word_reference, train_reference

EOT = '<|endoftext|>'

# Pushkin, 'Я помню чудное мгновенье' (1825), with some Latin, digits and symbols around it
POEM = """Я помню чудное мгновенье:
Передо мной явилась ты,
Как мимолетное виденье,
Как гений чистой красоты.

В томленьях грусти безнадежной,
В тревогах шумной суеты,
Звучал мне долго голос нежный
И снились милые черты.
"""
SMALL_TEXT = (POEM + EOT + "Don't panic: it's 1825, we'll see. Ёлка, ёж; 3.14 + 42 = 45.14!\n" + EOT
              + POEM.replace('\n', '\r\n'))

# the cases the issue names: Cyrillic, Latin, digits, ё, emoji, tabs, runs of spaces, \r\n, contractions, ''
SAMPLES = [
    '', ' ', 'a', 'Hello, world!', POEM, 'ёлка Ёж ё', '1234567890 3.14 1,000,000',
    'эмодзи 😀👍🏽 🇷🇺 ✨',
    'a\tb\t\tc', 'один   два      три ', '   leading and trailing   ', 'line one\r\nline two\r\n\r\n',
    "don't I'm you're we've they'll she'd it's", "DON'T 'quoted' rock'n'roll", '\n\n\n', '  \n  \n',
    f'{EOT}', f'first{EOT}second', f' {EOT} ', f'{EOT}{EOT}', f'<|endof{EOT}text|>', '<|endoftext', 'ﬁ Ǆ ß İ',
]


@pytest.fixture(scope='module')
def corpus_slice(corpus_dir):
    """A few thousand characters of two works, separated by the document token."""
    from nanopushkin.corpus import decode_bytes
    parts = [decode_bytes((corpus_dir / 'prose' / 'Пиковая дама.txt').read_bytes())[0][:3000],
             decode_bytes((corpus_dir / 'poems' / 'Руслан и Людмила.txt').read_bytes())[0][:3000]]
    return EOT.join(parts)


@pytest.fixture(scope='module')
def tok():
    return BPETokenizer.train(SMALL_TEXT * 3, vocab_size=400, special_tokens=(EOT, '<|pad|>'))


def hf_oracles(folder, special_tokens):
    """Two HF encoders of the files in folder: transformers' GPT2Tokenizer (in transformers 5 built on
    `tokenizers`, with its own special-token handling) and a bare `tokenizers` byte-level BPE."""
    import tokenizers
    from transformers import GPT2Tokenizer
    gpt2 = GPT2Tokenizer.from_pretrained(str(folder))
    bare = tokenizers.Tokenizer(tokenizers.models.BPE.from_file(str(folder / 'vocab.json'), str(folder / 'merges.txt')))
    bare.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    bare.decoder = tokenizers.decoders.ByteLevel()
    bare.add_special_tokens(list(special_tokens))
    return gpt2, bare


# ----------------------------------------------------------------------------------------------
# training


def test_vocab_size_and_special_ids(tok):
    assert tok.vocab_size == 400 and len(tok.merges) == 400 - 256 - 2
    assert tok.special_tokens == {EOT: 398, '<|pad|>': 399} and tok.eot_id == 398
    assert tok.vocab[:256] == [bytes([b]) for b in range(256)]


def test_specials_are_never_merged(tok):
    # '<|' occurs in the training text only inside the specials, so no learned token may contain it
    assert not any(b'<|' in token for token in tok.vocab[256:398])
    assert tok.encode(f'a{EOT}b') == tok.encode('a') + [398] + tok.encode('b')


def test_tie_breaking_rule():
    # every pair occurs once: the tie goes to the smallest (id_a, id_b), here (' ', 'c') = (32, 99)
    tok = BPETokenizer.train('ab cd', vocab_size=256 + 1 + 2)
    assert tok.merges == [(32, 99), (97, 98)]


@pytest.mark.parametrize('seed', range(12))
def test_fast_trainer_matches_textbook_on_random_text(seed):
    # tiny alphabets make many equal counts, so this checks the tie-breaking, not just the counting
    rng = random.Random(seed)
    alphabet = rng.choice(['ab ', 'abc  ', 'aab\n', 'аб вг', 'xy' + EOT])
    text = ''.join(rng.choice([*alphabet, EOT]) if rng.random() < 0.02 else rng.choice(alphabet)
                   for _ in range(rng.randrange(50, 400)))
    vocab_size = 257 + rng.randrange(1, 25)
    vocab, merges = train_reference(text, vocab_size)
    fast = BPETokenizer.train(text, vocab_size)
    assert fast.merges == merges and fast.vocab[:-1] == vocab


def test_fast_trainer_matches_textbook_on_pushkin(corpus_slice):
    vocab, merges = train_reference(corpus_slice, 300)
    assert BPETokenizer.train(corpus_slice, 300).merges == merges


def test_fast_trainer_matches_textbook_on_poem():
    vocab, merges = train_reference(SMALL_TEXT, 330)
    assert BPETokenizer.train(SMALL_TEXT, 330).merges == merges


# ----------------------------------------------------------------------------------------------
# encoding: exactly HF's ids


@pytest.fixture(scope='module')
def oracles(tok, tmp_path_factory):
    folder = tmp_path_factory.mktemp('bpe_hf')
    tok.save_pretrained(folder)
    return hf_oracles(folder, tok.special_tokens)


# runs of one character of every length, so that merges build ever longer runs of it
RUNS_TEXT = ' '.join(ch * k for k in range(1, 70) for ch in '—аa') + ''.join('.' + ' ' * k for k in range(70))


@pytest.fixture(scope='module')
def runs_tok():
    return BPETokenizer.train(RUNS_TEXT * 2, vocab_size=400)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(alphabet='—аa ', max_size=120))
def test_both_word_mergers_match_the_textbook(runs_tok, tok, word):
    # merge_short (ordinary words) and merge_long (the heap, for long words) give the same ids as
    # the obvious algorithm; words of up to 120 characters (240 bytes) reach both sides of the switch
    for t in (runs_tok, tok):
        ids = [t.byte_ids[b] for b in word.encode('utf-8')]
        expected = encode_word_reference(t.vocab, t.merges, word)
        assert merge_short(list(ids), t.ranks.get, t.merged_ids) == expected
        assert merge_long(list(ids), t.ranks.get, t.merged_ids) == expected
        assert t._bpe(word) == expected


@pytest.mark.parametrize('ch', ['—', 'а', ' '])
def test_long_runs_of_one_character_are_fast_and_match_hf(runs_tok, tmp_path, ch):
    # 40,000 of one character is one pre-split word. The quadratic merge loop needed minutes for
    # this (4 s for 8,000 dashes, 25 times that for 40,000); O(n log n) takes a fraction of a second.
    # The bound is generous so a busy machine cannot fail it, yet the old loop could never pass it.
    runs_tok.save_pretrained(tmp_path)
    _, bare = hf_oracles(tmp_path, runs_tok.special_tokens)
    text = 'x' + ch * 40_000 + 'y'
    start = time.perf_counter()
    ids = BPETokenizer.from_pretrained(tmp_path).encode(text)
    assert time.perf_counter() - start < 20
    assert ids == bare.encode(text).ids and runs_tok.decode(ids) == text
    assert len(ids) < 40_000 // 8              # long tokens were used, not bytes


def test_merge_long_does_linear_work_per_merge(runs_tok):
    # the count of pair lookups: n at the start, then at most 3 per heap entry, and each merge adds
    # at most 2 entries; the quadratic loop did about n lookups per merge
    calls = 0

    def counting_rank_of(pair, default=None):
        nonlocal calls
        calls += 1
        return runs_tok.ranks.get(pair, default)
    n = 20_000
    ids = [runs_tok.byte_ids[b] for b in ('—' * (n // 3)).encode('utf-8')]
    merge_long(ids, counting_rank_of, runs_tok.merged_ids)
    assert calls < 10 * n


@pytest.mark.parametrize('text', SAMPLES)
def test_encode_matches_hf(tok, oracles, text):
    gpt2, bare = oracles
    ids = tok.encode(text)
    assert ids == gpt2(text)['input_ids'] == bare.encode(text).ids
    assert tok.decode(ids) == text == gpt2.decode(ids)


def test_encode_matches_hf_on_pushkin(corpus_slice, tmp_path):
    tok = BPETokenizer.train(corpus_slice, 600)
    tok.save_pretrained(tmp_path)
    gpt2, bare = hf_oracles(tmp_path, tok.special_tokens)
    ids = tok.encode(corpus_slice)
    assert ids == gpt2(corpus_slice)['input_ids'] == bare.encode(corpus_slice).ids
    assert len(ids) < len(corpus_slice.encode('utf-8')) / 2     # it really compresses


# Characters assigned in the Unicode version of Python's unicodedata. Characters added in later
# Unicode versions may be letters to the `regex` package but not yet to HF's regex engine (or the
# reverse), which changes the pre-split; that is a difference of Unicode tables, not of BPE.
assigned_text = st.text(st.characters(blacklist_categories=('Cs', 'Cn')))
text_with_specials = st.lists(st.one_of(assigned_text, st.sampled_from([EOT, '<|pad|>', ' ', '\r\n', "'s"])),
                              max_size=8).map(''.join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=text_with_specials)
def test_random_text_matches_hf_and_round_trips(tok, oracles, text):
    _, bare = oracles
    ids = tok.encode(text)
    assert ids == bare.encode(text).ids
    assert tok.decode(ids) == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_unicode_round_trips(tok, text):
    assert tok.decode(tok.encode(text)) == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.integers(0, 399), max_size=12))
def test_decoding_any_ids_matches_hf(tok, oracles, ids):
    # random ids are mostly invalid UTF-8: each broken sequence must become U+FFFD exactly as in HF
    _, bare = oracles
    assert tok.decode(ids) == bare.decode(ids, skip_special_tokens=False)


def test_loads_files_trained_by_hf(tmp_path):
    """HF's own trainer puts the specials first and the bytes in another order: ids must still agree."""
    import tokenizers
    text = SMALL_TEXT * 2
    hf = tokenizers.Tokenizer(tokenizers.models.BPE())
    hf.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=400, special_tokens=[EOT], show_progress=False,
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator(text.split(EOT), trainer)
    hf.model.save(str(tmp_path))
    ours = BPETokenizer.from_pretrained(tmp_path)
    assert ours.vocab_size == hf.get_vocab_size() and ours.eot_id == hf.token_to_id(EOT) == 0
    for s in [text, *SAMPLES]:
        assert ours.encode(s) == hf.encode(s).ids


def test_repeated_merge_line_keeps_its_last_rank_like_hf(tmp_path):
    # a hand-written folder: the merge 'a b' listed twice, no special tokens, no config files
    import tokenizers
    from transformers import GPT2Tokenizer
    from tokenizer.gpt2_files import BYTE_TO_UNICODE
    vocab = {BYTE_TO_UNICODE[b]: b for b in range(256)} | {'ab': 256, 'bc': 257}
    (tmp_path / 'vocab.json').write_text(json.dumps(vocab), encoding='utf-8')
    (tmp_path / 'merges.txt').write_text('#version: 0.2\na b\nb c\na b\n', encoding='utf-8')
    ours = BPETokenizer.from_pretrained(tmp_path)
    hf = tokenizers.Tokenizer(tokenizers.models.BPE.from_file(str(tmp_path / 'vocab.json'),
                                                              str(tmp_path / 'merges.txt')))
    hf.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    assert ours.encode('abc xabc') == hf.encode('abc xabc').ids == [97, 257, 32, 120, 97, 257]
    # with no config, GPT2Tokenizer appends '<|endoftext|>' as bos/eos/unk; so do we
    assert ours.eot_id == GPT2Tokenizer.from_pretrained(str(tmp_path)).eos_token_id == 258
    with pytest.raises(ValueError, match='no end-of-text token'):
        BPETokenizer([bytes([b]) for b in range(256)], merges=[]).eot_id


def test_added_token_as_end_of_text_like_hf(tok, tmp_path):
    # a model that ends documents with '</s>', added on top of vocab.json, and no other specials
    from transformers import GPT2Tokenizer
    tok.save_pretrained(tmp_path)
    (tmp_path / 'added_tokens.json').write_text(json.dumps({'</s>': 400}), encoding='utf-8')
    (tmp_path / 'tokenizer_config.json').write_text('{}', encoding='utf-8')
    (tmp_path / 'special_tokens_map.json').write_text(
        json.dumps({'eos_token': {'content': '</s>'}, 'bos_token': None, 'unk_token': None}), encoding='utf-8')
    ours, hf = BPETokenizer.from_pretrained(tmp_path), GPT2Tokenizer.from_pretrained(str(tmp_path))
    assert ours.special_tokens == {'</s>': 400} and ours.eot_id == 400 and ours.vocab_size == len(hf) == 401
    for text in ['a</s>b', f'{EOT} and <|pad|> are plain text here</s>', POEM + '</s>']:
        assert ours.encode(text) == hf(text)['input_ids']


def test_named_specials_missing_from_the_vocabulary_are_appended_like_hf(tok, tmp_path):
    from transformers import GPT2Tokenizer
    tok.save_pretrained(tmp_path)
    (tmp_path / 'tokenizer_config.json').unlink()
    (tmp_path / 'special_tokens_map.json').write_text(json.dumps(
        {'pad_token': '<pad>', 'eos_token': {'content': '</s>'}, 'bos_token': '<s>',
         'additional_special_tokens': ['<x>']}),
        encoding='utf-8')
    ours, hf = BPETokenizer.from_pretrained(tmp_path), GPT2Tokenizer.from_pretrained(str(tmp_path))
    assert ours.vocab_size == len(hf) == 404 and ours.eot_token == '</s>' and ours.eot_id == hf.eos_token_id
    text = f'a</s>b<s><pad><x>{EOT}<|pad|>'
    assert ours.encode(text) == hf(text)['input_ids']


def test_word_cache(tok, monkeypatch):
    fresh = BPETokenizer.from_dict(tok.to_dict())
    ids = fresh.encode(POEM)
    assert fresh.cache[' мгновенье'] == fresh._bpe(' мгновенье')   # filled by the first (cold) encode
    assert fresh.encode(POEM) == ids                                 # the warm encode agrees
    # the cache is bounded: past the limit it starts over, and the ids stay right
    monkeypatch.setattr('tokenizer.bpe.MAX_CACHED_WORDS', 5)
    small = BPETokenizer.from_dict(tok.to_dict())
    assert small.encode(POEM) == ids and len(small.cache) <= 5


def test_decode_invalid_utf8_like_hf(tok, oracles):
    gpt2, _ = oracles
    half_letter = tok.encode('ж')[:1]                 # the first byte of a two-byte letter
    assert tok.decode_bytes(half_letter) == 'ж'.encode('utf-8')[:1]
    assert tok.decode(half_letter) == '\ufffd' == gpt2.decode(half_letter)
    assert tok.decode_bytes(tok.encode('жук')) == 'жук'.encode('utf-8')


# ----------------------------------------------------------------------------------------------
# files


def test_json_round_trip_is_readable(tok, tmp_path):
    path = tmp_path / 'tokenizer.json'
    tok.save(path)
    d = json.loads(path.read_text(encoding='utf-8'))
    assert d['kind'] == 'bpe' and d['vocab'][-2:] == [EOT, '<|pad|>']
    assert ' помню' in d['vocab'] and d['vocab'][0xd0] == [0xd0]     # text where it can be, else bytes
    loaded = load_tokenizer(path)
    assert isinstance(loaded, BPETokenizer)
    assert (loaded.vocab, loaded.merges, loaded.special_tokens) == (tok.vocab, tok.merges, tok.special_tokens)
    assert loaded.encode(SMALL_TEXT) == tok.encode(SMALL_TEXT)


def test_pretrained_round_trip(tok, tmp_path):
    tok.save_pretrained(tmp_path)
    loaded = BPETokenizer.from_pretrained(tmp_path)
    assert (loaded.vocab, loaded.merges, loaded.special_tokens) == (tok.vocab, tok.merges, tok.special_tokens)
    assert loaded.eot_id == tok.eot_id


# ----------------------------------------------------------------------------------------------
# bad input


def test_ids_out_of_range(tok):
    with pytest.raises(ValueError, match='out of range'):
        tok.decode([1, 400])
    with pytest.raises(ValueError, match='out of range'):
        tok.decode_bytes([-1])


def test_vocab_size_too_small():
    with pytest.raises(ValueError, match='at least 256 byte tokens'):
        BPETokenizer.train(POEM, vocab_size=256)
    with pytest.raises(ValueError, match='too small'):
        BPETokenizer.train('ab', vocab_size=300)
    with pytest.raises(ValueError, match=r'must include'):
        BPETokenizer.train(POEM, vocab_size=300, special_tokens=('<|pad|>',))


def test_missing_files(tok, tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        BPETokenizer.from_pretrained(tmp_path / 'nowhere')
    tok.save_pretrained(tmp_path)
    (tmp_path / 'merges.txt').unlink()
    with pytest.raises(FileNotFoundError, match='merges.txt is missing'):
        BPETokenizer.from_pretrained(tmp_path)


@pytest.mark.parametrize('file, corrupt, message', [
    ('vocab.json', lambda s: s[:len(s) // 2], r'vocab.json is not valid JSON'),
    ('vocab.json', lambda s: '["a", "b"]', r'vocab.json must be a JSON object'),
    ('vocab.json', lambda s: s.replace('"Ġ":', '"Ġ  ":'), r"vocab.json: token 'Ġ  ' .* not written in GPT-2"),
    ('vocab.json', lambda s: s.replace('"Ā": 0,', '"Ā": 5,'), r'vocab.json: id 5 is used by both'),
    ('vocab.json', lambda s: s.replace('"Ā": 0,', '"ĀĀ": 0,'), r'lacks the single-byte tokens \[0\]'),
    ('merges.txt', lambda s: s + 'notatoken x\n', r'merges.txt line \d+ .* not two tokens'),
    ('merges.txt', lambda s: s + 'a\n', r'merges.txt line \d+'),
    ('merges.txt', lambda s: s + 'z z\n', r"makes the token 'zz', which vocab.json does not have"),
    ('special_tokens_map.json', lambda s: '{', r'special_tokens_map.json is not valid JSON'),
])
def test_corrupt_files(tok, tmp_path, file, corrupt, message):
    tok.save_pretrained(tmp_path)
    path = tmp_path / file
    path.write_text(corrupt(path.read_text(encoding='utf-8')), encoding='utf-8')
    with pytest.raises(ValueError, match=message):
        BPETokenizer.from_pretrained(tmp_path)
