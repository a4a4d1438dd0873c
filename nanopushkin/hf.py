"""GPT-2-format checkpoints (the Hugging Face layout) in and out of nanoPushkin's GPT.

ruGPT3 (ai-forever/rugpt3medium_based_on_gpt2 and its siblings) is a GPT-2: same blocks, same
tokenizer format, only the weights and the vocabulary are Russian. Our GPT uses GPT-2's parameter
names, so loading one is mostly reading files. A GPT-2-format folder holds:

    config.json                  n_layer, n_head, n_embd, n_positions, vocab_size, ...
    model.safetensors            the weights (read by nanopushkin/safetensors.py, no pickle), or
    pytorch_model.bin            the same weights as a torch.save'd dict; a big model may instead be
                                 split into shards listed by model.safetensors.index.json or
                                 pytorch_model.bin.index.json
    vocab.json, merges.txt       the byte-level BPE tokenizer (tokenizer/gpt2_files.py reads them)
    special_tokens_map.json ...  optional tokenizer extras

    from_pretrained('rugpt3medium')          -> (model, tokenizer), downloading into a cache once
    from_pretrained('path/to/folder')        -> the same from a local folder
    save_pretrained(model, tokenizer, folder) writes that layout back, readable by HF transformers

This file is the mapping: config.json <-> GPTConfig, GPT-2's tensors <-> our parameters, and a
loader that checks every name and shape against the config before it allocates anything, then
fills a model built on the 'meta' device (shapes, no memory) tensor by tensor, so loading needs
about the weights' size in memory, not twice that. Where the files come from (hub names, the
download cache, offline help) is nanopushkin/hub.py, which a first reading can skip.

From the command line:

    python -m nanopushkin.hf download --name=rugpt3medium        # fetch into the cache, print where
    python -m nanopushkin.hf export --out_dir=out-finetune --to=rugpt3-pushkin   # checkpoint -> folder
"""
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from nanopushkin import hub, safetensors
from nanopushkin.checkpoint import load_checkpoint
from nanopushkin.config import main_parse
from nanopushkin.files import parse_json
from nanopushkin.models import shapes_only
from nanopushkin.models.gpt import GPT, MODERN_OPTIONS, GPTConfig
from tokenizer import BPETokenizer

# -----------------------------------------------------------------------------
# config.json <-> GPTConfig

# GPT-2 computes GELU with the tanh approximation; HF calls it 'gelu_new' (its own formula) or
# 'gelu_pytorch_tanh' (torch's kernel). Both are what our MLP computes. Plain 'gelu' (erf) is not.
TANH_GELU = ('gelu_new', 'gelu_pytorch_tanh')
SIZES = ('vocab_size', 'n_layer', 'n_head', 'n_embd')


def gpt_config_from_hf(hf: dict, source, dropout=0.0) -> GPTConfig:
    """Our GPTConfig for a GPT-2 config.json; an error for every variant our GPT cannot compute."""
    where = f'{source}/config.json'
    if not isinstance(hf, dict):
        raise ValueError(f'{where} is a JSON {type(hf).__name__}, not an object of settings; '
                         'is it the config.json of a GPT-2 model?')
    if hf.get('model_type', 'gpt2') != 'gpt2':
        raise ValueError(f'{where} describes a {hf["model_type"]!r} model; only GPT-2-format models '
                         "(model_type 'gpt2', such as ruGPT3) can be loaded into nanoPushkin's GPT")
    activation = hf.get('activation_function', 'gelu_new')
    if activation not in TANH_GELU:
        raise ValueError(f'{where} has activation_function {activation!r}; nanoPushkin\'s GPT computes GELU '
                         f'with the tanh approximation, which GPT-2 calls {" or ".join(TANH_GELU)}')
    block_size = hf.get('n_positions', hf.get('n_ctx'))
    missing = [k for k in SIZES if k not in hf] + (['n_positions (or n_ctx)'] if block_size is None else [])
    if missing:
        raise ValueError(f'{where} lacks {", ".join(missing)}; is it the config of a GPT-2 model?')
    for key, value in [(k, hf[k]) for k in SIZES] + [('n_positions', block_size)]:
        if type(value) is not int or value < 1:
            raise ValueError(f'{where} has {key} = {value!r}; it must be a positive integer')
    eps = hf.get('layer_norm_epsilon', 1e-5)
    if type(eps) not in (int, float) or not 0 < eps < 1:
        raise ValueError(f'{where} has layer_norm_epsilon = {eps!r}; it must be a small positive number '
                         '(GPT-2 uses 1e-5)')
    n_embd = hf['n_embd']
    if hf.get('n_inner') not in (None, 4 * n_embd):
        raise ValueError(f'{where} has n_inner {hf["n_inner"]}; nanoPushkin\'s GPT has an MLP of '
                         f'4 * n_embd = {4 * n_embd} units, as GPT-2 does')
    # switches that change what GPT-2 computes, with the value our GPT matches
    for key, ours in (('scale_attn_weights', True), ('scale_attn_by_inverse_layer_idx', False),
                      ('add_cross_attention', False)):
        if hf.get(key, ours) != ours:
            raise ValueError(f'{where} sets {key} = {hf[key]}; nanoPushkin\'s GPT only computes {key} = {ours}')
    try:
        return GPTConfig(vocab_size=hf['vocab_size'], block_size=block_size, n_layer=hf['n_layer'],
                         n_head=hf['n_head'], n_embd=n_embd, dropout=dropout, bias=True,
                         layer_norm_epsilon=float(eps))
    except ValueError as e:          # e.g. n_embd not divisible by n_head
        raise ValueError(f'{where}: {e}') from None


