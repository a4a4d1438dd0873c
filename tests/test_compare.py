"""compare.py: every run through the same trainer under one budget, a report that matches the logs,
resuming finished runs, and failed runs reported without stopping the others."""
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

import nanopushkin.trainer
from nanopushkin import compare as cmp
from nanopushkin.compare import CompareConfig, compare
from nanopushkin.config import ConfigError, TrainConfig
from nanopushkin.data import unigram_bits_per_char

ROOT = cmp.ROOT
# tiny models for every architecture; a token budget makes the runs identical on any machine
TINY = ('n_layer=1 n_embd=16 n_hidden=32 context=4 batch_size=4 block_size=16 warmup_iters=2 '
        'learning_rate=5e-3 min_lr=5e-4')
# the rate fixed here, not the config's: at 8e-3 (config/gru.py's, tuned for 6M tokens) this 30-step GRU
# writes the same continuation after every prompt, and the tests check that prompts matter
TOKENS = 4 * 16 * 30   # 30 iterations


@pytest.fixture(scope='module')
def broken_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('configs') / 'broken.py'
    path.write_text("model = 'gpt'\nn_head = 3\n")   # 16 channels do not split into 3 heads
    return path


@pytest.fixture(scope='module')
def meter(corpus_dir, contrast_dir, tmp_path_factory):
    """A small style meter trained for these tests (a clean clone has none), so the style columns
    and the reference rows are computed for real."""
    from nanopushkin.style import StyleConfig, train_meter
    out = tmp_path_factory.mktemp('meter')
    train_meter(StyleConfig(meter=str(out / 'meter.pt'), pushkin_dir=str(corpus_dir),
                            contrast_dir=str(contrast_dir), results_dir=str(out), max_passages=40,
                            epochs=2, plot=False), log=lambda *args: None)
    return out / 'meter.pt'


