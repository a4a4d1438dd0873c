"""The GPT-2-format adapter (nanopushkin/hf.py, nanopushkin/safetensors.py), with HF transformers as
the oracle: random small GPT2LMHeadModels saved by transformers must give the same logits and the
same greedy text in our GPT, and what we export must load back into transformers unchanged.
No test touches the network: the hub is conftest's file_server on 127.0.0.1 or an unreachable port."""
import json
import re
import runpy
import sys
import time
from pathlib import Path

import pytest
import torch

import nanopushkin.download
from nanopushkin import hf, hub, safetensors
from nanopushkin.models.gpt import GPT, GPTConfig
from nanopushkin.sampling import generate
from tokenizer import BPETokenizer

transformers = pytest.importorskip('transformers')
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

TEXT = ('Мой дядя самых честных правил, когда не в шутку занемог, он уважать себя заставил '
        'и лучше выдумать не мог. Его пример другим наука; но, боже мой, какая скука с больным '
        'сидеть и день и ночь, не отходя ни шагу прочь!<|endoftext|>Буря мглою небо кроет, '
        'вихри снежные крутя; то, как зверь, она завоет, то заплачет, как дитя. ') * 3
PROBES = ['Мой дядя самых честных правил', 'Буря мглою небо кроет,\n\nвихри  снежные крутя!',
          'Pushkin, 1799-1837<|endoftext|>Онегин — «добрый» приятель', '']

# (n_layer, n_head, n_embd, n_positions, layer_norm_epsilon): small, and different in every dimension
CONFIGS = [(1, 2, 32, 32, 1e-5), (2, 4, 48, 40, 1e-6), (3, 2, 64, 64, 1e-5)]


@pytest.fixture(scope='module')
def tokenizer():
    return BPETokenizer.train(TEXT, vocab_size=300)


def make_hf_folder(folder, tokenizer, config, fmt, seed=0):
    """A GPT-2-format folder as transformers writes it (fmt 'safetensors', 'sharded'), as older
    transformers wrote it ('bin', 'sharded-bin', 'old-bin': pytorch_model.bin without the
    'transformer.' prefix, with the mask buffers and lm_head.weight); returns the HF model too."""
    n_layer, n_head, n_embd, n_positions, eps = config
    torch.manual_seed(seed)
    hf_config = GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=n_positions, n_embd=n_embd,
                           n_layer=n_layer, n_head=n_head, layer_norm_epsilon=eps,
                           initializer_range=0.3,        # large weights: confident, varied predictions
                           bos_token_id=None, eos_token_id=None)
    model = GPT2LMHeadModel(hf_config).eval()
    folder = Path(folder)
    if fmt == 'safetensors':
        model.save_pretrained(folder)
    elif fmt == 'sharded':
        model.save_pretrained(folder, max_shard_size='20KB')
        assert (folder / 'model.safetensors.index.json').is_file()
    else:
        hf_config.save_pretrained(folder)
        state = model.state_dict()                          # has lm_head.weight, tied to wte
        if fmt == 'old-bin':
            state = {k.removeprefix('transformer.'): v for k, v in state.items()}
            for i in range(n_layer):
                state[f'h.{i}.attn.bias'] = torch.tril(torch.ones(n_positions, n_positions)).view(
                    1, 1, n_positions, n_positions)
                state[f'h.{i}.attn.masked_bias'] = torch.tensor(-1e4)
        if fmt == 'sharded-bin':
            names = list(state)
            shards = {'pytorch_model-00001-of-00002.bin': names[:len(names) // 2],
                      'pytorch_model-00002-of-00002.bin': names[len(names) // 2:]}
            for shard, keys in shards.items():
                torch.save({k: state[k] for k in keys}, folder / shard)
            index = {'weight_map': {k: shard for shard, keys in shards.items() for k in keys}}
            (folder / 'pytorch_model.bin.index.json').write_text(json.dumps(index))
        else:
            torch.save(state, folder / 'pytorch_model.bin')
    tokenizer.save_pretrained(folder)
    return model


def forward_greedy(model, ids, n):
    """Greedy decoding the slow way: the whole sequence through forward() for every new token."""
    ids = list(ids)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids]))
        ids.append(int(logits[0, -1].argmax()))
    return ids


