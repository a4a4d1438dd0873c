"""Opening a prepared dataset (nanopushkin/data.py): every way its files can disagree with meta.json
is a one-line error that names the file and the command that prepares the dataset again."""
import json
import shutil

import numpy as np
import pytest

from nanopushkin.data import Dataset

PREPARE = 'python data/pushkin/prepare.py'


@pytest.fixture
def dataset_copy(char_dataset, tmp_path):
    """A copy of the prepared char dataset to damage, named like the real folder."""
    folder = tmp_path / 'char'
    shutil.copytree(char_dataset, folder)
    return folder


def edit_meta(folder, change):
    path = folder / 'meta.json'
    meta = json.loads(path.read_text(encoding='utf-8'))
    change(meta)
    path.write_text(json.dumps(meta), encoding='utf-8')


def open_fails(folder, *fragments):
    with pytest.raises((ValueError, FileNotFoundError)) as e:
        Dataset(folder)
    message = str(e.value)
    assert '\n' not in message and PREPARE in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_a_good_dataset_opens(dataset_copy):
    data = Dataset(dataset_copy)
    assert len(data.splits['train']) == data.meta['train']['tokens'] > 0
    assert data.tokenizer().vocab_size == data.vocab_size


def test_truncated_bin(dataset_copy):
    path = dataset_copy / 'train.bin'
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 25])   # 4% of the data
    open_fails(dataset_copy, str(path), 'cut short')


@pytest.mark.parametrize('dtype', ['uint8', 'int64', 'float32', 'no-such-type', 7])
def test_wrong_dtype(dataset_copy, dtype):
    edit_meta(dataset_copy, lambda m: m.update(dtype=dtype))
    open_fails(dataset_copy, 'meta.json', f'dtype {dtype!r}')


def test_uint32_data_under_a_uint16_label(dataset_copy):
    edit_meta(dataset_copy, lambda m: m.update(dtype='uint32'))
    open_fails(dataset_copy, 'train.bin', 'bytes')


@pytest.mark.parametrize('vocab_size', [0, -5, 'big', 70_000])
def test_nonsense_vocab_size(dataset_copy, vocab_size):
    edit_meta(dataset_copy, lambda m: m.update(vocab_size=vocab_size))
    open_fails(dataset_copy, 'meta.json', 'vocab_size')


def test_vocab_size_smaller_than_the_ids(dataset_copy):
    edit_meta(dataset_copy, lambda m: m.update(vocab_size=10))
    open_fails(dataset_copy, 'train.bin', 'holds token id', 'vocab_size is 10')


def test_vocab_size_larger_than_the_tokenizer(dataset_copy):
    # the ids fit, but a model trained with it could sample ids the tokenizer cannot decode
    edit_meta(dataset_copy, lambda m: m.update(vocab_size=m['vocab_size'] + 100))
    open_fails(dataset_copy, 'tokenizer', 'has')


def test_ids_out_of_range_in_the_data(dataset_copy):
    ids = np.fromfile(dataset_copy / 'val.bin', dtype=np.uint16)
    ids[3] = 60_000
    ids.tofile(dataset_copy / 'val.bin')
    open_fails(dataset_copy, 'val.bin', 'holds token id 60000')


@pytest.mark.parametrize('key', ['vocab_size', 'dtype', 'train', 'tokenizer_file'])
def test_missing_keys(dataset_copy, key):
    edit_meta(dataset_copy, lambda m: m.pop(key))
    open_fails(dataset_copy, 'meta.json', f'lacks {key}')


def test_bad_token_counts(dataset_copy):
    edit_meta(dataset_copy, lambda m: m['val'].update(tokens='many'))
    open_fails(dataset_copy, 'meta.json', 'val counts')
    edit_meta(dataset_copy, lambda m: m.update(val=[1, 2]))
    open_fails(dataset_copy, 'meta.json', 'val counts')


@pytest.mark.parametrize('content', ['[1, 2]', '{"vocab_size": ', '[' * 100_000], ids=['list', 'cut', 'nested'])
def test_meta_json_that_is_not_an_object(dataset_copy, content):
    (dataset_copy / 'meta.json').write_text(content)
    open_fails(dataset_copy, 'meta.json')


def test_missing_or_broken_tokenizer(dataset_copy):
    (dataset_copy / 'tokenizer.json').write_text('{"kind": "char", "chars": 5}')
    open_fails(dataset_copy, 'tokenizer')
    (dataset_copy / 'tokenizer.json').unlink()
    open_fails(dataset_copy, 'tokenizer.json')


def test_missing_bin(dataset_copy):
    (dataset_copy / 'val.bin').unlink()
    open_fails(dataset_copy, 'val.bin is missing')
