"""One training step of a model, with the shape of every tensor on the way: python docs/one_step.py

    python docs/one_step.py                          # config/gpt.py's GPT on data/pushkin/char (seconds)
    python docs/one_step.py config/gru.py            # any config; --batch_size=2 --block_size=8 to shrink it

The journey's chapter 5a reads this output line by line. Nothing here is a second implementation:
the batch comes from the Dataset the trainer uses, the model from the same build_model, the
optimizer and the learning rate from the trainer's own functions, and the shapes are recorded by
forward hooks on the model's modules while it runs its ordinary forward and backward.
"""
import re
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from nanopushkin.config import TrainConfig, main_parse  # noqa: E402
from nanopushkin.data import Dataset  # noqa: E402
from nanopushkin.models import build_model, model_args_from_config  # noqa: E402
from nanopushkin.trainer import get_lr, make_optimizer  # noqa: E402


def shape(value):
    """'(12, 64, 128)' for a tensor, the shapes of a tuple's tensors, '' for anything else."""
    if torch.is_tensor(value):
        return '(' + ', '.join(str(n) for n in value.shape) + ')'
    if isinstance(value, (tuple, list)):
        return ' '.join(filter(None, (shape(v) for v in value)))
    return ''


def record_shapes(model, lines, first_block_only=True):
    """A forward hook on every module prints 'name: input shape -> output shape' as it runs. Blocks
    after the first repeat the first one's shapes, so only block 0 is shown."""
    def hook(name):
        return lambda module, inputs, output: lines.append(f'  {name:<36} {shape(inputs):>14} -> {shape(output)}')
    handles = []
    for name, module in model.named_modules():
        repeated = re.search(r'\.[1-9][0-9]*(\.|$)', name) is not None  # inside block 1, 2, ...
        if name and not (first_block_only and repeated):
            handles.append(module.register_forward_hook(hook(name)))
    return handles


def one_step(config: TrainConfig, seed=1337) -> list[str]:
    torch.manual_seed(seed)
    dataset = Dataset(config.data_dir)
    model = build_model(config.model, model_args_from_config(config, dataset.vocab_size))
    optimizer = make_optimizer(model, config, 'cpu')
    x, y = dataset.get_batch('train', config.batch_size, config.block_size, torch.Generator().manual_seed(seed))
    B, T = x.shape
    lines = [f'batch: x {shape(x)} token ids, y {shape(y)} the same ids shifted by one: y[b, t] = x[b, t + 1]',
             f'model: {config.model}, {model.num_params():,} parameters, vocabulary {dataset.vocab_size}',
             'forward (each module as it runs: its inputs -> its output):']
    handles = record_shapes(model, lines)
    logits, loss = model(x, y)
    for handle in handles:
        handle.remove()
    lines.append(f'logits {shape(logits)}: a score for each of the {logits.size(-1)} tokens at each of the '
                 f'{B} x {T} positions')
    lines.append(f'loss: cross-entropy averaged over the {B * T} positions = {loss.item():.4f} nats '
                 f'(uniform guessing: ln {dataset.vocab_size} = {torch.log(torch.tensor(float(dataset.vocab_size))):.4f})')
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip) if config.grad_clip else None
    lines.append(f'backward: {len(grads)} gradient tensors, each the shape of its parameter'
                 + (f'; their total norm {norm:.3f}, clipped to {config.grad_clip}' if norm is not None else ''))
    lr = get_lr(0, config)
    for group in optimizer.param_groups:
        group['lr'] = lr
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    moved = max((p.detach() - b).abs().max().item() for p, b in zip(model.parameters(), before))
    lines.append(f'AdamW step at learning rate {lr:.2e} (iteration 0 of the warmup): the largest weight moved by {moved:.2e}')
    return lines


def main(argv):
    config = main_parse(TrainConfig, argv or ['config/gpt.py'])
    print('\n'.join(one_step(config)))


if __name__ == '__main__':
    main(sys.argv[1:])
