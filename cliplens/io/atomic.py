"""Atomic file writes: a reader (or a crash) never sees half a file.

The data goes to a uniquely named temp file in the target's folder, is flushed to disk, then
renamed over the target in one step. Unique temp names (not just the pid) let threads of one
process write the same folder at once.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_bytes(p, b"hi") == p and p.read_bytes()
    b'hi'
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via temp file + fsync + rename; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # what a plain open() would give, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _read_umask() -> int:
    # os.umask can only be read by setting it: do it once at import, before any threads write
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
