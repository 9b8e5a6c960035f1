"""The vector-store interface every backend implements, and the checks and exact search they share.

The index (`cliplens.search.index`) keeps file metadata in its own SQLite file and talks to
vectors only through this small interface, so the embedded store (SQLite + exact/HNSW search
on one machine) and a distributed database (Milvus) are interchangeable and pass the same
conformance tests (`tests/test_search_store.py`).

    >>> from cliplens.search.stores import open_store                    # doctest: +SKIP
    >>> store = open_store("embedded", Path("/tmp/idx"), dim=4)          # doctest: +SKIP
    >>> store.add(np.array([1, 2]), np.eye(4, dtype=np.float32)[:2])      # doctest: +SKIP
    >>> store.search(np.eye(4, dtype=np.float32)[:1], k=1)[0].ids         # doctest: +SKIP
    array([1])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidInputError


@dataclass
class Neighbours:
    """Hits for one query, best first: `ids[i]` has cosine similarity `scores[i]`."""

    ids: np.ndarray  # int64
    scores: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.ids)


@runtime_checkable
class VectorStore(Protocol):
    """Unit vectors keyed by int64 ids, searchable by inner product (= cosine on unit vectors).

    `add` is an upsert (adding an existing id replaces its vector), so a writer that crashed
    between the store and the metadata commit can simply redo the batch.
    """

    dim: int
    uri: str

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def get(self, ids: np.ndarray) -> dict[int, np.ndarray]: ...
    def ids(self) -> np.ndarray: ...
    def count(self) -> int: ...
    def search(self, queries: np.ndarray, k: int, allow: np.ndarray | None = None) -> list[Neighbours]: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def drop(self) -> None: ...


def check_vectors(ids: np.ndarray, vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate an (ids, vectors) batch: same length, right dimension, finite values."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise InvalidInputError(f"vectors of shape {vectors.shape} do not match the store's dimension {dim}")
    if len(ids) != len(vectors):
        raise InvalidInputError(f"{len(ids)} ids but {len(vectors)} vectors")
    if len(np.unique(ids)) != len(ids):
        raise InvalidInputError("duplicate ids in one batch")
    if not np.isfinite(vectors).all():
        raise InvalidInputError("vectors contain NaN or infinity")
    return ids, vectors


def check_queries(queries: np.ndarray, dim: int, k: int) -> np.ndarray:
    """Validate queries: (m, dim) float32, k >= 1."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if q.ndim == 1:
        q = q[None, :]
    if q.ndim != 2 or q.shape[1] != dim:
        raise InvalidInputError(f"query of shape {q.shape} does not match the store's dimension {dim}")
    if k < 1:
        raise InvalidInputError(f"k={k}: ask for at least one neighbour")
    return q


def exact_topk(queries: np.ndarray, mat: np.ndarray, ids: np.ndarray, k: int) -> list[Neighbours]:
    """Brute-force top-k by inner product (what clip-retrieval's faiss flat index computes)."""
    out: list[Neighbours] = []
    if len(ids) == 0:
        empty = Neighbours(np.empty(0, np.int64), np.empty(0, np.float32))
        return [empty for _ in range(len(queries))]
    k = min(k, len(ids))
    sims = queries @ mat.T
    for row in sims:
        part = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        order = part[np.argsort(-row[part], kind="stable")]
        out.append(Neighbours(ids[order].astype(np.int64), row[order].astype(np.float32)))
    return out