@pytest.fixture(scope='module')
def comparison(tiny_corpus_dir, broken_config, meter, contrast_dir, tmp_path_factory):
    """The command a user runs, on the tiny corpus: two architectures and one that fails."""
    tmp = tmp_path_factory.mktemp('compare')
    argv = [f'--archs=linear,gru,{broken_config}', f'--max_tokens={TOKENS}', f'--src={tiny_corpus_dir}',
            f'--data_root={tmp / "data"}', f'--results_dir={tmp / "results"}', '--name=test',
            '--eval_interval=10', '--eval_iters=2', f'--train_args={TINY}', '--sample_chars=40',
            '--style_chars=150', f'--meter={meter}', f'--contrast_dir={contrast_dir}']
    result = subprocess.run([sys.executable, 'compare.py'] + argv, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    settings = dataclasses.replace(CompareConfig(), archs=f'linear,gru,{broken_config}', max_tokens=TOKENS,
                                   src=str(tiny_corpus_dir), data_root=str(tmp / 'data'),
                                   results_dir=str(tmp / 'results'), name='test', eval_interval=10,
                                   eval_iters=2, train_args=TINY, sample_chars=40,
                                   style_chars=150, meter=str(meter), contrast_dir=str(contrast_dir))
    folder = tmp / 'results' / 'test'
    return settings, folder, json.loads((folder / 'results.json').read_text(encoding='utf-8'))


def rows_by_id(results):
    return {row['run_id']: row for row in results['runs']}


def test_writes_every_report_file(comparison):
    _, folder, results = comparison
    for name in ('results.md', 'results.json', 'curves.png', 'samples.md'):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert sorted(rows_by_id(results)) == ['char-broken', 'char-gru', 'char-linear']
    samples = (folder / 'samples.md').read_text(encoding='utf-8')
    for run_id in ('char-linear', 'char-gru'):
        sample = rows_by_id(results)[run_id]['sample']
        assert sample.startswith(CompareConfig.prompt) and len(sample) > len(CompareConfig.prompt)
        assert f'## {run_id}' in samples and sample in samples


def test_table_values_are_the_logged_values(comparison):
    _, folder, results = comparison
    table = (folder / 'results.md').read_text(encoding='utf-8')
    for run_id in ('char-linear', 'char-gru'):
        row = rows_by_id(results)[run_id]
        log = [json.loads(line) for line in (folder / 'runs' / run_id / 'log.jsonl').read_text().splitlines()]
        done = log[-1]
        assert done['event'] == 'done'
        for key in ('val_loss', 'val_bits_per_char', 'num_params', 'tokens', 'tokens_per_sec', 'elapsed'):
            assert row[key] == done[key], key
        assert row['curve'] == [{'tokens': e['tokens'], 'elapsed': e['elapsed'],
                                 'val_bits_per_char': e['val_bits_per_char']} for e in log if e['event'] == 'eval']
        line = next(line for line in table.splitlines() if line.startswith(f'| {run_id} |'))
        assert f"| {done['val_loss']:.3f} | {done['val_bits_per_char']:.3f} |" in line
        assert f"| {cmp.human(done['num_params'])} |" in line


def test_equal_token_budget_and_schedule_ending_at_min_lr(comparison):
    settings, folder, results = comparison
    for run_id in ('char-linear', 'char-gru'):
        assert rows_by_id(results)[run_id]['tokens'] == TOKENS    # a whole number of iterations here
        log = [json.loads(line) for line in (folder / 'runs' / run_id / 'log.jsonl').read_text().splitlines()]
        last_eval = [e for e in log if e['event'] == 'eval'][-1]
        config = json.loads((folder / 'runs' / run_id / 'compare.json').read_text())['identity']['config']
        assert math.isclose(last_eval['lr'], config['min_lr'])
        assert config['seed'] == settings.seed and config['data_dir'].endswith('char')


def test_failed_run_is_reported_and_the_others_finish(comparison):
    _, folder, results = comparison
    broken = rows_by_id(results)['char-broken']
    assert broken['status'] == 'failed' and 'divisible' in broken['error']
    assert all(rows_by_id(results)[r]['status'] == 'done' for r in ('char-linear', 'char-gru'))
    table = (folder / 'results.md').read_text(encoding='utf-8')
    assert '| char-broken | gpt | char | — | failed: ValueError: ' in table


def test_unigram_baseline_row(comparison):
    settings, folder, results = comparison
    expected = unigram_bits_per_char(f'{settings.data_root}/char')
    assert results['unigram_bits_per_char'] == {'char': expected}
    assert f'| unigram (char) | unigram | char | — | — | {expected:.3f} |' in (folder / 'results.md').read_text()
    # 30 tiny iterations do not beat it yet, but they do learn: the curve goes down
    for run_id in ('char-linear', 'char-gru'):
        curve = rows_by_id(results)[run_id]['curve']
        assert curve[-1]['val_bits_per_char'] < curve[0]['val_bits_per_char'] - 0.1


def test_rerun_resumes_finished_runs_and_retrains_changed_ones(comparison, monkeypatch):
    settings, folder, results = comparison
    runs = folder / 'runs'
    logs = {run_id: (runs / run_id / 'log.jsonl').stat().st_mtime_ns for run_id in ('char-linear', 'char-gru')}
    trained = []
    real_train = cmp.train
    monkeypatch.setattr(cmp, 'train', lambda config: trained.append(config.out_dir) or real_train(config))
    again = compare(settings)
    assert trained == [str(runs / 'char-broken')]      # a failed run is tried again, the others reused
    assert {r: (runs / r / 'log.jsonl').stat().st_mtime_ns for r in logs} == logs
    for run_id in logs:
        assert rows_by_id(again)[run_id] == rows_by_id(results)[run_id]

    # a run whose config no longer matches (here: edited by hand) is trained again
    record_file = runs / 'char-gru' / 'compare.json'
    record = json.loads(record_file.read_text())
    record['identity']['config']['learning_rate'] *= 2
    record_file.write_text(json.dumps(record))
    trained.clear()
    compare(settings)
    assert trained == [str(runs / 'char-gru'), str(runs / 'char-broken')]


def test_time_budget_search_and_scatter_plot(tiny_corpus_dir, tmp_path):
    """The default budget is wall-clock time: the trainer stops at it, with the learning rate at min_lr."""
    settings = CompareConfig(archs='linear', budget_seconds=1.5, search=1, src=str(tiny_corpus_dir),
                             data_root=str(tmp_path / 'data'), results_dir=str(tmp_path / 'results'),
                             eval_interval=25, eval_iters=2, train_args=TINY, sample_chars=20)
    results = compare(settings)
    assert results['name'] == 'char-1.5s-search1-linear'
    folder = tmp_path / 'results' / results['name']
    assert (folder / 'search.png').read_bytes()[:4] == b'\x89PNG'
    base, searched = results['runs']
    assert (base['run_id'], searched['run_id']) == ('char-linear', 'char-linear-search1')
    assert searched['config'] != base['config']
    for row in results['runs']:
        assert row['status'] == 'done' and row['elapsed'] >= 1.5
        log = [json.loads(line) for line in (folder / 'runs' / row['run_id'] / 'log.jsonl').read_text().splitlines()]
        config = json.loads((folder / 'runs' / row['run_id'] / 'compare.json').read_text())['identity']['config']
        assert [e for e in log if e['event'] == 'eval'][-1]['lr'] == config['min_lr']


def test_scaling_mode_runs_every_arch_at_every_token_budget(tiny_corpus_dir, tmp_path, monkeypatch):
    """--scaling: each config at each token budget, its schedule ending at min_lr at that budget, the
    FLOPs of each run from the same formula, the table and scaling.png; a rerun trains nothing."""
    budgets = (TOKENS // 2, TOKENS)                        # 15 and 30 iterations of 64 tokens
    settings = CompareConfig(archs='linear,gpt', scaling=f'{budgets[0]},{budgets[1]}', src=str(tiny_corpus_dir),
                             data_root=str(tmp_path / 'data'), results_dir=str(tmp_path / 'results'),
                             eval_interval=10, eval_iters=2, train_args=TINY, sample_chars=20, style_chars=40)
    results = compare(settings)
    names = [cmp.human(n) for n in budgets]
    assert results['name'] == f'char-scaling{names[0]}+{names[1]}-linear+gpt'
    folder = tmp_path / 'results' / results['name']
    assert (folder / 'scaling.png').read_bytes()[:4] == b'\x89PNG'
    rows = rows_by_id(results)
    assert sorted(rows) == sorted(f'char-{arch}-{name}tok' for arch in ('linear', 'gpt') for name in names)
    for arch in ('linear', 'gpt'):
        small, large = (rows[f'char-{arch}-{name}tok'] for name in names)
        assert small['status'] == large['status'] == 'done'
        assert (small['tokens'], large['tokens']) == budgets
        assert large['flops'] == 2 * small['flops'] > 0                       # one model, twice the tokens
        run_dir = folder / 'runs' / small['run_id']
        log = [json.loads(line) for line in (run_dir / 'log.jsonl').read_text().splitlines()]
        config = json.loads((run_dir / 'compare.json').read_text())['identity']['config']
        assert [e for e in log if e['event'] == 'eval'][-1]['lr'] == config['min_lr']  # decayed by its budget
    # Kaplan's count for the tiny GPT (1 layer, 16 wide, block 16): 6 x (12 x 16^2 block weights
    # + vocab x 16 of the tied output layer) + 6 x 1 x 16 x 16 for attention, per token
    vocab = json.loads((tmp_path / 'data' / 'char' / 'meta.json').read_text())['vocab_size']
    assert rows[f'char-gpt-{names[1]}tok']['flops'] == (6 * (12 * 16 * 16 + vocab * 16) + 6 * 16 * 16) * TOKENS
    table = (folder / 'results.md').read_text(encoding='utf-8')
    assert f'| model | {names[0]} tokens | {names[1]} tokens |' in table and 'scaling.png' in table
    gpt = [f"{rows[f'char-gpt-{name}tok']['val_bits_per_char']:.3f}" for name in names]
    assert f'| char-gpt | {gpt[0]} | {gpt[1]} |' in table
    monkeypatch.setattr(cmp, 'train', lambda config: pytest.fail('a finished run was trained again'))
    assert compare(settings)['runs'] == results['runs']
    # --report_only with a larger budget added: the finished runs reported, the new ones not trained
    more = dataclasses.replace(settings, scaling=f'{budgets[0]},{budgets[1]},{2 * TOKENS}', report_only=True,
                               name='more')
    shutil.copytree(folder, tmp_path / 'results' / 'more')
    for path in (tmp_path / 'results' / 'more' / 'runs').glob('*/compare.json'):  # the same runs, moved
        path.write_text(path.read_text().replace(results['name'], 'more'))
    reported = rows_by_id(compare(more))
    big = cmp.human(2 * TOKENS)
    assert {reported[f'char-{arch}-{big}tok']['status'] for arch in ('linear', 'gpt')} == {'not run'}
    assert reported[f'char-gpt-{names[1]}tok']['val_bits_per_char'] == rows[f'char-gpt-{names[1]}tok']['val_bits_per_char']
    table = (tmp_path / 'results' / 'more' / 'results.md').read_text(encoding='utf-8')
    assert f'| char-gpt | {gpt[0]} | {gpt[1]} | — |' in table and 'not run: not trained yet' in table


@pytest.mark.parametrize('changes, message', [
    (dict(scaling='1M,lots'), 'token budgets like'),
    (dict(scaling='1M', search=2), 'without --quick'),
    (dict(scaling='1M', scaling_axes='tokens,dollars'), 'unknown --scaling_axes dollars'),
])
def test_scaling_bad_arguments(changes, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        compare(dataclasses.replace(CompareConfig(), **changes, results_dir=str(tmp_path)))


def test_learning_rate_follows_the_budget():
    config = TrainConfig(learning_rate=1e-3, min_lr=1e-4, warmup_iters=10, lr_decay_iters=10**9)
    get_lr = nanopushkin.trainer.get_lr
    assert get_lr(5, config, budget_used=0.5) < config.learning_rate * 0.6     # warmup is by iterations
    assert math.isclose(get_lr(100, config, budget_used=0.5), 5.5e-4)        # halfway down the cosine
    assert get_lr(100, config, budget_used=1.0) == config.min_lr
    assert get_lr(100, config) > 0.99e-3                                       # no budget: by iterations


def test_search_configs_are_reproducible_and_inside_the_space():
    import random
    for model, space in cmp.SEARCH_SPACE.items():
        a = [cmp.sample_search_config(model, random.Random(f'1-{model}-{k}')) for k in range(20)]
        b = [cmp.sample_search_config(model, random.Random(f'1-{model}-{k}')) for k in range(20)]
        assert a == b and len({json.dumps(p, sort_keys=True) for p in a}) > 10
        for point in a:
            for key, choices in space.items():
                if isinstance(choices, tuple):
                    assert choices[0] <= point[key] <= choices[1]
                else:
                    assert point[key] in choices
            assert math.isclose(point['min_lr'], point['learning_rate'] / 10)
            dataclasses.replace(TrainConfig(), **point)   # only real TrainConfig keys


def test_plan_gives_every_run_the_same_data_seed_and_budget():
    settings = CompareConfig(tokenizers='char,bpe', search=1, max_tokens=100_000)
    runs = cmp.plan_runs(dataclasses.replace(settings, name='x'))
    assert len(runs) == 2 * 5 * 2
    assert {r.tokenizer for r in runs} == {'char', 'bpe4096'}
    assert len({(r.config.seed, r.config.max_tokens, r.config.eval_interval) for r in runs}) == 1
    for r in runs:
        tokens_per_iter = r.config.batch_size * r.config.block_size * r.config.gradient_accumulation_steps
        assert r.config.max_iters == r.config.lr_decay_iters == math.ceil(100_000 / tokens_per_iter)
        assert r.config.data_dir.endswith(r.tokenizer) and r.config.out_dir.endswith(f'x/runs/{r.run_id}')
        # a config's expected figure is for its own budget: not printed (nor part of a run's identity) here
        assert r.config.expected_val_bits_per_char is None
    assert any(r.run_id == 'char-gpt' for r in runs)   # config/gpt.py states an expected figure
    # the same random configs for both tokenizers, so they are compared like for like
    search = {r.run_id: dataclasses.replace(r.config, data_dir='', out_dir='') for r in runs if 'search' in r.run_id}
    assert search['char-gpt-search1'] == search['bpe4096-gpt-search1']


@pytest.mark.parametrize('field, value, message', [
    ('archs', 'linear,transformer', 'no config file for architecture'),
    ('archs', 'gpt,gpt', 'twice'),
    ('tokenizers', 'char,bpe0x', 'unknown tokenizer'),
    ('tokenizers', 'unigram', 'unknown tokenizer'),
    ('train_args', 'n_layers=2', 'unknown config key'),
    ('eval_interval', 0, 'eval_interval must be at least 1'),
    ('temperature', -1.0, 'temperature must be >= 0'),     # the sampler's check, before any training
    ('top_k', -2, 'top_k must be >= 0'),
])
def test_bad_arguments_fail_before_training(field, value, message):
    with pytest.raises(ConfigError, match=message):
        cmp.plan_runs(dataclasses.replace(CompareConfig(), **{field: value}, name='x'))


def test_cli_reports_bad_arguments_in_one_line():
    result = subprocess.run([sys.executable, 'compare.py', '--archs=transformer'], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.startswith('error: no config file for architecture') and 'Traceback' not in result.stderr


def test_extra_metric_columns_and_a_failing_metric(comparison, monkeypatch):
    """EXTRA_METRICS add columns to the table; one that raises leaves them empty, not the run failed."""
    settings, folder, _ = comparison

    scored = {}

    def chars_scored(model, tokenizer, texts, settings):
        scored.setdefault('model' if model is not None else 'reference', []).append(texts)
        return {'chars scored': sum(len(text) for text in texts)}

    def broken_metric(model, tokenizer, texts, settings):
        raise ValueError('no meter')

    monkeypatch.setattr(cmp, 'EXTRA_METRICS', [chars_scored, broken_metric])
    results = compare(settings)
    linear = rows_by_id(results)['char-linear']
    # every run is measured on its continuations of all the style prompts, up to style_chars
    # characters each (char tokens; a sampled end of text stops one early), the prompts cut off
    n = len(cmp.STYLE_PROMPTS)
    assert n >= 4 and len(scored['model']) == 2 and all(len(texts) == n for texts in scored['model'])
    for texts in scored['model']:
        assert all(len(text) <= settings.style_chars for text in texts) and len(set(texts)) > 1
        assert not any(text.startswith(prompt) for text, prompt in zip(texts, cmp.STYLE_PROMPTS))
    assert linear['status'] == 'done' and linear['extra']['chars scored'] == sum(map(len, scored['model'][0]))
    assert set(linear['extra']) == {'chars scored', 'syllables vs Pushkin', '8-9 syllables', 'rhyme rate'}  # + verse
    # the reference rows go through the same metrics: as many pieces, style_chars characters each
    assert [len(texts) for texts in scored['reference']] == [n, n]
    assert all(len(text) == settings.style_chars for texts in scored['reference'] for text in texts)
    header = next(line for line in (folder / 'results.md').read_text().splitlines() if line.startswith('| run |'))
    assert '| chars scored |' in header


def test_quick_smoke_run_of_every_architecture(tiny_corpus_dir, tmp_path, committable):
    """`python compare.py --quick`, exactly as documented (all five configs, the default sizes, a
    160k-token budget each), on the tiny corpus found by the corpus rule ($PUSHKIN_CORPUS here), from a
    folder laid out like a checkout: every run finishes, every report file is written, and everything
    it writes is in folders that git ignores (out-quick/, data/pushkin/char/), nothing in results/."""
    env = {**os.environ, 'PUSHKIN_CORPUS': str(tiny_corpus_dir)}
    result = subprocess.run([sys.executable, str(ROOT / 'compare.py'), '--quick'], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / 'out-quick' / 'char-quick'
    for name in ('results.md', 'results.json', 'curves.png', 'samples.md'):
        assert (folder / name).stat().st_size > 0, name
    results = json.loads((folder / 'results.json').read_text(encoding='utf-8'))
    assert sorted(row['arch'] for row in results['runs']) == ['gpt', 'gru', 'linear', 'lstm', 'rnn']
    for row in results['runs']:
        assert row['status'] == 'done', row
        assert row['val_bits_per_char'] < results['unigram_bits_per_char']['char'] + 1.0, row
    assert (tmp_path / 'data' / 'pushkin' / 'char' / 'meta.json').is_file() and committable(tmp_path) == []


def test_a_missing_corpus_is_one_line_not_a_traceback(tmp_path):
    """`python compare.py --quick` when the corpus is not where the rule looks: one line that says
    how to provide it (it used to end in a CorpusNotFound traceback)."""
    env = {**os.environ, 'PUSHKIN_CORPUS': str(tmp_path / 'nowhere')}
    result = subprocess.run([sys.executable, str(ROOT / 'compare.py'), '--quick', '--archs=linear'], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert result.stderr.startswith(f'error: $PUSHKIN_CORPUS {tmp_path / "nowhere"} is not a corpus folder')
    assert len(result.stderr.strip().splitlines()) == 1 and '--src' in result.stderr


def test_reference_rows_score_held_out_text_like_the_runs(comparison):
    """Held-out Pushkin and held-out contrast text, as many pieces of style_chars characters as
    there are prompts, scored by the same metrics; rows in the table with '—' for the model columns."""
    settings, folder, _ = comparison
    reference = cmp.reference_metrics(settings, f'{settings.data_root}/char')
    assert list(reference) == ['held-out Pushkin', 'held-out contrast']
    pushkin, contrast = reference['held-out Pushkin'], reference['held-out contrast']
    assert pushkin['P(Pushkin)'] > contrast['P(Pushkin)']       # the meter tells them apart
    for extra in (pushkin, contrast):
        assert set(extra) == {'P(Pushkin)', 'known words', 'distinct-2', 'distinct-3', 'repeated 4-grams'}
        assert 0 <= extra['repeated 4-grams'] < 0.2 and extra['distinct-2'] > 0.8
        assert 0.5 < extra['known words'] < 1       # real text, new works: most words, not all
    pieces = cmp.reference_pieces(cmp.held_out_pushkin(f'{settings.data_root}/char'), 4, 150)
    assert len(pieces) == 4 and all(len(p) == 150 for p in pieces) and pieces[0] != pieces[-1]
    # the report shows them (the runs reused, only re-measured if another test changed the metrics)
    again = compare(settings)
    assert {name: again['reference'][name] for name in reference} == reference
    # the tiny models write word salad: fewer known words than real text, whatever P(Pushkin) says
    runs = [row for row in again['runs'] if row['status'] == 'done']
    assert runs and all(row['extra']['known words'] < pushkin['known words'] - 0.1 for row in runs)
    table = (folder / 'results.md').read_text(encoding='utf-8')
    row = next(line for line in table.splitlines() if line.startswith('| held-out Pushkin |'))
    assert '| — | — | — |' in row and f"{pushkin['P(Pushkin)']:.3f}" in row
    assert '| held-out contrast |' in table
    # without a meter there are no reference rows, and nothing fails
    assert cmp.reference_metrics(dataclasses.replace(settings, meter=str(folder / 'none.pt')),
                                 f'{settings.data_root}/char') == {}


def test_verse_columns_and_reference_rows(comparison):
    """Every run continues the verse prompts and gets the three verse columns; real verse, cut into
    as many pieces of the same length, gets reference rows: held-out Pushkin close to its own
    distribution, in the tetrameter range and rhyming."""
    settings, folder, results = comparison
    counts, verse_reference = cmp.verse_references(settings)
    assert list(verse_reference) == ['held-out Pushkin verse', 'Lermontov verse', 'Nekrasov verse']
    assert counts[8] + counts[9] > sum(counts.values()) / 2
    columns = {'syllables vs Pushkin', '8-9 syllables', 'rhyme rate'}
    pushkin = verse_reference['held-out Pushkin verse']
    assert set(pushkin) == columns
    assert pushkin['syllables vs Pushkin'] < 0.3 and pushkin['8-9 syllables'] > 0.5 and pushkin['rhyme rate'] > 0.3
    for row in results['runs']:
        if row['status'] == 'done':
            assert columns <= set(row['extra'])
            assert all(row['extra'][c] is None or 0 <= row['extra'][c] <= 1 for c in columns)
            assert row['verse_sample'].split('\n')[0].endswith('  На берегу пустынных волн')
    assert results['reference']['Nekrasov verse'] == verse_reference['Nekrasov verse']
    table = (folder / 'results.md').read_text(encoding='utf-8')
    assert '| syllables vs Pushkin | 8-9 syllables | rhyme rate |' in table
    assert '| held-out Pushkin verse |' in table
    assert 'Verse (syllables, rhyme letter' in (folder / 'samples.md').read_text(encoding='utf-8')
    # a rerun reuses every run's samples and measures (the record's key reads back equal)
    first = compare(settings)

    def no_sampling(*args, **kwargs):
        raise AssertionError('sampled again')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cmp, 'generate', no_sampling)
        assert [row.get('extra') for row in compare(settings)['runs']] == [row.get('extra') for row in first['runs']]
    # the lines of a piece of real verse are whole lines
    assert all(piece.endswith('\n') and not piece.startswith(' ') for piece in cmp.line_pieces(
        'Мой дядя самых честных правил,\nКогда не в шутку занемог,\n' * 20, 4, 100))
