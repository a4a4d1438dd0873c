"""bench/tune.py end to end on the tiny char dataset, through its main() and the train.py runs it
starts: the speed stage, then the whole search for the linear model (the fastest) at a budget of a
couple of seconds, then a rerun that must find everything done; and its one-line errors."""
import json
import math
import sys

import pytest

from test_style import load_script

BUDGET_SECONDS = 2     # the budget the tiny search tunes for: a few iterations per run
TIMING_TOKENS = 4096   # the speed timings at their shortest: 2 and 12 iterations


@pytest.fixture
def tune():
    """A fresh copy of bench/tune.py that searches one shape of the linear model (the first of its
    search space, with its real base schedule and schedule candidates) and evaluates on one batch:
    every train.py it runs is a new interpreter that spends seconds importing torch, so the test
    runs as few of them as show every stage (7), each short."""
    module = load_script('bench/tune.py')
    space = module.SEARCH['linear']
    module.SEARCH['linear'] = dict(space, shapes=space['shapes'][:1])
    module.EVAL_TOKENS = space['shapes'][0]['batch_size'] * space['shapes'][0]['block_size']
    return module


def run_main(module, args, monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['bench/tune.py', *args])
    module.main()


def test_speed_then_search_then_nothing_to_redo(tune, char_dataset, tmp_path, monkeypatch, capsys):
    out = tmp_path / 'tune'
    args = ['--archs=linear', f'--budget_seconds={BUDGET_SECONDS}', f'--timing_tokens={TIMING_TOKENS}',
            f'--out={out}', f'--data_dir={char_dataset}']
    run_main(tune, ['--stage=speed', *args], monkeypatch)
    results = json.loads((out / 'results.json').read_text())
    assert results['runs'] == {}
    shapes = [dict(shape, **tune.SEARCH['linear']['base']) for shape in tune.SEARCH['linear']['shapes']]
    keys = [tune.shape_key('linear', shape) for shape in shapes]
    assert list(results['speed']) == keys and list(results['budgets']) == keys
    for key in keys:
        assert results['speed'][key]['tokens_per_sec'] > 0
        # beside the speed, the estimated budget: BUDGET_SECONDS at the estimated idle speed
        estimate = results['budgets'][key]
        assert results['speed'][key]['budget_tokens'] == estimate['tokens']
        assert abs(estimate['tokens'] - BUDGET_SECONDS * estimate['idle_2core_tokens_per_sec']) <= BUDGET_SECONDS

    run_main(tune, ['--stage=all', *args], monkeypatch)
    results = json.loads((out / 'results.json').read_text())
    runs = list(results['runs'].values())
    assert sorted(r['stage'] for r in runs) == ['confirm', 'schedule', 'shape']
    vocab_size = json.loads((char_dataset / 'meta.json').read_text())['vocab_size']
    for r in runs:
        # the budget is BUDGET_SECONDS at the measured speed (not the estimate), in whole iterations
        speed = results['speed'][tune.shape_key('linear', r['params'])]
        tokens_per_iter = r['params']['batch_size'] * r['params']['block_size']
        budget = round(BUDGET_SECONDS * speed['tokens_per_sec'])
        assert r['max_iters'] == max(1, round(budget * r['fraction'] / tokens_per_iter))
        assert r['tokens'] == r['max_iters'] * tokens_per_iter
        assert 0 < r['val_bits_per_char'] < math.log2(vocab_size)  # trained: below a uniform guess
    screening = [r for r in runs if r['stage'] != 'confirm']
    confirm, = [r for r in runs if r['stage'] == 'confirm']
    assert confirm['fraction'] == 1 and all(r['fraction'] == 0.1 for r in screening)
    assert confirm['params'] == min(screening, key=lambda r: r['val_bits_per_char'])['params']
    schedule, = [r for r in screening if r['stage'] == 'schedule']
    assert schedule['params'] == dict(shapes[0], **tune.SEARCH['linear']['schedules'][0])
    table = (out / 'results.md').read_text()
    assert '## The budgets on the wall clock' in table and f'tokens in {BUDGET_SECONDS} s' in table

    capsys.readouterr()
    before = (out / 'results.json').read_text()
    outputs = {p: p.stat().st_mtime_ns for p in out.glob('runs/*/stdout.txt')}
    assert len(outputs) == 4  # the timings' folder and the three runs'
    run_main(tune, ['--stage=all', *args], monkeypatch)
    assert 'start' not in capsys.readouterr().out  # no run started again,
    assert (out / 'results.json').read_text() == before  # none recorded,
    assert {p: p.stat().st_mtime_ns for p in out.glob('runs/*/stdout.txt')} == outputs  # none trained


@pytest.mark.parametrize('bad', ['--archs=foo', '--stage=bar'])
def test_bad_arch_or_stage_is_a_one_line_error(tune, bad, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        run_main(tune, [bad], monkeypatch)
    message = exit_info.value.code  # sys.exit(message) prints it to stderr and exits with status 1
    assert isinstance(message, str) and '\n' not in message
    assert message.startswith('error: --archs must be among gpt, gru, lstm, rnn, linear and --stage screen')
