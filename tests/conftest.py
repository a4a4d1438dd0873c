"""Shared fixtures: the real corpus (skipped when absent) and a tiny copy of it for fast tests."""
import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # import nanopushkin and tokenizer without installing

SHARED = ROOT.parent / 'shared' / 'data'

# (folder, work, characters kept): the three validation works, the cp1251 file, files with
# NO-BREAK SPACEs, a multi-line title and verse indentation, so the tiny corpus has every defect
TINY_WORKS = [
    ('prose', 'Пиковая дама', 5000),
    ('prose', 'Капитанская дочка', 5000),
    ('prose', 'Дубровский', 4000),
    ('poems', 'Медный всадник', 4000),
    ('poems', 'Сказка о рыбаке и рыбке', 3000),
    ('poems', 'Руслан и Людмила', 4000),
    ('poems', 'Сказка о царе Салтане', 3000),
    ('poems', 'Анчар', 3000),
]


@pytest.fixture(scope='session')
def corpus_dir():
    path = SHARED / 'pushkin'
    if not (path / 'prose').is_dir():
        pytest.skip(f'the Pushkin corpus is not at {path} (ROOT/../shared/data/pushkin)')
    return path


@pytest.fixture(scope='session')
def contrast_dir():
    path = SHARED / 'contrast'
    if not path.is_dir():
        pytest.skip(f'the contrast corpus is not at {path} (ROOT/../shared/data/contrast)')
    return path


@pytest.fixture(scope='session')
def tiny_corpus_dir(corpus_dir, tmp_path_factory):
    """A small corpus folder in the real layout: the first few thousand characters of a few works,
    written back in their original encoding (Руслан и Людмила stays cp1251)."""
    from nanopushkin.corpus import decode_bytes
    out = tmp_path_factory.mktemp('tiny_corpus')
    for kind in ('prose', 'poems'):
        (out / kind).mkdir()
        years = {row['name']: row['year']
                 for row in csv.DictReader(open(corpus_dir / kind / 'info.csv', encoding='utf-8'))}
        chosen = [(name, n) for k, name, n in TINY_WORKS if k == kind]
        with open(out / kind / 'info.csv', 'w', encoding='utf-8', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['name', 'year'])
            for name, n in chosen:
                text, encoding = decode_bytes((corpus_dir / kind / f'{name}.txt').read_bytes())
                (out / kind / f'{name}.txt').write_bytes(text[:n].encode(encoding))
                writer.writerow([name, years[name]])
    return out


@pytest.fixture(scope='session')
def char_dataset(tiny_corpus_dir, tmp_path_factory):
    """A prepared char-level dataset folder (train.bin, val.bin, meta.json, tokenizer.json) of the
    tiny corpus."""
    from nanopushkin.prepare import prepare_dataset
    return prepare_dataset('char', src=tiny_corpus_dir, out_root=tmp_path_factory.mktemp('data'))
