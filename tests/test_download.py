"""The one downloader (nanopushkin/download.py), against a local web server (conftest's file_server):
resuming through .part with Range requests, 416, redirects, servers that ignore ranges, checks of
size and sha256, and the errors. No test touches the network."""
import hashlib
import random
import time

import pytest

import nanopushkin.download
from nanopushkin.download import NotOnServer, download_file, parse_content_range

BODY = random.Random(0).randbytes(300_000)       # bytes that no prefix or suffix mix-up can fake
SHA = hashlib.sha256(BODY).hexdigest()


def test_an_interrupted_download_resumes_where_it_stopped(file_server, tmp_path):
    file_server.files['/model.bin'] = BODY
    file_server.cut.add('/model.bin')
    dest = tmp_path / 'cache' / 'model.bin'
    with pytest.raises(ConnectionError, match='interrupted at 150000 of 300000 bytes.*run again to resume'):
        download_file(file_server.url + '/model.bin', dest)
    part = tmp_path / 'cache' / 'model.bin.part'
    assert part.read_bytes() == BODY[:150_000] and not dest.exists()

    assert download_file(file_server.url + '/model.bin', dest, len(BODY), SHA) == dest
    assert file_server.requests == [('/model.bin', None), ('/model.bin', 'bytes=150000-')]
    assert dest.read_bytes() == BODY and not part.exists()


def test_redirects_keep_the_range(file_server, tmp_path):
    """The hub sends weights from another address (its CDN): the Range request must arrive there."""
    file_server.files['/cdn/model.safetensors'] = BODY
    file_server.redirects['/repo/resolve/main/model.safetensors'] = '/cdn/model.safetensors'
    (tmp_path / 'model.safetensors.part').write_bytes(BODY[:1000])
    download_file(file_server.url + '/repo/resolve/main/model.safetensors', tmp_path / 'model.safetensors')
    assert (tmp_path / 'model.safetensors').read_bytes() == BODY
    assert file_server.requests == [('/repo/resolve/main/model.safetensors', 'bytes=1000-'),
                                    ('/cdn/model.safetensors', 'bytes=1000-')]


def test_a_finished_or_stale_part_with_416(file_server, tmp_path):
    """The server answers 416 to a Range request that starts at the end of the file or after it.
    A .part that is already whole is kept; one longer than the file (it changed on the server) is
    thrown away and the file downloaded again."""
    file_server.files['/config.json'] = BODY
    dest, part = tmp_path / 'config.json', tmp_path / 'config.json.part'
    part.write_bytes(BODY)
    download_file(file_server.url + '/config.json', dest, expected_sha256=SHA)
    assert dest.read_bytes() == BODY and file_server.requests == [('/config.json', f'bytes={len(BODY)}-')]

    dest.unlink()
    file_server.requests.clear()
    part.write_bytes(BODY + b'stale bytes')
    download_file(file_server.url + '/config.json', dest)
    assert dest.read_bytes() == BODY and not part.exists()
    assert file_server.requests == [('/config.json', f'bytes={len(BODY) + 11}-'), ('/config.json', None)]


def test_a_server_that_ignores_ranges(file_server, tmp_path):
    """A plain 200 answer to a Range request is the whole file: it replaces the .part, never extends it."""
    file_server.files['/a.txt'] = BODY
    file_server.ranges = False
    (tmp_path / 'a.txt.part').write_bytes(b'x' * 1000)
    download_file(file_server.url + '/a.txt', tmp_path / 'a.txt', len(BODY), SHA)
    assert (tmp_path / 'a.txt').read_bytes() == BODY and file_server.requests == [('/a.txt', 'bytes=1000-')]


@pytest.mark.parametrize('expected, message', [
    (dict(expected_sha256='0' * 64), f'has sha256 {SHA} instead of 0000'),
    (dict(expected_size=len(BODY) + 1), f'has {len(BODY)} bytes instead of {len(BODY) + 1}'),
])
def test_a_wrong_file_is_deleted(file_server, tmp_path, expected, message):
    file_server.files['/a.txt'] = BODY
    with pytest.raises(ValueError, match=message):
        download_file(file_server.url + '/a.txt', tmp_path / 'a.txt', **expected)
    assert list(tmp_path.iterdir()) == []           # neither the file nor its .part


def test_a_file_already_there(file_server, tmp_path):
    """Kept without asking the server when it is what is expected, downloaded again when it is not."""
    file_server.files['/a.txt'] = BODY
    dest = tmp_path / 'a.txt'
    dest.write_bytes(b'old')
    download_file(file_server.url + '/a.txt', dest)                        # nothing expected: kept
    assert dest.read_bytes() == b'old' and file_server.requests == []
    download_file(file_server.url + '/a.txt', dest, expected_sha256=SHA)   # wrong hash: replaced
    assert dest.read_bytes() == BODY and len(file_server.requests) == 1
    download_file(file_server.url + '/a.txt', dest, expected_size=len(BODY), expected_sha256=SHA)
    assert len(file_server.requests) == 1


