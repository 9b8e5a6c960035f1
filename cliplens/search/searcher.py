"""Answer a query against an index: one vector in, ranked hits with their file metadata out.

    >>> hits = search(idx, "a red circle, pixel art", top=5)           # doctest: +SKIP
    >>> hits[0].path, round(hits[0].score, 3)                           # doctest: +SKIP
    ('/photos/red.png', 0.312)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InvalidInputError
from .filters import Filters
from .index import Index
from .query import Term, parse_query, query_vector

#: extra hits fetched so that hits dropped by a concurrent writer (no file row yet) do not shorten the list
_SLACK = 8


@dataclass
class Hit:
    """One result: the file, its cosine similarity to the query, and its metadata."""

    rank: int
    path: str
    score: float
    id: int
    size: int
    mtime: float
    width: int
    height: int
    hash: str

    def to_dict(self) -> dict:
        return asdict(self)


def search(index: Index, query: str | Sequence[str] | np.ndarray | list[Term], top: int = 10,
           threshold: float | None = None, filters: Filters | None = None) -> list[Hit]:
    """Top hits for a text / image / arithmetic query (or a ready unit vector), best first.

    `threshold` drops hits below that cosine similarity; `filters` restricts by folder, size, date.
    """
    if top < 1:
        raise InvalidInputError(f"--top {top}: ask for at least one result")
    if isinstance(query, np.ndarray):
        vec = np.asarray(query, np.float32).reshape(-1)
        if vec.shape[0] != index.dim:
            raise InvalidInputError(f"query vector has {vec.shape[0]} dims; the index holds {index.dim}-d vectors")
    else:
        terms = query if (isinstance(query, list) and query and isinstance(query[0], Term)) else parse_query(query)
        vec = query_vector(index.encoder, terms)
    return search_vectors(index, vec[None, :], top, threshold, filters)[0]


def search_vectors(index: Index, queries: np.ndarray, top: int = 10, threshold: float | None = None,
                   filters: Filters | None = None) -> list[list[Hit]]:
    """Batch form of `search` for query vectors (m, d)."""
    allow = index.file_ids(filters) if filters is not None and filters.active() else None
    if allow is not None and len(allow) == 0:
        return [[] for _ in range(len(queries))]
    results = index.store.search(queries, top + _SLACK, allow=allow)
    out: list[list[Hit]] = []
    for res in results:
        rows = index.entries_by_id(res.ids.tolist())
        hits: list[Hit] = []
        for i, s in zip(res.ids.tolist(), res.scores.tolist()):
            e = rows.get(int(i))
            if e is None:  # a vector whose file row is not committed (or was just removed)
                continue
            if threshold is not None and s < threshold:
                break
            hits.append(Hit(len(hits) + 1, e.path, float(s), e.id, e.size, e.mtime, e.width, e.height, e.hash))
            if len(hits) == top:
                break
        out.append(hits)
    return out
