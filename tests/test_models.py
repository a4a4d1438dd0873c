"""The five models: recurrent cells against PyTorch's, GPT against HF GPT-2, step() against forward()."""
import math

import pytest
import torch
from torch.nn import functional as F
from torch.utils._pytree import tree_map

from nanopushkin.config import TrainConfig
from nanopushkin.models import MODEL_TYPES, build_model, model_args_from_config
from nanopushkin.models.gpt import GPT, GPTConfig
from nanopushkin.models.rnn import CELLS, RecurrentStack

TORCH_CELLS = {'rnn': torch.nn.RNNCell, 'gru': torch.nn.GRUCell, 'lstm': torch.nn.LSTMCell}
TORCH_STACKS = {'rnn': torch.nn.RNN, 'gru': torch.nn.GRU, 'lstm': torch.nn.LSTM}
WEIGHT_NAMES = ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh')

TINY_ARGS = {
    'linear': dict(vocab_size=11, context=3, n_embd=4, n_hidden=16, n_layer=2),
    'rnn': dict(vocab_size=11, n_embd=6, n_hidden=8, n_layer=2),
    'gru': dict(vocab_size=11, n_embd=6, n_hidden=8, n_layer=2),
    'lstm': dict(vocab_size=11, n_embd=6, n_hidden=8, n_layer=2),
    'gpt': dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=8),
}


def tiny_model(model_type, **overrides):
    torch.manual_seed(0)
    return build_model(model_type, {**TINY_ARGS[model_type], **overrides}).double().eval()


def grads(params):
    return [p.grad.clone() for p in params]


# -----------------------------------------------------------------------------
# recurrent cells and stacks == torch.nn

@pytest.mark.parametrize('cell', ['rnn', 'gru', 'lstm'])
def test_cell_matches_torch_cell(cell):
    torch.manual_seed(0)
    ours = CELLS[cell](5, 7).double()
    ref = TORCH_CELLS[cell](5, 7).double()
    ref.load_state_dict(ours.state_dict())  # same names and shapes
    x = torch.randn(3, 5, dtype=torch.double, requires_grad=True)
    state = tuple(torch.randn(3, 7, dtype=torch.double) for _ in range(ours.n_states))

    out = ours(x, state)
    ref_out = ref(x, state if cell == 'lstm' else state[0])
    ref_out = ref_out if cell == 'lstm' else (ref_out,)
    for a, b in zip(out, ref_out):
        torch.testing.assert_close(a, b)

    sum(o.pow(2).sum() for o in out).backward()
    ours_grads, x_grad = grads(ours.parameters()), x.grad.clone()
    x.grad = None
    sum(o.pow(2).sum() for o in ref_out).backward()
    for a, b in zip(ours_grads, grads(ref.parameters())):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(x_grad, x.grad)


@pytest.mark.parametrize('fused', [False, True])
@pytest.mark.parametrize('cell', ['rnn', 'gru', 'lstm'])
def test_stack_matches_torch_module(cell, fused):
    torch.manual_seed(0)
    n_layer, B, T = 3, 2, 5
    ours = RecurrentStack(cell, 4, 6, n_layer, fused=fused).double()
    ref = TORCH_STACKS[cell](4, 6, n_layer, batch_first=True).double()
    ref.load_state_dict({f'{name}_l{k}': getattr(c, name)
                         for k, c in enumerate(ours.cells) for name in WEIGHT_NAMES})
    x = torch.randn(B, T, 4, dtype=torch.double, requires_grad=True)
    state = tuple(torch.randn(B, n_layer, 6, dtype=torch.double) for _ in range(ours.cells[0].n_states))

    out, new_state = ours(x, state)
    torch_state = tuple(s.transpose(0, 1).contiguous() for s in state)  # torch: (n_layer, B, hidden)
    ref_out, ref_state = ref(x, torch_state if cell == 'lstm' else torch_state[0])
    ref_state = ref_state if cell == 'lstm' else (ref_state,)
    torch.testing.assert_close(out, ref_out)
    for a, b in zip(new_state, ref_state):
        torch.testing.assert_close(a, b.transpose(0, 1))

    (out.pow(2).sum() + sum(s.sum() for s in new_state)).backward()
    ours_grads, x_grad = grads(ours.parameters()), x.grad.clone()
    x.grad = None
    (ref_out.pow(2).sum() + sum(s.sum() for s in ref_state)).backward()
    ref_grads = [getattr(ref, f'{name}_l{k}').grad for k in range(n_layer) for name in WEIGHT_NAMES]
    for a, b in zip(ours_grads, ref_grads):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(x_grad, x.grad)


