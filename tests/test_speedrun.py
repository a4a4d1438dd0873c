"""The speedrun's pieces (issue 21): the GPT's five options and Muon, each against an independent
computation; the rotary KV cache's true sliding window; every option and Muon through train.py and
sample.py; config/speedrun.py end to end; and, all options off, the GPT-2 it always was."""
import copy
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch.utils._pytree import tree_map

import sample
import train
from nanopushkin.checkpoint import load_checkpoint
from nanopushkin.compare import model_summary
from nanopushkin.config import TrainConfig, load_config_file, parse_args
from nanopushkin.data import prepare_command
from nanopushkin.hf import gpt2_tensor_shapes, hf_config_from_gpt
from nanopushkin.models import model_args_from_config
from nanopushkin.models.gpt import GPT, MODERN_OPTIONS, GPTConfig
from nanopushkin.models.layers import RMSNorm, apply_rotary, rotary_tables
from nanopushkin.optim import NS_COEFFICIENTS, NS_STEPS, hidden_matrices, orthogonalize
from nanopushkin.playground import attention_weights
from nanopushkin.trainer import estimate_memory, make_optimizer
from nanopushkin.trainer import train as train_run

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = MODERN_OPTIONS
ALL_ON = {name: True for name in OPTIONS}
TINY = dict(n_layer=2, n_head=2, n_embd=16, batch_size=4, block_size=16, max_iters=4, eval_interval=2,
            eval_iters=2, log_interval=1, warmup_iters=2, progress=False, plot=False, device='cpu')
PROMPT = 'Мой дядя'


def cli_args(options: dict) -> list[str]:
    return [f'--{key}={value}' for key, value in options.items()]


def tiny_gpt(block_size=8, n_layer=2, **options):
    """A float64 GPT with every weight moved off its initial value (the untied start is all zeros
    in places, which would make the comparisons trivially true)."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=block_size, n_layer=n_layer, n_head=2, n_embd=8,
                          **options)).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


# -----------------------------------------------------------------------------
# the pieces against independent computations


def test_rotary_is_the_rotation_of_complex_numbers():
    head_size, start, T = 8, 5, 7
    x = torch.randn(2, 3, T, head_size, dtype=torch.float64)
    rotated = apply_rotary(x, *rotary_tables(start, T, head_size))
    # pair i is the complex number x_i + i x_{i+4}; position m multiplies it by e^(i m 10000^(-2i/8))
    half = head_size // 2
    z = torch.complex(x[..., :half], x[..., half:])
    angles = torch.arange(start, start + T, dtype=torch.float64)[:, None] * torch.tensor(
        [10000.0 ** (-2 * i / head_size) for i in range(half)], dtype=torch.float64)
    turned = z * torch.polar(torch.ones_like(angles), angles)
    torch.testing.assert_close(rotated, torch.cat([turned.real, turned.imag], dim=-1))
    # so a score depends only on how far apart the query and the key are, even 100,000 positions on
    q, k = torch.randn(2, head_size, dtype=torch.float64)

    def score(m, n):
        return apply_rotary(q, *rotary_tables(m, 1, head_size))[0] @ apply_rotary(k, *rotary_tables(n, 1, head_size))[0]
    torch.testing.assert_close(score(9, 4), score(109, 104))
    torch.testing.assert_close(score(9, 4), score(100_009, 100_004))
    assert not torch.isclose(score(9, 4), score(9, 5))


def test_rmsnorm_matches_torch():
    ours, theirs = RMSNorm(16, eps=1e-5).double(), torch.nn.RMSNorm(16, eps=1e-5).double()
    with torch.no_grad():
        ours.weight.normal_()
        theirs.weight.copy_(ours.weight)
    x = 3 * torch.randn(4, 5, 16, dtype=torch.float64) + 1
    torch.testing.assert_close(ours(x), theirs(x))
    # rmsnorm=True: before every sublayer and the output layer, in place of every LayerNorm
    model = GPT(GPTConfig(vocab_size=11, n_layer=2, n_head=2, n_embd=8, rmsnorm=True))
    assert sum(isinstance(m, RMSNorm) for m in model.modules()) == 5
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in model.modules())


def test_qk_norm_and_relu2_compute_what_they_say():
    model = tiny_gpt(qk_norm=True, relu2=True)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    attn, mlp = model.transformer.h[0].attn, model.transformer.h[0].mlp
    q, k, v = attn.project(x)
    plain_q, plain_k, plain_v = attn.c_attn(x).view(2, 5, 3, 2, 4).permute(2, 0, 3, 1, 4)
    rms = lambda t, gain: t / t.pow(2).mean(-1, keepdim=True).add(1e-5).sqrt() * gain  # noqa: E731
    torch.testing.assert_close(q, rms(plain_q, attn.q_norm.weight))
    torch.testing.assert_close(k, rms(plain_k, attn.k_norm.weight))
    torch.testing.assert_close(v, plain_v)
    torch.testing.assert_close(mlp(x), mlp.c_proj(torch.clamp(mlp.c_fc(x), min=0) ** 2))


def newton_schulz_on_singular_values(G):
    """What orthogonalize must compute, by another road: its polynomial acts on each singular value
    of G / ||G|| alone and keeps the singular vectors, so apply it to the SVD's singular values."""
    U, S, Vh = torch.linalg.svd(G, full_matrices=False)
    s = S / (G.norm() + 1e-7)
    a, b, c = NS_COEFFICIENTS
    for _ in range(NS_STEPS):
        s = a * s + b * s ** 3 + c * s ** 5
    return U @ torch.diag(s) @ Vh


