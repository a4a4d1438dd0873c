"""The one config system: a dataclass of defaults, a config file, and --key=value overrides.

Like nanoGPT, a config file is plain Python that assigns the keys it wants to change:

    # config/lstm.py
    model = 'lstm'
    n_layer = 2

and the command line overrides single keys: `python train.py config/lstm.py --max_iters=100`
(or `--max_iters 100`). Unlike nanoGPT, every key must exist in the dataclass and every value
must have the right type, so a typo is an error that lists the valid keys instead of a silent no-op.
Every CLI of the project (train.py, sample.py, compare.py, style.py, prepare.py) parses its
options with `parse_args` and its own dataclass. The comment beside a field is its documentation:
`--help` prints it beside the key, with the value a config file and the overrides give it
(`python train.py config/lstm.py --help`).
"""
import ast
import dataclasses
import inspect
import io
import os
import sys
import textwrap
import tokenize
import types
import typing
from dataclasses import dataclass
from pathlib import Path

TRUE_WORDS, FALSE_WORDS = ('true', '1', 'yes'), ('false', '0', 'no')   # spellings of a bool value


class ConfigError(ValueError):
    """A bad config file or command-line option; the message says what to do."""


class HelpAsked(ConfigError):
    """--help or -h: the message is the help text."""


@dataclass
class TrainConfig:
    # I/O
    out_dir: str = 'out'                # checkpoints, log.jsonl and loss curve go here
    eval_interval: int = 250            # evaluate on the validation split every this many iters
    log_interval: int = 10
    eval_iters: int = 50                # batches averaged per evaluation
    eval_only: bool = False
    always_save_checkpoint: bool = True # write ckpt.pt at every eval, not only at the end and on Ctrl-C
    resume_checkpoint: bool = True      # False: never write ckpt.pt (no resuming), keep best.pt only
    init_from: str = 'scratch'          # 'scratch' | 'resume' | a GPT-2-format folder or hub name
    overwrite: bool = False             # a scratch run may replace a trained run in out_dir
    # data
    data_dir: str = 'data/pushkin/char' # made by `python data/pushkin/prepare.py`
    gradient_accumulation_steps: int = 1
    batch_size: int = 32
    block_size: int = 128               # tokens of context per training example (a GPT's block_size)
    # model: None keeps the model's own default (the config dataclass in nanopushkin/models/<file>.py)
    model: str = 'gpt'                  # 'linear' | 'rnn' | 'gru' | 'lstm' | 'gpt'
    n_layer: int | None = None
    n_head: int | None = None           # gpt
    n_embd: int | None = None
    n_hidden: int | None = None         # RNN/GRU/LSTM state size, the linear model's MLP width
    context: int | None = None          # linear: tokens the n-gram MLP looks back
    dropout: float | None = None
    bias: bool | None = None            # gpt: biases in Linear layers and LayerNorms
    fused: bool | None = None           # RNN/GRU/LSTM: run the same weights through torch's kernel
    # gpt: the newer ideas, each off by default (GPT-2); see nanopushkin/models/gpt.py
    rotary: bool | None = None          # rotary position embeddings instead of learned ones
    rmsnorm: bool | None = None         # RMSNorm instead of LayerNorm
    qk_norm: bool | None = None         # normalised queries and keys
    relu2: bool | None = None           # ReLU(x)^2 MLP instead of GELU
    untied: bool | None = None          # an output layer of its own; it and the c_proj layers start at zero
    # optimizer, warmup + cosine decay: AdamW for every weight, or (optimizer='muon') Muon for the
    # hidden matrices and AdamW for the embeddings, the output layer, gains and biases (nanopushkin/optim.py)
    optimizer: str = 'adamw'            # 'adamw' | 'muon'
    muon_lr: float = 0.02               # Muon's peak learning rate; it follows the same warmup and decay
    muon_momentum: float = 0.95
    muon_weight_decay: float = 0.0      # shrinks Muon's matrices by lr x this each step (0: none, as in the original)
    learning_rate: float = 1e-3         # AdamW's
    max_iters: int = 2000
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0              # 0 disables clipping
    decay_lr: bool = True
    warmup_iters: int = 100
    lr_decay_iters: int = 0             # 0: decay over all max_iters
    min_lr: float = 1e-4                # usually learning_rate / 10
    # system
    device: str = 'auto'                # 'auto' | 'cpu' | 'cuda' | 'cuda:1' | 'mps'
    dtype: str = 'auto'                 # 'auto' | 'float32' | 'bfloat16' | 'float16'
    threads: int = 0                    # CPU threads; 0: the faster of 1 and all cores, re-timed while training
    compile: bool = False               # torch.compile the model
    gradient_checkpointing: bool = False
    seed: int = 1337
    max_seconds: float = 0.0            # stop after this much training wall time (0: no limit)
    max_tokens: int = 0                 # stop after this many training tokens (0: no limit)
    progress: bool = True               # tqdm progress bar
    plot: bool = True                   # write loss.png into out_dir at the end
    # what this config reached when it was last measured (printed beside the result at the end)
    expected_val_bits_per_char: float | None = None
    expected_after_tokens: int = 0      # the training tokens that figure was reached after (0: not stated)