def test_fused_dropout_between_layers_matches_torch():
    torch.manual_seed(0)
    ours = RecurrentStack('lstm', 4, 6, 3, dropout=0.5, fused=True)
    ref = torch.nn.LSTM(4, 6, 3, batch_first=True, dropout=0.5)
    ref.load_state_dict({f'{name}_l{k}': getattr(c, name)
                         for k, c in enumerate(ours.cells) for name in WEIGHT_NAMES})
    x = torch.randn(2, 5, 4)
    torch.manual_seed(1)
    out, _ = ours(x)
    torch.manual_seed(1)
    ref_out, _ = ref(x)
    torch.testing.assert_close(out, ref_out)
    ours.eval()
    assert not torch.allclose(ours(x)[0], out)  # dropout really was on in training mode


@pytest.mark.parametrize('cell', ['rnn', 'gru', 'lstm'])
def test_fused_and_hand_written_model_are_the_same_function(cell):
    fused = tiny_model(cell, fused=True, dropout=0.3)
    hand = tiny_model(cell, fused=False, dropout=0.3)
    assert list(fused.state_dict()) == list(hand.state_dict())
    hand.load_state_dict(fused.state_dict())
    idx = torch.randint(0, 11, (3, 7))
    targets = torch.randint(0, 11, (3, 7))
    logits_f, loss_f = fused(idx, targets)
    logits_h, loss_h = hand(idx, targets)
    torch.testing.assert_close(logits_f, logits_h)
    loss_f.backward()
    loss_h.backward()
    for a, b in zip(fused.parameters(), hand.parameters()):
        torch.testing.assert_close(a.grad, b.grad)


# -----------------------------------------------------------------------------
# every model: step() == forward(), state batch-indexable, loss ignores -1

@pytest.mark.parametrize('model_type', MODEL_TYPES)
def test_step_matches_forward(model_type):
    model = tiny_model(model_type)
    idx = torch.randint(0, 11, (2, 12))
    full, _ = model(idx)
    # prompt of 5, then 3 tokens in one call, then one token per call
    logits, state = model.step(idx[:, :5])
    torch.testing.assert_close(logits, full[:, 4])
    logits, state = model.step(idx[:, 5:8], state)
    torch.testing.assert_close(logits, full[:, 7])
    for t in range(8, 12):
        logits, state = model.step(idx[:, t:t + 1], state)
        torch.testing.assert_close(logits, full[:, t])


@pytest.mark.parametrize('model_type', MODEL_TYPES)
def test_state_can_be_indexed_by_batch(model_type):
    model = tiny_model(model_type)
    idx = torch.randint(0, 11, (3, 6))
    _, state = model.step(idx[:, :5])
    order = torch.tensor([2, 2, 0])  # what a beam search does: reorder and duplicate rows
    logits, _ = model.step(idx[order, 5:], tree_map(lambda t: t[order], state))
    full, _ = model(idx[order])
    torch.testing.assert_close(logits, full[:, -1])