@pytest.mark.parametrize('shape', [(24, 64), (64, 24), (32, 32)])
def test_newton_schulz_moves_singular_values_near_one(shape):
    torch.manual_seed(0)
    G = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(orthogonalize(G), newton_schulz_on_singular_values(G))
    if shape[0] != shape[1]:  # a random rectangular matrix is well conditioned: all in the band
        for dtype in (torch.float64, torch.float32):  # float32 is what training uses
            before = torch.linalg.svdvals(G.to(dtype))
            after = torch.linalg.svdvals(orthogonalize(G.to(dtype)))
            assert before.max() / before.min() > 3  # from spread out to within 0.68..1.21
            assert 0.68 < after.min() and after.max() < 1.21, after


def test_muon_steps_match_a_direct_recomputation():
    model = tiny_gpt(**ALL_ON).train()
    reference = copy.deepcopy(model)
    config = TrainConfig(optimizer='muon', learning_rate=1e-2, muon_lr=0.05, muon_momentum=0.9,
                         weight_decay=0.1, muon_weight_decay=0.3)
    optimizer = make_optimizer(model, config, 'cpu')
    # Muon gets the blocks' matrices; AdamW the embedding, the output layer, the gains and biases
    names = {id(p): name for name, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in hidden_matrices(model)) == sorted(
        f'transformer.h.{i}.{m}.weight' for i in range(2) for m in ('attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'))
    assert [g.get('muon', False) for g in optimizer.param_groups] == [False, False, True]
    # the reference: torch's AdamW on the same groups, Muon's update written out
    ref_params = dict(reference.named_parameters())
    muon_names = {names[id(p)] for p in hidden_matrices(model)}
    adamw_names = [n for n in ref_params if n not in muon_names]
    torch_adamw = torch.optim.AdamW([
        {'params': [ref_params[n] for n in adamw_names if ref_params[n].dim() == 2], 'weight_decay': 0.1},
        {'params': [ref_params[n] for n in adamw_names if ref_params[n].dim() < 2], 'weight_decay': 0.0}],
        lr=1e-2, betas=(config.beta1, config.beta2))
    momentum = {n: torch.zeros_like(ref_params[n]) for n in muon_names}
    for _ in range(3):  # the second and third steps use the momentum
        idx = torch.randint(0, 11, (2, 8))
        for m in (model, reference):
            m(idx, idx)[1].backward()
        optimizer.step()
        torch_adamw.step()
        with torch.no_grad():
            for n in muon_names:
                p = ref_params[n]
                momentum[n] = 0.9 * momentum[n] + p.grad
                p *= 1 - 0.05 * 0.3
                p -= 0.05 * max(1, p.size(0) / p.size(1)) ** 0.5 * newton_schulz_on_singular_values(
                    p.grad + 0.9 * momentum[n])
        for m in (model, reference, optimizer, torch_adamw):
            m.zero_grad()
        for name, p in model.named_parameters():
            torch.testing.assert_close(p, ref_params[name], msg=name)
    # the memory estimate counts one momentum for Muon's matrices, two averages for AdamW's weights
    muon_numel = sum(p.numel() for p in hidden_matrices(model))
    n_params = sum(p.numel() for p in model.parameters())
    assert estimate_memory(model, config)['optimizer'] == 8 * n_params - 4 * muon_numel


