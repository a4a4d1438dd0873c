"""Where a GPT-2-format model's files are, and how they get onto this machine: the Hugging Face hub.

    resolve('rugpt3medium')     -> the cache folder of ai-forever/rugpt3medium_based_on_gpt2,
                                   downloaded once (https://huggingface.co/<name>/resolve/main/<file>)
    resolve('path/to/folder')   -> that folder

Every file comes through nanopushkin/download.py, so an interrupted download resumes; without a
connection the error lists the files to fetch by hand and the folder to put them in. The file names
a server sends (a shard index names the files the weights are split into) are used as paths only
when they are plain file names: a hub cannot make us write outside the model's folder.

nanopushkin/hf.py, which reads the folder into our GPT, is the lesson; this is plumbing that a
first reading can skip.
"""
import json
import os
import re
from pathlib import Path

from nanopushkin.download import NotOnServer, download_file

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
# the largest weights file (or shard) downloaded; the other files get download.py's MAX_BYTES (100 MB)
MAX_WEIGHTS_BYTES = 64 * 2 ** 30

# -----------------------------------------------------------------------------
# the files of a folder


def find_weights(folder) -> Path | None:
    """The weights file (or shard index) of a GPT-2-format folder, None if it has none."""
    for name in WEIGHT_FILES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def plain_file_name(name, source) -> str:
    """name, if it is the name of a file in a folder: not a path (no separator, not '.' or '..'),
    not absolute, not empty. Whatever a file or a server says is a file name passes through here
    before it becomes a path, so '../../x' or '/etc/x' can never be written or read."""
    if not (isinstance(name, str) and name and name not in ('.', '..') and '/' not in name
            and '\\' not in name and '\0' not in name and not Path(name).is_absolute()
            and Path(name).name == name):
        raise ValueError(f'{source} names the file {name!r}, which is not a plain file name; '
                         'refusing to use it (is this file from a trustworthy source?)')
    return name


def shard_names(index_path) -> list[str]:
    """The shard files a *.index.json lists (its weight_map says which tensor is in which file)."""
    try:
        weight_map = json.loads(Path(index_path).read_text(encoding='utf-8'))['weight_map']
        names = set(weight_map.values())
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise ValueError(f'{index_path} is not a shard index (JSON with a "weight_map" object): {e!r}') from None
    return sorted(plain_file_name(name, index_path) for name in names)


def weight_files(folder) -> list[Path]:
    """The file(s) holding the weights of a GPT-2-format folder: one file, or the shards of an index."""
    folder = Path(folder)
    path = find_weights(folder)
    if path is None:
        raise FileNotFoundError(f'{folder} has no weights: expected one of {", ".join(WEIGHT_FILES)}')
    if not path.name.endswith('.index.json'):
        return [path]
    shards = [folder / name for name in shard_names(path)]
    for shard in shards:
        if not shard.is_file():
            raise FileNotFoundError(f'{shard}, a shard listed in {path.name}, is missing')
    return shards


def is_complete(folder) -> bool:
    """Whether a folder has everything from_pretrained needs (so no network is touched)."""
    folder = Path(folder)
    weights = find_weights(folder)
    if weights is None or not all((folder / f).is_file() for f in (CONFIG_FILE, *TOKENIZER_FILES)):
        return False
    return not weights.name.endswith('.index.json') or all(
        (folder / shard).is_file() for shard in shard_names(weights))

# -----------------------------------------------------------------------------
# the hub: https://huggingface.co/<name>/resolve/main/<file>, cached in a folder per model


def cache_root() -> Path:
    return Path(os.environ.get('NANOPUSHKIN_CACHE') or Path.home() / '.cache' / 'nanopushkin')


def hub_name(name) -> str:
    """The hub repository for a name or alias; the old 'sberbank-ai' organisation is now 'ai-forever'
    (the hub redirects the old name; renaming here only shares one cache folder)."""
    name = ALIASES.get(name, name)
    return 'ai-forever/' + name.removeprefix('sberbank-ai/') if name.startswith('sberbank-ai/') else name


def looks_like_hub_name(name) -> bool:
    """owner/model, each part a plain name ('..' is not one: the name becomes a cache folder)."""
    if name in ALIASES:
        return True
    return (re.fullmatch(r'[A-Za-z0-9][\w.-]*/[\w.-]+', name) is not None
            and '..' not in name.split('/') and '.' not in name.split('/'))


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
            limit = {} if filename.endswith('.index.json') else {'max_bytes': MAX_WEIGHTS_BYTES}
            try:
                download_file(hub_url(repo, filename), folder / filename, **limit)
            except NotOnServer:
                continue
            if filename.endswith('.index.json'):
                for shard in shard_names(folder / filename):       # plain file names only
                    download_file(hub_url(repo, shard), folder / shard, max_bytes=MAX_WEIGHTS_BYTES)
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
