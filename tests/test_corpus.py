"""The raw corpus: every cleaning step, reading, the split by work, verification and download."""
import hashlib
import logging
import random

import pytest

from nanopushkin import corpus
from nanopushkin.corpus import (CorpusNotFound, Work, clean_text, collapse_blank_lines, decode_bytes,
                                drop_endnotes, drop_footnotes, join_letterspaced, normalize_newlines, normalize_unicode,
                                read_hashsep, read_works, remove_footnote_markers, replace_nbsp,
                                split_glued_lines, split_works, strip_header, strip_indentation,
                                unify_punctuation)


# ---------------------------------------------------------------------------- cleaning steps

def test_decode_utf8_then_cp1251():
    assert decode_bytes('Людмила'.encode('utf-8')) == ('Людмила', 'utf-8')
    assert decode_bytes('\ufeffЛюдмила'.encode('utf-8')) == ('Людмила', 'utf-8')   # BOM dropped
    assert decode_bytes('Руслан и Людмила'.encode('cp1251')) == ('Руслан и Людмила', 'cp1251')
    with pytest.raises(ValueError, match='neither UTF-8 nor cp1251'):
        decode_bytes(b'\x98')       # undefined in cp1251, invalid as UTF-8


def test_binary_files_are_not_texts():
    # any bytes but 0x98 are cp1251, so the fallback alone would read random binary as a "work";
    # UTF-8 allows NUL bytes, so a file of zeros would be one too
    rng = random.Random(0)
    binary = bytes(b for b in rng.randbytes(5000) if b != 0x98)
    for raw, encoding in ((binary, 'cp1251'), (bytes(300), 'utf-8')):
        with pytest.raises(ValueError, match=f'not a text file: read as {encoding}, .* control characters'):
            decode_bytes(raw)
    # a stray control character in a real text is fine
    assert decode_bytes(('Людмила\x01' + ' и Руслан, ' * 20).encode('cp1251'))[1] == 'cp1251'


def test_binary_file_in_the_corpus_is_named(tmp_path):
    (tmp_path / 'prose').mkdir()
    (tmp_path / 'prose' / 'Дубровский.txt').write_bytes(bytes(range(256)).replace(b'\x98', b'') * 10)
    with pytest.raises(ValueError, match='Дубровский.txt: this is not a text file'):
        corpus.read_works(tmp_path)


def test_normalize_unicode_composes():
    decomposed = 'и\u0306'          # и + combining breve
    assert normalize_unicode(decomposed) == 'й' and len(normalize_unicode(decomposed)) == 1


def test_normalize_newlines():
    assert normalize_newlines('а\r\nб\rв\n') == 'а\nб\nв\n'


def test_join_letterspaced_names_but_not_initials():
    text = 'Князья Ш\u00a0у\u00a0й\u00a0с\u00a0к\u00a0и\u00a0й и В.\u00a0Н.\u00a0Берх, я\u00a0– нет'
    assert join_letterspaced(text) == 'Князья Шуйский и В.\u00a0Н.\u00a0Берх, я\u00a0– нет'


def test_replace_nbsp():
    assert replace_nbsp('В.\u00a0Н.\u00a0Берх') == 'В. Н. Берх'


def test_strip_indentation():
    assert strip_indentation('     Для вас, души моей царицы,  \n\t Красавицы\n   \n') == \
        'Для вас, души моей царицы,\nКрасавицы\n\n'


@pytest.mark.parametrize('raw, expected', [
    ('Александр Пушкин\nАНЧАР 1\nВ пустыне чахлой', 'В пустыне чахлой'),
    ('Александр Пушкин\n* * *\nЯ вас любил', 'Я вас любил'),
    ('Александр Пушкин\nСКАЗКА\nО ЗОЛОТОМ ПЕТУШКЕ\nНегде, в тридевятом царстве', 'Негде, в тридевятом царстве'),
    ('\nАлександр Сергеевич Пушкин\nБорис Годунов\n\nДрагоценной', '\nДрагоценной'),
    ('Александр Сергеевич Пушкин. Дубровский\n\n\n* ТОМ ПЕРВЫЙ *\n', '\n\n* ТОМ ПЕРВЫЙ *\n'),
    ('Александр Пушкин\nМОЦАРТ И САЛЬЕРИ\nСЦЕНА I\nКомната.', 'СЦЕНА I\nКомната.'),
    ('Александр Пушкин\nКИРДЖАЛИ\nПОВЕСТЬ\nКирджали был', 'Кирджали был'),
    ('Повести покойного Ивана Петровича Белкина\n\nТекст', 'Повести покойного Ивана Петровича Белкина\n\nТекст'),
])
def test_strip_header(raw, expected):
    assert strip_header(raw) == expected


