"""Dataset preparation: folders, .bin files, meta.json, the CLI, formats and plots."""
import json
import subprocess
import sys

import numpy as np
import pytest

from nanopushkin import corpus
from nanopushkin.prepare import PrepareConfig, dataset_name, main, prepare_dataset, token_dtype
from tokenizer import load_tokenizer

ROOT = corpus.ROOT
EOT = '<|endoftext|>'
TINY_TEXT = 'Мороз и солнце; день чудесный! Еще ты дремлешь, друг прелестный. Пора, красавица, проснись.'


def read_split(folder, split):
    meta = json.loads((folder / 'meta.json').read_text(encoding='utf-8'))
    return meta, np.fromfile(folder / f'{split}.bin', dtype=meta['dtype'])


def test_char_dataset_matches_the_contract(char_dataset, tiny_corpus_dir):
    meta, train = read_split(char_dataset, 'train')
    assert char_dataset.name == 'char'
    assert set(meta) == {'tokenizer', 'vocab_size', 'dtype', 'eot_id', 'tokenizer_file', 'format',
                         'train', 'val', 'sources'}
    assert (meta['tokenizer'], meta['dtype'], meta['format']) == ('char', 'uint16', 'pushkin')
    tok = load_tokenizer(char_dataset / meta['tokenizer_file'])
    assert tok.vocab_size == meta['vocab_size'] and tok.eot_id == meta['eot_id']
    works = {w.name: w for w in corpus.read_works(tiny_corpus_dir)}
    for split in ('train', 'val'):
        meta, ids = read_split(char_dataset, split)
        names = meta[split]['works']
        assert tok.decode(ids) == EOT.join(works[n].text for n in names)    # works joined by the eot
        assert meta[split]['tokens'] == len(ids) == meta[split]['chars']      # char: a token per char
        assert meta[split]['bytes'] == sum(len(works[n].text.encode()) for n in names) + len(names) - 1
    assert sorted(meta['val']['works']) == sorted(corpus.VAL_WORKS)
    assert meta['sources'] == {w.path: w.sha256 for w in works.values()}


def test_word_dataset_reports_oov(tiny_corpus_dir, tmp_path):
    folder = prepare_dataset('word', vocab_size=300, src=tiny_corpus_dir, out_root=tmp_path)
    meta, val = read_split(folder, 'val')
    assert folder.name == 'word300' and meta['vocab_size'] == 300 and meta['tokenizer'] == 'word'
    tok = load_tokenizer(folder / 'tokenizer.json')
    assert 0.3 < meta['val']['oov_rate'] < 1 and (val == tok.unk_id).any()


def test_bpe_dataset_trains_on_train_only(tiny_corpus_dir, tmp_path):
    folder = prepare_dataset('bpe', vocab_size=400, src=tiny_corpus_dir, out_root=tmp_path)
    meta, val = read_split(folder, 'val')
    tok = load_tokenizer(folder / 'tokenizer.json')
    assert folder.name == 'bpe400' and tok.vocab_size == meta['vocab_size'] == 400
    works = {w.name: w for w in corpus.read_works(tiny_corpus_dir)}
    assert tok.decode(val) == EOT.join(works[n].text for n in meta['val']['works'])
    assert meta['val']['tokens'] < meta['val']['chars']
    # the same tokenizer as one trained on the train works alone
    from tokenizer.bpe import BPETokenizer
    train_text = EOT.join(works[n].text for n in meta['train']['works'])
    assert BPETokenizer.train(train_text, vocab_size=400).merges == tok.merges


def test_pretrained_tokenizer_folder(tiny_corpus_dir, tmp_path):
    from tokenizer.bpe import BPETokenizer
    BPETokenizer.train(TINY_TEXT, vocab_size=300).save_pretrained(tmp_path / 'tiny-gpt')
    folder = prepare_dataset(f'pretrained:{tmp_path / "tiny-gpt"}', src=tiny_corpus_dir, out_root=tmp_path / 'd')
    meta, _ = read_split(folder, 'train')
    assert folder.name == 'pretrained-tiny-gpt' and meta['vocab_size'] == 300 and meta['tokenizer'] == 'bpe'