def _fields(cls) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}


def config_keys(cls) -> list[str]:
    return list(_fields(cls))


def _valid_keys_message(cls) -> str:
    return 'valid keys: ' + ', '.join(config_keys(cls))


def _value_type(field) -> type:
    """The type a field's values must have: its default's type, or for a field that defaults to
    None (`n_layer: int | None = None`) the type named beside None."""
    if field.default is not None:
        return type(field.default)
    return next(t for t in typing.get_args(field.type) if t is not type(None))


def _coerce(cls, key, value, source):
    """Check that `value` fits the type of the field `key`, converting where it is lossless."""
    fields = _fields(cls)
    if key not in fields:
        raise ConfigError(f'unknown config key {key!r} (from {source}); {_valid_keys_message(cls)}')
    want = _value_type(fields[key])
    if value is None and fields[key].default is None:
        return None
    if want is bool:
        if isinstance(value, str) and value.lower() in TRUE_WORDS + FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    elif want is str and not isinstance(value, str):
        return str(value)                # --start=123 means the text "123"
    if isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    shown = repr(value) if len(repr(value)) <= 100 else repr(value)[:100] + '...'
    raise ConfigError(f'config key {key!r} (from {source}) must be {want.__name__}, '
                      f'got {type(value).__name__} {shown}')


