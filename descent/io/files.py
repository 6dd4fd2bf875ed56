"""Writing files so that a crash never leaves a half-written one behind.

A file is written to a temporary name beside it, ``.NAME.PID.XXXXXXXX.tmp`` (the writer's
process id and eight random characters), flushed to disk and renamed over ``NAME``; then
the folder is flushed too, so that the rename survives a power loss. A writer killed
mid-write leaves its temporary file behind; ``remove_stale_temporaries`` deletes those
whose writer is gone, and every successful write does it for its own name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_file", "remove_stale_temporaries"]

# Longest file name a file system takes, in bytes, and what a temporary name adds to NAME:
# two dots, a pid of up to 10 digits, a dot, 8 random characters and '.tmp'.
_NAME_MAX = 255
_AFFIXES = 2 + 10 + 1 + 8 + 4
_ACTIVE: set[str] = set()  # names of the temporary files this process is writing now


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename
    it over ``path``: readers see the old file or the new one, never a part of one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path) as f:
        f.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_file(path):
    """A binary file to write ``path``'s new content into; it replaces ``path`` when the
    ``with`` block ends without an exception, and is removed when it raises.

    >>> with atomic_file("out.bin") as f:
    ...     f.write(b"...")
    """
    path = Path(path)
    with _name_errors(path):
        if path.is_dir():  # the rename would fail naming the temporary file, not this path
            raise IsADirectoryError(
                f"cannot write {path}: it is a folder; give the name of a file to write, such "
                f"as {path / 'NAME'}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path.name), suffix=".tmp", dir=path.parent)
    _ACTIVE.add(os.path.basename(tmp))
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from others
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with _name_errors(path):
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        _ACTIVE.discard(os.path.basename(tmp))
    _sync_folder(path.parent)
    remove_stale_temporaries(path.parent, path.name)


def remove_stale_temporaries(folder, name: str | None = None) -> list[Path]:
    """Delete the temporary files that writes of ``folder/name`` (of any name in
    ``folder`` with ``name=None``) left behind when their process died; return them.

    Only names of exactly our pattern are touched, and only when the process that wrote
    them is gone (a write in progress, here or in another process, is left alone).
    """
    pattern = _pattern(name)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _writer_alive(int(match["pid"]), entry.path):
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _short(name: str) -> str:
    """``name`` cut so that a temporary name made of it fits the file system's limit."""
    raw = name.encode("utf-8", "surrogateescape")[: _NAME_MAX - _AFFIXES]
    return raw.decode("utf-8", "ignore")


def _prefix(name: str) -> str:
    return f".{_short(name)}.{os.getpid()}."


def _pattern(name: str | None) -> re.Pattern:
    stem = re.escape(_short(name)) if name is not None else ".+"
    return re.compile(rf"\.(?P<name>{stem})\.(?P<pid>\d{{1,10}})\.[a-z0-9_]{{8}}\.tmp")


def _writer_alive(pid: int, tmp: str) -> bool:
    if pid == os.getpid():
        return os.path.basename(tmp) in _ACTIVE
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # it exists (another user's) or we cannot tell: leave it
    return True


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries, so that the rename itself is on disk."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform whose folders cannot be opened (Windows)
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that does not sync folders
    finally:
        os.close(fd)


@contextlib.contextmanager
def _name_errors(path: Path):
    """A name the file system refuses is a ValueError that says so, not a raw OSError."""
    try:
        yield
    except OSError as e:
        if e.errno != errno.ENAMETOOLONG:
            raise
        raise ValueError(
            f"cannot write {path}: the path name is too long for the file system (the file "
            f"name has {len(path.name.encode('utf-8', 'surrogateescape'))} bytes, the limit is "
            f"usually {_NAME_MAX}); choose a shorter name"
        ) from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