@pytest.mark.parametrize('config,fmt', [(c, f) for c in CONFIGS for f in ('safetensors', 'bin')]
                         + [(CONFIGS[1], f) for f in ('sharded', 'sharded-bin', 'old-bin')])
@torch.no_grad()
def test_matches_transformers(tmp_path, tokenizer, config, fmt):
    hf_model = make_hf_folder(tmp_path / 'hf', tokenizer, config, fmt, seed=CONFIGS.index(config))
    model, tok = hf.from_pretrained(tmp_path / 'hf')
    model.eval()
    n_positions = config[3]
    assert model.config == GPTConfig(vocab_size=tokenizer.vocab_size, block_size=n_positions, n_layer=config[0],
                                     n_head=config[1], n_embd=config[2], layer_norm_epsilon=config[4])

    # the same logits at every position of a full-length batch
    idx = torch.randint(0, tokenizer.vocab_size, (3, n_positions), generator=torch.Generator().manual_seed(1))
    expected = hf_model(idx).logits
    assert (model(idx)[0] - expected).abs().max() < 1e-5

    # the same greedy continuation, token for token: HF generate, our sampler (step() with the KV
    # cache) and forward() on the whole sequence every time
    prompt = tok.encode('Мой дядя')
    n_new = n_positions - len(prompt)
    hf_ids = hf_model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                               do_sample=False, max_new_tokens=n_new, pad_token_id=0)[0].tolist()
    assert len(set(hf_ids[len(prompt):])) > 3, 'a degenerate continuation would prove little'
    cached = generate(model, tok, prompt, max_new_tokens=n_new, temperature=0, stop_at_eot=False)[0]
    assert prompt + cached == hf_ids
    assert forward_greedy(model, prompt, n_new) == hf_ids

    # round trip: our export loads into transformers (model and tokenizer) and gives the same logits
    hf.save_pretrained(model, tok, tmp_path / 'ours')
    again = GPT2LMHeadModel.from_pretrained(tmp_path / 'ours').eval()
    assert (again(idx).logits - expected).abs().max() < 1e-5
    assert (hf.from_pretrained(tmp_path / 'ours')[0].eval()(idx)[0] - expected).abs().max() < 1e-5
    hf_tok = GPT2Tokenizer.from_pretrained(tmp_path / 'ours')
    assert [hf_tok.encode(p) for p in PROBES] == [tok.encode(p) for p in PROBES]


@pytest.mark.parametrize('fmt', ['safetensors', 'old-bin'])
def test_loading_fills_a_meta_model_in_place(tmp_path, tokenizer, fmt, monkeypatch):
    """The model is built on the meta device (no memory for random weights that would only be
    overwritten) and the loaded tensors become its parameters: one copy of the weights, not two.
    The result is an ordinary model: tied, trainable, every parameter real."""
    make_hf_folder(tmp_path, tokenizer, CONFIGS[1], fmt)
    built_on = []

    def recording_gpt(config):
        model = GPT(config)
        built_on.append(model.transformer.wte.weight.device.type)
        return model
    monkeypatch.setattr(hf, 'GPT', recording_gpt)
    model, _ = hf.from_pretrained(tmp_path)
    assert built_on == ['meta']
    assert model.lm_head.weight is model.transformer.wte.weight
    fresh = GPT(model.config)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in fresh.named_parameters()]
    assert all(p.device.type == 'cpu' and p.requires_grad and p.dtype == torch.float32 and p.is_contiguous()
               for p in model.parameters())
    # a training step moves the tied matrix once, through both of its uses
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.transformer.wte.weight.detach().clone()
    _, loss = model(torch.arange(12).view(2, 6), torch.arange(1, 13).view(2, 6))
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, model.transformer.wte.weight) and model.lm_head.weight is model.transformer.wte.weight


def test_tokenizer_gives_hf_ids(tmp_path, tokenizer):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    _, tok = hf.from_pretrained(tmp_path)
    hf_tok = GPT2Tokenizer.from_pretrained(tmp_path)
    for text in PROBES + [TEXT]:
        assert tok.encode(text) == hf_tok.encode(text)
        assert tok.decode(tok.encode(text)) == text
    assert tok.eot_id == hf_tok.convert_tokens_to_ids('<|endoftext|>')