def test_pretrained_hub_name(tiny_corpus_dir, tmp_path, monkeypatch):
    """--tokenizer=pretrained:rugpt3medium: nanopushkin.hub resolves the name to the model's folder
    (downloading it once), and the dataset is named after it, where config/finetune_rugpt3.py looks.
    The resolver is replaced by one that returns a local folder: no network."""
    from nanopushkin import hub
    from nanopushkin.config import TrainConfig, parse_args
    from tokenizer.bpe import BPETokenizer
    BPETokenizer.train(TINY_TEXT, vocab_size=300).save_pretrained(tmp_path / 'model')
    asked = []
    monkeypatch.setattr(hub, 'resolve', lambda name: asked.append(name) or tmp_path / 'model')
    main(['--tokenizer=pretrained:rugpt3medium', f'--src={tiny_corpus_dir}', f'--out_root={tmp_path / "data"}'])
    meta, _ = read_split(tmp_path / 'data' / 'pretrained-rugpt3medium', 'train')
    assert asked == ['rugpt3medium'] and meta['vocab_size'] == 300 and meta['tokenizer'] == 'bpe'
    assert dataset_name('pretrained:ai-forever/rugpt3small_based_on_gpt2') == 'pretrained-rugpt3small_based_on_gpt2'
    # what config/finetune_rugpt3.py tells the user to run, and where it then looks for the data
    config_file = ROOT / 'config' / 'finetune_rugpt3.py'
    assert '#      python data/pushkin/prepare.py --tokenizer=pretrained:rugpt3medium\n' in config_file.read_text()
    assert parse_args(TrainConfig, [str(config_file)]).data_dir == 'data/pushkin/pretrained-rugpt3medium'


