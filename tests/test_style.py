"""The style meter: normalization, passages, hashed n-gram features, AUC, training on a small
slice of the real corpora, the `python style.py` commands, and the repetition metrics."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import nanopushkin.style
from nanopushkin.config import ConfigError, parse_args
from nanopushkin.corpus import VAL_WORKS, Work, read_works, split_contrast, split_works
from nanopushkin.style import (MAX_N, METER_FORMAT, MIN_PASSAGE_CHARS, OTHERS, PASSAGE_CHARS, Meter,
                               StyleConfig, author_classes, class_weights, cut_passages, evaluate, featurize,
                               fit_meter, hash_ngram, inverse_document_frequency, known_word_share,
                               load_meter, ngram_buckets, normalize, pair_margins, passages_of,
                               repetition_metrics, roc_auc, score_texts, style_line,
                               train_logreg, train_naive_bayes)

ROOT = Path(__file__).resolve().parent.parent


def load_script(relative_path):
    """A script of the project (not a package module) imported by its path."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -----------------------------------------------------------------------------
# text -> passages

def test_normalize_hides_the_typography_of_the_edition():
    # the same line as Pushkin's files print it, and as Lermontov's (hard-wrapped, '"', ' - ', ё)
    pushkin_style = '«Всё кончено», — сказал он.\n\nИ ушёл…'
    lermontov_style = '  "Всё  кончено",  - сказал\nон.\nИ ушёл...'
    assert normalize(pushkin_style) == normalize(lermontov_style) == '"все кончено", — сказал он. и ушел...'
    assert normalize('кто-то') == 'кто-то'                  # a hyphen inside a word stays a hyphen
    assert normalize('за́мок <ред.>') == 'замок ред.'     # stress marks and editors' brackets go


def test_cut_passages_at_spaces():
    words = [f'слово{i}' for i in range(400)]
    text = ' '.join(words)
    passages = cut_passages(text)
    assert all(MIN_PASSAGE_CHARS <= len(p) <= PASSAGE_CHARS for p in passages)
    joined = ' '.join(passages)                              # every cut was at a space, and only
    assert text.startswith(joined) and len(text) - len(joined) <= MIN_PASSAGE_CHARS  # a short tail is lost
    assert all(len(p) > PASSAGE_CHARS - len('слово399 ') for p in passages[:-1])  # as full as they can be


def test_cut_passages_drops_a_short_tail_and_cuts_a_huge_word():
    assert cut_passages('') == []
    assert cut_passages('а' * (MIN_PASSAGE_CHARS - 1)) == []
    assert cut_passages('а' * MIN_PASSAGE_CHARS) == ['а' * MIN_PASSAGE_CHARS]
    text = 'б' * 450 + ' ' + 'в' * 60                          # the 60-character tail is dropped
    assert cut_passages(text) == ['б' * 450]
    assert cut_passages('г' * 1050) == ['г' * 500, 'г' * 500]  # no space anywhere: hard cuts


# -----------------------------------------------------------------------------
# features

def test_hashing_is_pinned():
    # A saved meter's weights mean these buckets, so the hash may never change silently. Pinned
    # values also show it does not depend on the process, as Python's salted hash() would.
    assert [hash_ngram(g) for g in ('а', 'аб', 'мой д', 'пушкин')] == [175158, 233563, 179153, 215197]


def test_vectorized_buckets_match_the_plain_definition():
    text = 'Мой дядя самых честных правил, когда не в шутку занемог'
    expected = [hash_ngram(text[i:i + n]) for n in range(1, MAX_N + 1) for i in range(len(text) - n + 1)]
    assert sorted(ngram_buckets(text).tolist()) == sorted(expected)
    assert sorted(ngram_buckets('аб', max_n=5).tolist()) == sorted(hash_ngram(g) for g in ('а', 'б', 'аб'))