def hf_config_from_gpt(config: GPTConfig, eot_id=None) -> dict:
    """The config.json of a GPT-2 that computes exactly what our GPT with `config` computes."""
    newer = [name for name in MODERN_OPTIONS if getattr(config, name)]
    if newer:
        raise ValueError(f'this GPT was built with {", ".join(f"{name}=True" for name in newer)}, which GPT-2 '
                         'does not have: the GPT-2 format cannot hold it (only a GPT without these options exports)')
    return {
        'architectures': ['GPT2LMHeadModel'],
        'model_type': 'gpt2',
        'vocab_size': config.vocab_size,
        'n_positions': config.block_size,
        'n_ctx': config.block_size,            # the older name of n_positions, for older readers
        'n_embd': config.n_embd,
        'n_layer': config.n_layer,
        'n_head': config.n_head,
        'n_inner': None,                       # None means 4 * n_embd
        'activation_function': 'gelu_new',
        'layer_norm_epsilon': config.layer_norm_epsilon,
        'embd_pdrop': config.dropout, 'attn_pdrop': config.dropout, 'resid_pdrop': config.dropout,
        'scale_attn_weights': True,
        'tie_word_embeddings': True,
        'initializer_range': 0.02,
        'bos_token_id': eot_id,
        'eos_token_id': eot_id,
    }


def read_hf_config(folder) -> dict:
    """config.json of a folder, parsed (what it says is checked by gpt_config_from_hf)."""
    path = Path(folder) / hub.CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{folder} has no {hub.CONFIG_FILE}; a GPT-2-format folder holds '
                                f'{hub.CONFIG_FILE}, {", ".join(hub.TOKENIZER_FILES)} and model.safetensors '
                                'or pytorch_model.bin')
    return parse_json(path.read_bytes(), path)

# -----------------------------------------------------------------------------
# the weights: GPT-2's tensors <-> our parameters
#
# The names are the same on both sides (our GPT was named after GPT-2). Three differences:
# 1. GPT-2's four projection matrices are Conv1D modules, which store the weight as (in, out) and
#    compute x @ W; nn.Linear stores (out, in) and computes x @ W.T. So those four are transposed.
# 2. The output layer lm_head is tied to the token embedding wte: a file stores the matrix once
#    (as transformer.wte.weight) or twice (old files also have lm_head.weight, equal to it).
# 3. Older files drop the 'transformer.' prefix and keep the causal-mask buffers attn.bias and
#    attn.masked_bias, which are not weights (our attention makes its mask on the fly).

CONV1D_WEIGHTS = ('attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight')
MASK_BUFFERS = ('.attn.bias', '.attn.masked_bias')
LM_HEAD = 'lm_head.weight'


def gpt2_tensor_shapes(config: GPTConfig) -> dict[str, tuple]:
    """Every tensor of a GPT-2 checkpoint for `config`, named as in our GPT's state_dict, with its
    shape as GPT-2 stores it (Conv1D weights as (in, out))."""
    C, V, T = config.n_embd, config.vocab_size, config.block_size
    shapes = {'transformer.wte.weight': (V, C),        # token embedding, = lm_head
              'transformer.wpe.weight': (T, C)}        # position embedding
    for i in range(config.n_layer):
        shapes.update({f'transformer.h.{i}.{name}': shape for name, shape in (
            ('ln_1.weight', (C,)), ('ln_1.bias', (C,)),
            ('attn.c_attn.weight', (C, 3 * C)), ('attn.c_attn.bias', (3 * C,)),   # queries, keys, values
            ('attn.c_proj.weight', (C, C)), ('attn.c_proj.bias', (C,)),
            ('ln_2.weight', (C,)), ('ln_2.bias', (C,)),
            ('mlp.c_fc.weight', (C, 4 * C)), ('mlp.c_fc.bias', (4 * C,)),
            ('mlp.c_proj.weight', (4 * C, C)), ('mlp.c_proj.bias', (C,)))})
    shapes.update({'transformer.ln_f.weight': (C,), 'transformer.ln_f.bias': (C,)})
    return shapes


