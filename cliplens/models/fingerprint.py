"""Weight-file digests that change whenever the weights change, computed once per file version.

A model's fingerprint keys the embedding cache, label tables and search indexes, so it must
change when any byte of the weights changes: a model fine-tuned in place (same size, same
first and last MiB) must not be served the old model's vectors. Each weight file is therefore
hashed in full (SHA-256), once: the digest is cached under the cache dir, keyed by the file's
(resolved path, size, mtime_ns, inode, ctime_ns), so later loads cost one `stat`. Any write
to the file changes its ctime (which, unlike mtime, cannot be set back), so an edited or
replaced file is hashed again. Cost: see BENCHMARKS.md (fingerprint).

    >>> weights_digest(Path("model.safetensors"))   # doctest: +SKIP
    'sha256:9f2c...'
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..settings import cache_dir

_CHUNK = 1 << 22


def _stat_key(path: Path) -> tuple[str, dict]:
    st = path.stat()
    ident = {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino,
             "ctime_ns": st.st_ctime_ns}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]
    return key, ident


def _cache_file(key: str) -> Path:
    return cache_dir() / "fingerprints" / f"{key}.json"


def full_digest(path: Path) -> str:
    """SHA-256 of every byte of `path` (no cache)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def weights_digest(path: str | os.PathLike, use_cache: bool = True) -> str:
    """Full-content digest of a weight file, cached by (path, size, mtime_ns, inode, ctime_ns).

    A cache entry is only trusted when its stored identity matches the file's current one;
    writes are atomic (temp file + rename) and a read-only cache dir just means re-hashing.
    """
    path = Path(path)
    key, ident = _stat_key(path)
    entry = _cache_file(key)
    if use_cache:
        try:
            data = json.loads(entry.read_text())
            if data.get("identity") == ident and str(data.get("digest", "")).startswith("sha256:"):
                return data["digest"]
        except (OSError, ValueError):
            pass
    digest = full_digest(path)
    if use_cache and _stat_key(path)[1] == ident:  # unchanged while we read it
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as fh:
                json.dump({"identity": ident, "digest": digest}, fh)
            os.replace(tmp, entry)
        except OSError:
            pass
    return digest