def test_features_are_log_counts_of_known_ngrams_scaled_to_unit_length():
    counts = {'а': 2, 'б': 2, 'аб': 2, 'ба': 1, 'аба': 1, 'баб': 1, 'абаб': 1}    # 'абаб', by hand
    buckets = {hash_ngram(g): c for g, c in counts.items()}
    assert len(buckets) == len(counts)                       # no collision among these seven
    X = featurize(['абаб', 'абаб', 'ба'])
    assert X.n_rows == 3 and X.n_cols == 2 ** 18
    assert featurize([]).n_rows == 0
    row0 = {int(c): float(v) for r, c, v in zip(X.row, X.col, X.val) if r == 0}
    tf = {b: math.log1p(c) for b, c in buckets.items()}
    norm = math.sqrt(sum(v * v for v in tf.values()))
    assert row0.keys() == tf.keys()
    assert all(abs(row0[b] - tf[b] / norm) < 1e-6 for b in tf)
    # matvec / rmatvec are X @ w and X^T @ r
    dense = torch.zeros(3, X.n_cols)
    dense[X.row, X.col] = X.val
    w, r = torch.randn(X.n_cols), torch.randn(3)
    assert torch.allclose(X.matvec(w), dense @ w, atol=1e-5)
    assert torch.allclose(X.rmatvec(r), dense.T @ r, atol=1e-5)
    W = torch.randn(X.n_cols, 4)                             # one column per author
    assert torch.allclose(X.matvec(W), dense @ W, atol=1e-5)


def test_idf_counts_passages_and_weighs_the_log_counts():
    passages = ['абаб', 'абаб', 'ба', 'вв']
    idf = inverse_document_frequency(passages)
    # 'б' is in three of the four passages, 'в' in one, 'г' in none
    assert abs(idf[hash_ngram('б')] - (math.log(5 / 4) + 1)) < 1e-6
    assert abs(idf[hash_ngram('в')] - (math.log(5 / 2) + 1)) < 1e-6
    assert abs(idf[hash_ngram('г')] - (math.log(5) + 1)) < 1e-6
    plain, weighted = featurize(['ва'], idf=None), featurize(['ва'], idf=idf)   # rare 'в', common 'а'
    raw = {b: math.log1p(1) * idf[b] for b in (hash_ngram('в'), hash_ngram('а'), hash_ngram('ва'))}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    assert {int(c): round(float(v), 5) for c, v in zip(weighted.col, weighted.val)} == \
           {b: round(v / norm, 5) for b, v in raw.items()}
    assert abs(float((weighted.val ** 2).sum()) - 1) < 1e-5 and not torch.allclose(plain.val, weighted.val)


# -----------------------------------------------------------------------------
# evaluation and data rules

def test_roc_auc_is_the_pairwise_win_rate_with_ties_as_half():
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 60).astype(float)  # many ties
    pairwise = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert abs(roc_auc(pos, neg) - pairwise) < 1e-12
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0 and roc_auc([0.1], [0.9]) == 0.0
    assert math.isnan(roc_auc([], [0.5]))


def test_pair_margins_and_the_pair_auc_by_hand():
    # columns: Pushkin, Gogol, Lermontov; a passage's margin over an author is its Pushkin score minus his
    scores = {'Pushkin': torch.tensor([[2., 0., 1.], [0., 1., 3.]]),
              'Gogol': torch.tensor([[0., 1., 0.]]),
              'Lermontov': torch.tensor([[1., 0., 0.], [0., 2., 4.]])}
    margins = pair_margins(scores, ['Pushkin', 'Gogol', 'Lermontov'])
    assert {a: (list(p), list(q)) for a, (p, q) in margins.items()} == {
        'Gogol': ([2., -1.], [-1.]), 'Lermontov': ([1., -3.], [1., -4.])}
    probs = {a: torch.softmax(s, 1)[:, 0].numpy() for a, s in scores.items()}
    report = evaluate(probs, margins=margins)
    assert report['Gogol']['auc_pair'] == 1.5 / 2            # 2 > -1, -1 = -1 (a tie counts half)
    assert report['Lermontov']['auc_pair'] == 2.5 / 4        # 1 = 1, 1 > -4, -3 < 1, -3 > -4
    assert report['Pushkin']['auc_pair'] is None
    assert evaluate(probs)['Gogol']['auc_pair'] is None                  # no margins: no column


def test_split_contrast_holds_out_every_fifth_by_file_size(tmp_path):
    works = []
    for i in range(12):
        (tmp_path / f'w{i:02d}.txt').write_text('x' * (100 + i))
        works.append(Work(f'w{i:02d}', 'prose', f'w{i:02d}.txt', 'cleaned text', 'utf-8', ''))
    train, val = split_contrast(works, tmp_path)
    # largest first: w11 w10 w09 ...; every fifth from the second: w10, w05, w00
    assert [w.name for w in val] == ['w00', 'w05', 'w10']
    assert len(train) == 9 and not {w.name for w in train} & {w.name for w in val}


