"""The character and word tokenizers: vocabularies, round trips, unknowns, saving and loading."""
import pytest
from hypothesis import given, settings, strategies as st

from tokenizer import CharTokenizer, WordTokenizer, load_tokenizer
from tokenizer.word import split_pieces

EOT = '<|endoftext|>'
TEXT = 'Мороз и солнце; день чудесный!\nЕще ты дремлешь, друг прелестный —\nПора, красавица, проснись.'


# ---------------------------------------------------------------------------- char

def test_char_vocabulary_is_sorted_characters_then_eot():
    tok = CharTokenizer.train('bca' + EOT + 'ab')
    assert tok.chars == ['a', 'b', 'c'] and tok.vocab_size == 4 and tok.eot_id == 3
    assert tok.encode('cab' + EOT + 'a') == [2, 0, 1, 3, 0]


def test_char_round_trip_with_eot():
    tok = CharTokenizer.train(TEXT)
    text = TEXT + EOT + TEXT[::-1]
    ids = tok.encode(text)
    assert tok.decode(ids) == text and ids.count(tok.eot_id) == 1
    assert len(ids) == len(TEXT) * 2 + 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(sorted(set(TEXT)) + [EOT]), max_size=60).map(''.join))
def test_char_round_trip_property(text):
    tok = CharTokenizer.train(TEXT)
    assert tok.decode(tok.encode(text)) == text


def test_char_unknown_character_names_it():
    tok = CharTokenizer.train('абв')
    with pytest.raises(ValueError) as e:
        tok.encode('аб\u00a0z')
    assert "'\\xa0'" in str(e.value) and "'z'" in str(e.value) and 'training text' in str(e.value)


def test_char_out_of_range_ids():
    tok = CharTokenizer.train('аб')
    with pytest.raises(ValueError, match='out of range'):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match='out of range'):
        tok.decode([-1])


def test_char_save_and_load(tmp_path):
    tok = CharTokenizer.train(TEXT)
    tok.save(tmp_path / 't.json')
    again = load_tokenizer(tmp_path / 't.json')
    assert isinstance(again, CharTokenizer) and again.chars == tok.chars
    assert again.encode(TEXT) == tok.encode(TEXT)
    assert CharTokenizer.from_dict(tok.to_dict()).vocab_size == tok.vocab_size
    assert tok.decode_bytes(tok.encode('Мороз')) == 'Мороз'.encode('utf-8')
    with pytest.raises(ValueError, match='char tokenizer'):
        CharTokenizer.from_dict({'kind': 'word', 'pieces': []})


# ---------------------------------------------------------------------------- word

@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec='utf-8'), max_size=80))
def test_pieces_cover_any_text(text):
    assert ''.join(split_pieces(text)) == text


def test_word_pieces_are_words_punctuation_and_whitespace_runs():
    assert split_pieces('Жил-был  поп,\n\nлоб.') == ['Жил', '-', 'был', '  ', 'поп', ',', '\n\n', 'лоб', '.']


def test_word_vocabulary_most_frequent_first_ties_alphabetical():
    tok = WordTokenizer.train('б а б в б а г', vocab_size=5)       # ' ' x6, б x3, а x2, then в/г tie
    assert tok.pieces == [' ', 'б', 'а'] and tok.vocab_size == 5
    assert (tok.unk_id, tok.eot_id) == (3, 4)
    assert WordTokenizer.train('г а б в б а б', vocab_size=5).pieces == tok.pieces   # order-free


def test_word_round_trip_and_unk():
    tok = WordTokenizer.train(TEXT, vocab_size=1000)
    text = TEXT + EOT + TEXT
    assert tok.decode(tok.encode(text)) == text
    ids = tok.encode('Мороз и Пушкин!')
    assert ids[-2] == tok.unk_id and tok.decode(ids) == 'Мороз и <unk>!'


def test_word_oov_rate_counts_words_only():
    tok = WordTokenizer.train('кот и пес', vocab_size=100)
    assert tok.oov_rate('кот, и... волк!') == pytest.approx(1 / 3)
    assert tok.oov_rate('кот и пес') == 0.0 and tok.oov_rate('...') == 0.0


def test_word_training_ignores_eot_and_checks_size():
    tok = WordTokenizer.train('а' + EOT + 'б', vocab_size=10)
    assert sorted(tok.pieces) == ['а', 'б']
    assert tok.encode('а' + EOT + 'б') == [tok.stoi['а'], tok.eot_id, tok.stoi['б']]
    with pytest.raises(ValueError, match='at least 3'):
        WordTokenizer.train('а б', vocab_size=2)


def test_word_save_load_and_bad_ids(tmp_path):
    tok = WordTokenizer.train(TEXT, vocab_size=20)
    tok.save(tmp_path / 'w.json')
    again = load_tokenizer(tmp_path / 'w.json')
    assert isinstance(again, WordTokenizer) and again.encode(TEXT) == tok.encode(TEXT)
    assert again.decode_bytes([tok.eot_id]) == EOT.encode()
    with pytest.raises(ValueError, match='out of range'):
        tok.decode([tok.vocab_size])
    with pytest.raises(ValueError, match='word tokenizer'):
        WordTokenizer.from_dict({'kind': 'word'})
