"""GPT-2-format checkpoints (the Hugging Face layout) in and out of nanoPushkin's GPT.

ruGPT3 (ai-forever/rugpt3medium_based_on_gpt2 and its siblings) is a GPT-2: same blocks, same
tokenizer format, only the weights and the vocabulary are Russian. Our GPT uses GPT-2's parameter
names, so loading one is mostly reading files. A GPT-2-format folder holds:

    config.json                  n_layer, n_head, n_embd, n_positions, vocab_size, ...
    model.safetensors            the weights (read by nanopushkin/safetensors.py, no pickle), or
    pytorch_model.bin            the same weights as a torch.save'd dict; a big model may instead be
                                 split into shards listed by model.safetensors.index.json or
                                 pytorch_model.bin.index.json
    vocab.json, merges.txt       the byte-level BPE tokenizer (tokenizer/bpe.py reads them)
    special_tokens_map.json ...  optional tokenizer extras

    from_pretrained('rugpt3medium')          -> (model, tokenizer), downloading into a cache once
    from_pretrained('path/to/folder')        -> the same from a local folder
    save_pretrained(model, tokenizer, folder) writes that layout back, readable by HF transformers

From the command line:

    python -m nanopushkin.hf download --name=rugpt3medium        # fetch into the cache, print where
    python -m nanopushkin.hf export --out_dir=out-finetune --to=rugpt3-pushkin   # checkpoint -> folder
"""
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from nanopushkin import safetensors
from nanopushkin.config import main_parse
from nanopushkin.download import NotOnServer, download_file
from nanopushkin.models.gpt import GPT, GPTConfig

HUB_URL = os.environ.get('HF_ENDPOINT', 'https://huggingface.co').rstrip('/')  # HF_ENDPOINT: a mirror
ALIASES = {
    'rugpt3small': 'ai-forever/rugpt3small_based_on_gpt2',     # 125M parameters
    'rugpt3medium': 'ai-forever/rugpt3medium_based_on_gpt2',   # 356M
    'rugpt3large': 'ai-forever/rugpt3large_based_on_gpt2',     # 760M
}
CONFIG_FILE = 'config.json'
TOKENIZER_FILES = ('vocab.json', 'merges.txt')
OPTIONAL_FILES = ('special_tokens_map.json', 'tokenizer_config.json', 'added_tokens.json')
# where the weights may be, in the order we look for them: safetensors first, it needs no unpickling
WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json',
                'pytorch_model.bin', 'pytorch_model.bin.index.json')

# -----------------------------------------------------------------------------
# config.json <-> GPTConfig

# GPT-2 computes GELU with the tanh approximation; HF calls it 'gelu_new' (its own formula) or
# 'gelu_pytorch_tanh' (torch's kernel). Both are what our MLP computes. Plain 'gelu' (erf) is not.
TANH_GELU = ('gelu_new', 'gelu_pytorch_tanh')


def gpt_config_from_hf(hf: dict, source, dropout=0.0) -> GPTConfig:
    """Our GPTConfig for a GPT-2 config.json; an error for every variant our GPT cannot compute."""
    where = f'{source}/config.json'
    if hf.get('model_type', 'gpt2') != 'gpt2':
        raise ValueError(f'{where} describes a {hf["model_type"]!r} model; only GPT-2-format models '
                         "(model_type 'gpt2', such as ruGPT3) can be loaded into nanoPushkin's GPT")
    activation = hf.get('activation_function', 'gelu_new')
    if activation not in TANH_GELU:
        raise ValueError(f'{where} has activation_function {activation!r}; nanoPushkin\'s GPT computes GELU '
                         f'with the tanh approximation, which GPT-2 calls {" or ".join(TANH_GELU)}')
    block_size = hf.get('n_positions', hf.get('n_ctx'))
    missing = [k for k in ('vocab_size', 'n_layer', 'n_head', 'n_embd') if k not in hf]
    missing += ['n_positions (or n_ctx)'] if block_size is None else []
    if missing:
        raise ValueError(f'{where} lacks {", ".join(missing)}; is it the config of a GPT-2 model?')
    n_embd = hf['n_embd']
    if hf.get('n_inner') not in (None, 4 * n_embd):
        raise ValueError(f'{where} has n_inner {hf["n_inner"]}; nanoPushkin\'s GPT has an MLP of '
                         f'4 * n_embd = {4 * n_embd} units, as GPT-2 does')
    # switches that change what GPT-2 computes, with the value our GPT matches
    for key, ours in (('scale_attn_weights', True), ('scale_attn_by_inverse_layer_idx', False),
                      ('add_cross_attention', False)):
        if hf.get(key, ours) != ours:
            raise ValueError(f'{where} sets {key} = {hf[key]}; nanoPushkin\'s GPT only computes {key} = {ours}')
    return GPTConfig(vocab_size=hf['vocab_size'], block_size=block_size, n_layer=hf['n_layer'],
                     n_head=hf['n_head'], n_embd=n_embd, dropout=dropout, bias=True,
                     layer_norm_epsilon=hf.get('layer_norm_epsilon', 1e-5))


