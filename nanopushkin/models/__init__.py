"""
The model registry: every model is built from (model_type, model_args), the pair a checkpoint stores.

All models share one interface:
    forward(idx, targets=None) -> (logits (B, T, vocab), loss or None)   loss ignores targets == -1
    step(idx_new, state=None) -> (next-token logits (B, vocab), state)   incremental generation;
        state is a tuple/dict of tensors with the batch at dim 0
    num_params() -> int                  every parameter once (tied weights once, position embeddings in)
What they share (config checks, the loss, num_params) is in base.py.
"""

import dataclasses
from contextlib import contextmanager

import torch
from torch.overrides import TorchFunctionMode

from .gpt import GPT, GPTConfig
from .linear import LinearConfig, NGramMLP
from .rnn import RNN, RNNConfig

MODEL_TYPES = ('linear', 'rnn', 'gru', 'lstm', 'gpt')

# Per model type, in one place: its config dataclass (which holds the defaults), its module, and
# the TrainConfig keys that feed the config. A TrainConfig key left at None keeps the default.
# (A GPT's block_size is the training block_size: its position embeddings cover what it trains on.)
MODELS = {
    'linear': (LinearConfig, NGramMLP, ('context', 'n_layer', 'n_embd', 'n_hidden', 'dropout')),
    'rnn': (RNNConfig, RNN, ('n_layer', 'n_embd', 'n_hidden', 'dropout', 'fused')),
    'gru': (RNNConfig, RNN, ('n_layer', 'n_embd', 'n_hidden', 'dropout', 'fused')),
    'lstm': (RNNConfig, RNN, ('n_layer', 'n_embd', 'n_hidden', 'dropout', 'fused')),
    'gpt': (GPTConfig, GPT, ('n_layer', 'n_head', 'n_embd', 'dropout', 'bias', 'block_size', 'rotary', 'rmsnorm',
                             'qk_norm', 'relu2', 'untied')),
}


def _check_model_type(model_type):
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; valid types: {', '.join(MODEL_TYPES)}")


def build_model(model_type, model_args):
    """A freshly initialised model of the given type; model_args are its config's fields."""
    _check_model_type(model_type)
    config_cls, model_cls, _ = MODELS[model_type]
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(model_args) - set(fields))
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)} for model {model_type!r}; "
                         f"valid: {', '.join(fields)}")
    missing = [name for name, f in fields.items() if name not in model_args
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"model {model_type!r} needs argument(s) {', '.join(missing)}")
    if config_cls is RNNConfig:  # the model type names the cell
        if model_args.get('cell', model_type) != model_type:
            raise ValueError(f"model {model_type!r} got cell={model_args['cell']!r}; they must agree")
        model_args = {**model_args, 'cell': model_type}
    return model_cls(config_cls(**model_args))


def model_hyperparameters(cfg) -> dict:
    """The values of the TrainConfig keys that define the model cfg.model, defaults filled in."""
    _check_model_type(cfg.model)
    config_cls, _, keys = MODELS[cfg.model]
    defaults = {f.name: f.default for f in dataclasses.fields(config_cls)}
    return {key: defaults[key] if getattr(cfg, key) is None else getattr(cfg, key) for key in keys}


def model_args_from_config(cfg, vocab_size):
    """build_model's model_args for the model cfg.model: every field of its config, so a checkpoint
    says the whole model even if a default here changes later."""
    args = {'vocab_size': vocab_size, **model_hyperparameters(cfg)}
    config_cls, _, _ = MODELS[cfg.model]
    if config_cls is RNNConfig:
        args['cell'] = cfg.model
    return dataclasses.asdict(config_cls(**args))


class _SkipInitialization(TorchFunctionMode):
    """Inside: torch.nn.init's fills of meta tensors return at once. On the meta device they compute
    nothing anyway, but their first call imports torch's compiler (seconds)."""
    FILLS = ('normal_', 'uniform_', 'zeros_', 'ones_', 'fill_', 'zero_', 'kaiming_uniform_', 'trunc_normal_')

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        target = args[0] if args else next(iter(kwargs.values()), None)
        if getattr(func, '__name__', '') in self.FILLS and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        return func(*args, **kwargs)


@contextmanager
def shapes_only():
    """Models built inside this block have their parameters' shapes and no memory (the meta device):
    to check a file's weights against the model its settings describe before allocating it."""
    with torch.device('meta'), _SkipInitialization():
        yield
