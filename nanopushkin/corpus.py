"""The raw Pushkin corpus: find it, download it, read it, clean it, split it by work.

The corpus is the Pushkin part of the public RusLit collection (see data/pushkin/SHA256SUMS for the
exact files): `prose/` and `poems/`, one .txt file per work, each folder with an `info.csv`.
The raw files are as published upstream, defects included, and `clean_text` repairs them with a
chain of small named steps, each one testable on its own:

    decode_bytes            UTF-8, falling back to cp1251 per file (Руслан и Людмила is cp1251)
    normalize_unicode       NFC, so 'й' is one code point whatever the source did
    normalize_newlines      CRLF and CR -> LF
    join_letterspaced       'Ш у й с к и й' (letter-spaced names in stage directions) -> 'Шуйский'
    replace_nbsp            NO-BREAK SPACE -> space
    strip_indentation       leading/trailing spaces of every line (verse indentation is
                            inconsistent between sources: all of Руслан is indented, most poems not)
    strip_header            'Александр Пушкин' + the title line(s) at the top of each file
    split_glued_lines       'Александр ПушкинКРЕМЛЕВСКИЕ ПАЛАТЫ' -> two paragraphs
    drop_endnotes           the final 'Примечания'/'Комментарий' section: a 20th-century editor's
                            essay in Руслан и Людмила and Медный всадник; numbered notes elsewhere
                            (translations, sources, a few of Pushkin's own notes: a small loss)
    drop_footnotes          notes at the end of a chapter: a line '1', the note, a line '2', ...
                            (editors' translations of French epigraphs and phrases)
    remove_footnote_markers '[1]' and word-glued '(10)' (editorial note numbers)
    unify_punctuation       '–' -> '—' and '…' -> '...', the spellings most of the files use
    collapse_blank_lines    stanza breaks stay as one blank line; 3+ newlines become 2

Not removed, on purpose: the number that points to a footnote when it is written as a plain
' 1' after a word ('АНЧАР 1', 'culotte 1.'): it cannot be told apart from a real number.

Works are never cut into random chunks: the split is by work (VAL_WORKS are held out), so the
validation loss measures how well a model writes a Pushkin text it has never seen.
"""
import hashlib
import logging
import os
import unicodedata
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

import regex as re
from tqdm import tqdm

from nanopushkin.download import NotOnServer, download_file, sha256_file

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SUMS_FILE = ROOT / 'data' / 'pushkin' / 'SHA256SUMS'       # the pinned file list, with hashes
BESIDE_DIR = ROOT.parent / 'shared' / 'data' / 'pushkin'    # a corpus folder beside the checkout
CACHE_DIR = ROOT / 'data' / 'pushkin' / 'raw'               # where a download goes
UPSTREAM_COMMIT = '4509680428729da225a73a22008133660f92bb7e'
# {folder} is 'prose' or 'poems'; upstream keeps each author in a subfolder of those
RAW_URL = ('https://raw.githubusercontent.com/d0rj/RusLit/' + UPSTREAM_COMMIT
           + '/{folder}/{author}/{name}')
ENV_VAR = 'PUSHKIN_CORPUS'
# the contrast corpus (other writers from the same collection, for style work and extra training
# text): <Author>/{prose,poems}/<name> here, {folder}/<Author>/<name> upstream
CONTRAST_SUMS_FILE = ROOT / 'data' / 'contrast' / 'SHA256SUMS'
CONTRAST_BESIDE_DIR = ROOT.parent / 'shared' / 'data' / 'contrast'
CONTRAST_CACHE_DIR = ROOT / 'data' / 'contrast' / 'raw'
KINDS = ('prose', 'poems')
VAL_WORKS = ('Пиковая дама', 'Медный всадник', 'Сказка о рыбаке и рыбке')


class CorpusNotFound(FileNotFoundError):
    """No corpus folder was given or found, and it could not be downloaded."""