def test_split_glued_lines():
    assert split_glued_lines('Александр ПушкинКРЕМЛЕВСКИЕ ПАЛАТЫ') == 'Александр Пушкин\n\nКРЕМЛЕВСКИЕ ПАЛАТЫ'
    assert split_glued_lines('Сказал ОН и Иван') == 'Сказал ОН и Иван'


def test_drop_endnotes_only_the_final_section():
    text = 'стихи\nПримечания к главе первой\n1\nсвоя\nКомментарий\nНаписано в 1833 г.\nПримечания\n1\nx'
    assert drop_endnotes(text) == 'стихи\nПримечания к главе первой\n1\nсвоя\n'


def test_drop_footnotes():
    text = ('разъехались.\n1\nмосковскую Венеру (франц.).\n2\nВы, кажется...\nЧто делать? (франц.).\n\nII\n'
            'Глава.\n\n1\n\nПримечание Пушкина.\n\nСтих\n1\n3\nконец')
    assert drop_footnotes(text) == ('разъехались.\n\nII\nГлава.\n\n1\n\nПримечание Пушкина.\n\n'
                                    'Стих\n1\n3\nконец')   # a lone '1' or '1', '3' is not a note block


def test_remove_footnote_markers():
    assert remove_footnote_markers('1720 года.[1] по уметам(10) и') == '1720 года. по уметам и'
    kept = '(1598 года, 20 февраля) и culotte 1.'       # real parentheses; a bare number is ambiguous
    assert remove_footnote_markers(kept) == kept


def test_unify_punctuation_and_blank_lines():
    assert unify_punctuation('1817–1820… я – нет') == '1817—1820... я — нет'
    assert collapse_blank_lines('\n\nстрофа\n\n\n\n\nстрофа\n\n') == 'строфа\n\nстрофа'


def test_clean_text_chains_the_steps():
    raw = ('      \r\n   Александр Сергеевич Пушкин\r\n   РУСЛАН И ЛЮДМИЛА\r\n  \r\n'
           '     Для\u00a0вас, души моей царицы,[1]\r\n\r\n\r\n\r\n     Красавицы…\r\n').encode('cp1251')
    assert clean_text(raw) == ('Для вас, души моей царицы,\n\nКрасавицы...', 'cp1251')


# ---------------------------------------------------------------------------- reading and splitting

def test_read_works_tiny(tiny_corpus_dir):
    works = read_works(tiny_corpus_dir)
    by_name = {w.name: w for w in works}
    assert by_name['Руслан и Людмила'].encoding == 'cp1251'
    assert 'Людмил' in by_name['Руслан и Людмила'].text
    assert by_name['Пиковая дама'].kind == 'prose' and by_name['Медный всадник'].kind == 'poems'
    for w in works:
        raw = (tiny_corpus_dir / w.path).read_bytes()
        assert w.sha256 == hashlib.sha256(raw).hexdigest()
        assert w.text and w.text == w.text.strip() and '\u00a0' not in w.text and '\r' not in w.text
        assert not w.text.startswith('Александр')


def test_split_is_by_work(tiny_corpus_dir):
    train, val = split_works(read_works(tiny_corpus_dir))
    assert sorted(w.name for w in val) == sorted(corpus.VAL_WORKS)
    assert not {w.name for w in train} & set(corpus.VAL_WORKS) and len(train) == 5
    with pytest.raises(ValueError, match='validation works'):
        split_works([w for w in train], val_names=('Пиковая дама',))


def test_read_works_needs_the_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match='--src'):
        read_works(tmp_path)


def test_contrast_authors_read_the_same_way(contrast_dir):
    works = read_works(contrast_dir / 'Lermontov')     # poems/ without an info.csv is fine too
    assert len(works) > 5 and all(w.text for w in works)