# -----------------------------------------------------------------------------
# generation: the rotary cache slides


def test_rotary_step_with_one_layer_is_a_forward_over_the_window():
    # one layer: a key depends on its token and position only, so the sliding cache is exactly a
    # forward over the tokens it holds (at other positions, which rotary attention cannot tell)
    model = tiny_gpt(block_size=8, n_layer=1, rotary=True, qk_norm=True)
    idx = torch.randint(0, 11, (2, 30))
    logits, state = model.step(idx[:, :3])
    for t in range(3, 30):
        logits, state = model.step(idx[:, t:t + 1], state)
        n = min(t + 1, 8)  # always the whole window once it is full, never re-encoded
        assert state['kv'][0][0].size(2) == n and torch.equal(state['tokens'], idx[:, t + 1 - n:t + 1])
        assert state['position'].tolist() == [t + 1, t + 1]  # the positions go on past block_size
        torch.testing.assert_close(logits, model(idx[:, t + 1 - n:t + 1])[0][:, -1])
    # several new tokens into a full cache slide it by as many; block_size of them start afresh
    logits, _ = model.step(idx[:, :3], state)
    torch.testing.assert_close(logits, model(torch.cat([idx[:, -5:], idx[:, :3]], dim=1))[0][:, -1])
    logits, _ = model.step(idx[:, :8], state)
    torch.testing.assert_close(logits, model(idx[:, :8])[0][:, -1])
    # a beam search reorders the state's rows
    order = torch.tensor([1, 1, 0])
    logits, _ = model.step(idx[order, :1], tree_map(lambda s: s[order], state))
    torch.testing.assert_close(logits, model(torch.cat([idx[order, -7:], idx[order, :1]], dim=1))[0][:, -1])


def sliding_window_forward(model, idx, window):
    """Logits of a forward over the whole of idx in which every position attends to the `window`
    positions up to itself only (a banded causal mask), the attention written out."""
    x, rope = model.embed(idx)
    i = torch.arange(idx.size(1))
    band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < window)
    for block in model.transformer.h:
        q, k, v = block.attn.project(block.ln_1(x), rope)
        scores = (q @ k.transpose(-2, -1) / k.size(-1) ** 0.5).masked_fill(~band, float('-inf'))
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape)
        x = x + block.attn.c_proj(y)
        x = x + block.mlp(block.ln_2(x))
    return model.lm_head(model.transformer.ln_f(x))


def test_rotary_step_is_sliding_window_attention_over_the_whole_text():
    # deeper layers: a cached key remembers the tokens its own token saw, which may have left the
    # window since, so the model sees further back than a crop of the last block_size tokens does
    model = tiny_gpt(block_size=8, n_layer=3, **ALL_ON)
    idx = torch.randint(0, 11, (2, 30))
    reference = sliding_window_forward(model, idx, window=8)
    logits, state = model.step(idx[:, :3])
    torch.testing.assert_close(logits, reference[:, 2])
    for t in range(3, 30):
        logits, state = model.step(idx[:, t:t + 1], state)
        torch.testing.assert_close(logits, reference[:, t])
    crop = model(idx[:, -8:])[0][:, -1]
    assert (logits - crop).abs().max() > 1e-3


def test_playground_attention_weights_with_every_option():
    """The playground's recomputed weights, times the values, through the output projection, are
    what the layer computes, with rotary positions and normalised queries and keys."""
    model = tiny_gpt(block_size=16, **ALL_ON)
    ids = [1, 5, 2, 7, 7, 3, 0, 9, 4, 6]
    with torch.no_grad():
        x, rope = model.embed(torch.tensor([ids]))
        x, _ = model.transformer.h[0](x, None, rope)
        attn = model.transformer.h[1].attn
        h = model.transformer.h[1].ln_1(x)
        expected, _ = attn(h, None, rope)
        weights = attention_weights(model, ids, 1)  # (heads, T, T)
        _, _, v = attn.project(h, rope)
        y = (weights.unsqueeze(0) @ v).transpose(1, 2).reshape(1, len(ids), 8)
        torch.testing.assert_close(attn.c_proj(y), expected)
    assert torch.all(weights.triu(1) == 0)