def our_name(key) -> str | None:
    """The name in our state_dict of a tensor a GPT-2 file calls `key`; None for the mask buffers."""
    name = key if key.startswith('transformer.') or key == LM_HEAD else 'transformer.' + key
    return None if name.endswith(MASK_BUFFERS) else name


def check_tensors(found: dict, config: GPTConfig, source):
    """Check the names, shapes and dtypes of a file's tensors ({file's name: (shape, dtype)})
    against `config` before anything is built; every problem is named in one error."""
    ours, problems = {}, []
    for key, info in found.items():
        name = our_name(key)
        if name in ours:
            raise ValueError(f'{source} has tensor {name} twice (with and without the "transformer." prefix)')
        if name is not None:
            ours[name] = info
    # first the count, which costs nothing: a config.json that says n_layer = 10^8 must not make us
    # list 1.2 billion expected names before we notice that the file holds 16 tensors
    count, expected_count = len(set(ours) - {LM_HEAD}), 4 + 12 * config.n_layer
    if count != expected_count:
        raise ValueError(f'the weights in {source} do not fit a GPT with {config}: the file holds {count} '
                         f'tensors, where n_layer = {config.n_layer} means 4 + 12 * {config.n_layer} = '
                         f'{expected_count} expected; is config.json the one that came with these weights?')
    expected = gpt2_tensor_shapes(config)
    missing = [name for name in expected if name not in ours]
    if missing:
        problems.append('missing tensors: ' + ', '.join(missing))
    unexpected = [name for name in ours if name not in expected and name != LM_HEAD]
    if unexpected:
        problems.append('unexpected tensors: ' + ', '.join(unexpected))
    expected[LM_HEAD] = expected['transformer.wte.weight']
    for name, (shape, dtype) in ours.items():
        if name in expected and tuple(shape) != expected[name]:
            problems.append(f'{name} has shape {list(shape)}, expected {list(expected[name])}')
        if not dtype.is_floating_point:
            problems.append(f'{name} holds {dtype} data, not floating-point weights')
    if problems:
        raise ValueError(f'the weights in {source} do not fit a GPT with {config}:\n  ' + '\n  '.join(problems))


def to_parameter(name, t: torch.Tensor) -> torch.Tensor:
    """A file's tensor as our parameter: float32, Conv1D weights transposed to nn.Linear's (out, in).
    The transpose is copied into its own contiguous memory, one tensor at a time."""
    t = t.to(torch.float32)
    return t.t().contiguous() if name.endswith(CONV1D_WEIGHTS) else t


def state_dict_from_hf(tensors, source) -> dict:
    """Our state_dict from (name, tensor) pairs of a GPT-2 checkpoint whose names and shapes
    check_tensors has passed. Each tensor is converted as it arrives, so the file's copy of it can
    be freed before the next one is read."""
    state, lm_head = {}, None
    for key, t in tensors:
        name = our_name(key)
        if name == LM_HEAD:
            lm_head = t                            # kept only to check that it is the same matrix
        elif name is not None:
            state[name] = to_parameter(name, t)
    if lm_head is not None and not torch.equal(lm_head.to(torch.float32), state['transformer.wte.weight']):
        raise ValueError(f'in {source}, lm_head.weight differs from transformer.wte.weight; nanoPushkin\'s '
                         'GPT ties the output layer to the token embedding, so it cannot load an untied model')
    state[LM_HEAD] = state['transformer.wte.weight']
    return state


def state_dict_to_hf(model: GPT) -> dict:
    """GPT-2's tensors for our model: Conv1D weights transposed, lm_head left out (it is wte).

    A model trained with bias=False gets zero biases: x @ W + 0 is x @ W, so nothing changes."""
    ours = model.state_dict()
    tensors = {}
    for name in gpt2_tensor_shapes(model.config):
        if name in ours:
            t = ours[name]
        else:   # a bias of a bias=False model: one zero per output unit of its weight
            weight = ours[name.removesuffix('.bias') + '.weight']
            t = torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)
        tensors[name] = t.t().contiguous() if name.endswith(CONV1D_WEIGHTS) else t
    return tensors

# -----------------------------------------------------------------------------
# reading the weight files: the header (names, shapes) first, then the tensors one by one


def torch_load(path, mmap=False) -> dict:
    """The tensors of a pytorch_model.bin (weights_only: plain tensors and containers, never code).
    mmap=True maps the file instead of reading it: the shapes cost no memory."""
    try:
        tensors = torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
    except Exception as e:         # not a zip or pickle, truncated, or a pickle with code in it
        raise ValueError(f'{path} could not be read as a PyTorch weights file ({type(e).__name__}); '
                         'download it again or use model.safetensors') from None
    if not (isinstance(tensors, dict) and all(isinstance(t, torch.Tensor) for t in tensors.values())):
        raise ValueError(f'{path} holds a {type(tensors).__name__}, not a dict of named tensors')
    return tensors