@torch.no_grad()
def test_export_model_trained_without_biases(tmp_path, tokenizer):
    """bias=False (the TrainConfig default) exports as zero biases: transformers computes the same."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=24, n_layer=2, n_head=2, n_embd=32,
                          bias=False)).eval()
    for p in model.parameters():                    # LayerNorm gains away from 1, so they matter
        p.add_(0.1 * torch.randn_like(p))
    hf.save_pretrained(model, tokenizer, tmp_path)
    idx = torch.randint(0, tokenizer.vocab_size, (2, 24))
    theirs = GPT2LMHeadModel.from_pretrained(tmp_path).eval()(idx).logits
    assert (theirs - model(idx)[0]).abs().max() < 1e-5
    config = json.loads((tmp_path / 'config.json').read_text())
    assert config['activation_function'] == 'gelu_new' and config['eos_token_id'] == tokenizer.eot_id


def test_export_needs_a_bpe_tokenizer(tmp_path):
    from tokenizer import CharTokenizer
    model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match='byte-level BPE'):
        hf.save_pretrained(model, CharTokenizer.train('абвгд'), tmp_path)


# -----------------------------------------------------------------------------
# bad input: every problem named, in a sentence


def rewrite_weights(folder, change):
    path = Path(folder) / 'model.safetensors'
    tensors = safetensors.load_file(path)
    change(tensors)
    safetensors.save_file(tensors, path)


def test_wrong_tensors_are_each_named(tmp_path, tokenizer):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[1], 'safetensors')

    def damage(t):
        del t['transformer.h.1.ln_2.bias']
        t['transformer.h.0.attn.rotary.weight'] = torch.zeros(3)
        t['transformer.h.0.mlp.c_fc.weight'] = torch.zeros(48, 100)
    rewrite_weights(tmp_path, damage)
    with pytest.raises(ValueError) as e:
        hf.from_pretrained(tmp_path)
    message = str(e.value)
    assert 'missing tensors: transformer.h.1.ln_2.bias' in message
    assert 'unexpected tensors: transformer.h.0.attn.rotary.weight' in message
    assert 'transformer.h.0.mlp.c_fc.weight has shape [48, 100], expected [48, 192]' in message


def test_untied_output_layer_is_refused(tmp_path, tokenizer):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'bin')
    state = torch.load(tmp_path / 'pytorch_model.bin', weights_only=True)
    state['lm_head.weight'] = state['lm_head.weight'] + 1
    torch.save(state, tmp_path / 'pytorch_model.bin')
    with pytest.raises(ValueError, match='lm_head.weight differs from transformer.wte.weight'):
        hf.from_pretrained(tmp_path)


@pytest.mark.parametrize('activation', ['relu', 'gelu', 'silu'])
def test_unsupported_activation(tmp_path, tokenizer, activation):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    config = json.loads((tmp_path / 'config.json').read_text())
    config['activation_function'] = activation
    (tmp_path / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"activation_function '{activation}'.*gelu_new"):
        hf.from_pretrained(tmp_path)


def test_other_unsupported_configs(tmp_path, tokenizer):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    config = json.loads((tmp_path / 'config.json').read_text())
    for change, error in (({'model_type': 'llama'}, "'llama' model"), ({'n_inner': 100}, 'n_inner 100'),
                          ({'scale_attn_by_inverse_layer_idx': True}, 'scale_attn_by_inverse_layer_idx')):
        (tmp_path / 'config.json').write_text(json.dumps({**config, **change}))
        with pytest.raises(ValueError, match=error):
            hf.from_pretrained(tmp_path)
    del config['n_positions']
    config['n_ctx'] = 32                            # the older name is accepted
    (tmp_path / 'config.json').write_text(json.dumps(config))
    assert hf.from_pretrained(tmp_path)[0].config.block_size == 32
    del config['n_ctx'], config['n_embd']
    (tmp_path / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r'lacks n_embd, n_positions \(or n_ctx\)'):
        hf.from_pretrained(tmp_path)


def test_missing_files(tmp_path, tokenizer):
    with pytest.raises(FileNotFoundError, match='neither a folder nor a hub model name'):
        hf.from_pretrained(str(tmp_path / 'nowhere'))
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    (tmp_path / 'model.safetensors').unlink()
    with pytest.raises(FileNotFoundError, match='has no weights: expected one of model.safetensors'):
        hf.from_pretrained(tmp_path)
    (tmp_path / 'pytorch_model.bin').write_bytes(b'not a zip file')
    with pytest.raises(ValueError, match='could not be read as a PyTorch weights file'):
        hf.from_pretrained(tmp_path)
    (tmp_path / 'config.json').unlink()
    with pytest.raises(FileNotFoundError, match='has no config.json'):
        hf.from_pretrained(tmp_path)


def write_config(folder, **changes):
    path = Path(folder) / 'config.json'
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize('changes,error', [
    ({'layer_norm_epsilon': -1}, 'layer_norm_epsilon = -1; it must be a small positive number'),
    ({'layer_norm_epsilon': 0}, 'layer_norm_epsilon = 0'),
    ({'layer_norm_epsilon': float('nan')}, 'layer_norm_epsilon = nan'),
    ({'layer_norm_epsilon': 'small'}, "layer_norm_epsilon = 'small'"),
    ({'n_layer': 0}, 'n_layer = 0; it must be a positive integer'),
    ({'n_head': True}, 'n_head = True'),
    ({'n_embd': '32'}, "n_embd = '32'"),
    ({'vocab_size': 300.5}, 'vocab_size = 300.5'),
    ({'n_positions': -4}, 'n_positions = -4'),
    ({'n_head': 3}, 'must be divisible by n_head'),
])
def test_nonsense_config_values(tmp_path, tokenizer, changes, error):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    write_config(tmp_path, **changes)
    with pytest.raises(ValueError, match=re.escape(error)):
        hf.from_pretrained(tmp_path)


@pytest.mark.parametrize('content,error', [
    ('[1, 2, 3]', 'config.json is a JSON list, not an object of settings'),
    ('"gpt2"', 'config.json is a JSON str'),
    ('[' * 100_000 + ']' * 100_000, 'nested too deeply'),
    ('{"n_layer": ', 'is not valid JSON'),
], ids=['list', 'str', 'nested', 'cut'])
def test_config_json_that_is_not_an_object(tmp_path, tokenizer, content, error):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    (tmp_path / 'config.json').write_text(content)
    with pytest.raises(ValueError, match=error):
        hf.from_pretrained(tmp_path)


@pytest.mark.parametrize('changes', [{'n_layer': 100_000}, {'n_layer': 100_000_000}, {'n_embd': 1_000_000, 'n_head': 1},
                                     {'vocab_size': 10 ** 9}, {'n_positions': 10 ** 9}])
def test_absurd_config_is_checked_against_the_weights_before_building(tmp_path, tokenizer, monkeypatch, changes):
    """A config.json that does not describe its weights is refused from the file's header alone, at
    once: the model (which for n_layer=100000 would need terabytes) is never built, and the check
    does not list the names of 10^8 layers first."""
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    write_config(tmp_path, **changes)
    monkeypatch.setattr(hf, 'GPT', lambda config: pytest.fail('the model was built before the check'))
    start = time.monotonic()
    with pytest.raises(ValueError, match='do not fit a GPT with') as e:
        hf.from_pretrained(tmp_path)
    assert 'missing tensors' in str(e.value) or 'expected' in str(e.value)
    assert time.monotonic() - start < 3


@pytest.mark.parametrize('dtype', [torch.int32, torch.int64, torch.uint8, torch.bool])
def test_integer_data_is_not_loaded_into_float_weights(tmp_path, tokenizer, dtype):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')

    def to_integers(t):
        t['transformer.h.0.ln_1.weight'] = t['transformer.h.0.ln_1.weight'].to(dtype)
    rewrite_weights(tmp_path, to_integers)
    with pytest.raises(ValueError, match=f'transformer.h.0.ln_1.weight holds {dtype} data, not floating-point'):
        hf.from_pretrained(tmp_path)


def test_half_precision_weights_load_as_float32(tmp_path, tokenizer):
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'safetensors')
    full, _ = hf.from_pretrained(tmp_path)
    rewrite_weights(tmp_path, lambda t: t.update({k: v.half() for k, v in t.items()}))
    half, _ = hf.from_pretrained(tmp_path)
    for (name, a), b in zip(full.state_dict().items(), half.state_dict().values()):
        assert b.dtype == torch.float32 and torch.equal(a.half().float(), b), name


def test_weights_that_are_not_a_torch_file(tmp_path, tokenizer):
    """A JSON (or any other) file under a weights name: one line, without torch's advice to load it
    with weights_only=False (which would let a pickle run code)."""
    make_hf_folder(tmp_path, tokenizer, CONFIGS[0], 'bin')
    (tmp_path / 'pytorch_model.bin').write_text('{"weights": [1, 2, 3]}')
    with pytest.raises(ValueError) as e:
        hf.from_pretrained(tmp_path)
    assert 'could not be read as a PyTorch weights file' in str(e.value)
    assert 'weights_only' not in str(e.value) and '\n' not in str(e.value)


# -----------------------------------------------------------------------------
# the safetensors reader and writer, against the safetensors package (installed with transformers)


def test_safetensors_matches_the_reference(tmp_path):
    reference = pytest.importorskip('safetensors.torch')
    g = torch.Generator().manual_seed(0)
    tensors = {'f32': torch.randn(3, 4, generator=g), 'f16': torch.randn(5, generator=g).half(),
               'bf16': torch.randn(2, 3, generator=g).bfloat16(), 'f64': torch.randn(2, generator=g).double(),
               'i64': torch.arange(-3, 4), 'i32': torch.arange(6, dtype=torch.int32).view(2, 3),
               'u8': torch.arange(250, 256, dtype=torch.uint8), 'bool': torch.tensor([True, False, True]),
               'scalar': torch.tensor(2.5), 'empty': torch.zeros(0, 7)}
    safetensors.save_file(tensors, tmp_path / 'ours.safetensors')
    reference.save_file(tensors, tmp_path / 'theirs.safetensors')
    for read in (reference.load_file(tmp_path / 'ours.safetensors'), safetensors.load_file(tmp_path / 'theirs.safetensors')):
        assert read.keys() == tensors.keys()
        for name, t in tensors.items():
            assert read[name].dtype == t.dtype and read[name].shape == t.shape and torch.equal(read[name], t), name


@pytest.mark.parametrize('corruption,error', [
    (lambda raw: raw[:5], 'shorter than the 8-byte header length'),
    (lambda raw: (10 ** 9).to_bytes(8, 'little') + raw[8:], 'the header length says 1000000000 bytes'),
    (lambda raw: raw[:8] + b'\xff' + raw[9:], 'the header is not UTF-8 JSON'),
    (lambda raw: raw.replace(b'"F32"', b'"F99"', 1), "bad entry"),
    (lambda raw: raw[:-4], 'data_offsets'),
])
def test_corrupt_safetensors_header(tmp_path, corruption, error):
    path = tmp_path / 'model.safetensors'
    safetensors.save_file({'a': torch.ones(2, 3), 'b': torch.zeros(4)}, path)
    path.write_bytes(corruption(path.read_bytes()))
    with pytest.raises(ValueError, match=error):
        safetensors.load_file(path)


def test_safetensors_overlapping_tensors(tmp_path):
    path = tmp_path / 'model.safetensors'
    safetensors.save_file({'a': torch.ones(4), 'b': torch.zeros(4)}, path)
    header, data_start = safetensors.read_header(path)
    header['b']['data_offsets'] = [8, 24]                 # half of a, half of b
    raw = json.dumps(header).encode()
    raw += b' ' * (-len(raw) % 8)
    path.write_bytes(len(raw).to_bytes(8, 'little') + raw + path.read_bytes()[data_start:])
    with pytest.raises(ValueError, match="tensors 'a' and 'b' overlap"):
        safetensors.load_file(path)


def test_safetensors_deeply_nested_header(tmp_path):
    path = tmp_path / 'model.safetensors'
    raw = b'{"a": ' + b'[' * 100_000 + b']' * 100_000 + b'}'
    path.write_bytes(len(raw).to_bytes(8, 'little') + raw)
    with pytest.raises(ValueError, match='not a valid safetensors file: the header is JSON nested too deeply'):
        safetensors.load_file(path)


# -----------------------------------------------------------------------------
# ruGPT3-medium's config, and the hub: download, resume, cache, offline


def test_rugpt3medium_config_and_size():
    rugpt3medium = {'activation_function': 'gelu_new', 'model_type': 'gpt2', 'n_ctx': 2048, 'n_embd': 1024,
                    'n_head': 16, 'n_inner': None, 'n_layer': 24, 'n_positions': 2048, 'vocab_size': 50257,
                    'layer_norm_epsilon': 1e-05, 'scale_attn_weights': True, 'architectures': ['GPT2LMHeadModel']}
    config = hf.gpt_config_from_hf(rugpt3medium, 'rugpt3medium')
    assert config == GPTConfig(vocab_size=50257, block_size=2048, n_layer=24, n_head=16, n_embd=1024)
    with torch.device('meta'):                       # shapes only, no memory
        assert GPT(config).num_params() == 355_871_744
    assert hub.hub_name('rugpt3medium') == 'ai-forever/rugpt3medium_based_on_gpt2'
    assert hub.hub_name('sberbank-ai/rugpt3medium_based_on_gpt2') == 'ai-forever/rugpt3medium_based_on_gpt2'
    # what config/finetune_rugpt3.py promises
    from nanopushkin.config import TrainConfig, parse_args
    cfg = parse_args(TrainConfig, [str(ROOT / 'config' / 'finetune_rugpt3.py')])
    assert (cfg.init_from, cfg.block_size, cfg.batch_size, cfg.dtype) == ('rugpt3medium', 512, 2, 'bfloat16')


@pytest.fixture
def fake_hub(request, file_server, tmp_path, tokenizer, monkeypatch):
    """The hub at 127.0.0.1 (conftest's file_server) serving one model in the weight format
    request.param (default safetensors) as /<repo>/resolve/main/<file>; like the hub, it redirects
    the weights to another address (its CDN). The fixture is that server, with .repo and .folder."""
    file_server.repo, file_server.folder = 'pushkin-lab/tiny-gpt2', tmp_path / 'served'
    make_hf_folder(file_server.folder, tokenizer, CONFIGS[0], getattr(request, 'param', 'safetensors'))
    for path in file_server.folder.iterdir():
        url_path = f'/{file_server.repo}/resolve/main/{path.name}'
        if path.suffix in ('.safetensors', '.bin'):
            file_server.redirects[url_path] = f'/cdn/{path.name}'
            url_path = f'/cdn/{path.name}'
        file_server.files[url_path] = path.read_bytes()
    monkeypatch.setattr(hub, 'HUB_URL', file_server.url)
    monkeypatch.setenv('NANOPUSHKIN_CACHE', str(tmp_path / 'cache'))
    return file_server


def requested(hub) -> list[str]:
    """The file names the hub was asked for, in order."""
    return [path.rpartition('/')[2] for path, _ in hub.requests]


@torch.no_grad()
def test_download_and_cache(fake_hub, tmp_path):
    """The first call downloads the model into the cache folder, and the next ones read it there.
    (Resuming an interrupted download is tested in test_download.py.)"""
    cache = tmp_path / 'cache' / fake_hub.repo
    model, tok = hf.from_pretrained(fake_hub.repo)
    assert {'config.json', 'vocab.json', 'merges.txt', 'model.safetensors'} <= {p.name for p in cache.iterdir()}
    for path in cache.iterdir():                       # copies of the served files, no .part left
        assert path.read_bytes() == (fake_hub.folder / path.name).read_bytes()
    local, _ = hf.from_pretrained(fake_hub.folder)
    idx = torch.arange(20).view(2, 10)
    assert torch.equal(model.eval()(idx)[0], local.eval()(idx)[0])
    assert tok.encode(TEXT) == BPETokenizer.from_pretrained(fake_hub.folder).encode(TEXT)
    assert 'added_tokens.json' in requested(fake_hub)      # optional: tried, 404, fine
    assert 'pytorch_model.bin' not in requested(fake_hub)  # the first weight file that exists wins
    assert f'/{fake_hub.repo}/resolve/main/model.safetensors' in fake_hub.redirects

    n = len(fake_hub.requests)
    hf.from_pretrained(fake_hub.repo)                  # complete in the cache: no request at all
    assert hub.resolve(fake_hub.repo) == cache and len(fake_hub.requests) == n


@pytest.mark.parametrize('fake_hub', ['sharded-bin'], indirect=True)
def test_download_falls_back_to_other_weight_files(fake_hub):
    """ruGPT3 has only pytorch_model.bin; a big model has an index and shards."""
    model, _ = hf.from_pretrained(fake_hub.repo)
    names = requested(fake_hub)
    assert names.index('model.safetensors') < names.index('pytorch_model.bin.index.json')
    assert 'pytorch_model-00002-of-00002.bin' in names
    idx = torch.arange(20).view(2, 10)
    assert torch.equal(model(idx)[0], hf.from_pretrained(fake_hub.folder)[0](idx)[0])


@pytest.mark.parametrize('name', ['../../../x.txt', 'ABSOLUTE', '..', '.', '', 'sub/x.bin', 'a\\b.bin', 'x\0.bin'])
def test_a_hub_cannot_write_outside_the_model_folder(fake_hub, tmp_path, name):
    """A shard index whose weight_map names a path instead of a file name ('../../x' or an absolute
    path) is refused before anything is fetched: nothing is written outside the model's folder."""
    target = tmp_path / 'elsewhere' / 'x.txt'
    name = str(target) if name == 'ABSOLUTE' else name
    del fake_hub.files['/cdn/model.safetensors']
    index = {'metadata': {}, 'weight_map': {'transformer.wte.weight': name,
                                            'transformer.wpe.weight': 'model-00001-of-00001.safetensors'}}
    fake_hub.files[f'/{fake_hub.repo}/resolve/main/model.safetensors.index.json'] = json.dumps(index).encode()
    for path in ('/x.txt', f'/{fake_hub.repo}/x.txt', f'/{fake_hub.repo}/resolve/x.txt', str(target)):
        fake_hub.files[path] = b'import os  # code of the server\'s choosing\n'
    with pytest.raises(ValueError, match='is not a plain file name'):
        hf.from_pretrained(fake_hub.repo)
    assert not target.exists() and not list(tmp_path.rglob('x.txt'))
    assert not any('x.txt' in path for path, _ in fake_hub.requests)
    cache = tmp_path / 'cache'
    assert {p.name for p in cache.rglob('*') if p.is_file()} <= {
        'config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json',
        'model.safetensors.index.json'}


def test_a_hub_that_sends_without_end_is_cut_at_the_limit(fake_hub, tmp_path, monkeypatch):
    """A small file sent without a Content-Length, forever: cut at download.py's MAX_BYTES (made
    small here), and nothing of it is left in the cache."""
    monkeypatch.setattr(nanopushkin.download, 'MAX_BYTES', 50_000)
    config_path = f'/{fake_hub.repo}/resolve/main/config.json'
    fake_hub.files[config_path] = fake_hub.files[config_path] + b' ' * 3_000_000
    fake_hub.no_length.add(config_path)
    with pytest.raises(ValueError, match='sent more than the 50000 bytes expected'):
        hf.from_pretrained(fake_hub.repo)
    assert not (tmp_path / 'cache' / fake_hub.repo / 'config.json').exists()
    assert not list((tmp_path / 'cache').rglob('*.part'))


def test_hub_names_that_are_paths_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv('NANOPUSHKIN_CACHE', str(tmp_path))
    for name in ('evil/..', '../x', 'evil/.', '/abs/x'):
        assert not hub.looks_like_hub_name(name)
        with pytest.raises(FileNotFoundError, match='neither a folder nor a hub model name'):
            hub.resolve(name)
    assert hub.looks_like_hub_name('ai-forever/rugpt3small_based_on_gpt2') and hub.looks_like_hub_name('rugpt3small')


def test_unknown_hub_name(fake_hub):
    with pytest.raises(FileNotFoundError, match='does not exist: is pushkin-lab/no-such-model the right name'):
        hf.from_pretrained('pushkin-lab/no-such-model')


def test_offline_message(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, 'HUB_URL', 'http://127.0.0.1:1')     # nothing listens on port 1
    monkeypatch.setenv('NANOPUSHKIN_CACHE', str(tmp_path))
    with pytest.raises(ConnectionError) as e:
        hf.from_pretrained('rugpt3medium')
    message = str(e.value)
    folder = tmp_path / 'ai-forever' / 'rugpt3medium_based_on_gpt2'
    for part in ('could not download ai-forever/rugpt3medium_based_on_gpt2',
                 'http://127.0.0.1:1/ai-forever/rugpt3medium_based_on_gpt2/resolve/main/config.json',
                 'vocab.json', 'merges.txt', 'model.safetensors', 'pytorch_model.bin', str(folder),
                 'pass that folder'):
        assert part in message


# -----------------------------------------------------------------------------
# the whole path a user takes: prepare with the model's tokenizer, fine-tune, sample, export


def run_script(script, args, monkeypatch):
    """Run a script of the repository as `python script args...` would, in this process (a new
    interpreter would spend most of the test importing torch)."""
    monkeypatch.setattr(sys, 'argv', [script] + args)
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(ROOT / script), run_name='__main__')


