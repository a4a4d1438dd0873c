"""bench/speedrun.py end to end on the tiny char dataset, through its main() and the train.py runs it
starts: the ablation (two ideas, so four rows), the record and the duel, each at a budget of a few
iterations or seconds; then the tables and the one-line errors."""
import json
import sys

import pytest

from test_style import load_script


@pytest.fixture
def speedrun():
    """A fresh copy of bench/speedrun.py with two of its ideas (rows: gpt2, rotary, muon,
    rotary+muon) and a duel of two seconds: every train.py it runs spends seconds importing torch."""
    module = load_script('bench/speedrun.py')
    module.IDEAS = {'rotary': module.IDEAS['rotary'], 'muon': module.IDEAS['muon']}
    module.BUDGET_SECONDS = 2
    return module


def run_main(module, args, monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['bench/speedrun.py', *args])
    module.main()


def test_ablation_record_and_duel(speedrun, char_dataset, tmp_path, monkeypatch):
    out = tmp_path / 'speedrun'
    args = [f'--out={out}', f'--data_dir={char_dataset}', '--tokenizers=char']
    fraction = 7 / speedrun.base_config()['max_iters']  # 7 iterations of config/gpt.py
    run_main(speedrun, ['--stage=ablation', f'--fraction={fraction}', '--seeds=1,2', *args], monkeypatch)
    results = json.loads((out / 'results.json').read_text())
    assert speedrun.rows() == ['gpt2', 'rotary', 'muon', 'rotary+muon']
    table = results['ablation'][f'{fraction:g}']
    assert list(table) == speedrun.rows()
    for row, r in table.items():
        runs = [results['runs'][f'ablation-{fraction:g}-{row}-s{seed}'] for seed in (1, 2)]
        assert r['seeds'] == [run['val_bits_per_char'] for run in runs]
        assert all(run['iters'] == 7 and run['tokens'] == 7 * 12 * 64 for run in runs)
        assert r['mean'] == pytest.approx(sum(r['seeds']) / 2, abs=1e-4)
        assert r['vs_gpt2'] == pytest.approx(r['mean'] - table['gpt2']['mean'], abs=2e-4)
    assert table['gpt2']['seeds'][0] != table['gpt2']['seeds'][1]  # the seeds are really different runs
    assert '--optimizer=muon' in results['runs'][f'ablation-{fraction:g}-rotary+muon-s1']['command']
    assert (out / 'ablation.png').stat().st_size > 10_000

    # the record's budget: gpt.py's tokens times the ratio of the two measured speeds (here 5 iterations),
    # for a variant of config/speedrun.py, saved under its own name
    tokens_per_iter = 24 * 64
    results['speed'] = {'speedrun-char+untied=False': {'vs_gpt2': 5 * tokens_per_iter / speedrun.gpt2_tokens()}}
    (out / 'results.json').write_text(json.dumps(results))
    run_main(speedrun, ['--stage=record', '--variant=untied=False', *args], monkeypatch)
    # the duel trains each config on its own dataset folder, found by name beside --data_dir: here the
    # tiny char data stands in under both names
    duel_data = tmp_path / 'duel_data'
    duel_data.mkdir()
    where = speedrun.SpeedrunConfig(data_dir=str(duel_data / 'char'))
    datasets = {c: speedrun.dataset_of(c, where) for c in ('gpt', 'speedrun')}
    for folder in set(datasets.values()):
        speedrun.Path(folder).symlink_to(char_dataset, target_is_directory=True)
    run_main(speedrun, ['--stage=duel', f'--out={out}', f'--data_dir={duel_data / "char"}'], monkeypatch)
    results = json.loads((out / 'results.json').read_text())
    assert results['runs']['record-char+untied=False']['iters'] == 5
    assert '--untied=False' in results['runs']['record-char+untied=False']['command']
    assert results['runs']['record-char+untied=False']['speed'] == 'speedrun-char+untied=False'  # its budget's
    assert {'duel-gpt', 'duel-speedrun'} <= set(results['runs'])
    assert all(results['runs'][f'duel-{c}']['iters'] < 2000 for c in ('gpt', 'speedrun'))  # stopped by the clock
    assert all(f'--data_dir={datasets[c]} ' in results['runs'][f'duel-{c}']['command'] for c in ('gpt', 'speedrun'))
    run_main(speedrun, ['--stage=samples', *args], monkeypatch)
    samples = (out / 'samples.md').read_text(encoding='utf-8')
    assert samples.count(speedrun.SAMPLE_PROMPT) >= 3  # the command line, then each model's continuation
    assert '## config/gpt.py' in samples and '## config/speedrun.py' in samples
    markdown = (out / 'results.md').read_text()
    assert '| rotary+muon |' in markdown and '| record-char+untied=False |' in markdown and '| duel-speedrun |' in markdown


