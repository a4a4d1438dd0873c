"""Shared fixtures: one CPU thread for every test, the real corpus (skipped when absent), a tiny copy
of it for fast tests, and a local web server for the download tests (no test touches the network)."""
import contextlib
import csv
import http.server
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # import nanopushkin and tokenizer without installing

SHARED = ROOT.parent / 'shared' / 'data'

# (folder, work, characters kept): the three validation works, the cp1251 file, files with
# NO-BREAK SPACEs, a multi-line title and verse indentation, so the tiny corpus has every defect
TINY_WORKS = [
    ('prose', 'Пиковая дама', 5000),
    ('prose', 'Капитанская дочка', 5000),
    ('prose', 'Дубровский', 4000),
    ('poems', 'Медный всадник', 4000),
    ('poems', 'Сказка о рыбаке и рыбке', 3000),
    ('poems', 'Руслан и Людмила', 4000),
    ('poems', 'Сказка о царе Салтане', 3000),
    ('poems', 'Анчар', 3000),
]


@pytest.fixture(scope='session', autouse=True)
def one_thread():
    """The test models are tiny: a second intra-op thread gains nothing and, on a busy machine,
    makes every call many times slower. OMP_NUM_THREADS does the same for the scripts that tests
    run in a subprocess (they inherit the environment)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('OMP_NUM_THREADS', '1')
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def corpus_dir():
    path = SHARED / 'pushkin'
    if not (path / 'prose').is_dir():
        pytest.skip(f'the Pushkin corpus is not at {path} (ROOT/../shared/data/pushkin)')
    return path


@pytest.fixture(scope='session')
def contrast_dir():
    path = SHARED / 'contrast'
    if not path.is_dir():
        pytest.skip(f'the contrast corpus is not at {path} (ROOT/../shared/data/contrast)')
    return path


@pytest.fixture(scope='session')
def tiny_corpus_dir(corpus_dir, tmp_path_factory):
    """A small corpus folder in the real layout: the first few thousand characters of a few works,
    written back in their original encoding (Руслан и Людмила stays cp1251)."""
    from nanopushkin.corpus import decode_bytes
    out = tmp_path_factory.mktemp('tiny_corpus')
    for kind in ('prose', 'poems'):
        (out / kind).mkdir()
        with open(corpus_dir / kind / 'info.csv', encoding='utf-8') as f:
            years = {row['name']: row['year'] for row in csv.DictReader(f)}
        chosen = [(name, n) for k, name, n in TINY_WORKS if k == kind]
        with open(out / kind / 'info.csv', 'w', encoding='utf-8', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['name', 'year'])
            for name, n in chosen:
                text, encoding = decode_bytes((corpus_dir / kind / f'{name}.txt').read_bytes())
                (out / kind / f'{name}.txt').write_bytes(text[:n].encode(encoding))
                writer.writerow([name, years[name]])
    return out


@pytest.fixture(scope='session')
def char_dataset(tiny_corpus_dir, tmp_path_factory):
    """A prepared char-level dataset folder (train.bin, val.bin, meta.json, tokenizer.json) of the
    tiny corpus."""
    from nanopushkin.prepare import prepare_dataset
    return prepare_dataset('char', src=tiny_corpus_dir, out_root=tmp_path_factory.mktemp('data'))


def files_git_would_commit(folder) -> list[str]:
    """The files under `folder`, taken as a checkout's root, that the repository's .gitignore does
    not ignore: what a command run there would add to `git status`."""
    written = sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob('*') if p.is_file())
    ignored = subprocess.run(['git', 'check-ignore', '--no-index', '--stdin'], cwd=ROOT, input='\n'.join(written),
                             capture_output=True, text=True).stdout.splitlines()
    return sorted(set(written) - set(ignored))


@pytest.fixture
def committable():
    """files_git_would_commit, for the tests of commands that must leave a checkout clean."""
    return files_git_would_commit


class FileServer(http.server.ThreadingHTTPServer):
    """A web server on 127.0.0.1 that serves `files` ({'/path': bytes}, or an int: that error status)
    the way GitHub's and the hub's file servers do: 'Range: bytes=N-' gets 206 and the rest of the
    file, or 416 when there is no byte N; a path in `redirects` ({'/path': '/other/path'}) answers 302.
    A path in `etags` is sent with that ETag, and a Range request whose If-Range names another gets
    the whole file (unless if_range=False: a server that ignores If-Range).
    For the tests of failures: the next answer for a path in `cut` stops half way (the connection
    drops), with ranges=False the server ignores Range and sends the whole file, a path in
    `no_length` is sent without a Content-Length (the end of the body is the end of the connection),
    and one in `drip` ({'/path': seconds}) a byte at a time, that many seconds apart.
    Every request is recorded in `requests` as (path, its Range header or None)."""

    def __init__(self):
        super().__init__(('127.0.0.1', 0), FileHandler)
        self.files, self.redirects, self.cut, self.ranges, self.requests = {}, {}, set(), True, []
        self.etags, self.if_range, self.no_length, self.drip = {}, True, set(), {}
        self.url = f'http://127.0.0.1:{self.server_address[1]}'


class FileHandler(http.server.BaseHTTPRequestHandler):

    def do_GET(self):
        server, path = self.server, urllib.parse.unquote(self.path)
        server.requests.append((path, self.headers.get('Range')))
        if path in server.redirects:
            self.send_response(302)
            self.send_header('Location', server.redirects[path])
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        body = server.files.get(path, 404)
        if isinstance(body, int):
            self.send_error(body)
            return
        start = 0
        etag = server.etags.get(path)
        changed = server.if_range and self.headers.get('If-Range') not in (None, etag)
        if server.ranges and self.headers.get('Range') and not changed:
            start = int(self.headers['Range'].removeprefix('bytes=').removesuffix('-'))
            if start >= len(body):
                self.send_response(416)
                self.send_header('Content-Range', f'bytes */{len(body)}')
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
        self.send_response(206 if start else 200)
        if start:
            self.send_header('Content-Range', f'bytes {start}-{len(body) - 1}/{len(body)}')
        if etag:
            self.send_header('ETag', etag)
        if path not in server.no_length:
            self.send_header('Content-Length', str(len(body) - start))
        self.end_headers()
        rest = body[start:]
        if path in server.cut:
            server.cut.discard(path)
            rest = rest[:len(rest) // 2]
        step = 1 if path in server.drip else max(len(rest), 1)
        try:
            for i in range(0, len(rest), step):
                self.wfile.write(rest[i:i + step])
                self.wfile.flush()
                time.sleep(server.drip.get(path, 0))
        except ConnectionError:         # the client gave up
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    """A running FileServer; fill its `files` and download from `file_server.url + path`."""
    with serving(FileServer()) as server:
        yield server


@contextlib.contextmanager
def serving(server):
    """Run an http.server-style `server` on a thread for the duration of the block, then stop it."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cached_context_length(prompt_len, new_tokens, block_size):
    """How many tokens GPT.step's cache holds after the prompt and `new_tokens` generated ones: the
    context its next prediction sees. The rule of GPT.step, restated: the prompt's last block_size
    tokens, growing by one per token; when full, back to the last half window (the new token in it)."""
    length = min(prompt_len, block_size)
    for _ in range(new_tokens):
        length = length + 1 if length + 1 <= block_size else block_size // 2
    return length


@pytest.fixture
def gpt_context():
    """The ids a GPT's next-token distribution is computed from during generation (see GPT.step)."""
    def context(ids, prompt_len, block_size):
        return ids[-cached_context_length(prompt_len, len(ids) - prompt_len, block_size):]
    return context