# -----------------------------------------------------------------------------
# defaults: GPT-2


def test_defaults_are_gpt2_and_each_option_changes_what_it_says():
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    assert OPTIONS == ('rotary', 'rmsnorm', 'qk_norm', 'relu2', 'untied')
    assert not any(getattr(config, name) for name in OPTIONS)
    assert model_args_from_config(TrainConfig(), 11) == {**vars(GPTConfig(vocab_size=11)), 'block_size': 128}
    gpt2 = GPT(config)
    names = {name: tuple(t.shape) for name, t in gpt2.state_dict().items()}
    shapes = gpt2_tensor_shapes(config)  # GPT-2's tensors, what a ruGPT3 file holds (Conv1D transposed)
    assert names == {**{n: s[::-1] if len(s) == 2 and '.h.' in n else s for n, s in shapes.items()},
                     'lm_head.weight': (11, 8)}
    assert gpt2.lm_head.weight is gpt2.transformer.wte.weight
    hf_config_from_gpt(config)  # exports
    modern = GPT(replace(config, **ALL_ON))
    state = modern.state_dict()
    assert 'transformer.wpe.weight' not in state
    assert {n for n in state if 'norm' in n} == {f'transformer.h.{i}.attn.{q}_norm.weight' for i in range(2) for q in 'qk'}
    assert modern.lm_head.weight is not modern.transformer.wte.weight
    zero = [n for n, p in modern.named_parameters() if p.dim() == 2 and not p.any()]
    assert sorted(zero) == sorted(['lm_head.weight'] + [f'transformer.h.{i}.{m}.c_proj.weight'
                                                        for i in range(2) for m in ('attn', 'mlp')])
    for name in OPTIONS:
        with pytest.raises(ValueError, match=f'{name}=True'):
            hf_config_from_gpt(replace(config, **{name: True}))
    with pytest.raises(ValueError, match='head size'):
        GPTConfig(vocab_size=11, n_head=2, n_embd=6, rotary=True)
    # compare.py's hyperparameters: GPT-2 with AdamW described as before, the rest named when on
    gpt = parse_args(TrainConfig, [str(ROOT / 'config' / 'gpt.py')])
    assert model_summary(gpt) == {'n_layer': 4, 'n_head': 4, 'n_embd': 128, 'dropout': 0.0, 'bias': False,
                                  'block_size': 64, 'learning_rate': 2e-3, 'batch_size': 12}
    assert model_summary(replace(gpt, rotary=True, optimizer='muon')) == {
        **model_summary(gpt), 'rotary': True, 'optimizer': 'muon', 'muon_lr': 0.02}


# -----------------------------------------------------------------------------
# end to end: train.py and sample.py


@pytest.mark.parametrize('option', OPTIONS + ('optimizer=muon',))
def test_each_option_trains_through_train_py_and_samples(option, char_dataset, tmp_path, capsys):
    key, _, value = option.partition('=')
    out_dir = tmp_path / key
    train.main([str(ROOT / 'config' / 'gpt.py'), *cli_args(TINY), f'--data_dir={char_dataset}',
                f'--out_dir={out_dir}', f'--{key}={value or True}'])
    model, _, checkpoint = load_checkpoint(out_dir)
    assert checkpoint['config'][key] == (value or True) and checkpoint['iter_num'] == 4
    assert [name for name in OPTIONS if getattr(model.config, name)] == ([key] if key in OPTIONS else [])
    capsys.readouterr()
    sample.main([f'--out_dir={out_dir}', '--start', PROMPT, '--num_samples=1', '--max_new_tokens=40',  # past block 16
                 '--seed=1', '--device=cpu', '--stop_at_eot=False', '--stream=False'])
    text = capsys.readouterr().out.split('\n' + '-' * 40 + '\n')[0]
    assert text.startswith(PROMPT) and len(text) == len(PROMPT) + 40