def test_full_corpus_cleaning(corpus_dir):
    """The real thing, cleaning only (no tokenizer): cheap, and it checks the known raw defects."""
    works = read_works(corpus_dir)
    assert len(works) == 45
    by_name = {w.name: w for w in works}
    ruslan = by_name['Руслан и Людмила']
    assert ruslan.encoding == 'cp1251' and ruslan.text.startswith('Посвящение\n\nДля вас, души моей царицы,')
    assert 'реакционным' not in ruslan.text                # the editor's commentary is gone
    assert 'Бонди' not in by_name['Медный всадник'].text
    for w in works:
        assert not any(c in w.text for c in '\u00a0\r\u2013\u2026'), w.name
        assert 'Ð' not in w.text and 'Ñ' not in w.text, w.name   # no UTF-8-read-as-Latin-1 mojibake
        assert not w.text.startswith(('Александр', '* * *')), w.name
        assert '[1]' not in w.text and '\n\n\n' not in w.text and '(франц.)' not in w.text, w.name
    assert 'Шуйский' in by_name['Борис Годунов'].text
    train, val = split_works(works)
    assert sorted(w.name for w in val) == sorted(corpus.VAL_WORKS) and len(train) == 42


def test_hashsep(tmp_path):
    f = tmp_path / 'stories.txt'
    f.write_text('\n##########\n'.join(f'История номер {i}.\r\nКонец.' for i in range(20)) + '\n##########\n',
                 encoding='utf-8')
    works = read_hashsep(f)
    assert [w.text for w in works[:2]] == ['История номер 0.\nКонец.', 'История номер 1.\nКонец.']
    assert len(works) == 20
    assert corpus.hashsep_val_names(works) == ('story 00019', 'story 00020')
    f.write_text('одна история', encoding='utf-8')
    with pytest.raises(ValueError, match='at least 2'):
        read_hashsep(f)


# ---------------------------------------------------------------------------- verify, find, download

def test_verify_corpus(corpus_dir, tiny_corpus_dir, caplog):
    assert corpus.verify_corpus(corpus_dir) == []
    with caplog.at_level(logging.WARNING):
        problems = corpus.verify_corpus(tiny_corpus_dir)
    assert 'differs' in problems[0] or 'missing' in problems[0]
    assert 'does not match' in caplog.text
    with pytest.raises(ValueError, match='--strict'):
        corpus.verify_corpus(tiny_corpus_dir, strict=True)


