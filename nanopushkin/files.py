"""Plumbing for files that may be cut short or written by someone else: the one atomic writer and
the one JSON reader of the project. A first reading can skip it.

    write_atomically(path, write)   a temporary file beside `path`, renamed over it when complete
    parse_json(text, source)        json.loads, with every way hostile JSON fails as one ValueError
    process_exists(pid)             whether the process that left a lock or a temporary file lives

Temporary files are named `<name>.<pid>-<random>.tmp`. A write that fails removes its own; a
process killed mid-write (kill -9, a power cut) cannot, so the next write of the same file removes
those whose process is gone.
"""
import errno
import json
import os
import re
import secrets
from pathlib import Path
FULL = 'free some disk space (or raise the file-size limit, ulimit -f) and run again'
WRITE_ADVICE = {errno.ENOSPC: FULL, errno.EFBIG: FULL, errno.EDQUOT: FULL,
                errno.EROFS: 'choose a folder you can write to', errno.EACCES: 'choose a folder you can write to'}


def process_exists(pid) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    except (OverflowError, ValueError):  # not a process id at all
        return False
    return True


def remove_stale_temps(path):
    """Delete the temporary files of earlier writes of `path` whose writer no longer runs."""
    path = Path(path)
    pattern = re.compile(re.escape(path.name) + r'\.(\d+)-[0-9a-f]+\.tmp')
    for tmp in path.parent.glob(f'{glob_escape(path.name)}.*.tmp'):
        match = pattern.fullmatch(tmp.name)
        if match and not process_exists(int(match.group(1))):
            tmp.unlink(missing_ok=True)


def glob_escape(name) -> str:
    return re.sub(r'([*?\[])', r'[\1]', name)


def write_atomically(path, write):
    """Call write(f) on a new temporary file next to `path`, then rename it over `path`. A rename
    within one folder is atomic: a crash or Ctrl-C while writing leaves the previous file intact.
    The temporary name is unique, so two processes writing the same file never share one.
    A failure of the disk (full, a file-size limit, read-only) is an OSError naming `path`, whatever
    the writer raised (torch.save's zip writer raises RuntimeError), and leaves no temporary file."""
    path = Path(path)
    remove_stale_temps(path)
    tmp = path.with_name(f'{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp')
    try:
        with open(tmp, 'xb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename, not just in the OS's buffers
        os.replace(tmp, path)
    except OSError as e:  # a full disk, a folder that is not writable: name the file meant, say what to do
        advice = WRITE_ADVICE.get(e.errno, FULL if e.errno is None else None)  # None: a short write
        raise OSError(e.errno, (e.strerror or str(e)) + (f'; {advice}' if advice else ''), str(path)) from e
    except RuntimeError as e:  # torch's zip writer: 'PytorchStreamWriter failed writing file ...'
        raise OSError(None, f'writing failed ({str(e).splitlines()[0][:200]}); {WRITE_ADVICE[errno.ENOSPC]}',
                      str(path)) from e
    finally:
        tmp.unlink(missing_ok=True)


def parse_json(text, source):
    """The JSON value of `text` (str or UTF-8 bytes); any way it fails (not UTF-8, not JSON, nested
    so deep that the parser runs out of stack, an integer of thousands of digits) is a one-line
    ValueError naming `source`."""
    try:
        if isinstance(text, bytes):
            text = text.decode('utf-8')
        return json.loads(text)
    except RecursionError:
        raise ValueError(f'{source} is not valid JSON (nested too deeply to read)') from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, an integer of too many digits
        reason = str(e).splitlines()[0][:200]
        raise ValueError(f'{source} is not valid JSON ({reason})') from None