def hf_config_from_gpt(config: GPTConfig, eot_id=None) -> dict:
    """The config.json of a GPT-2 that computes exactly what our GPT with `config` computes."""
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


def gpt2_tensor_names(n_layer) -> list[str]:
    """Every tensor of a GPT-2 checkpoint with n_layer blocks, named as in our GPT's state_dict."""
    names = ['transformer.wte.weight',                 # token embedding (vocab_size, n_embd), = lm_head
             'transformer.wpe.weight']                 # position embedding (n_positions, n_embd)
    for i in range(n_layer):
        names += [f'transformer.h.{i}.{name}' for name in (
            'ln_1.weight', 'ln_1.bias',
            'attn.c_attn.weight', 'attn.c_attn.bias',  # queries, keys and values side by side
            'attn.c_proj.weight', 'attn.c_proj.bias',
            'ln_2.weight', 'ln_2.bias',
            'mlp.c_fc.weight', 'mlp.c_fc.bias',
            'mlp.c_proj.weight', 'mlp.c_proj.bias')]
    names += ['transformer.ln_f.weight', 'transformer.ln_f.bias']
    return names


def state_dict_from_hf(tensors: dict, model: GPT, source) -> dict:
    """Our state_dict from the tensors of a GPT-2 checkpoint, checking that they fit `model` exactly.

    Every missing, unexpected or wrongly shaped tensor is named in one error."""
    found = {}
    for key, t in tensors.items():
        name = key if key.startswith('transformer.') or key == 'lm_head.weight' else 'transformer.' + key
        if name.endswith(MASK_BUFFERS):
            continue
        if name in found:
            raise ValueError(f'{source} has tensor {name} twice (with and without the "transformer." prefix)')
        found[name] = t

    ours = model.state_dict()
    expected = gpt2_tensor_names(model.config.n_layer)
    problems = []
    missing = [name for name in expected if name not in found]
    if missing:
        problems.append('missing tensors: ' + ', '.join(missing))
    unexpected = [name for name in found if name not in expected and name != 'lm_head.weight']
    if unexpected:
        problems.append('unexpected tensors: ' + ', '.join(unexpected))
    state = {}
    for name in expected:
        if name not in found:
            continue
        t = found[name]
        want = tuple(ours[name].shape)
        if name.endswith(CONV1D_WEIGHTS):
            want = want[::-1]                          # the file's (in, out) layout
        if tuple(t.shape) != want:
            problems.append(f'{name} has shape {list(t.shape)}, expected {list(want)}')
            continue
        state[name] = t.t() if name.endswith(CONV1D_WEIGHTS) else t
    if 'lm_head.weight' in found and 'transformer.wte.weight' in found:
        if not torch.equal(found['lm_head.weight'], found['transformer.wte.weight']):
            problems.append('lm_head.weight differs from transformer.wte.weight; nanoPushkin\'s GPT ties the '
                            'output layer to the token embedding, so it cannot load an untied model')
    if problems:
        raise ValueError(f'the weights in {source} do not fit a GPT with {model.config}:\n  '
                         + '\n  '.join(problems))
    state['lm_head.weight'] = state['transformer.wte.weight']
    return state


def state_dict_to_hf(model: GPT) -> dict:
    """GPT-2's tensors for our model: Conv1D weights transposed, lm_head left out (it is wte).

    A model trained with bias=False gets zero biases: x @ W + 0 is x @ W, so nothing changes."""
    ours = model.state_dict()
    tensors = {}
    for name in gpt2_tensor_names(model.config.n_layer):
        if name in ours:
            t = ours[name]
        else:   # a bias of a bias=False model: one zero per output unit of its weight
            weight = ours[name.removesuffix('.bias') + '.weight']
            t = torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)
        tensors[name] = t.t().contiguous() if name.endswith(CONV1D_WEIGHTS) else t
    return tensors

