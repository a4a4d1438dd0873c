"""Stress learned from the meter (nanopushkin/stress.py) and what verse.py does with it: tiny
hand-made texts whose stresses are known, the meter check, the ending decision and bad input."""
import pytest

from nanopushkin.stress import (learn_stresses, learn_with_shares, load_stresses, read_marked, read_table,
                                save_table, stress_candidates)
from nanopushkin.verse import ending, fits_meter, guess_meter, guess_meter_by_stress, known_stresses, rhymes

# Onegin's first stanza, iambic tetrameter: the meter alone says where its words are stressed
ONEGIN_I = """Мой дядя самых честных правил,
Когда не в шутку занемог,
Он уважать себя заставил
И лучше выдумать не мог.
Его пример другим наука;
Но, боже мой, какая скука
С больным сидеть и день и ночь,
Не отходя ни шагу прочь!
Какое низкое коварство
Полуживого забавлять,
Ему подушки поправлять,
Печально подносить лекарство,
Вздыхать и думать про себя:
Когда же черт возьмет тебя!»"""


def test_learning_on_a_tiny_iambic_text_recovers_the_stresses():
    table = learn_stresses((line, 'iamb') for line in ONEGIN_I.split('\n'))
    known = {'дядя': 1, 'самых': 1, 'честных': 1, 'правил': 1, 'когда': 2, 'шутку': 1, 'занемог': 3,
             'заставил': 2, 'лучше': 1, 'пример': 2, 'другим': 2, 'наука': 2, 'боже': 1,
             'какая': 2, 'скука': 1, 'больным': 2, 'сидеть': 2, 'коварство': 2, 'забавлять': 3,
             'подушки': 2, 'поправлять': 3, 'печально': 2, 'лекарство': 2, 'тебя': 2}
    assert {word: table.get(word) for word in known} == known
    assert 'ночь' not in table and 'мой' not in table                    # monosyllables are free
    assert 'выдумать' not in table      # on syllables 4-6 its 1st and 3rd are both strong: a tie


def test_strong_weak_strong_is_a_tie_until_another_line_decides():
    # 'уважать' on syllables 2-4 of an iamb: its 1st and 3rd are both strong, one vote each
    assert stress_candidates('Он уважать себя заставил', 'iamb')[0] == ('уважать', [1, 3])
    assert 'уважать' not in learn_stresses([('Он уважать себя заставил', 'iamb')])
    # at the end of a masculine line the ending says where the last stress is: the 3rd
    lines = [('Он уважать себя заставил', 'iamb'), ('Себя заставил уважать', 'iamb')]
    assert learn_with_shares(lines)['уважать'] == (3, 0.75)


def test_trochee_and_a_three_syllable_meter():
    assert learn_stresses([('Три девицы под окном', 'trochee')]) == {'девицы': 2, 'окном': 2}
    # dactyl: strong syllables 1, 4, 7, 10; every word covers one
    assert learn_stresses([('Тучки небесные, вечные странники', 'dactyl')]) == \
        {'тучки': 1, 'небесные': 2, 'вечные': 1, 'странники': 1}


def test_meter_check_by_stress():
    table = learn_stresses((line, 'iamb') for line in ONEGIN_I.split('\n'))
    line = 'Мой дядя самых честных правил,'
    assert known_stresses(line, table) == [2, 4, 6, 8]
    assert fits_meter(line, 'iamb', table) is True
    assert fits_meter(line, 'trochee', table) is False
    assert fits_meter(line, 'iamb', {}) is None                          # nothing known, nothing said
    assert fits_meter('Ещё одно', 'iamb', {}) is True                      # a printed ё is its own stress
    assert guess_meter_by_stress(ONEGIN_I, table)[0] == 'iamb'
    assert guess_meter_by_stress(ONEGIN_I, {})[0] is None                  # too few known stresses
    trochee = {'девицы': 2, 'пряли': 1, 'вечерком': 3, 'окном': 2}
    tale = 'Три девицы под окном\nПряли поздно вечерком.\n' * 3
    assert guess_meter_by_stress(tale, trochee)[0] == 'trochee'
    assert guess_meter(tale, stresses=trochee)[0] == 'trochee'


def test_ending_from_the_stress_of_the_last_word():
    line = 'Мой дядя самых честных правил'
    assert ending(line, 'trochee') == 'm'                                  # the parity under a trochee
    assert ending(line, 'trochee', {'правил': 1}) == 'f'                   # the stress knows better
    assert ending(line, 'iamb', {}) == 'f'                                 # unknown word: the parity
    assert ending('Я вас любил: любовь ещё, быть может', 'iamb', {}) == 'f'    # 'может': parity
    assert ending('Не то, что нынешнее племя: ещё', 'iamb', {}) == 'm'     # ё: 'ещё' ends on the stress
    # a line that ends in Latin script is not read from its last Cyrillic word (that would say 'm')
    assert ending('Готов охлопать entrechat,', 'iamb', {'охлопать': 3}) == 'f'
    assert ending('И трудную', 'iamb', {'трудную': 1}) == 'd'
    assert ending(line, None, {'правил': 1}) is None
    assert rhymes('Мой дядя самых честных правил,', 'Он уважать себя заставил', 'iamb', {'правил': 1})


def test_bad_input():
    with pytest.raises(ValueError, match='meter must be one of'):
        stress_candidates('Мой дядя самых честных правил', 'hexameter')
    for bad in ('молодой', 'мОлодОй', 'МолодОй', 'мОлод-ой', 'wОrd', ''):
        with pytest.raises(ValueError, match='one capital letter'):
            read_marked(bad)
    assert read_marked('молодОй') == ('молодой', 3) and read_marked('Около') == ('около', 1)
    assert learn_stresses([]) == {} and learn_stresses([('', 'iamb'), ('...', 'iamb')]) == {}


def test_table_file_round_trip_and_bad_files(tmp_path):
    table = {'дядя': (1, 1.0), 'уважать': (3, 0.75)}
    save_table(table, tmp_path / 'stresses.tsv')
    assert read_table(tmp_path / 'stresses.tsv') == table
    assert load_stresses(corpus_dir=tmp_path / 'no corpus', cache_file=tmp_path / 'stresses.tsv') == \
        {'дядя': 1, 'уважать': 3}                                          # the cache: no corpus needed
    (tmp_path / 'other.tsv').write_text('word\tstress\n', encoding='utf-8')
    with pytest.raises(ValueError, match='not a stress table'):
        read_table(tmp_path / 'other.tsv')
    text = (tmp_path / 'stresses.tsv').read_text(encoding='utf-8')
    (tmp_path / 'broken.tsv').write_text(text + 'кот\tx\t1.0\n', encoding='utf-8')
    with pytest.raises(ValueError, match='line 4'):
        read_table(tmp_path / 'broken.tsv')


def test_load_stresses_learns_from_a_corpus_and_caches(tiny_corpus_dir, tmp_path):
    cache = tmp_path / 'stresses.tsv'
    stresses = load_stresses(corpus_dir=tiny_corpus_dir, cache_file=cache)
    assert cache.is_file() and stresses and all(s >= 1 for s in stresses.values())
    assert load_stresses(corpus_dir=tmp_path / 'gone', cache_file=cache) == stresses