def test_resume_with_muon_is_exact(char_dataset, tmp_path):
    straight = TrainConfig(**{**TINY, **ALL_ON, 'optimizer': 'muon', 'max_iters': 6, 'eval_interval': 3},
                           data_dir=str(char_dataset), out_dir=str(tmp_path / 'straight'))
    summary = train_run(straight)
    halves = replace(straight, out_dir=str(tmp_path / 'halves'), max_iters=3)
    train_run(halves)
    state = torch.load(tmp_path / 'halves' / 'ckpt.pt', weights_only=True)['optimizer']['state']
    assert sum('momentum_buffer' in s for s in state.values()) == 8  # 2 blocks x 4 matrices
    assert all(s['momentum_buffer'].any() for s in state.values() if 'momentum_buffer' in s)
    resumed = train_run(replace(halves, init_from='resume', max_iters=6))
    assert resumed['val_loss'] == pytest.approx(summary['val_loss'], abs=1e-6)
    logs = [(Path(run.out_dir) / 'log.jsonl').read_text().splitlines() for run in (straight, halves)]
    losses = [[r.get('loss', r.get('val_loss')) for r in map(json.loads, log) if r['event'] != 'done'] for log in logs]
    assert losses[0] == pytest.approx(losses[1], abs=1e-6) and len(losses[0]) == 6 + 3
    with pytest.raises(ValueError, match='trained with --optimizer=muon'):
        train_run(replace(halves, init_from='resume', optimizer='adamw', max_iters=9))