def _parse_value(text: str):
    """Command-line values are Python literals where they parse as one, else plain strings (which
    the type check then refuses where a number was meant)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):   # the last two: nested 50,000 deep
        return text


def load_config_file(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f'config file {path} does not exist; the configs are in config/')
    namespace = {}
    try:
        exec(compile(path.read_text(encoding='utf-8'), str(path), 'exec'), namespace)
    except Exception as e:
        raise ConfigError(f'config file {path} failed to run: {type(e).__name__}: {e}') from None
    # the file's own assignments: not _private names, nor the functions and modules it imported
    return {k: v for k, v in namespace.items()
            if not k.startswith('_') and not callable(v) and not isinstance(v, types.ModuleType)}


def parse_args(cls, argv, config_file_allowed=True):
    """Build a `cls` from an optional config file (the one positional argument) and overrides.

    Accepts `--key=value` and `--key value`; `--flag` alone sets a bool key to True.
    """
    fields = _fields(cls)
    values = {}
    overrides = []
    config_file = None
    help_asked = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ('-h', '--help'):
            help_asked = True
        elif arg.startswith('--'):
            key, eq, text = arg[2:].partition('=')
            key = key.replace('-', '_')
            if not eq:
                next_is_value = i + 1 < len(argv) and not argv[i + 1].startswith('--')
                if key in fields and _value_type(fields[key]) is bool and not (
                        next_is_value and argv[i + 1].lower() in TRUE_WORDS + FALSE_WORDS):
                    text = 'True'
                elif next_is_value:
                    i += 1
                    text = argv[i]
                else:
                    raise ConfigError(f'option --{key} needs a value: --{key}=VALUE')
            overrides.append((key, text))
        else:
            if not config_file_allowed:
                raise ConfigError(f'unexpected argument {arg!r}; options look like --key=value; '
                                  f'{_valid_keys_message(cls)}')
            if config_file is not None:
                raise ConfigError(f'only one config file may be given, got {config_file!r} and {arg!r}')
            config_file = arg
            for key, value in load_config_file(arg).items():
                values[key] = _coerce(cls, key, value, arg)
        i += 1
    for key, text in overrides:
        # strings stay strings: --start "1812" is text, not a number
        value = text if key in fields and _value_type(fields[key]) is str else _parse_value(text)
        values[key] = _coerce(cls, key, value, f'--{key}')
    if help_asked:
        raise HelpAsked(_help(cls, values, config_file))
    return cls(**values)


def _help(cls, values, config_file) -> str:
    """Every key with its value and the comment beside it in the dataclass's source, under the
    source's section comments; a value set by the config file or the command line says so and
    gives the default beside it."""
    comments, sections = field_comments(cls)
    given = f'the values of {config_file} and the command line' if config_file else 'the defaults'
    lines = [f'options (--key=value or --key value), with {given}:']
    for f in dataclasses.fields(cls):
        if f.name in sections:
            lines.append('\n' + sections[f.name])
        value = values.get(f.name, f.default)
        option = f'  --{f.name}={value!r}'
        comment = comments.get(f.name, '')
        if f.name in values and value != f.default:
            comment = f'(default {f.default!r}) ' + comment
        if comment:
            option = option.ljust(34) + ' ' + comment if len(option) < 34 else option + '\n' + ' ' * 35 + comment
        lines.append(option.rstrip())
    return '\n'.join(lines)


def field_comments(cls) -> tuple[dict, dict]:
    """({field: the comment beside it, with the comment lines under it}, {field: the section comment
    above it}), read from the class's source: the comments are the documentation of the keys."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):          # no source (e.g. a class made at run time): no comments
        return {}, {}
    body = ast.parse(source).body[0].body
    fields = {node.lineno: node.target.id for node in body
              if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    indent = min((node.col_offset for node in body), default=0)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    not_code = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    code_rows = {token.start[0] for token in tokens if token.type not in not_code}
    comments, sections = {}, {}
    last, section, section_row = None, None, 0   # the field a comment line may continue; a section awaiting its field
    for token in tokens:
        row = token.start[0]
        if row in fields and fields[row] != last:
            last = fields[row]
            if section:
                sections[last], section = section, None
        if token.type != tokenize.COMMENT:
            continue
        text = token.string.lstrip('#').strip()
        if row in fields:                                            # beside a field
            comments[last] = text
        elif row in code_rows:                                       # beside other code (a method)
            continue
        elif last in comments and token.start[1] > indent:           # under a field's comment, indented
            comments[last] += ' ' + text
        elif section and row == section_row + 1:                    # the section's comment goes on
            section, section_row = section + ' ' + text, row
        else:                                                        # a line of its own: a section
            section, section_row, last = text, row, None
    return comments, sections


def main_parse(cls, argv, config_file_allowed=True):
    """parse_args for a CLI: print the error (or help) and exit instead of raising."""
    try:
        return parse_args(cls, argv, config_file_allowed)
    except HelpAsked as e:
        try:
            print(e)
        except BrokenPipeError:         # `--help | head`: the reader has seen enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no error at exit's flush
        sys.exit(0)
    except ConfigError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)


def split_positionals(cls, argv) -> tuple[list[str], list[str]]:
    """(the positional arguments, the options) of argv, a `--key value` pair read exactly as
    parse_args reads it, for a CLI whose positional argument is not a config file: `python style.py
    score FILE --meter m.pt`. The options then go to parse_args."""
    fields = _fields(cls)
    positionals, options = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith('--'):
            positionals.append(arg)
            i += 1
            continue
        key, eq, _ = arg[2:].partition('=')
        key = key.replace('-', '_')
        next_is_value = not eq and i + 1 < len(argv) and not argv[i + 1].startswith('--')
        is_flag = key in fields and _value_type(fields[key]) is bool and not (
            next_is_value and argv[i + 1].lower() in TRUE_WORDS + FALSE_WORDS)
        takes_next = next_is_value and not is_flag
        options += argv[i:i + 2] if takes_next else [arg]
        i += 2 if takes_next else 1
    return positionals, options
