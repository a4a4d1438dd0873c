"""ruGPT3 at its real size is measured by bench/rugpt3.py; here, on small shapes: the trainer's
memory estimate against what autograd really keeps, the bench's cases end to end, and the CPU
fine-tuning config for ruGPT3-small."""
import json
from contextlib import nullcontext
from dataclasses import replace

import pytest
import torch

from nanopushkin import hf, hub
from nanopushkin.config import TrainConfig, parse_args
from nanopushkin.models.gpt import GPT, GPTConfig
from nanopushkin.trainer import estimate_memory
from test_hf import ROOT, make_hf_folder, run_script
from test_style import load_script

pytest.importorskip('transformers')

SHAPES = {name: json.loads((ROOT / 'bench' / f'{name}.config.json').read_text())
          for name in ('rugpt3medium', 'rugpt3small')}


def saved_for_backward(model, forward, autocast):
    """Bytes of the tensors autograd keeps for backward during forward(), parameters left out,
    each storage counted once: {'activations': ..., 'weight copies': ...} (autocast's 16-bit
    copies of the weights are saved tensors too, told apart by their 2-D weight shapes)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    weight_shapes = {tuple(p.shape) for p in model.parameters() if p.dim() == 2}
    weight_shapes |= {s[::-1] for s in weight_shapes}
    seen = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            is_copy = t.dtype != torch.float32 and tuple(t.shape) in weight_shapes
            seen[storage.data_ptr()] = ('weight copies' if is_copy else 'activations', storage.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast:
        forward()
    return {kind: sum(n for k, n in seen.values() if k == kind) for kind in ('activations', 'weight copies')}


@pytest.mark.parametrize('dtype', ['float32', 'bfloat16'])
@pytest.mark.parametrize('checkpointing', [False, True])
@pytest.mark.parametrize('dropout', [0.0, 0.1])
def test_activation_estimate_is_what_autograd_keeps(dtype, checkpointing, dropout):
    """The activation term of estimate_memory, per layer and per token, against the bytes autograd
    saves in a real forward pass (CPU: fused attention without dropout, plain attention with it)."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=1000, block_size=128, n_layer=3, n_head=4, n_embd=64, dropout=dropout)).train()
    model.gradient_checkpointing = checkpointing
    # 3 x 100 tokens: no activation has the shape of a weight, which is how weight copies are told apart
    config = TrainConfig(batch_size=3, block_size=100, dtype=dtype, gradient_checkpointing=checkpointing,
                         device='cpu', dropout=dropout)
    x, y = torch.randint(0, 1000, (2, 3, 100))
    autocast = nullcontext() if dtype == 'float32' else torch.autocast('cpu', dtype=torch.bfloat16)
    saved = saved_for_backward(model, lambda: model(x, y), autocast)
    estimate = estimate_memory(model, config)
    tokens, act_bytes = 3 * 100, 4 if dtype == 'float32' else 2
    # the estimate also counts what is not a saved tensor: the logits the trainer holds, and the
    # two vocabulary-sized gradients at the start of backward
    not_saved = (1000 * act_bytes + 2 * 4 * 1000) * tokens
    if checkpointing:  # and the block recomputed during backward, which keeps what any block keeps
        model.gradient_checkpointing = False
        block_input = torch.randn(3, 100, 64, requires_grad=True)
        not_saved += saved_for_backward(model, lambda: model.transformer.h[0](block_input), autocast)['activations']
    assert estimate['activations'] - not_saved == pytest.approx(saved['activations'], rel=0.1)
    if dtype == 'bfloat16' and not checkpointing:
        assert estimate['autocast copies'] == saved['weight copies']


def test_memory_estimate_parts():
    config = TrainConfig(batch_size=2, block_size=512, device='cpu')
    with torch.device('meta'):
        model = GPT(GPTConfig(vocab_size=50257, block_size=2048, n_layer=24, n_head=16, n_embd=1024))
    n, wte = model.num_params(), 50257 * 1024
    memory = estimate_memory(model, config)
    assert memory == {'weights': 4 * n, 'gradients': 4 * (n + wte), 'optimizer': 8 * n,
                      'activations': memory['activations'], 'total': memory['total']}
    assert memory['total'] == sum(v for k, v in memory.items() if k != 'total')
    bf16 = estimate_memory(model, replace(config, dtype='bfloat16'))
    assert bf16['autocast copies'] == 2 * (24 * 12 * 1024 ** 2 + wte)       # the Linear layers and lm_head
    assert bf16['activations'] < memory['activations']
    checkpointed = estimate_memory(model, replace(config, gradient_checkpointing=True))
    assert checkpointed['activations'] < memory['activations'] / 2
    assert estimate_memory(model, replace(config, batch_size=4))['activations'] == 2 * memory['activations']