def test_the_record_needs_its_speed_and_a_stage_must_exist(speedrun, char_dataset, tmp_path, monkeypatch):
    args = [f'--out={tmp_path}', f'--data_dir={char_dataset}', '--tokenizers=char']
    with pytest.raises(SystemExit, match='run --stage=speed on an idle machine first'):
        run_main(speedrun, ['--stage=record', *args], monkeypatch)
    with pytest.raises(SystemExit, match='--stage must be one of'):
        run_main(speedrun, ['--stage=fast', *args], monkeypatch)
    with pytest.raises(SystemExit, match='run --stage=duel first'):
        run_main(speedrun, ['--stage=samples', *args], monkeypatch)
    with pytest.raises(SystemExit, match='--variant must read key=value'):
        run_main(speedrun, ['--stage=record', '--variant=untied', *args], monkeypatch)
    with pytest.raises(SystemExit, match="--variant: .*'untid'"):   # checked by the config system, as train.py does
        run_main(speedrun, ['--stage=record', '--variant=untid=False', *args], monkeypatch)
    assert speedrun.variant_of(speedrun.SpeedrunConfig(variant='untied=False,optimizer=adamw,dropout=0.1')) == (
        {'untied': False, 'optimizer': 'adamw', 'dropout': 0.1}, '+untied=False,optimizer=adamw,dropout=0.1')
    # a variant that changes only what a step computes with trains for the tokens of the one without it
    assert speedrun.speed_name('bpe1410', speedrun.SpeedrunConfig(variant='dropout=0.1,muon_weight_decay=0.1,seed=2')) \
        == 'speedrun-bpe1410+dropout=0.1'
    assert speedrun.speed_name('char', speedrun.SpeedrunConfig(variant='min_lr=0.0')) == 'speedrun-char'
    assert speedrun.speed_name('bpe1410+contrast', speedrun.SpeedrunConfig()) == 'speedrun-bpe1410'


def test_the_speed_ratio_is_the_median_of_pairs_timed_in_turns(speedrun, monkeypatch):
    """The machine slows down between pairs: each pair's ratio is still right, and the middle one is kept."""
    timed = []

    def fake_time_shape(config_file, shape, cfg, threads, tokens):
        timed.append(config_file)
        drift = 1 - 0.1 * ((len(timed) - 1) // 2)      # each pair 10% slower than the one before
        speed = {'gpt': 1000, 'speedrun': 800 + 10 * len(timed)}[config_file] * drift
        return None, speed, {'measured_at': 'now'}
    monkeypatch.setattr(speedrun.tune, 'time_shape', fake_time_shape)
    measured = speedrun.paired_speed({'batch_size': 24}, 'data/x/char', {'batch_size': 12}, speedrun.SpeedrunConfig())
    assert timed == ['gpt', 'speedrun'] * speedrun.PAIRS
    ratios = [pair[0] for pair in measured['pairs']]
    assert ratios == pytest.approx([0.82, 0.84, 0.86], abs=1e-4)
    assert measured['vs_gpt2'] == pytest.approx(0.84, abs=1e-4)