def test_class_weights_balance_pushkin_against_the_others():
    authors = ['Pushkin'] * 2 + ['Gogol'] * 6 + ['Lermontov'] * 2
    w = class_weights(authors)
    assert abs(w.sum().item() - 1) < 1e-6
    assert abs(w[:2].sum().item() - 0.5) < 1e-6                    # Pushkin: half
    assert abs(w[2:8].sum().item() - w[8:].sum().item()) < 1e-6    # big Gogol = small Lermontov
    names, classes = author_classes(authors)
    assert names == ['Pushkin', 'Gogol', 'Lermontov'] and classes.tolist() == [0, 0] + [1] * 6 + [2] * 2


# -----------------------------------------------------------------------------
# a real, small training run: Pushkin against Chekhov on held-out works

@pytest.fixture(scope='module')
def pushkin_vs_chekhov(corpus_dir, contrast_dir):
    p_train, p_val = split_works(read_works(corpus_dir), VAL_WORKS)
    c_train, c_val = split_contrast(read_works(contrast_dir / 'Chekhov'), contrast_dir / 'Chekhov')
    train = passages_of(p_train, 150), passages_of(c_train, 150)
    val = passages_of(p_val, 60), passages_of(c_val, 60)
    idf = inverse_document_frequency(train[0] + train[1])
    X = featurize(train[0] + train[1], idf=idf)
    classes = [0] * len(train[0]) + [1] * len(train[1])       # Pushkin is class 0
    weights = class_weights(['Pushkin'] * len(train[0]) + ['Chekhov'] * len(train[1]))
    return X, classes, weights, idf, val


# naive Bayes is the weaker model (on the full data too: see results/style/README.md)
@pytest.mark.parametrize('method, min_auc', [('logreg', 0.9), ('nb', 0.8)])
def test_training_on_a_small_slice_separates_pushkin_from_chekhov(pushkin_vs_chekhov, method, min_auc):
    X, classes, weights, idf, (val_pushkin, val_chekhov) = pushkin_vs_chekhov
    if method == 'logreg':
        w, b = train_logreg(X, classes, weights, epochs=3)
    else:
        w, b = train_naive_bayes(X, classes, weights)
    assert w.shape == (X.n_cols, 2) and b.shape == (2,)
    meter = Meter(w, b, method, ['Pushkin', 'Chekhov'], idf=idf)
    p_pushkin, p_chekhov = meter.passage_probs(val_pushkin), meter.passage_probs(val_chekhov)
    assert roc_auc(p_pushkin, p_chekhov) > min_auc            # works the meter has never seen
    if method == 'logreg':
        assert p_pushkin.mean() > 0.5 > p_chekhov.mean()


# -----------------------------------------------------------------------------
# the command line: train, then score