def test_finetune_sample_export_end_to_end(tmp_path, tokenizer, tiny_corpus_dir, monkeypatch, capsys):
    from nanopushkin.prepare import prepare_dataset
    from nanopushkin.checkpoint import load_checkpoint
    folder = tmp_path / 'tiny-gpt2'
    make_hf_folder(folder, tokenizer, CONFIGS[1], 'safetensors')
    data_dir = prepare_dataset(f'pretrained:{folder}', src=tiny_corpus_dir, out_root=tmp_path / 'data')
    assert data_dir.name == 'pretrained-tiny-gpt2'
    out_dir = tmp_path / 'out'
    run_script('train.py', ['config/finetune_rugpt3.py', f'--init_from={folder}', f'--data_dir={data_dir}',
                            f'--out_dir={out_dir}', '--max_iters=2', '--block_size=32', '--batch_size=2',
                            '--gradient_accumulation_steps=2', '--eval_interval=1', '--eval_iters=1',
                            '--device=cpu', '--dtype=float32', '--progress=False', '--plot=False'], monkeypatch)
    log = [json.loads(line) for line in (out_dir / 'log.jsonl').read_text().splitlines()]
    assert log[-1]['event'] == 'done' and log[-1]['iters'] == 2
    assert 'memory estimate' in capsys.readouterr().out

    run_script('sample.py', [f'--init_from={folder}', '--start', 'Мой дядя', '--num_samples=1',
                             '--max_new_tokens=10', '--device=cpu'], monkeypatch)
    assert capsys.readouterr().out.startswith('Мой дядя')

    # the fine-tuned checkpoint, exported, gives the same logits in transformers
    hf.main(['export', f'--out_dir={out_dir}', f'--to={tmp_path / "exported"}'])
    model, _, _ = load_checkpoint(out_dir)
    idx = torch.randint(0, tokenizer.vocab_size, (2, 40))
    with torch.no_grad():
        theirs = GPT2LMHeadModel.from_pretrained(tmp_path / 'exported').eval()(idx).logits
        assert (theirs - model(idx)[0]).abs().max() < 1e-5


