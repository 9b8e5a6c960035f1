"""The on-disk embedding cache: vectors of one model keyed by file content, in one SQLite file.

Re-running over the same folder costs no model calls: each file's bytes are hashed once and
looked up in `<cache>/embeddings/<fingerprint>.sqlite`. SQLite commits are atomic, so a killed
run leaves every finished batch cached and nothing half-written; WAL mode makes it safe to
share between processes.

    >>> cache = EmbeddingCache("abc123", root=Path("/tmp/cl-doc"))
    >>> cache.put({"h1": np.ones(4, np.float32)}); cache.get(["h1", "h2"])["h1"].shape
    (4,)
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..settings import cache_dir


class EmbeddingCache:
    """Vectors of one model, keyed by content hash, in one SQLite file (safe across processes)."""

    def __init__(self, fingerprint: str, root: Path | None = None):
        self.path = (root or cache_dir() / "embeddings") / f"{fingerprint}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as con:
            con.execute("CREATE TABLE IF NOT EXISTS emb (hash TEXT PRIMARY KEY, dim INTEGER, vec BLOB)")

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30)
            con.execute("PRAGMA journal_mode=WAL")
            self._local.con = con
        return con

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """{hash: vector} for the hashes that are cached."""
        found: dict[str, np.ndarray] = {}
        con = self._conn()
        for i in range(0, len(hashes), 500):
            chunk = list(hashes[i : i + 500])
            q = f"SELECT hash, vec FROM emb WHERE hash IN ({','.join('?' * len(chunk))})"
            for h, blob in con.execute(q, chunk):
                found[h] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store {hash: vector} in one transaction (all or nothing)."""
        con = self._conn()
        with con:
            con.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                [(h, int(v.shape[-1]), np.ascontiguousarray(v, np.float32).tobytes()) for h, v in vectors.items()],
            )

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM emb").fetchone()[0])