def test_speedrun_config_trains_and_samples(char_dataset, tmp_path, capsys):
    path = ROOT / 'config' / 'speedrun.py'
    header = path.read_text(encoding='utf-8')
    prepare = [line.removeprefix('# prepare:').strip() for line in header.splitlines() if line.startswith('# prepare:')]
    config = load_config_file(path)
    assert prepare == [prepare_command(config['data_dir'])]  # the command makes the folder it reads
    assert config['optimizer'] == 'muon' and any(config.get(name) for name in OPTIONS)
    out_dir = tmp_path / 'speedrun'
    tiny = {**TINY, 'data_dir': char_dataset, 'out_dir': out_dir, 'max_iters': 3}
    result = subprocess.run([sys.executable, 'train.py', 'config/speedrun.py', *cli_args(tiny)], cwd=ROOT,
                            env={**os.environ, 'OMP_NUM_THREADS': '1'}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    _, _, checkpoint = load_checkpoint(out_dir)
    assert all(checkpoint['model_args'][name] == config.get(name, False) for name in OPTIONS)
    assert checkpoint['config']['optimizer'] == 'muon'
    sample.main([f'--out_dir={out_dir}', '--start', PROMPT, '--num_samples=1', '--max_new_tokens=20',
                 '--seed=1', '--device=cpu', '--stop_at_eot=False', '--stream=False'])
    assert capsys.readouterr().out.startswith(PROMPT)


SPEEDRUN_RESULTS = ROOT / 'results' / 'speedrun' / 'results.json'
BOOKKEEPING = {'out_dir', 'eval_iters', 'eval_interval', 'progress', 'plot', 'threads', 'overwrite',
               'expected_val_bits_per_char', 'expected_after_tokens'}  # options that do not change the model


def runs_that_trained(argv):
    """The runs of bench/speedrun.py (results.json) whose train.py settings are those of `argv`
    (a config file and overrides), whatever their bookkeeping options."""
    wanted = parse_args(TrainConfig, argv)
    runs = json.loads(SPEEDRUN_RESULTS.read_text())['runs']
    return {name: run for name, run in runs.items()
            if all(getattr(parse_args(TrainConfig, run['command'].split()[2:]), key) == getattr(wanted, key)
                   for key in TrainConfig.__dataclass_fields__ if key not in BOOKKEEPING)}


def test_speedrun_config_quotes_the_record_run_that_trained_it():
    """The figure config/speedrun.py promises is a run of bench/speedrun.py's record stage that
    trained exactly this config, to its max_iters."""
    config = parse_args(TrainConfig, ['config/speedrun.py'])
    header = (ROOT / 'config' / 'speedrun.py').read_text(encoding='utf-8')
    matching = [run for name, run in runs_that_trained(['config/speedrun.py']).items() if name.startswith('record-')]
    assert matching, 'no record run in results/speedrun/results.json trained config/speedrun.py as it is'
    figure = f"{matching[-1]['val_bits_per_char']:.3f}"
    assert config.expected_val_bits_per_char == float(figure) and f'Held-out: {figure} bits/char' in header


def test_the_readme_records_are_measured_runs():
    """Each row of the README's records table: GPT-2's is config/gpt.py's own figure; every other
    row's command trained a record run of results.json (a train.py command: the same settings; the
    bench's: its --variant's run) whose bits/char the row quotes, at the idle speed it quotes."""
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    table = readme.split('## The speedrun')[1].split('\n## ')[0]
    rows = [[cell.strip() for cell in line.split('|')[1:-1]] for line in table.splitlines() if line.startswith('| 20')]
    assert len(rows) >= 3
    results = json.loads(SPEEDRUN_RESULTS.read_text())
    for date, bits, speed, command, _ in rows:
        argv = command.strip('`').split()[2:]
        if argv == ['config/gpt.py']:
            assert float(bits) == parse_args(TrainConfig, argv).expected_val_bits_per_char
            continue
        if command.startswith('`python bench/speedrun.py'):
            options = dict(arg[2:].split('=', 1) for arg in argv)
            runs = {f"record-{options['tokenizers']}+{options['variant']}": None}
        else:
            runs = runs_that_trained(argv)
        records = [(name, results['runs'][name]) for name in runs if name.startswith('record-')]
        assert records, f'README row {date}: no record run trained `{command}`'
        name, run = records[-1]
        assert bits == f"{run['val_bits_per_char']:.3f}", f'README row {date} quotes {bits}, {name} gave it'
        measured = results['speed'][run['speed']]           # the idle speed its budget came from
        assert int(speed.replace(',', '')) == measured['tokens_per_sec']


def test_the_readme_quotes_the_duel():
    """The side-by-side duel's two figures, as the README quotes them, are its runs in results.json."""
    readme = (ROOT / 'README.md').read_text(encoding='utf-8').split('## The speedrun')[1].split('\n## ')[0]
    runs = json.loads(SPEEDRUN_RESULTS.read_text())['runs']
    for config_file in ('speedrun', 'gpt'):
        bits = f"{runs[f'duel-{config_file}']['val_bits_per_char']:.3f}"
        assert f'`config/{config_file}.py` {"ends at" if config_file == "speedrun" else "at"} {bits}' in readme


def test_sliding_window_bench_runs_at_tiny_sizes(char_dataset, tmp_path, capsys):
    from bench import sliding_window
    sliding_window.main(['--new_tokens=20', '--rounds=1', '--block_size=16', '--n_layer=1', '--n_head=2',
                         '--n_embd=16'])
    rows = [line.split('|')[1:-1] for line in capsys.readouterr().out.splitlines() if line.startswith('| ')]
    assert [r[0].strip() for r in rows[1:]] == ['crop', 'half window', 'sliding']
    # a checkpoint adds the held-out bits/char of each way; the contexts are the ways' own
    train_run(TrainConfig(**{**TINY, 'rotary': True}, data_dir=str(char_dataset), out_dir=str(tmp_path)))
    sliding_window.main([f'--checkpoint={tmp_path}', '--new_tokens=30', '--eval_tokens=30', '--rounds=1'])
    rows = {r[0].strip(): [c.strip() for c in r[1:]] for r in
            (line.split('|')[1:-1] for line in capsys.readouterr().out.splitlines() if line.startswith('| '))}
    assert [rows[way][2] for way in ('crop', 'half window', 'sliding')] == ['16', '8', '16']  # least context
    assert float(rows['half window'][1]) < float(rows['sliding'][1]) == 16.0                 # mean context
    assert all(2 < float(rows[way][3]) < 10 for way in ('crop', 'half window', 'sliding'))   # bits/char


@pytest.mark.parametrize('options, message', [
    (['--optimizer=sgd'], "unknown --optimizer='sgd'; choose one of adamw, muon"),
    (['--optimizer=muon', '--muon_lr=0'], '--muon_lr must be positive'),
    (['--optimizer=muon', '--muon_momentum=1'], '--muon_momentum must be at least 0 and below 1'),
    (['--rotary=True', '--n_embd=18'], 'n_embd / n_head = 9 must be even'),
])
def test_bad_options_are_one_line_errors(options, message, char_dataset, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        train.main([*cli_args(TINY), f'--data_dir={char_dataset}', f'--out_dir={tmp_path}', *options])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and message in err and len(err.strip().splitlines()) == 1, err
