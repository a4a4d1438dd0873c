"""Download one file over HTTP(S) so that an interrupted download is never lost: the one downloader
of nanoPushkin (the corpus from GitHub, pretrained models from the Hugging Face hub).

    download_file(url, dest, expected_size=None, expected_sha256=None, desc=None)

The bytes go to `dest.part` and become `dest` (an atomic rename) only when they are complete and
checked, so a file under its real name is always whole. An interrupted run leaves the .part, and
the next run asks the server only for the rest with an HTTP Range request:

    GET url  Range: bytes=N-     206 Partial Content     the rest: appended to the .part
                                 200 OK                  the server ignores ranges: start again
                                 416 Range Not Satisfiable   there is no byte N: the .part is whole
                                                         already (Content-Range says the size is N),
                                                         or the file changed on the server: start again

Redirects are followed (urllib does it, and keeps the Range header). A resumed .part must be the
same version of the file: dest.part.json records the server's ETag and the file's size when the
.part begins, a resume asks for the rest only if the ETag still holds (If-Range), and a server that
answers with another ETag or size gets the whole file again. A file whose sha256 is expected and
does not match after a resume is downloaded once more from the start.

Every wait is bounded: no answer for TIMEOUT seconds, or an average below MIN_BYTES_PER_SECOND
after the first TIMEOUT seconds (a server that drips a byte now and then), stops the download (the
.part stays, to resume); and no file grows past max_bytes (the expected size when it is known),
whether or not the server says how long it is.

Errors:

    ConnectionError   no connection, a timeout, an error status of the server (5xx, 429), a
                      download cut short (fewer bytes than Content-Length) or too slow: run again
                      to resume
    NotOnServer       the server answered and has no such file (404, 410; 401, 403: not for us)
    ValueError        the file arrived whole but has the wrong size or sha256, or is larger than
                      max_bytes; the .part is deleted
"""
import hashlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

TIMEOUT = 60                          # seconds without an answer before a download gives up
MIN_BYTES_PER_SECOND = 10_000         # slower than this on average (after TIMEOUT s): give up, resume later
MAX_BYTES = 100_000_000               # the largest file accepted when the caller states no other limit
USER_AGENT = 'nanopushkin'
NOT_FOUND = (401, 403, 404, 410)      # the hub answers 401 for a repository that does not exist
BLOCK = 1 << 20


class NotOnServer(FileNotFoundError):
    """The server answered, and it has no such file for us."""


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(BLOCK), b''):
            h.update(block)
    return h.hexdigest()


def download_file(url, dest, expected_size=None, expected_sha256=None, desc=None, max_bytes=None) -> Path:
    """Download url to dest (resuming dest.part if an earlier run left one), check it, return dest.

    A dest that is there already is kept when it has the expected size and sha256 (when they are
    given) and downloaded again when it does not. desc labels the progress bar (default: the file
    name); the bar only appears for a download that takes more than a second. max_bytes: the
    largest file accepted (default MAX_BYTES; the expected size, when given)."""
    dest = Path(dest)
    if dest.is_file() and not mismatches(dest, expected_size, expected_sha256):
        return dest
    part = dest.with_name(dest.name + '.part')
    limit = expected_size if expected_size is not None else max_bytes or MAX_BYTES
    resumed = part.is_file()
    fetch_rest(url, part, desc or dest.name, limit)
    problems = mismatches(part, expected_size, expected_sha256)
    if problems and resumed:           # the .part may be from another version: once more, from the start
        forget(part)
        fetch_rest(url, part, desc or dest.name, limit)
        problems = mismatches(part, expected_size, expected_sha256)
    if problems:
        forget(part)
        raise ValueError(f'{url} downloaded, but it has {" and ".join(problems)}; the download was deleted, '
                         'run again to retry')
    os.replace(part, dest)
    version_file(part).unlink(missing_ok=True)
    return dest


def mismatches(path, expected_size=None, expected_sha256=None) -> list[str]:
    """What is wrong with a downloaded file, as phrases: [] when it is what was expected."""
    problems = []
    size = Path(path).stat().st_size
    if expected_size is not None and size != expected_size:
        problems.append(f'{size} bytes instead of {expected_size}')
    if expected_sha256 is not None and (digest := sha256_file(path)) != expected_sha256.lower():
        problems.append(f'sha256 {digest} instead of {expected_sha256}')
    return problems


# 'bytes 100-199/200' in a 206 answer, 'bytes */200' in a 416 answer; '*' for an unknown size
_CONTENT_RANGE = re.compile(r'bytes (?:(\d+)-\d+|\*)/(\d+|\*)')