@pytest.mark.parametrize('model_type', MODEL_TYPES)
def test_loss_is_cross_entropy_ignoring_minus_one(model_type):
    model = tiny_model(model_type)
    idx = torch.randint(0, 11, (2, 6))
    targets = torch.randint(0, 11, (2, 6))
    targets[0, :2] = -1
    targets[1, 5] = -1
    logits, loss = model(idx, targets)
    assert logits.shape == (2, 6, 11)
    keep = targets != -1
    expected = -F.log_softmax(logits[keep], dim=-1).gather(1, targets[keep][:, None]).mean()
    torch.testing.assert_close(loss, expected)
    assert model(idx)[1] is None


def test_linear_sees_exactly_its_context():
    model = tiny_model('linear', context=3)
    idx = torch.randint(0, 11, (1, 10))
    base, _ = model(idx)
    far, near = idx.clone(), idx.clone()
    far[0, 4] = (idx[0, 4] + 1) % 11   # 3 tokens before position 7: outside its window
    near[0, 5] = (idx[0, 5] + 1) % 11  # 2 tokens before position 7: inside
    torch.testing.assert_close(model(far)[0][0, 7], base[0, 7])
    assert not torch.allclose(model(near)[0][0, 7], base[0, 7])
    torch.testing.assert_close(model(far)[0][0, :4], base[0, :4])  # causal: no peeking ahead