def test_find_corpus_src_then_env(tiny_corpus_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    assert corpus.find_corpus(tiny_corpus_dir) == tiny_corpus_dir
    monkeypatch.setenv(corpus.ENV_VAR, str(tiny_corpus_dir))
    assert corpus.find_corpus() == tiny_corpus_dir
    with pytest.raises(CorpusNotFound, match='not a corpus folder'):
        corpus.find_corpus(tmp_path)


def test_the_one_rule_for_finding_the_corpus(tiny_corpus_dir, tmp_path, monkeypatch):
    """--src, else $PUSHKIN_CORPUS, else ../shared/data/pushkin beside the checkout, else the cache,
    else a download: the first that is there wins, and nothing is downloaded when one is."""
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    monkeypatch.setattr(corpus, 'download_corpus', lambda *args: pytest.fail('downloaded although a corpus is there'))
    cache = tmp_path / 'raw'
    for name in corpus.read_sums():                 # a complete cache (empty files: never read here)
        (cache / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / name).write_bytes(b'')
    monkeypatch.setattr(corpus, 'CACHE_DIR', cache)
    monkeypatch.setattr(corpus, 'BESIDE_DIR', tmp_path / 'no' / 'shared')
    assert corpus.find_corpus() == cache
    monkeypatch.setattr(corpus, 'BESIDE_DIR', tiny_corpus_dir)
    assert corpus.find_corpus() == tiny_corpus_dir
    other = tmp_path / 'other'
    (other / 'prose').mkdir(parents=True)
    monkeypatch.setenv(corpus.ENV_VAR, str(other))
    assert corpus.find_corpus() == other
    assert corpus.find_corpus(tiny_corpus_dir) == tiny_corpus_dir


def test_offline_without_a_corpus_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    monkeypatch.setattr(corpus, 'BESIDE_DIR', tmp_path / 'shared')
    monkeypatch.setattr(corpus, 'CACHE_DIR', tmp_path / 'raw')
    monkeypatch.setattr(corpus, 'RAW_URL', 'http://127.0.0.1:9/{folder}/{name}')   # nothing listens there
    with pytest.raises(CorpusNotFound) as e:
        corpus.find_corpus()
    message = str(e.value)
    assert '--src' in message and corpus.ENV_VAR in message and 'raw' in message and 'shared' in message
    assert '\n' not in message


def test_download_corpus(file_server, tmp_path):
    """Every file of the sums, from its folder's URL (the names quoted), into dest/<folder>/<name>:
    an interrupted run's .part is continued, files already there are kept, a wrong hash is refused."""
    files = {'/poems/Анчар.txt': 'В пустыне чахлой и скупой'.encode('utf-8') * 50,
             '/prose/Кирджали.txt': 'Кирджали был родом булгар.'.encode('utf-8') * 50}
    sums = {k[1:]: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    file_server.files.update(files)
    url = file_server.url + '/{folder}/{name}'
    dest = tmp_path / 'raw'
    (dest / 'poems').mkdir(parents=True)
    (dest / 'poems' / 'Анчар.txt.part').write_bytes(files['/poems/Анчар.txt'][:100])  # interrupted before
    assert corpus.download_corpus(dest, sums, url) == dest
    for k, v in files.items():
        assert (dest / k[1:]).read_bytes() == v
    assert sorted(file_server.requests) == [('/poems/Анчар.txt', 'bytes=100-'), ('/prose/Кирджали.txt', None)]
    assert not list(dest.rglob('*.part'))
    corpus.download_corpus(dest, sums, url)              # all present and verified: nothing fetched
    assert len(file_server.requests) == 2

    file_server.files['/poems/Анчар2.txt'] = b'tampered'
    with pytest.raises(ValueError, match='sha256 .* instead of 0000.*SHA256SUMS'):
        corpus.download_corpus(dest, {'poems/Анчар2.txt': '0' * 64}, url)
    assert not (dest / 'poems' / 'Анчар2.txt').exists() and not list(dest.rglob('*.part'))
    with pytest.raises(CorpusNotFound, match='is not there.*--src'):
        corpus.download_corpus(dest, {'poems/Нет такого.txt': '0' * 64}, url)


def test_the_contrast_corpus_downloads_from_its_authors_folders(file_server, tmp_path, monkeypatch):
    """A contrast name <Author>/<folder>/<file> is <folder>/<Author>/<file> upstream; offline, the
    error says how to provide the folder instead."""
    text = 'Майор Ковалев проснулся довольно рано.'.encode('utf-8') * 20
    file_server.files['/prose/Gogol/Нос.txt'] = text
    monkeypatch.setattr(corpus, 'CONTRAST_BESIDE_DIR', tmp_path / 'shared')
    monkeypatch.setattr(corpus, 'CONTRAST_CACHE_DIR', tmp_path / 'raw')
    sums_file = tmp_path / 'SHA256SUMS'
    sums_file.write_text(f'{hashlib.sha256(text).hexdigest()}  ./Gogol/prose/Нос.txt\n', encoding='utf-8')
    monkeypatch.setattr(corpus, 'CONTRAST_SUMS_FILE', sums_file)
    monkeypatch.setattr(corpus, 'RAW_URL', 'http://127.0.0.1:9/{folder}/{author}/{name}')   # nothing listens
    with pytest.raises(CorpusNotFound, match='could not download the contrast corpus.*--extra_src DIR'):
        corpus.find_contrast()
    monkeypatch.setattr(corpus, 'RAW_URL', file_server.url + '/{folder}/{author}/{name}')
    assert corpus.find_contrast() == tmp_path / 'raw'
    assert (tmp_path / 'raw' / 'Gogol' / 'prose' / 'Нос.txt').read_bytes() == text
    assert corpus.find_contrast() == tmp_path / 'raw' and len(file_server.requests) == 1   # cached: kept


def test_embedded_contrast_sums_match_the_shared_contrast_corpus(contrast_dir):
    assert corpus.read_sums(corpus.CONTRAST_SUMS_FILE) == corpus.read_sums(contrast_dir / 'SHA256SUMS')


def test_embedded_sums_match_the_shared_corpus(corpus_dir):
    assert corpus.read_sums() == corpus.read_sums(corpus_dir / 'SHA256SUMS')
    assert len(corpus.read_sums()) == 47 and 'poems/Руслан и Людмила.txt' in corpus.read_sums()


def test_work_is_a_plain_record():
    w = Work('x', 'prose', 'prose/x.txt', 'text', 'utf-8', '0' * 64)
    assert (w.name, w.kind, w.path) == ('x', 'prose', 'prose/x.txt')
