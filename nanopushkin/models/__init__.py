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

from .gpt import GPT, GPTConfig
from .linear import LinearConfig, NGramMLP
from .rnn import RNN, RNNConfig

MODEL_TYPES = ('linear', 'rnn', 'gru', 'lstm', 'gpt')

_MODELS = {
    'linear': (LinearConfig, NGramMLP),
    'rnn': (RNNConfig, RNN),
    'gru': (RNNConfig, RNN),
    'lstm': (RNNConfig, RNN),
    'gpt': (GPTConfig, GPT),
}


def build_model(model_type, model_args):
    """A freshly initialised model of the given type; model_args are its config's fields."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; valid types: {', '.join(MODEL_TYPES)}")
    config_cls, model_cls = _MODELS[model_type]
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


def model_args_from_config(cfg, vocab_size):
    """The TrainConfig fields that define the model cfg.model, as build_model's model_args."""
    if cfg.model not in MODEL_TYPES:
        raise ValueError(f"unknown model type {cfg.model!r}; valid types: {', '.join(MODEL_TYPES)}")
    if cfg.model == 'linear':
        return dict(vocab_size=vocab_size, context=cfg.context, n_embd=cfg.n_embd,
                    n_hidden=cfg.n_hidden, n_layer=cfg.n_layer, dropout=cfg.dropout)
    if cfg.model == 'gpt':
        return dict(vocab_size=vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                    n_head=cfg.n_head, n_embd=cfg.n_embd, dropout=cfg.dropout, bias=cfg.bias)
    return dict(vocab_size=vocab_size, cell=cfg.model, n_embd=cfg.n_embd, n_hidden=cfg.n_hidden,
                n_layer=cfg.n_layer, dropout=cfg.dropout, fused=cfg.fused)