def how_to_provide() -> str:
    cache = CACHE_DIR.relative_to(ROOT) if CACHE_DIR.is_relative_to(ROOT) else CACHE_DIR
    return (f'Provide the Pushkin corpus in one of these ways: pass --src DIR (a folder with prose/ '
            f'and poems/ as listed in data/pushkin/SHA256SUMS), set ${ENV_VAR}=DIR, put the folder at '
            f'{BESIDE_DIR} (../shared/data/pushkin beside the checkout), or put the files into {cache}/; '
            f'when online, they are downloaded there automatically from {RAW_URL.split("/{")[0]}')


# -----------------------------------------------------------------------------
# cleaning: one small function per step, chained by clean_text

# control characters other than tab, newline, carriage return and form feed: text has next to none,
# random bytes read as cp1251 are one in eight of them
_CONTROL = re.compile(r'[\x00-\x08\x0b\x0e-\x1f\x7f]')
MAX_CONTROL_SHARE = 0.01


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode one file: UTF-8 (a BOM is dropped) when it is valid, else cp1251. Any bytes are some
    cp1251 text, so the result must also look like text: a binary file is refused."""
    try:
        text, encoding = raw.decode('utf-8-sig'), 'utf-8'
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode('cp1251'), 'cp1251'
        except UnicodeDecodeError as e:
            raise ValueError(f'text is neither UTF-8 nor cp1251 (byte {raw[e.start]:#x} at {e.start}); '
                             're-save the file as UTF-8') from None
    controls = len(_CONTROL.findall(text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise ValueError(f'this is not a text file: read as {encoding}, {controls} of its {len(text)} characters '
                         'are control characters; give a UTF-8 (or cp1251) text file')
    return text, encoding


def normalize_unicode(text: str) -> str:
    return unicodedata.normalize('NFC', text)


def normalize_newlines(text: str) -> str:
    return text.replace('\r\n', '\n').replace('\r', '\n')


# three or more single letters glued by NO-BREAK SPACEs: typographic letter-spacing (разрядка)
_LETTERSPACED = re.compile(r'(?<!\w)\p{L}(?:\u00a0\p{L}){2,}(?!\w)')


def join_letterspaced(text: str) -> str:
    return _LETTERSPACED.sub(lambda m: m.group().replace('\u00a0', ''), text)


def replace_nbsp(text: str) -> str:
    return text.replace('\u00a0', ' ')


def strip_indentation(text: str) -> str:
    return '\n'.join(line.strip(' \t') for line in text.split('\n'))


# 'Александр Пушкин', 'Александр Сергеевич Пушкин', 'Антон Чехов', optionally '. Title' after it
_AUTHOR_LINE = re.compile(r'(?:\p{Lu}\p{Ll}+ ){1,2}\p{Lu}\p{Ll}+(\. .+)?')
# headings of the text itself, which must survive even when they follow the title directly
_SECTION_HEADING = re.compile(r'(?:ГЛАВА|СЦЕНА|ЧАСТЬ|ПЕСНЬ|ТОМ)\b|[IVXLC]+\.?$')


def strip_header(text: str) -> str:
    """Drop the author line and the title at the top of a file.

    The files start with the author ('Александр Пушкин'), then the title: one line (in capitals,
    possibly with a footnote number, or '* * *' for an untitled poem), sometimes continued by more
    lines in capitals ('СКАЗКА' / 'О ЗОЛОТОМ ПЕТУШКЕ'). A file without an author line is left alone.
    """
    lines = text.split('\n')
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    author = _AUTHOR_LINE.fullmatch(lines[i]) if i < len(lines) else None
    if author is None:
        return text
    i += 1
    if author.group(1) is None:              # the title is on the next line(s), not on this one
        while i < len(lines) and not lines[i].strip():
            i += 1
        i += 1                                # the title line itself, whatever its case
        while (i < len(lines) and lines[i].strip() and lines[i] == lines[i].upper()
               and not _SECTION_HEADING.match(lines[i])):
            i += 1                            # title continued in capitals, or a subtitle
    return '\n'.join(lines[i:])


# a lost line break: a lowercase letter directly followed by a word in capitals
_GLUED = re.compile(r'(?<=\p{Ll})(?=\p{Lu}{3,}\b)')


def split_glued_lines(text: str) -> str:
    return _GLUED.sub('\n\n', text)


# from the first line that is just 'Примечания' or 'Комментарий' to the end of the file
_ENDNOTES = re.compile(r'\n(?:Примечания|Комментарий)\n.*\Z', re.DOTALL)


def drop_endnotes(text: str) -> str:
    return _ENDNOTES.sub('\n', text)


def _is_footnote_block(lines) -> bool:
    """Lines '1', note, '2', note, ...: numbered 1..n in order, every number followed by its note."""
    numbered = [i for i, line in enumerate(lines) if line.isdigit()]
    return ([lines[i] for i in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
            and all(i + 1 < len(lines) and i + 1 not in numbered for i in numbered))


def drop_footnotes(text: str) -> str:
    """Cut footnote blocks: from a line '1' to the end of its paragraph, if it is a footnote block."""
    paragraphs = text.split('\n\n')
    for p, paragraph in enumerate(paragraphs):
        lines = paragraph.split('\n')
        if '1' in lines and _is_footnote_block(lines[lines.index('1'):]):
            paragraphs[p] = '\n'.join(lines[:lines.index('1')])
    return '\n\n'.join(paragraphs)


_FOOTNOTE_MARKER = re.compile(r'\[\d+\]|(?<=\w)\(\d+\)')


def remove_footnote_markers(text: str) -> str:
    return _FOOTNOTE_MARKER.sub('', text)


def unify_punctuation(text: str) -> str:
    return text.replace('\u2013', '\u2014').replace('\u2026', '...')


def collapse_blank_lines(text: str) -> str:
    return re.sub(r'\n{3,}', '\n\n', text).strip('\n')


def clean_text(raw: bytes, header: bool = True) -> tuple[str, str]:
    """Raw file bytes -> (clean text, encoding it was read with). header=False keeps the top lines
    (for texts that have no author/title header, like generated stories)."""
    text, encoding = decode_bytes(raw)
    text = normalize_unicode(text)
    text = normalize_newlines(text)
    text = join_letterspaced(text)
    text = replace_nbsp(text)
    text = strip_indentation(text)
    if header:
        text = strip_header(text)
    text = split_glued_lines(text)
    text = drop_endnotes(text)
    text = drop_footnotes(text)
    text = remove_footnote_markers(text)
    text = unify_punctuation(text)
    text = collapse_blank_lines(text)
    return text, encoding


# -----------------------------------------------------------------------------
# reading and splitting

@dataclass
class Work:
    name: str          # the file name without .txt, e.g. 'Пиковая дама'
    kind: str          # 'prose' | 'poems'
    path: str          # relative to the corpus folder, e.g. 'prose/Пиковая дама.txt'
    text: str          # cleaned
    encoding: str      # what the raw file was decoded with
    sha256: str        # of the raw file


def read_works(folder) -> list[Work]:
    """Read and clean every work of a corpus folder (prose/*.txt, poems/*.txt), sorted by path."""
    folder = Path(folder)
    paths = [p for kind in KINDS for p in sorted((folder / kind).glob('*.txt'))]
    if not paths:
        raise FileNotFoundError(f'{folder} has no prose/*.txt or poems/*.txt files; '
                                f'expected the corpus layout. {how_to_provide()}')
    works = []
    for p in paths:
        raw = p.read_bytes()
        try:
            text, encoding = clean_text(raw)
        except ValueError as e:
            raise ValueError(f'{p}: {e}') from None
        rel = p.relative_to(folder).as_posix()
        # 'after cleaning' can be the larger number: '…' becomes '...' and glued lines get a line break
        log.info('%-60s %-6s %8d characters read, %8d after cleaning', rel, encoding, len(decode_bytes(raw)[0]),
                 len(text))
        works.append(Work(p.stem, p.parent.name, rel, text, encoding, hashlib.sha256(raw).hexdigest()))
    return works


def split_works(works, val_names=VAL_WORKS) -> tuple[list[Work], list[Work]]:
    """Split by work: the works named in val_names validate, all the others train."""
    names = [w.name for w in works]
    missing = [n for n in val_names if n not in names]
    if missing:
        raise ValueError(f'validation works {missing} are not in the corpus; the split needs all of '
                         f'{list(val_names)}')
    val = [w for w in works if w.name in val_names]
    train = [w for w in works if w.name not in val_names]
    if not train:
        raise ValueError('no training works are left after holding out the validation works')
    return train, val


# -----------------------------------------------------------------------------
# the seed project's format: generated stories separated by lines of ten '#'

HASHSEP = '#' * 10


def split_contrast(works, folder) -> tuple[list, list]:
    """The fixed held-out rule for a contrast author: sort the works by the size of their raw file
    (not of the cleaned text, so a change in the cleaning cannot move a work between the splits),
    largest first, and hold out every fifth starting with the second. So the largest work always
    trains, and the held-out works range from long to short: about 20% of the works."""
    by_size = sorted(works, key=lambda w: (-(Path(folder) / w.path).stat().st_size, w.name))
    val_names = {w.name for w in by_size[1::5]}
    return [w for w in works if w.name not in val_names], [w for w in works if w.name in val_names]


def contrast_train_works(contrast_dir) -> list[Work]:
    """The training works of every writer in a contrast corpus (<Author>/{prose,poems}/*.txt), each
    author split by split_contrast: the held-out contrast works stay unseen, as the style tools need."""
    folders = sorted(p for p in Path(contrast_dir).glob('*') if any((p / kind).is_dir() for kind in KINDS))
    if not folders:
        raise FileNotFoundError(f'{contrast_dir} has no <Author>/ folders of prose/*.txt or poems/*.txt; '
                                'pass the contrast corpus, e.g. ../shared/data/contrast')
    return [replace(w, path=f'{folder.name}/{w.path}')       # relative to contrast_dir, like the Pushkin corpus's
            for folder in folders for w in split_contrast(read_works(folder), folder)[0]]


def read_hashsep(path) -> list[Work]:
    """One text file of stories separated by lines of ten '#'; every non-empty story is a work."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'--format=hashsep needs --src to be a text file; {path} is not one')
    raw = path.read_bytes()
    try:
        text, encoding = decode_bytes(raw)
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    sha = hashlib.sha256(raw).hexdigest()
    stories = re.split(r'(?m)^' + HASHSEP + r'[ \t]*$', normalize_newlines(text))
    works = []
    for story in stories:
        story, _ = clean_text(story.encode('utf-8'), header=False)
        if story:
            name = f'story {len(works) + 1:05d}'
            works.append(Work(name, 'prose', path.name, story, encoding, sha))
    if len(works) < 2:
        raise ValueError(f'--format=hashsep needs at least 2 stories separated by lines of ten "#" '
                         f'(one to train on, one to validate); {path} has {len(works)}')
    log.info('%s: %s, %d stories', path, encoding, len(works))
    return works


def hashsep_val_names(works, val_fraction=0.1) -> tuple[str, ...]:
    """The last 10% of the stories (at least one) validate: deterministic, and never a random chunk."""
    n_val = max(1, round(len(works) * val_fraction))
    return tuple(w.name for w in works[-n_val:])


# -----------------------------------------------------------------------------
# finding, verifying and downloading

def read_sums(sums_file=SUMS_FILE) -> dict[str, str]:
    """SHA256SUMS -> {'poems/Анчар.txt': sha256}."""
    sums = {}
    for line in Path(sums_file).read_text(encoding='utf-8').splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix('./')] = digest
    return sums


def verify_corpus(folder, strict=False, sums=None) -> list[str]:
    """Compare a corpus folder with SHA256SUMS. Returns the problems found; they are logged as a
    warning, or raised as a ValueError when strict."""
    folder = Path(folder)
    sums = read_sums() if sums is None else sums
    problems = []
    for name, digest in sums.items():
        p = folder / name
        if not p.is_file():
            problems.append(f'{name} missing')
        elif sha256_file(p) != digest:
            problems.append(f'{name} differs')
    if problems:
        msg = (f'{folder} does not match data/pushkin/SHA256SUMS ({len(problems)} of {len(sums)} files: '
               + '; '.join(problems[:5]) + (' ...' if len(problems) > 5 else '') + ')')
        if strict:
            raise ValueError(msg + '; without --strict this is only a warning')
        log.warning(msg)
    return problems


def _is_corpus_folder(folder) -> bool:
    return any((Path(folder) / kind).is_dir() for kind in KINDS)


def download_corpus(dest=CACHE_DIR, sums=None, url=None, what='the Pushkin corpus', how=None) -> Path:
    """Download every file of SHA256SUMS into dest (the ones already there with the right hash are
    kept). Each file goes through `name.part`, so an interrupted run resumes where it stopped. A name
    is <folder>/<file> (Pushkin's) or <Author>/<folder>/<file> (the contrast corpus's)."""
    dest = Path(dest)
    sums = read_sums() if sums is None else sums
    url = RAW_URL if url is None else url
    for name, digest in tqdm(sums.items(), total=len(sums), unit='file', desc=f'downloading {what}', delay=0.5):
        author, folder, filename = name.split('/', 2) if name.count('/') == 2 else ('Pushkin', *name.split('/', 1))
        address = url.format(folder=folder, author=author, name=urllib.parse.quote(filename))
        try:
            download_file(address, dest / name, expected_sha256=digest)
        except (ConnectionError, NotOnServer) as e:
            raise CorpusNotFound(f'could not download {what}: {e}. {how or how_to_provide()}') from None
        except ValueError as e:
            raise ValueError(f'{e} (the SHA256SUMS of {what} lists the expected sha256)') from None
    return dest


def find_contrast(src=None) -> Path:
    """The contrast corpus folder (<Author>/{prose,poems}/): `src`, else ../shared/data/contrast beside
    the checkout, else the cache data/contrast/raw/, else a fresh download into the cache."""
    how = (f'Provide it as --extra_src DIR (<Author>/prose/*.txt folders), at {CONTRAST_BESIDE_DIR}, or '
           f'in {CONTRAST_CACHE_DIR}/ (the files of data/contrast/SHA256SUMS); when online it is downloaded')
    folder = Path(src) if src else CONTRAST_BESIDE_DIR
    if src or folder.is_dir():
        return folder
    sums = read_sums(CONTRAST_SUMS_FILE)
    if all((CONTRAST_CACHE_DIR / n).is_file() for n in sums):
        return CONTRAST_CACHE_DIR
    log.info('no contrast corpus given; downloading it into %s', CONTRAST_CACHE_DIR)
    return download_corpus(CONTRAST_CACHE_DIR, sums, what='the contrast corpus', how=how)


def find_corpus(src=None, strict=False) -> Path:
    """The corpus folder, by the one rule every script follows: `src` (their --src or --pushkin_dir),
    else $PUSHKIN_CORPUS, else ../shared/data/pushkin beside the checkout, else the local cache
    data/pushkin/raw/, else a fresh download into the cache (see data/pushkin/SHA256SUMS). A folder
    given or found is checked against SHA256SUMS (a warning, an error when strict); a missing one is
    a CorpusNotFound whose message says how to provide it."""
    for given, origin in ((src, '--src'), (os.environ.get(ENV_VAR), f'${ENV_VAR}')):
        if given:
            folder = Path(given)
            if not _is_corpus_folder(folder):
                raise CorpusNotFound(f'{origin} {folder} is not a corpus folder (no prose/ or poems/ '
                                     f'inside). {how_to_provide()}')
            verify_corpus(folder, strict)
            return folder
    if _is_corpus_folder(BESIDE_DIR):
        verify_corpus(BESIDE_DIR, strict)
        return BESIDE_DIR
    sums = read_sums()
    if all((CACHE_DIR / n).is_file() for n in sums):
        verify_corpus(CACHE_DIR, strict, sums)
        return CACHE_DIR
    log.info('no corpus given; downloading it into %s', CACHE_DIR)
    return download_corpus(CACHE_DIR, sums)