def test_pretrained_errors(tiny_corpus_dir, tmp_path, monkeypatch, capsys):
    with pytest.raises(FileNotFoundError, match='pretrained:no/such/model: no/such/model is neither a folder nor'):
        prepare_dataset('pretrained:no/such/model', src=tiny_corpus_dir, out_root=tmp_path)
    from nanopushkin import hub                                   # offline: the hub's message, no traceback
    monkeypatch.setattr(hub, 'HUB_URL', 'http://127.0.0.1:1')      # nothing listens on port 1
    monkeypatch.setenv('NANOPUSHKIN_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(SystemExit) as e:
        main(['--tokenizer=pretrained:rugpt3small', f'--src={tiny_corpus_dir}', f'--out_root={tmp_path}'])
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.startswith('error: could not download ai-forever/rugpt3small_based_on_gpt2')
    assert str(tmp_path / 'cache') in err and 'Traceback' not in err


def test_rerun_overwrites_cleanly(tiny_corpus_dir, tmp_path):
    first = prepare_dataset('char', src=tiny_corpus_dir, out_root=tmp_path)
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    (first / 'train.bin').write_bytes(b'garbage')
    again = prepare_dataset('char', src=tiny_corpus_dir, out_root=tmp_path)
    assert again == first and {p.name: p.read_bytes() for p in again.iterdir()} == before
    assert sorted(before) == ['meta.json', 'tokenizer.json', 'train.bin', 'val.bin']   # no .tmp left


def test_hashsep_format(tmp_path):
    stories = [f'Жил-был кот номер {i}. Он любил молоко и сказки.' for i in range(10)]
    src = tmp_path / 'stories.txt'
    src.write_text('\n##########\n'.join(stories), encoding='utf-8')
    folder = prepare_dataset('char', src=src, out_root=tmp_path / 'data', fmt='hashsep')
    meta, val = read_split(folder, 'val')
    tok = load_tokenizer(folder / 'tokenizer.json')
    assert folder.name == 'hashsep-char' and meta['format'] == 'hashsep'
    assert meta['val']['works'] == ['story 00010'] and len(meta['train']['works']) == 9
    assert tok.decode(val) == stories[-1] and list(meta['sources']) == ['stories.txt']


@pytest.mark.parametrize('kwargs, message', [
    (dict(tokenizer='sentencepiece'), 'unknown --tokenizer'),
    (dict(tokenizer='char', vocab_size=100), 'word and bpe'),
    (dict(tokenizer='pretrained:'), 'unknown --tokenizer'),
    (dict(fmt='hashsep'), 'needs --src'),
    (dict(fmt='csv'), 'unknown --format'),
])
def test_bad_arguments(kwargs, message, tiny_corpus_dir, tmp_path):
    kwargs.setdefault('src', None if kwargs.get('fmt') == 'hashsep' else tiny_corpus_dir)
    with pytest.raises(ValueError, match=message):
        prepare_dataset(out_root=tmp_path, **kwargs)


def test_the_counts_prepare_prints_mean_what_they_say(tmp_path, caplog):
    # a work whose cleaning makes it longer ('…' becomes '...') and one that cleaning shortens
    for kind, name, text in (('prose', 'Пиковая дама', 'Александр Пушкин\nПИКОВАЯ ДАМА\n\nИ что же…  Ну…\n'),
                             ('poems', 'Медный всадник', 'Александр Пушкин\nМЕДНЫЙ ВСАДНИК\n\n   На берегу\n'),
                             ('poems', 'Сказка о рыбаке и рыбке', 'Александр Пушкин\nСКАЗКА\n\nЖил старик\n'),
                             ('prose', 'Дубровский', 'Александр Пушкин\nДУБРОВСКИЙ\n\nНесколько лет…\n'),
                             ('prose', 'Выстрел', 'Александр Пушкин\nВЫСТРЕЛ\n\n' + 'Ну… ' * 30 + '\n')):
        (tmp_path / 'src' / kind).mkdir(parents=True, exist_ok=True)
        (tmp_path / 'src' / kind / f'{name}.txt').write_text(text, encoding='utf-8')
    with caplog.at_level('INFO'):
        folder = prepare_dataset('char', src=tmp_path / 'src', out_root=tmp_path / 'data')
    works = {w.path: w for w in corpus.read_works(tmp_path / 'src')}
    lines = caplog.messages
    for path, work in works.items():
        read = len(corpus.decode_bytes((tmp_path / 'src' / path).read_bytes())[0])
        line = next(m for m in lines if m.startswith(path))
        assert line.endswith(f'{read} characters read, {len(work.text):8d} after cleaning'), line
    # cleaning may lengthen a text: the old line said '179 of 147 characters kept' for this one
    assert len(works['prose/Выстрел.txt'].text) > len('Александр Пушкин\nВЫСТРЕЛ\n\n' + 'Ну… ' * 30 + '\n')
    meta = json.loads((folder / 'meta.json').read_text(encoding='utf-8'))
    train_text = sum(len(works[p].text) for p in works if works[p].name in meta['train']['works'])
    assert meta['train']['chars'] == train_text + 1       # two works: one separator between them
    assert any(m.startswith(f'train  2 works: {train_text} characters of text, {train_text + 1} with the 1 '
                            'end-of-text separator that meta.json counts') for m in lines), lines


def test_names_and_dtypes():
    assert dataset_name('char') == 'char' and dataset_name('bpe') == 'bpe4096'
    assert dataset_name('word') == 'word8000' and dataset_name('bpe', 1410) == 'bpe1410'
    assert dataset_name('word', 500, 'hashsep') == 'hashsep-word500'
    assert token_dtype(65535) == np.uint16 and token_dtype(65536) == np.uint32
    assert PrepareConfig().tokenizer == 'char' and PrepareConfig().out_root == 'data/pushkin'


def test_cli_default_is_char_and_errors_are_one_line(tiny_corpus_dir, tmp_path):
    script = str(ROOT / 'data' / 'pushkin' / 'prepare.py')
    run = subprocess.run([sys.executable, script, f'--src={tiny_corpus_dir}', '--out_root', str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / 'char' / 'meta.json').is_file() and 'val ' in run.stderr
    run = subprocess.run([sys.executable, script, f'--src={tmp_path / "nowhere"}'],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and 'Traceback' not in run.stderr
    assert run.stderr.startswith('error: ') and '--src' in run.stderr


def test_plots(tiny_corpus_dir, tmp_path, monkeypatch):
    from nanopushkin import corpus_stats
    monkeypatch.setattr(corpus_stats, 'COVERAGE_SIZES', (300, 400, 600))
    monkeypatch.setattr(corpus_stats, 'COVERAGE_KS', (2, 10))
    prepare_dataset('bpe', vocab_size=400, src=tiny_corpus_dir, out_root=tmp_path, plots=True,
                    plots_dir=tmp_path / 'plots')
    for name in ('zipf.png', 'token_ranks.png', 'vocab_coverage.png'):
        png = (tmp_path / 'plots' / name).read_bytes()
        assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000


def test_truncated_bpe_equals_a_smaller_training(tiny_corpus_dir):
    from nanopushkin.corpus_stats import truncate_bpe, vocab_coverage
    from tokenizer.bpe import BPETokenizer
    text = EOT.join(w.text for w in corpus.read_works(tiny_corpus_dir))
    big = BPETokenizer.train(text, vocab_size=600)
    small = BPETokenizer.train(text, vocab_size=350)
    cut = truncate_bpe(big, 350)
    assert cut.vocab == small.vocab and cut.merges == small.merges and cut.eot_id == small.eot_id == 349
    sizes, shares, _ = vocab_coverage(text, (350, 600), ks=(1, 10), big=big)
    assert sizes == [350, 600] and all(0 < s <= 1 for v in shares.values() for s in v)
    assert shares[1][0] >= shares[10][0]       # seen once is easier than seen ten times


def test_extra_training_text_joins_the_train_split_only(tiny_corpus_dir, contrast_dir, tmp_path, monkeypatch):
    """--extra_src: other writers' training works after Pushkin's in train.bin; the tokenizer, the
    validation split and the contrast authors' held-out works (split_contrast) stay as they were."""
    extra_dir = tmp_path / 'others'
    for author, size in (('Gogol', 3000), ('Chekhov', 2000)):
        (extra_dir / author / 'prose').mkdir(parents=True)
        for i, path in enumerate(sorted((contrast_dir / author / 'prose').glob('*.txt'))[:3]):
            text, encoding = corpus.decode_bytes(path.read_bytes())
            (extra_dir / author / 'prose' / path.name).write_bytes(text[:size - 500 * i].encode(encoding))
    plain = prepare_dataset('bpe', vocab_size=300, src=tiny_corpus_dir, out_root=tmp_path / 'plain')
    folder = prepare_dataset('bpe', vocab_size=300, src=tiny_corpus_dir, out_root=tmp_path, extra_src=extra_dir)
    assert folder.name == 'bpe300+others'
    assert (folder / 'tokenizer.json').read_bytes() == (plain / 'tokenizer.json').read_bytes()
    assert (folder / 'val.bin').read_bytes() == (plain / 'val.bin').read_bytes()
    meta, train = read_split(folder, 'train')
    plain_meta, _ = read_split(plain, 'train')
    extra = corpus.contrast_train_works(extra_dir)
    assert len(extra) == 4 and all(w.path.split('/')[0] in ('Gogol', 'Chekhov') for w in extra)  # 2 of 3 each
    held_out = {w.name for a in ('Gogol', 'Chekhov')
                for w in corpus.split_contrast(corpus.read_works(extra_dir / a), extra_dir / a)[1]}
    assert meta['train']['works'] == plain_meta['train']['works'] + [w.name for w in extra]
    assert not held_out & set(meta['train']['works'])
    works = {w.name: w for w in corpus.read_works(tiny_corpus_dir) + extra}
    assert load_tokenizer(folder / 'tokenizer.json').decode(train) == EOT.join(works[n].text for n in meta['train']['works'])
    assert {f'others/{w.path}' for w in extra} <= set(meta['sources'])
    monkeypatch.setattr(corpus, 'CONTRAST_BESIDE_DIR', extra_dir)       # --extra_src=contrast finds it there
    assert prepare_dataset('bpe', vocab_size=300, src=tiny_corpus_dir, out_root=tmp_path / 'kw',
                           extra_src='contrast').name == 'bpe300+contrast'
    with pytest.raises(FileNotFoundError, match='no <Author>/ folders'):
        prepare_dataset('bpe', vocab_size=300, src=tiny_corpus_dir, out_root=tmp_path, extra_src=tmp_path / 'plain')
