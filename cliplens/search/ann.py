"""Approximate nearest neighbours: a thin HNSW layer over usearch, tuned for CLIP vectors.

Why HNSW (and not IVF): it needs no training, accepts inserts and deletes one at a time (an
index grows as folders are added), and on clustered CLIP embeddings reaches recall@10 >= 0.95
at ~1 ms per query. Vectors are stored as f16 (half the memory, no measurable recall loss on
unit vectors); the search width `expansion_search` is the recall/latency knob.

    >>> ann = HnswIndex(dim=4)
    >>> ann.add(np.array([7, 8]), np.eye(4, dtype=np.float32)[:2])
    >>> ann.search(np.eye(4, dtype=np.float32)[:1], k=1)[0].ids
    array([7])
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .store import Neighbours

DEFAULTS = {"dtype": "f16", "connectivity": 16, "expansion_add": 128, "expansion_search": 96}


class HnswIndex:
    """An in-memory HNSW graph over int64 keys with inner-product similarity (cosine on unit vectors)."""

    def __init__(self, dim: int, dtype: str = DEFAULTS["dtype"], connectivity: int = DEFAULTS["connectivity"],
                 expansion_add: int = DEFAULTS["expansion_add"],
                 expansion_search: int = DEFAULTS["expansion_search"], threads: int = 0):
        from usearch.index import Index

        self.dim = dim
        self.threads = threads
        self.params = {"dtype": dtype, "connectivity": connectivity, "expansion_add": expansion_add,
                       "expansion_search": expansion_search}
        self._index = Index(ndim=dim, metric="ip", dtype=dtype, connectivity=connectivity,
                            expansion_add=expansion_add, expansion_search=expansion_search)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def expansion_search(self) -> int:
        return int(self._index.expansion_search)

    @expansion_search.setter
    def expansion_search(self, value: int) -> None:
        self._index.expansion_search = int(value)

    def keys(self) -> np.ndarray:
        """All live keys (sorted)."""
        return np.sort(np.asarray(self._index.keys, dtype=np.int64)) if len(self) else np.empty(0, np.int64)

    def add(self, keys: np.ndarray, vectors: np.ndarray, progress: bool = False) -> None:
        """Insert (or replace) vectors; keys already present are removed first."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return
        present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
        if present.any():
            self._index.remove(keys[present])
        self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=self.threads, log=progress)

    def remove(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys):
            present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
            if present.any():
                self._index.remove(keys[present])

    def get(self, keys: np.ndarray) -> np.ndarray:
        """Stored (f16-rounded) vectors of `keys`, as float32."""
        vecs = self._index.get(np.asarray(keys, dtype=np.int64), dtype=np.float32)
        return np.asarray(vecs, dtype=np.float32).reshape(len(keys), self.dim)

    def search(self, queries: np.ndarray, k: int) -> list[Neighbours]:
        """Top-k per query, best first (fewer when the index holds fewer live vectors)."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(k, len(self))
        if k == 0:
            return [Neighbours(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in q]
        res = self._index.search(q, k, threads=self.threads)
        keys = np.asarray(res.keys, dtype=np.int64).reshape(len(q), -1)
        dist = np.asarray(res.distances, dtype=np.float32).reshape(len(q), -1)
        counts = np.asarray(res.counts).reshape(-1) if hasattr(res, "counts") else np.full(len(q), keys.shape[1])
        return [Neighbours(keys[i, : counts[i]], (1.0 - dist[i, : counts[i]]).astype(np.float32)) for i in range(len(q))]

    def save(self, path: Path, meta: dict) -> None:
        """Write the graph and its metadata atomically (temp file + rename): readers see old or new."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._index.save(str(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        side = path.with_suffix(".json")
        tmp_meta = side.with_name(f".{side.name}.{os.getpid()}.tmp")
        tmp_meta.write_text(json.dumps({**meta, **self.params}))
        os.replace(tmp_meta, side)

    @classmethod
    def load(cls, path: Path, dim: int, threads: int = 0) -> tuple["HnswIndex", dict] | None:
        """Restore a saved graph, or None when missing/unreadable (the caller rebuilds it)."""
        side = path.with_suffix(".json")
        if not path.exists() or not side.exists():
            return None
        try:
            meta = json.loads(side.read_text())
            obj = cls(dim, dtype=meta.get("dtype", DEFAULTS["dtype"]),
                      connectivity=meta.get("connectivity", DEFAULTS["connectivity"]),
                      expansion_add=meta.get("expansion_add", DEFAULTS["expansion_add"]),
                      expansion_search=meta.get("expansion_search", DEFAULTS["expansion_search"]), threads=threads)
            obj._index.load(str(path))
            if obj._index.ndim != dim:
                return None
            obj._index.expansion_search = obj.params["expansion_search"]
            return obj, meta
        except Exception:  # noqa: BLE001  (a torn or foreign file is rebuilt, never trusted)
            return None