@pytest.fixture(scope='module')
def trained_meter(corpus_dir, contrast_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('style')
    cli = load_script('style.py')
    code = cli.main(['train', f'--pushkin_dir={corpus_dir}', f'--contrast_dir={contrast_dir}',
                     f'--meter={out / "meter.pt"}', f'--results_dir={out}', '--max_passages=40',
                     '--epochs=2'])
    assert code == 0
    return out


def test_train_saves_a_loadable_meter_and_metrics(trained_meter):
    meter = load_meter(trained_meter / 'meter.pt')
    assert meter.method == 'logreg' and meter.authors[0] == 'Pushkin' and len(meter.authors) >= 3
    assert meter.w.shape == (2 ** 18, len(meter.authors)) and meter.idf.shape == (2 ** 18,)
    held_out = meter.info['held_out_works']
    assert held_out['Pushkin'] == list(VAL_WORKS) and set(held_out) >= {'Chekhov', 'Gogol'}
    assert {'и', 'не', 'он', 'сказал'} <= meter.vocabulary and len(meter.vocabulary) > 1000
    assert (trained_meter / 'metrics.json').is_file() and (trained_meter / 'histogram.png').is_file()
    metrics = json.loads((trained_meter / 'metrics.json').read_text(encoding='utf-8'))
    assert metrics['vocabulary_words'] == len(meter.vocabulary)
    for author, report in metrics['models']['logreg']['held_out'].items():    # one column per author
        assert (report['auc_pair'] is None) == (author == 'Pushkin'), author
        assert author == 'Pushkin' or 0 <= report['auc_pair'] <= 1
        assert 0.5 < report['known_words'] < 1          # held-out works: most of their words, not all
    assert all(r['auc_pair'] is None for r in metrics['models']['nb']['held_out'].values())  # two columns


def test_score_prints_every_passage_and_a_last_style_line(trained_meter, corpus_dir, tmp_path, capsys):
    text = (corpus_dir / 'prose' / 'Пиковая дама.txt').read_text(encoding='utf-8')[:1500]
    f = tmp_path / 'text.txt'
    f.write_text(text, encoding='utf-8')
    assert load_script('style.py').main(['score', str(f), f'--meter={trained_meter / "meter.pt"}']) == 0
    lines = capsys.readouterr().out.strip().split('\n')
    n = int(lines[-1].split(' over ')[1].split()[0])
    assert n == 3 and len(lines) == 1 + n + 2         # header, one line per passage, known words, summary
    probs = [float(line.split()[1]) for line in lines[1:-2]]
    assert lines[-2].startswith('known words: 0.') and "of the" in lines[-2]
    assert lines[-1] == f'style: P(Pushkin)={np.mean(probs):.2f} over 3 passages'


def test_score_short_and_empty_input_and_missing_meter(trained_meter, tmp_path, capsys):
    cli = load_script('style.py')
    meter = f'--meter={trained_meter / "meter.pt"}'
    short = ('Я помню чудное мгновенье: передо мной явилась ты, как мимолетное виденье, '
             'как гений чистой красоты. В томленьях грусти безнадежной...')
    assert len(short) >= MIN_PASSAGE_CHARS
    assert cli.main(['score', '--text', short, meter]) == 0   # >= 100 characters: one passage
    assert capsys.readouterr().out.strip().split('\n')[-1].endswith('over 1 passage')
    assert cli.main(['score', '--text', 'Мороз и солнце', meter]) == 1
    assert 'too short' in capsys.readouterr().err
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n  \n', encoding='utf-8')
    assert cli.main(['score', str(empty), meter]) == 1
    assert 'empty' in capsys.readouterr().err
    assert cli.main(['score', '--text', short, f'--meter={tmp_path / "none.pt"}']) == 1
    assert 'python style.py train' in capsys.readouterr().err
    assert cli.main(['score', meter]) == 1
    assert 'nothing to score' in capsys.readouterr().err
    assert cli.main(['score', str(tmp_path), meter]) == 1
    assert 'not a file' in capsys.readouterr().err


def test_score_finds_the_file_among_the_options():
    split = load_script('style.py').split_file_argument
    assert split(['a.txt', '--meter', 'm.pt']) == ('a.txt', ['--meter', 'm.pt'])
    assert split(['--meter', 'm.pt', 'a.txt']) == ('a.txt', ['--meter', 'm.pt'])
    assert split(['--meter=m.pt', 'a.txt', '--plot']) == ('a.txt', ['--meter=m.pt', '--plot'])
    assert split(['--text', 'Буря мглою']) == (None, ['--text', 'Буря мглою'])


def test_library_scoring_for_samples(trained_meter):
    meter = load_meter(trained_meter / 'meter.pt')
    probs = score_texts(meter, ['слишком коротко', 'Буря мглою небо кроет, ' * 30])
    assert len(probs[0]) == 0 and len(probs[1]) == 2 and ((0 < probs[1]) & (probs[1] < 1)).all()
    assert style_line(np.concatenate(probs)).startswith('style: P(Pushkin)=')
    assert style_line([]) .startswith('style: no passage')


def test_load_meter_rejects_other_files(tmp_path):
    other = tmp_path / 'ckpt.pt'
    torch.save({'model': {}}, other)
    with pytest.raises(ValueError, match='not a style meter'):
        load_meter(other)
    torch.save({'format': METER_FORMAT, 'w': torch.zeros(4), 'b': 0.0}, other)   # version 1
    with pytest.raises(ValueError, match='older version'):
        load_meter(other)


def test_a_binary_meter_is_a_sigmoid_and_survives_save_and_load(tmp_path):
    w = torch.zeros(2 ** 18)
    w[hash_ngram('а')] = 5.0
    Meter(w, -1.0, vocabulary=frozenset({'кто-то', 'дом'})).save(tmp_path / 'meter.pt')
    meter = load_meter(tmp_path / 'meter.pt')
    assert meter.vocabulary == {'кто-то', 'дом'}
    x = featurize(['аааа бббб'])
    expected = torch.sigmoid(x.matvec(w) - 1.0).item()
    assert abs(meter.passage_probs(['аааа бббб'])[0] - expected) < 1e-6


# -----------------------------------------------------------------------------
# repetition metrics, computed by hand

def test_repetition_metrics_by_hand():
    # words: a b c d a b c d (8); bigrams 7, distinct 4; trigrams 6, distinct 4;
    # 4-grams: abcd bcda cdab dabc abcd -> abcd occurs twice, so 2 of the 5 positions repeat
    m = repetition_metrics('Дом, сад. Река — лес! дом сад река лес')
    assert m == {'distinct_2': 4 / 7, 'distinct_3': 4 / 6, 'repeated_4gram_share': 2 / 5}
    fresh = repetition_metrics('Мама мыла раму, а кто-то пил чай.')     # 'кто-то' is one word
    assert fresh == {'distinct_2': 1.0, 'distinct_3': 1.0, 'repeated_4gram_share': 0.0}
    loop = repetition_metrics(' '.join(['я помню чудное мгновенье'] * 10))
    assert loop['repeated_4gram_share'] == 1.0 and loop['distinct_2'] == 4 / 39
    one = repetition_metrics('Слово')
    assert all(math.isnan(v) for v in one.values())


def test_known_word_share_by_hand():
    vocabulary = {'мой', 'дядя', 'кто-то'}
    assert known_word_share('Мой дядя, кто-то — и я!', vocabulary) == 3 / 5      # 'и', 'я' unknown
    assert known_word_share('Мойдядя кт-то', vocabulary) == 0.0
    assert math.isnan(known_word_share('... — !', vocabulary))


def test_bench_char_ngram_lm_is_a_normalized_distribution():
    """bench/style_ceiling.py's language model: p(c | h) sums to 1 over the alphabet (the characters
    seen, plus one for every unseen character) after any context, seen or not, and text like its
    training text is likelier than the same characters shuffled."""
    bench = load_script('bench/style_ceiling.py')
    text = 'мороз и солнце; день чудесный! еще ты дремлешь, друг прелестный — пора, красавица, проснись. ' * 3
    lm = bench.CharNgramLM(text, order=4, discount=0.75)
    alphabet = sorted(set(text)) + ['ж']  # 'ж' never occurs: it stands for every unseen character
    for context in ['', 'м', 'мороз и', 'день чуд', 'жжж', 'xyz мор']:
        before = lm.log_likelihood(context) if context else 0.0
        total = sum(math.exp(lm.log_likelihood(context + c) - before) for c in alphabet)
        assert total == pytest.approx(1.0, abs=1e-9), context
    sample = 'пора, красавица, проснись: мороз и солнце'
    shuffled = ''.join(np.random.default_rng(0).permutation(list(sample)))
    assert lm.log_likelihood(sample) > lm.log_likelihood(shuffled) + 20


# -----------------------------------------------------------------------------
# names and columns, bad files, unwritable outputs, the parser

def test_naive_bayes_meter_names_its_two_columns(pushkin_vs_chekhov, tmp_path):
    X, classes, weights, idf, (val_pushkin, _) = pushkin_vs_chekhov
    labels = ['Pushkin' if c == 0 else 'Chekhov' for c in classes]
    nb = fit_meter(X, labels, 'nb', StyleConfig(), idf=idf)
    assert nb.authors == ['Pushkin', OTHERS] and nb.w.shape[1] == 2      # names and columns agree
    nb.save(tmp_path / 'nb.pt')
    assert load_meter(tmp_path / 'nb.pt').authors == ['Pushkin', OTHERS]
    with pytest.raises(AssertionError, match='2 weight columns'):
        Meter(nb.w, nb.b, 'nb', ['Pushkin', 'Chekhov', 'Gogol'])
    # a meter saved with five names over two columns (before OTHERS) is refused, not misread
    d = torch.load(tmp_path / 'nb.pt', weights_only=True)
    torch.save(dict(d, authors=['Pushkin', 'Chekhov', 'Gogol', 'Lermontov', 'Nekrasov']), tmp_path / 'old.pt')
    with pytest.raises(ValueError, match='5 authors for 2 weight columns'):
        load_meter(tmp_path / 'old.pt')


def test_a_corrupt_meter_file_is_a_one_line_error(tmp_path, capsys):
    good = tmp_path / 'meter.pt'
    Meter(torch.zeros(2 ** 18), 0.0).save(good)
    truncated, garbage = tmp_path / 'truncated.pt', tmp_path / 'garbage.pt'
    truncated.write_bytes(good.read_bytes()[:1000])
    garbage.write_bytes(b'\x80\x04not a pickle at all' * 10)
    for bad in (truncated, garbage):
        with pytest.raises(ValueError, match='is not a readable style meter') as error:
            load_meter(bad)
        assert '\n' not in str(error.value)
        assert load_script('style.py').main(['score', '--text', 'Буря мглою ' * 20, f'--meter={bad}']) == 1
        err = capsys.readouterr().err
        assert err.startswith('error: ') and err.count('\n') == 1 and 'python style.py train' in err


def test_train_writes_a_scratch_folder_unless_asked_to_commit(corpus_dir, contrast_dir, tmp_path, committable):
    """`python style.py train` from a folder laid out like a checkout leaves nothing for git (the meter in
    data/style/, the figures in out-style/); --commit_results=True writes the figures into results/style/."""
    env = {**os.environ, 'PUSHKIN_CORPUS': str(corpus_dir)}
    args = [sys.executable, str(ROOT / 'style.py'), 'train', f'--contrast_dir={contrast_dir}', '--max_passages=20',
            '--epochs=1']
    result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'data' / 'style' / 'meter.pt').is_file() and (tmp_path / 'out-style' / 'metrics.json').is_file()
    assert committable(tmp_path) == [] and 'a scratch folder; --commit_results=True' in result.stdout
    result = subprocess.run(args + ['--commit_results=True'], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert committable(tmp_path) == ['results/style/histogram.png', 'results/style/metrics.json']


def test_train_checks_that_it_can_write_before_doing_the_work(tmp_path, monkeypatch, capsys):
    def too_late(*args):
        raise AssertionError('the corpus was read before the outputs were checked')
    monkeypatch.setattr(nanopushkin.style, 'read_authors', too_late)
    a_file = tmp_path / 'a_file'
    a_file.write_text('not a folder')
    cli = load_script('style.py')
    for args in ([f'--meter={a_file}/meter.pt', f'--results_dir={tmp_path}'],
                 [f'--meter={tmp_path}/meter.pt', f'--results_dir={a_file}/results'],
                 [f'--meter={tmp_path}', f'--results_dir={tmp_path}']):
        assert cli.main(['train'] + args) == 1
        err = capsys.readouterr().err
        assert err.startswith('error: ') and err.count('\n') == 1, err


def test_score_reads_options_as_the_config_parser_does():
    split = load_script('style.py').split_file_argument
    # a bool option followed by a bool word takes it as its value; followed by anything else it is a flag
    files, options = split(['--plot', 'false', 'a.txt'])
    assert files == 'a.txt' and parse_args(StyleConfig, options, config_file_allowed=False).plot is False
    assert split(['--plot', 'a.txt']) == ('a.txt', ['--plot'])
    with pytest.raises(ConfigError, match='one FILE'):
        split(['a.txt', 'b.txt'])


def test_the_histogram_does_not_touch_pyplot(tmp_path):
    """A library function must not switch matplotlib's backend or load pyplot (the caller's choice)."""
    code = ('import sys, numpy as np; from nanopushkin.style import plot_histogram; '
            f'plot_histogram({{"Pushkin": np.array([.9, .8]), "Gogol": np.array([.1, .3])}}, {str(tmp_path / "h.png")!r}); '
            'assert "matplotlib.pyplot" not in sys.modules')
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'h.png').stat().st_size > 1000