# -----------------------------------------------------------------------------
# reading a folder


def find_weights(folder) -> Path | None:
    """The weights file (or shard index) of a GPT-2-format folder, None if it has none."""
    for name in WEIGHT_FILES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def shard_names(index_path) -> list[str]:
    """The shard files a *.index.json lists (its weight_map says which tensor is in which file)."""
    try:
        weight_map = json.loads(Path(index_path).read_text(encoding='utf-8'))['weight_map']
        return sorted(set(weight_map.values()))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f'{index_path} is not a shard index (JSON with a "weight_map" object): {e!r}') from None


def load_weight_file(path) -> dict:
    """The tensors of one .safetensors or pytorch .bin file."""
    path = Path(path)
    if path.suffix == '.safetensors':
        return safetensors.load_file(path)
    try:
        # weights_only: unpickle tensors and plain containers only, never arbitrary objects
        tensors = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise ValueError(f'{path} could not be read as a PyTorch weights file ({type(e).__name__}: {e}); '
                         'download it again or use model.safetensors') from None
    if not (isinstance(tensors, dict) and all(isinstance(t, torch.Tensor) for t in tensors.values())):
        raise ValueError(f'{path} holds a {type(tensors).__name__}, not a dict of named tensors')
    return tensors


def load_weights(folder) -> dict:
    """Every tensor of a GPT-2-format folder, whichever of the weight layouts it uses."""
    path = find_weights(folder)
    if path is None:
        raise FileNotFoundError(f'{folder} has no weights: expected one of {", ".join(WEIGHT_FILES)}')
    if not path.name.endswith('.index.json'):
        return load_weight_file(path)
    tensors = {}
    for shard in shard_names(path):
        if not (Path(folder) / shard).is_file():
            raise FileNotFoundError(f'{folder}/{shard}, a shard listed in {path.name}, is missing')
        tensors.update(load_weight_file(Path(folder) / shard))
    return tensors


def from_pretrained(name_or_folder, dropout=0.0) -> tuple[GPT, 'BPETokenizer']:
    """Our GPT and its BPE tokenizer from a GPT-2-format folder or a hub name (downloaded once).

    The model is float32 on the CPU, in train mode like a fresh model; dropout as given."""
    from tokenizer import BPETokenizer
    folder = resolve(name_or_folder)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f'{folder} has no {CONFIG_FILE}; a GPT-2-format folder holds {CONFIG_FILE}, '
                                f'{", ".join(TOKENIZER_FILES)} and model.safetensors or pytorch_model.bin')
    try:
        hf_config = json.loads(config_path.read_text(encoding='utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f'{config_path} is not valid JSON ({e})') from None
    config = gpt_config_from_hf(hf_config, folder, dropout)
    tokenizer = BPETokenizer.from_pretrained(folder)
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f'the tokenizer in {folder} has {tokenizer.vocab_size} tokens but the model only '
                         f'{config.vocab_size} (vocab_size in {CONFIG_FILE}): they do not belong together')
    model = GPT(config)
    model.load_state_dict(state_dict_from_hf(load_weights(folder), model, folder))
    return model, tokenizer


def save_pretrained(model: GPT, tokenizer, folder):
    """Write `model` and its BPE tokenizer as a GPT-2-format folder (transformers can load it)."""
    if not isinstance(model, GPT):
        raise ValueError(f'only a GPT can be saved in GPT-2 format, not a {type(model).__name__}')
    if not hasattr(tokenizer, 'save_pretrained'):
        raise ValueError(f'GPT-2 format needs a byte-level BPE tokenizer; this model uses a '
                         f'{getattr(tokenizer, "kind", type(tokenizer).__name__)} tokenizer')
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = hf_config_from_gpt(model.config, tokenizer.eot_id)
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + '\n', encoding='utf-8')
    safetensors.save_file(state_dict_to_hf(model), folder / 'model.safetensors', metadata={'format': 'pt'})
    tokenizer.save_pretrained(folder)

# -----------------------------------------------------------------------------
# the hub: https://huggingface.co/<name>/resolve/main/<file>, cached in a folder per model;
# every file through nanopushkin/download.py, so an interrupted download resumes


def cache_root() -> Path:
    return Path(os.environ.get('NANOPUSHKIN_CACHE') or Path.home() / '.cache' / 'nanopushkin')