def read_shapes(path) -> dict:
    """{name: (shape, dtype)} of one weight file, without reading its data."""
    if path.suffix == '.safetensors':
        header, _ = safetensors.read_header(path)
        return {name: (info['shape'], safetensors.DTYPES[info['dtype']])
                for name, info in header.items() if name != '__metadata__'}
    try:
        tensors = torch_load(path, mmap=True)
    except ValueError:             # a file in torch's pre-1.6 format cannot be mapped: read it
        tensors = torch_load(path)
    return {name: (t.shape, t.dtype) for name, t in tensors.items()}


def read_tensors(paths):
    """Yield (name, tensor) for every tensor of the weight files, one at a time."""
    for path in paths:
        if path.suffix == '.safetensors':
            yield from safetensors.iter_tensors(path)
            continue
        tensors = torch_load(path)
        while tensors:             # popped, so each can be freed once the caller has converted it
            yield tensors.popitem()


def from_pretrained(name_or_folder, dropout=0.0) -> tuple[GPT, BPETokenizer]:
    """Our GPT and its BPE tokenizer from a GPT-2-format folder or a hub name (downloaded once).

    The model is float32 on the CPU, in train mode like a fresh model; dropout as given."""
    folder = hub.resolve(name_or_folder)
    config = gpt_config_from_hf(read_hf_config(folder), folder, dropout)
    tokenizer = BPETokenizer.from_pretrained(folder)
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f'the tokenizer in {folder} has {tokenizer.vocab_size} tokens but the model only '
                         f'{config.vocab_size} (vocab_size in {hub.CONFIG_FILE}): they do not belong together')
    files = hub.weight_files(folder)
    check_tensors({name: info for path in files for name, info in read_shapes(path).items()}, config, folder)
    with shapes_only():            # the model's structure without memory for its weights
        model = GPT(config)
    # assign: the loaded tensors become the parameters, no copy into freshly allocated ones
    model.load_state_dict(state_dict_from_hf(read_tensors(files), folder), assign=True)
    model.lm_head.weight = model.transformer.wte.weight     # assign replaced the tie: tie them again
    return model, tokenizer


def save_pretrained(model: GPT, tokenizer, folder):
    """Write `model` and its BPE tokenizer as a GPT-2-format folder (transformers can load it)."""
    if not isinstance(model, GPT):
        raise ValueError(f'only a GPT can be saved in GPT-2 format, not a {type(model).__name__}')
    if not isinstance(tokenizer, BPETokenizer):
        raise ValueError(f'GPT-2 format needs a byte-level BPE tokenizer; this model uses a '
                         f'{getattr(tokenizer, "kind", type(tokenizer).__name__)} tokenizer')
    config = hf_config_from_gpt(model.config, tokenizer.eot_id)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hub.CONFIG_FILE).write_text(json.dumps(config, indent=2) + '\n', encoding='utf-8')
    safetensors.save_file(state_dict_to_hf(model), folder / 'model.safetensors', metadata={'format': 'pt'})
    tokenizer.save_pretrained(folder)

# -----------------------------------------------------------------------------
# command line


@dataclass
class DownloadArgs:
    name: str = 'rugpt3medium'   # a hub name (owner/model) or an alias: rugpt3small/medium/large


@dataclass
class ExportArgs:
    out_dir: str = 'out'         # the training run to export (its best.pt, else ckpt.pt), or a .pt file
    to: str = ''                 # the GPT-2-format folder to write


COMMANDS = {'download': DownloadArgs, 'export': ExportArgs}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(f'usage: python -m nanopushkin.hf {{{"|".join(COMMANDS)}}} --key=value ...\n'
              '  download --name=rugpt3medium          fetch a GPT-2-format model into the cache, print the folder\n'
              '  export --out_dir=OUT --to=FOLDER       write a trained GPT checkpoint as a GPT-2-format folder',
              file=sys.stderr)
        sys.exit(2)
    command = argv[0]
    args = main_parse(COMMANDS[command], argv[1:], config_file_allowed=False)
    try:
        if command == 'download':
            print(hub.resolve(args.name))
            return
        if not args.to:
            raise ValueError('say where to write the folder: --to=FOLDER')
        model, tokenizer, _ = load_checkpoint(args.out_dir)
        save_pretrained(model, tokenizer, args.to)
    except (ValueError, OSError) as e:          # OSError: missing files, offline, an unwritable --to
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    print(f'wrote {args.to}: load it with --init_from={args.to}, or in transformers with '
          f'GPT2LMHeadModel.from_pretrained({args.to!r})')


if __name__ == '__main__':
    main(sys.argv[1:])
