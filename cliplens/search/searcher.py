"""Answer a query against an index: the one search call the CLI, the server and Python share.

    >>> r = search(idx, "a red circle, pixel art + @pool.jpg", top_k=5)   # doctest: +SKIP
    >>> r.hits[0].path, round(r.hits[0].score, 3)                        # doctest: +SKIP
    ('/photos/red.png', 0.312)
    >>> r.to_dict()["terms"]                                             # doctest: +SKIP
    [{'kind': 'text', 'value': 'a red circle, pixel art', 'weight': 1.0}, {'kind': 'image', ...}]
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import defaults
from ..errors import InvalidInputError
from ..results import Result
from .filters import Filters
from .index import Index
from .query import ImageOpener, Term, parse_query, query_vector

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


@dataclass
class SearchResult(Result):
    """Hits best first, the terms the query was read as, and each term that could not be used.

    `errors[i].index` is the position of a failed term in `terms`.
    """

    hits: list[Hit] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    top_k: int = defaults.TOP_K
    threshold: float | None = None
    model: str = ""
    size: int = 0  # images in the index

    def __iter__(self):  # `for hit in search(...)` reads the hits
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i):
        return self.hits[i]


Query = str | Sequence[str] | Term | Sequence[Term] | np.ndarray | os.PathLike | bytes | Any


def _terms(query: Query, detect_files: bool) -> list[Term]:
    if isinstance(query, Term):
        return [query]
    if isinstance(query, (list, tuple)) and query and all(isinstance(t, Term) for t in query):
        return list(query)
    if isinstance(query, (str, list, tuple)):
        return parse_query(query, detect_files=detect_files)
    if isinstance(query, (os.PathLike, bytes, bytearray)) or type(query).__module__.startswith("PIL"):
        return [Term.image(query)]
    raise InvalidInputError(f"query of type {type(query).__name__}: give a text, an expression, Term(s), an image "
                            "path (Path), image bytes, a PIL image or a query vector")


def search(index: Index, query: Query, *, top_k: int = defaults.TOP_K, threshold: float | None = None,
           filters: Filters | None = None, on_error: str = defaults.ON_ERROR, detect_files: bool = False,
           open_image: ImageOpener | None = None, max_pixels: int | None = None, **legacy: Any) -> SearchResult:
    """Top hits for a text / image / arithmetic query (or a ready unit vector), best first.

    `query`: an expression (see `cliplens.search.query`: ``"a dog + @beach.jpg - (people:0.5)"``),
    `Term`s, an image (`Path`, bytes, PIL image) or a unit vector of the index's dimension.
    `threshold` drops hits below that cosine similarity; `filters` restricts by folder, size, date.
    `on_error`: an image term that cannot be loaded is reported in `errors` ("skip") or raised.
    `detect_files` (the CLI's rule) reads bare words naming image files as images; `open_image`
    maps an image term's source before loading (the server uses it to stay inside its folders).
    """
    if "top" in legacy:  # the old name
        warnings.warn("search(top=...) is deprecated; use top_k=", DeprecationWarning, stacklevel=2)
        top_k = legacy.pop("top")
    if legacy:
        raise TypeError(f"search() got unexpected keyword arguments {sorted(legacy)}")
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise InvalidInputError(f"top_k must be an integer >= 1, not {top_k!r}")
    if threshold is not None and not -1.0 <= float(threshold) <= 1.0:
        raise InvalidInputError(f"threshold must lie in [-1, 1] (a cosine similarity), not {threshold}")
    errors = []
    if isinstance(query, np.ndarray):
        vec = np.asarray(query, np.float32).reshape(-1)
        if vec.shape[0] != index.dim:
            raise InvalidInputError(f"query vector has {vec.shape[0]} dims; the index holds {index.dim}-d vectors")
        terms: list[Term] = []
    else:
        terms = _terms(query, detect_files)
        vec, errors = query_vector(index.encoder, terms, on_error=on_error, open_image=open_image,
                                   max_pixels=max_pixels)
    hits = search_vectors(index, vec[None, :], int(top_k), threshold, filters)[0]
    return SearchResult(hits=hits, terms=terms, top_k=int(top_k), threshold=threshold, model=index.model,
                        size=len(index), errors=errors)


def search_vectors(index: Index, queries: np.ndarray, top_k: int = defaults.TOP_K, threshold: float | None = None,
                   filters: Filters | None = None) -> list[list[Hit]]:
    """Batch form of `search` for query vectors (m, d): a list of hits per query."""
    allow = index.file_ids(filters) if filters is not None and filters.active() else None
    if allow is not None and len(allow) == 0:
        return [[] for _ in range(len(queries))]
    results = index.store.search(queries, top_k + _SLACK, allow=allow)
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
            if len(hits) == top_k:
                break
        out.append(hits)
    return out