# -----------------------------------------------------------------------------
# hostile tokenizer files (issue 23): one line that names the file, through every command


@pytest.mark.parametrize('file, content, where', [
    ('tokenizer_config.json', {'added_tokens_decoder': ['<|endoftext|>']}, 'added_tokens_decoder'),
    ('tokenizer_config.json', {'added_tokens_decoder': {'0': {'special': True}}}, 'added_tokens_decoder'),
    ('special_tokens_map.json', {'eos_token': 5}, 'eos_token'),
    ('special_tokens_map.json', {'eos_token': ['<|endoftext|>']}, 'eos_token'),
    ('special_tokens_map.json', {'additional_special_tokens': 5}, 'additional_special_tokens'),
], ids=['decoder a list', 'decoder without content', 'eos a number', 'eos a list', 'additional a number'])
def test_hostile_tokenizer_files_are_one_line_errors(tmp_path, tokenizer, tiny_corpus_dir, char_dataset, capsys, file,
                                                     content, where):
    import sample
    import train
    from nanopushkin import prepare
    folder = tmp_path / 'model'
    make_hf_folder(folder, tokenizer, CONFIGS[0], 'safetensors')
    (folder / file).write_text(json.dumps(content))
    with pytest.raises(ValueError, match=re.escape(f'{folder / file} ({where})')):
        hf.from_pretrained(folder)
    for main, argv, code in ((sample.main, [f'--init_from={folder}', '--device=cpu'], 2),
                             (train.main, ['config/finetune_rugpt3.py', f'--init_from={folder}', '--device=cpu',
                                           f'--out_dir={tmp_path / "out"}', f'--data_dir={char_dataset}'], 1),
                             (prepare.main, [f'--tokenizer=pretrained:{folder}', f'--src={tiny_corpus_dir}',
                                             f'--out_root={tmp_path / "data"}'], 1)):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == code and err.strip().splitlines()[-1].startswith('error: '), err
        assert 'Traceback' not in err and where in err.strip().splitlines()[-1], err