def test_committed_shapes_are_ruGPT3():
    for name, params in (('rugpt3medium', 355_871_744), ('rugpt3small', 125_231_616)):
        with torch.device('meta'):
            assert GPT(hf.gpt_config_from_hf(SHAPES[name], name)).num_params() == params
    assert hub.hub_name('rugpt3small') == 'ai-forever/rugpt3small_based_on_gpt2'


@pytest.fixture(scope='module')
def bench():
    return load_script('bench/rugpt3.py')


def test_bench_cases_on_a_tiny_shape(bench, tmp_path):
    """Every kind of case of bench/rugpt3.py, in this process, on a tiny shape with a padded
    vocabulary (the model has more rows than the 50257-token tokenizer)."""
    shape = tmp_path / 'tiny.config.json'
    shape.write_text(json.dumps({'model_type': 'gpt2', 'n_embd': 32, 'n_head': 2, 'n_layer': 2,
                                 'n_positions': 64, 'vocab_size': 50304}))
    common = {'device': 'cpu', 'seed': 0}
    made = bench.make_folders({**common, 'shape_file': str(shape), 'folder': str(tmp_path)})
    assert made['num_params'] == 50304 * 32 + 64 * 32 + 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32
    folder = str(tmp_path / 'safetensors')
    results = {}
    for impl in ('ours', 'hf'):
        case = {**common, 'part': 'train', 'impl': impl, 'folder': folder, 'batch_size': 2, 'block_size': 32,
                'dtype': 'float32', 'checkpointing': impl == 'hf', 'steps': 1, 'accumulation': 2}
        results[bench.case_key(case)] = result = bench.train_case(case)
        assert result['seconds'] > 0 and result['peak'] > 0 and result['loss'] == pytest.approx(10.8, abs=0.2)
        assert (result['estimate'] is None) == (impl == 'hf')
        for fmt in ('safetensors', 'bin'):
            case = {**common, 'part': 'load', 'impl': impl, 'format': fmt, 'folder': str(tmp_path / fmt)}
            results[bench.case_key(case)] = bench.load_case(case)
            assert results[bench.case_key(case)]['weight_bytes'] == 4 * made['num_params']
    results['sample'] = sample = bench.sample_case({**common, 'folder': folder, 'prompt_len': 8,
                                                    'max_new_tokens': 6, 'rounds': 1})
    assert sample['greedy_identical'] and (sample['tokenizer_size'], sample['model_vocab_size']) == (50257, 50304)
    meta = {'shape': 'tiny', 'device': 'cpu', 'num_params': made['num_params'], 'file_bytes': made['file_bytes'],
            'prompt_len': 8, 'max_new_tokens': 6, 'commands': ['test'], 'machine': 'test', 'skipped': []}
    table = bench.markdown(results, meta)
    assert '| 2x2x32 | float32 | off |' in table and '| model.safetensors |' in table and 'identical' in table


def test_finetune_rugpt3small_cpu_config(tmp_path, tiny_corpus_dir, monkeypatch, capsys):
    """config/finetune_rugpt3small_cpu.py's mechanics (its context, checkpointing, token budget)
    on a tiny random GPT-2 folder, through train.py as a user runs it."""
    from nanopushkin.prepare import prepare_dataset
    from tokenizer import BPETokenizer
    cfg = parse_args(TrainConfig, [str(ROOT / 'config' / 'finetune_rugpt3small_cpu.py')])
    assert cfg.init_from == 'rugpt3small' and cfg.device == 'cpu' and cfg.max_tokens > 0
    tokenizer = BPETokenizer.train((tiny_corpus_dir / 'poems' / 'Анчар.txt').read_text(encoding='utf-8'), 300)
    folder = tmp_path / 'tiny-gpt2'
    make_hf_folder(folder, tokenizer, (2, 2, 32, cfg.block_size, 1e-5), 'safetensors')
    data_dir = prepare_dataset(f'pretrained:{folder}', src=tiny_corpus_dir, out_root=tmp_path / 'data')
    tokens_per_iter = cfg.batch_size * cfg.block_size * cfg.gradient_accumulation_steps
    run_script('train.py', ['config/finetune_rugpt3small_cpu.py', f'--init_from={folder}', f'--data_dir={data_dir}',
                            f'--out_dir={tmp_path / "out"}', f'--max_tokens={2 * tokens_per_iter}', '--eval_iters=1',
                            '--progress=False', '--plot=False'], monkeypatch)
    log = [json.loads(line) for line in (tmp_path / 'out' / 'log.jsonl').read_text().splitlines()]
    assert log[-1]['event'] == 'done' and log[-1]['iters'] == 2 and log[-1]['tokens'] == 2 * tokens_per_iter
    assert 'memory estimate' in capsys.readouterr().out