def test_errors(file_server, tmp_path):
    file_server.files['/broken'] = 503
    dest = tmp_path / 'sub' / 'a.txt'
    with pytest.raises(NotOnServer, match=r'/missing is not there \(HTTP 404'):
        download_file(file_server.url + '/missing', dest)
    with pytest.raises(ConnectionError, match='the server answered HTTP 503'):
        download_file(file_server.url + '/broken', dest)
    with pytest.raises(ConnectionError, match='no connection to http://127.0.0.1:1/a.txt'):
        download_file('http://127.0.0.1:1/a.txt', dest)                    # nothing listens on port 1
    assert not (tmp_path / 'sub').exists()          # a failed request leaves nothing behind
    assert issubclass(NotOnServer, FileNotFoundError)


def test_parse_content_range():
    assert parse_content_range('bytes 100-199/200') == (100, 200)
    assert parse_content_range('bytes */200') == (None, 200)
    assert parse_content_range('bytes 0-99/*') == (0, None)
    assert parse_content_range(None) == parse_content_range('items 1-2/3') == (None, None)


# -----------------------------------------------------------------------------
# a .part of another version, and servers that never stop (issue 23)

NEW = random.Random(1).randbytes(300_000)       # the file's next version on the server


def interrupted(file_server, tmp_path, path='/model.bin'):
    """A download of BODY cut half way: the .part and its record of the version are left."""
    file_server.files[path] = BODY
    file_server.cut.add(path)
    with pytest.raises(ConnectionError):
        download_file(file_server.url + path, tmp_path / 'model.bin')
    return tmp_path / 'model.bin'


def test_a_part_of_another_version_is_not_resumed(file_server, tmp_path):
    file_server.etags['/model.bin'] = '"v1"'
    dest = interrupted(file_server, tmp_path)
    file_server.files['/model.bin'], file_server.etags['/model.bin'] = NEW, '"v2"'
    download_file(file_server.url + '/model.bin', dest)
    assert dest.read_bytes() == NEW and file_server.requests[-1] == ('/model.bin', 'bytes=150000-')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.bin']
    # a server that ignores If-Range but names the new version is asked again for the whole file
    file_server.if_range = False
    dest.unlink()
    interrupted(file_server, tmp_path)
    file_server.files['/model.bin'], file_server.etags['/model.bin'] = NEW, '"v3"'
    download_file(file_server.url + '/model.bin', dest)
    assert dest.read_bytes() == NEW and file_server.requests[-1] == ('/model.bin', None)


def test_a_part_of_a_file_that_changed_size_is_not_resumed(file_server, tmp_path):
    dest = interrupted(file_server, tmp_path)       # no ETags: the size tells the versions apart
    file_server.files['/model.bin'] = NEW + b'longer'
    download_file(file_server.url + '/model.bin', dest)
    assert dest.read_bytes() == NEW + b'longer'


def test_a_resumed_file_with_the_wrong_hash_is_downloaded_again(file_server, tmp_path):
    """A .part of unknown version (left by an older nanoPushkin): resumed, found wrong, fetched again."""
    file_server.files['/model.bin'] = NEW
    (tmp_path / 'model.bin.part').write_bytes(BODY[:1000])
    download_file(file_server.url + '/model.bin', tmp_path / 'model.bin', expected_sha256=hashlib.sha256(NEW).hexdigest())
    assert (tmp_path / 'model.bin').read_bytes() == NEW
    assert file_server.requests == [('/model.bin', 'bytes=1000-'), ('/model.bin', None)]


def test_a_body_without_length_is_cut_at_the_limit(file_server, tmp_path):
    file_server.files['/config.json'] = b' ' * 3_000_000         # "endless": no Content-Length
    file_server.no_length.add('/config.json')
    with pytest.raises(ValueError, match='sent more than the 100000 bytes expected'):
        download_file(file_server.url + '/config.json', tmp_path / 'config.json', max_bytes=100_000)
    file_server.files['/model.bin'] = BODY                          # says how long it is: refused at once
    with pytest.raises(ValueError, match='300000 bytes, more than the 1000 expected'):
        download_file(file_server.url + '/model.bin', tmp_path / 'model.bin', max_bytes=1000)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_drips_is_given_up_on_and_resumed_later(file_server, tmp_path, monkeypatch):
    monkeypatch.setattr(nanopushkin.download, 'TIMEOUT', 0.3)
    monkeypatch.setattr(nanopushkin.download, 'MIN_BYTES_PER_SECOND', 1000, raising=False)
    file_server.files['/model.bin'] = BODY[:200]
    file_server.drip['/model.bin'] = 0.02                          # 50 bytes/s: 4 s for the file
    start = time.monotonic()
    with pytest.raises(ConnectionError, match='too slow .* run again to resume'):
        download_file(file_server.url + '/model.bin', tmp_path / 'model.bin')
    assert time.monotonic() - start < 2
    del file_server.drip['/model.bin']
    download_file(file_server.url + '/model.bin', tmp_path / 'model.bin')
    assert (tmp_path / 'model.bin').read_bytes() == BODY[:200]
