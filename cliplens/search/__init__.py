"""Visual search: index folders of images, query by text / image / arithmetic, find near-duplicates.

    >>> from cliplens.search import open_index, search, find_duplicates
    >>> idx = open_index("photos.idx", model="toyclip", create=True)   # doctest: +SKIP
    >>> idx.add(["photos/"])                                           # doctest: +SKIP
    >>> [h.path for h in search(idx, "a red circle, pixel art", top=3)]  # doctest: +SKIP
    >>> groups = find_duplicates(idx, threshold=0.95)                   # doctest: +SKIP
"""
from __future__ import annotations

from .dedupe import DuplicateGroup, apply_duplicates, find_duplicates
from .filters import Filters, parse_bytes, parse_date
from .index import AddReport, FileEntry, Index, IndexBusyError, ModelMismatchError, default_index_dir, open_index
from .query import Term, parse_query, query_vector
from .searcher import Hit, search, search_vectors
from .store import Neighbours, VectorStore, open_store

__all__ = ["AddReport", "DuplicateGroup", "FileEntry", "Filters", "Hit", "Index", "IndexBusyError",
           "ModelMismatchError", "Neighbours", "Term", "VectorStore", "apply_duplicates", "default_index_dir",
           "find_duplicates", "open_index", "open_store", "parse_bytes", "parse_date", "parse_query",
           "query_vector", "search", "search_vectors"]