def test_gpt_generation_inside_the_window_is_nanogpts():
    # greedy tokens from the KV cache == greedy tokens recomputing the whole context (nanoGPT's
    # generate), up to the last position the window holds
    model = tiny_model('gpt', block_size=8)
    idx = torch.randint(0, 11, (2, 3))
    logits, state = model.step(idx)
    cached = idx
    for _ in range(5):
        cached = torch.cat([cached, logits.argmax(-1, keepdim=True)], dim=1)
        logits, state = model.step(cached[:, -1:], state)
    recomputed = idx
    for _ in range(5):
        recomputed = torch.cat([recomputed, model(recomputed)[0][:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(cached, recomputed)
    assert state['tokens'].shape == (2, 8)


def test_gpt_generation_past_block_size_reencodes_the_last_half_window():
    model = tiny_model('gpt', block_size=8)
    idx = torch.randint(0, 11, (2, 30))
    logits, state = model.step(idx[:, :3])
    lengths = []
    for t in range(3, 30):
        logits, state = model.step(idx[:, t:t + 1], state)
        n = state['kv'][0][0].size(2)
        lengths.append(n)
        assert torch.equal(state['tokens'], idx[:, t + 1 - n:t + 1])  # the tokens the cache holds
        # the logits are those of a full forward over the window the cache holds: at a re-encode
        # (n == 4) a fresh half window, after it that window grown by the cached tokens
        torch.testing.assert_close(logits, model(idx[:, t + 1 - n:t + 1])[0][:, -1])
    # the cache fills to block_size, then restarts from half of it: one re-encode per 5 new tokens
    assert lengths == [4, 5, 6, 7, 8] * 5 + [4, 5]
    logits, state = model.step(idx)  # a prompt longer than block_size: its last block_size tokens
    torch.testing.assert_close(logits, model(idx[:, -8:])[0][:, -1])
    # several new tokens into a full cache: a half window, or all the new ones if they are more
    logits, _ = model.step(idx[:, :3], state)
    torch.testing.assert_close(logits, model(torch.cat([idx[:, -1:], idx[:, :3]], dim=1))[0][:, -1])
    logits, _ = model.step(idx[:, :6], state)
    torch.testing.assert_close(logits, model(idx[:, :6])[0][:, -1])
    with pytest.raises(ValueError, match='block_size'):
        model(idx)


# -----------------------------------------------------------------------------
# GPT details

def test_gpt_matches_hf_gpt2():
    transformers = pytest.importorskip('transformers')
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32)).eval()
    hf_config = transformers.GPT2Config(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4,
                                        activation_function='gelu_new', resid_pdrop=0.0,
                                        embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5)
    hf = transformers.GPT2LMHeadModel(hf_config).eval()
    conv1d = ('attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight')
    ours = model.state_dict()
    with torch.no_grad():
        for name, p in hf.named_parameters():  # HF's Conv1D stores the transposed weight
            p.copy_(ours[name].t() if name.endswith(conv1d) else ours[name])
    idx = torch.randint(0, 50, (2, 16))
    with torch.no_grad():
        torch.testing.assert_close(model(idx)[0], hf(idx).logits, atol=1e-5, rtol=1e-5)


def test_gpt_names_init_and_tied_embeddings():
    model = GPT(GPTConfig(vocab_size=100, block_size=16, n_layer=4, n_head=2, n_embd=64))
    assert model.lm_head.weight is model.transformer.wte.weight
    names = set(model.state_dict())
    for name in ('transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.3.ln_1.weight',
                 'transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.bias',
                 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight',
                 'transformer.h.0.ln_2.bias', 'transformer.ln_f.weight', 'lm_head.weight'):
        assert name in names
    assert model.transformer.h[0].attn.c_attn.weight.shape == (192, 64)  # nn.Linear layout
    assert model.num_params() == sum(p.numel() for p in model.parameters())
    assert abs(model.transformer.h[0].mlp.c_fc.weight.std().item() - 0.02) < 0.002
    proj_std = 0.02 / math.sqrt(2 * 4)
    assert abs(model.transformer.h[0].mlp.c_proj.weight.std().item() - proj_std) < 0.1 * proj_std
    no_bias = GPT(GPTConfig(vocab_size=100, block_size=16, n_layer=1, n_head=2, n_embd=8, bias=False))
    assert not any(name.endswith('bias') for name in no_bias.state_dict())


def test_gpt_gradient_checkpointing_gives_the_same_gradients():
    model = tiny_model('gpt').train()
    idx = torch.randint(0, 11, (2, 10))
    _, loss = model(idx, idx)
    loss.backward()
    plain = grads(model.parameters())
    model.zero_grad()
    model.gradient_checkpointing = True
    _, loss_ckpt = model(idx, idx)
    loss_ckpt.backward()
    torch.testing.assert_close(loss_ckpt, loss)
    for a, b in zip(grads(model.parameters()), plain):
        torch.testing.assert_close(a, b)


# -----------------------------------------------------------------------------
# registry

@pytest.mark.parametrize('model_type', MODEL_TYPES)
def test_model_args_from_train_config(model_type):
    cfg = TrainConfig(model=model_type, n_layer=2, n_head=2, n_embd=8, n_hidden=16, context=4,
                      block_size=32, dropout=0.1, bias=True, fused=False)
    args = model_args_from_config(cfg, vocab_size=20)
    model = build_model(model_type, args)
    assert model.config.vocab_size == 20 and model.config.n_layer == 2
    assert model.num_params() == sum(p.numel() for p in model.parameters()) > 0
    if model_type in ('rnn', 'gru', 'lstm'):
        assert model.config.cell == model_type and model.rnn.fused is False
    if model_type == 'gpt':
        assert model.config.block_size == 32 and model.config.bias is True


def test_build_model_errors():
    with pytest.raises(ValueError, match="valid types: linear, rnn, gru, lstm, gpt"):
        build_model('transformer', {})
    with pytest.raises(ValueError, match='n_hiden'):
        build_model('lstm', dict(vocab_size=10, n_hiden=3))
    with pytest.raises(ValueError, match='vocab_size'):
        build_model('gpt', dict(n_layer=2))
    with pytest.raises(ValueError, match='divisible'):
        build_model('gpt', dict(vocab_size=10, n_embd=10, n_head=3))
    with pytest.raises(ValueError, match='must agree'):
        build_model('gru', dict(vocab_size=10, cell='lstm'))
    with pytest.raises(ValueError, match='dropout'):
        build_model('linear', dict(vocab_size=10, dropout=1.5))
    with pytest.raises(ValueError, match='unknown model type'):
        model_args_from_config(TrainConfig(model='mamba'), vocab_size=10)