def parse_content_range(header) -> tuple[int | None, int | None]:
    """(first byte sent, size of the whole file) from a Content-Range header; None where unknown."""
    m = _CONTENT_RANGE.fullmatch((header or '').strip())
    if m is None:
        return None, None
    first, total = m.groups()
    return (int(first) if first else None), (int(total) if total.isdigit() else None)


def version_file(part: Path) -> Path:
    """Where the version (ETag and size) of the file a .part belongs to is recorded."""
    return part.with_name(part.name + '.json')


def forget(part: Path):
    part.unlink(missing_ok=True)
    version_file(part).unlink(missing_ok=True)


def read_version(part: Path) -> dict:
    try:
        version = json.loads(version_file(part).read_text(encoding='utf-8'))
        return version if isinstance(version, dict) else {}
    except (OSError, ValueError):      # none (a .part of an older nanoPushkin), or unreadable
        return {}


def fetch_rest(url, part: Path, desc, limit):
    """Bring `part` up to the whole file: append what the server has after its last byte, when the
    server's file is still the version the .part began with."""
    have = part.stat().st_size if part.is_file() else 0
    version = read_version(part) if have else {}
    headers = {'User-Agent': USER_AGENT}
    if have:
        headers['Range'] = f'bytes={have}-'
        if version.get('etag'):
            headers['If-Range'] = version['etag']   # the server sends the whole file if it changed
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:         # no byte number `have`: the .part may be whole already
            total = parse_content_range(e.headers.get('Content-Range'))[1] or version.get('size')
            if total == have:
                return
            forget(part)                   # longer than the file: it changed on the server
            return fetch_rest(url, part, desc, limit)
        if e.code in NOT_FOUND:
            raise NotOnServer(f'{url} is not there (HTTP {e.code} {e.reason})') from None
        raise ConnectionError(f'{url}: the server answered HTTP {e.code} {e.reason}') from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise ConnectionError(f'no connection to {url} ({getattr(e, "reason", None) or e})') from None

    with response:
        etag = response.headers.get('ETag')
        length = response.headers.get('Content-Length')
        if response.status == 206:
            first, total = parse_content_range(response.headers.get('Content-Range'))
            if first not in (None, have):
                raise ConnectionError(f'{url}: asked for the bytes from {have} on, the server sent them '
                                      f'from {first} on')
            if total is None and length:
                total = have + int(length)
            if (etag and version.get('etag') and etag != version['etag']) or \
                    (total and version.get('size') and total != version['size']):
                forget(part)               # the rest of another version: start again
                return fetch_rest(url, part, desc, limit)
        else:                              # a plain 200: the server sends the whole file again
            have = 0
            total = int(length) if length and length.isdigit() else None
        if total is not None and total > limit:
            forget(part)
            raise ValueError(f'{url} is {total} bytes, more than the {limit} expected; refusing to download it')
        part.parent.mkdir(parents=True, exist_ok=True)   # only now: a failed request leaves nothing
        if not have:
            version_file(part).write_text(json.dumps({'url': url, 'etag': etag, 'size': total}), encoding='utf-8')
        try:
            with open(part, 'ab' if have else 'wb') as f, \
                    tqdm(total=total, initial=have, desc=desc, unit='B', unit_scale=True, unit_divisor=1024,
                         delay=1) as bar:
                copy_bounded(response, f, bar, url, total, limit)
        except ValueError:                 # more than the limit: nothing of it is worth keeping
            forget(part)
            raise
    size = part.stat().st_size
    if total is not None and size != total:    # the connection closed early without an error
        raise ConnectionError(f'download of {url} was interrupted at {size} of {total} bytes; '
                              'run again to resume it')


def copy_bounded(response, f, bar, url, total, limit):
    """Append the response's body to f, within `limit` bytes in all and a rate of at least
    MIN_BYTES_PER_SECOND (checked once TIMEOUT seconds have passed)."""
    started, received = time.monotonic(), 0
    while True:
        try:
            block = response.read1(BLOCK)  # what has arrived (a read of BLOCK would wait for all of it)
        except (OSError, http.client.HTTPException) as e:   # reset, timeout, IncompleteRead
            raise ConnectionError(f'download of {url} was interrupted at {f.tell()} of {total} bytes '
                                  f'({e!r}); run again to resume it') from None
        if not block:
            return
        if f.tell() + len(block) > limit:
            raise ValueError(f'{url} sent more than the {limit} bytes expected; the download was deleted')
        f.write(block)
        bar.update(len(block))
        received += len(block)
        elapsed = time.monotonic() - started
        if elapsed > TIMEOUT and received < MIN_BYTES_PER_SECOND * elapsed:
            raise ConnectionError(f'download of {url} is too slow ({received / elapsed:.0f} bytes/s); stopped at '
                                  f'{f.tell()} of {total or "?"} bytes, run again to resume it')