def hub_name(name) -> str:
    """The hub repository for a name or alias; the old 'sberbank-ai' organisation is now 'ai-forever'
    (the hub redirects the old name; renaming here only shares one cache folder)."""
    name = ALIASES.get(name, name)
    return 'ai-forever/' + name.removeprefix('sberbank-ai/') if name.startswith('sberbank-ai/') else name


def looks_like_hub_name(name) -> bool:
    return name in ALIASES or re.fullmatch(r'[A-Za-z0-9][\w.-]*/[\w.-]+', name) is not None


def resolve(name_or_folder) -> Path:
    """A local GPT-2-format folder: the one given, or a hub model's cache folder (downloaded if needed)."""
    path = Path(name_or_folder)
    if path.is_dir():
        return path
    if not looks_like_hub_name(str(name_or_folder)):
        raise FileNotFoundError(f'{name_or_folder} is neither a folder nor a hub model name '
                                f'(like {next(iter(ALIASES.values()))}, or one of {", ".join(ALIASES)})')
    try:
        return download(str(name_or_folder))
    except (FileNotFoundError, ConnectionError) as e:
        if name_or_folder in ALIASES:
            raise
        raise type(e)(f'{name_or_folder} is not a local folder, and as a hub model name: {e}') from None


def is_complete(folder) -> bool:
    """Whether a folder has everything from_pretrained needs (so no network is touched)."""
    folder = Path(folder)
    weights = find_weights(folder)
    if weights is None or not all((folder / f).is_file() for f in (CONFIG_FILE, *TOKENIZER_FILES)):
        return False
    return not weights.name.endswith('.index.json') or all(
        (folder / shard).is_file() for shard in shard_names(weights))


def download(name) -> Path:
    """Fetch a hub model's files into cache_root()/<name>, once; returns that folder.

    Small files come first and the weights last, so a folder with weights has all the rest."""
    repo = hub_name(name)
    folder = cache_root() / repo
    if is_complete(folder):
        return folder
    try:
        for filename in (CONFIG_FILE, *TOKENIZER_FILES):
            try:
                download_file(hub_url(repo, filename), folder / filename)
            except NotOnServer:
                raise FileNotFoundError(f'{hub_url(repo, filename)} does not exist: is {repo} the right name '
                                        f'of a GPT-2-format model on {HUB_URL}?') from None
        for filename in OPTIONAL_FILES:
            try:
                download_file(hub_url(repo, filename), folder / filename)
            except NotOnServer:
                pass
        for filename in WEIGHT_FILES:
            try:
                download_file(hub_url(repo, filename), folder / filename)
            except NotOnServer:
                continue
            if filename.endswith('.index.json'):
                for shard in shard_names(folder / filename):
                    download_file(hub_url(repo, shard), folder / shard)
            return folder
    except ConnectionError as e:
        raise ConnectionError(offline_help(repo, folder, e)) from None
    raise FileNotFoundError(f'{repo} on {HUB_URL} has none of the weight files {", ".join(WEIGHT_FILES)}')


def hub_url(repo, filename) -> str:
    return f'{HUB_URL}/{repo}/resolve/main/{filename}'


def offline_help(repo, folder, error) -> str:
    urls = '\n'.join(f'  {hub_url(repo, f)}' for f in (CONFIG_FILE, *TOKENIZER_FILES))
    weights = ' or '.join(hub_url(repo, f) for f in ('model.safetensors', 'pytorch_model.bin'))
    optional = ', '.join(OPTIONAL_FILES)
    return (f'could not download {repo} from {HUB_URL} ({error}).\n'
            f'Without internet, fetch these files elsewhere:\n{urls}\n'
            f'  and the weights: {weights} (whichever exists)\n'
            f'  and, where they exist, {optional}\n'
            f'then put them into {folder} (or into any folder, and pass that folder where you passed '
            f'the name). A partly downloaded file (.part) resumes on the next run.')

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
            print(resolve(args.name))
            return
        if not args.to:
            raise ValueError('say where to write the folder: --to=FOLDER')
        from nanopushkin.checkpoint import load_checkpoint
        model, tokenizer, _ = load_checkpoint(args.out_dir)
        save_pretrained(model, tokenizer, args.to)
    except (ValueError, OSError) as e:          # OSError: missing files, offline, an unwritable --to
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    print(f'wrote {args.to}: load it with --init_from={args.to}, or in transformers with '
          f'GPT2LMHeadModel.from_pretrained({args.to!r})')


if __name__ == '__main__':
    main(sys.argv[1:])
