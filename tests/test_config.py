"""The one config system: config files, --key=value / --key value overrides, clear errors."""
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nanopushkin.config import ConfigError, TrainConfig, field_comments, main_parse, parse_args
from nanopushkin.models import MODELS, model_args_from_config, model_hyperparameters
from nanopushkin.models.gpt import GPTConfig

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_overrides_both_forms():
    cfg = parse_args(TrainConfig, ['--max_iters=7', '--learning_rate', '3e-4', '--model', 'lstm'])
    assert cfg.max_iters == 7 and cfg.learning_rate == 3e-4 and cfg.model == 'lstm'
    assert cfg.batch_size == TrainConfig().batch_size


def test_config_file_then_override(tmp_path):
    f = tmp_path / 'c.py'
    f.write_text("model = 'gru'\nn_layer = 3\nimport math\nlearning_rate = 2 * math.pi / 1000\n")
    cfg = parse_args(TrainConfig, [str(f), '--n_layer=1'])
    assert cfg.model == 'gru' and cfg.n_layer == 1 and abs(cfg.learning_rate - 0.0062832) < 1e-6


def test_int_promotes_to_float_and_bools_parse():
    cfg = parse_args(TrainConfig, ['--learning_rate=1', '--compile', '--progress=False', '--bias', 'true'])
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float)
    assert cfg.compile is True and cfg.progress is False and cfg.bias is True


def test_string_values_stay_strings():
    cfg = parse_args(TrainConfig, ['--out_dir', '1812'])
    assert cfg.out_dir == '1812'


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown config key 'max_iter'.*valid keys: .*max_iters"):
        parse_args(TrainConfig, ['--max_iter=5'])


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="'batch_size'.*must be int"):
        parse_args(TrainConfig, ['--batch_size=big'])
    with pytest.raises(ConfigError, match="'max_iters'.*must be int"):
        parse_args(TrainConfig, ['--max_iters=1.5'])


def test_bad_config_file(tmp_path):
    with pytest.raises(ConfigError, match='does not exist'):
        parse_args(TrainConfig, [str(tmp_path / 'missing.py')])
    f = tmp_path / 'bad.py'
    f.write_text("n_layr = 2\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'n_layr' \(from .*bad.py\)"):
        parse_args(TrainConfig, [str(f)])
    f.write_text("n_layer = (\n")
    with pytest.raises(ConfigError, match='failed to run'):
        parse_args(TrainConfig, [str(f)])


def test_missing_value_and_positional_when_not_allowed():
    with pytest.raises(ConfigError, match='needs a value'):
        parse_args(TrainConfig, ['--out_dir'])
    with pytest.raises(ConfigError, match='unexpected argument'):
        parse_args(TrainConfig, ['config/gpt.py'], config_file_allowed=False)


def test_only_one_config_file(tmp_path):
    empty, other = tmp_path / 'empty.py', tmp_path / 'other.py'
    empty.write_text('# nothing to change\n')
    other.write_text("model = 'gru'\n")
    with pytest.raises(ConfigError, match='only one config file'):
        parse_args(TrainConfig, [str(empty), str(other)])


def test_keys_that_default_to_none_take_their_type():
    cfg = parse_args(TrainConfig, ['--n_layer=3', '--bias', '--expected_val_bits_per_char=2'])
    assert cfg.n_layer == 3 and cfg.bias is True and cfg.expected_val_bits_per_char == 2.0
    assert TrainConfig().n_layer is None and TrainConfig().expected_val_bits_per_char is None
    with pytest.raises(ConfigError, match="'n_layer'.*must be int"):
        parse_args(TrainConfig, ['--n_layer=1.5'])
    with pytest.raises(ConfigError, match="'fused'.*must be bool"):
        parse_args(TrainConfig, ['--fused=maybe'])


def test_one_set_of_model_defaults():
    """A TrainConfig leaves every model key to the model's own config dataclass: no second default
    that could disagree (a GPT's block_size is the training block_size)."""
    for model_type, (config_cls, _, keys) in MODELS.items():
        cfg = TrainConfig(model=model_type)
        assert all(getattr(cfg, key) is None for key in keys if key != 'block_size')
        args = model_args_from_config(cfg, vocab_size=50)
        expected = config_cls(vocab_size=50, **({'cell': model_type} if 'cell' in args else {}),
                              **({'block_size': cfg.block_size} if 'block_size' in keys else {}))
        assert args == dataclasses.asdict(expected)
    # a key that is set wins, and model_hyperparameters shows the values actually used
    cfg = TrainConfig(model='gpt', n_layer=2)
    assert model_hyperparameters(cfg)['n_layer'] == 2
    assert model_hyperparameters(cfg)['n_head'] == GPTConfig(vocab_size=1).n_head


def test_help_explains_each_key_with_the_comment_beside_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        main_parse(TrainConfig, ['--help'])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and out.startswith('options (--key=value or --key value), with the defaults:')
    lines = out.splitlines()
    # the comment beside the field in nanopushkin/config.py, the section comment above its group
    assert any(re.fullmatch(r"  --out_dir='out' +checkpoints, log.jsonl and loss curve go here", line) for line in lines)
    assert any(re.fullmatch(r'  --grad_clip=1.0 +0 disables clipping', line) for line in lines)
    assert 'system' in lines and '  --seed=1337' in lines
    # a section comment of two lines is one heading
    assert any(line.startswith('optimizer, warmup + cosine decay: AdamW for every weight') and
               line.endswith('gains and biases (nanopushkin/optim.py)') for line in lines)
    assert len([line for line in lines if line.startswith('  --')]) == len(dataclasses.fields(TrainConfig))


def test_help_with_a_config_file_shows_its_values(tmp_path):
    # through the real command: the values config/lstm.py sets, and an override, beside the defaults
    result = subprocess.run([sys.executable, 'train.py', 'config/lstm.py', '--max_iters=50', '--help'], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ''
    lines = result.stdout.splitlines()
    assert lines[0] == 'options (--key=value or --key value), with the values of config/lstm.py and the command line:'
    assert any(re.fullmatch(r"  --model='lstm' +\(default 'gpt'\) 'linear' \| 'rnn' \| 'gru' \| 'lstm' \| 'gpt'", line)
               for line in lines)
    assert any(re.fullmatch(r'  --n_hidden=384 +\(default None\) RNN/GRU/LSTM state size.*', line) for line in lines)
    assert any(re.fullmatch(r'  --max_iters=50 +\(default 2000\)', line) for line in lines)


@dataclasses.dataclass
class Documented:
    # reading
    src: str = '#'                   # where the text is;
                                     # a second line of the comment
    limit: int = 3
    # writing
    out: str = 'x'  # where it goes


def test_help_reads_sections_and_continued_comments_and_copes_without_source():
    comments, sections = field_comments(Documented)
    assert comments == {'src': 'where the text is; a second line of the comment', 'out': 'where it goes'}
    assert sections == {'src': 'reading', 'out': 'writing'}
    with pytest.raises(ConfigError) as e:
        parse_args(Documented, ['--limit=4', '--help'])
    assert [re.sub(' +', ' ', line) for line in str(e.value).splitlines()[1:]] == [
        '', 'reading', " --src='#' where the text is; a second line of the comment", ' --limit=4 (default 3)',
        '', 'writing', " --out='x' where it goes"]
    made = dataclasses.make_dataclass('Made', [('n', int, dataclasses.field(default=3))])
    assert field_comments(made) == ({}, {})
    with pytest.raises(ConfigError, match=r'(?s)with the defaults:\n  --n=3$'):
        parse_args(made, ['-h'])
