"""Visual search: index folders of images, query by text / image / arithmetic, find near-duplicates.

    >>> from cliplens.search import open_index, search, dedupe
    >>> idx = open_index("photos.idx", model="toyclip", create=True)     # doctest: +SKIP
    >>> idx.add(["photos/"]).added                                       # doctest: +SKIP
    120
    >>> [h.path for h in search(idx, "a red circle + @ref.png", top_k=3).hits]  # doctest: +SKIP
    >>> dedupe(idx, threshold=0.95).groups                              # doctest: +SKIP
"""
from __future__ import annotations

from .catalog import Catalog, FileEntry
from .duplicates import DedupeResult, DuplicateGroup, apply_duplicates, dedupe, find_duplicates
from .filters import Filters, parse_bytes, parse_date
from .index import Index, ModelMismatchError, default_index_dir, open_index
from .lock import IndexBusyError
from .query import Term, parse_query, query_vector
from .searcher import Hit, SearchResult, search, search_vectors
from .store import Neighbours, VectorStore
from .stores import open_store
from .sync import AddReport

__all__ = ["AddReport", "Catalog", "DedupeResult", "DuplicateGroup", "FileEntry", "Filters", "Hit", "Index",
           "IndexBusyError", "ModelMismatchError", "Neighbours", "SearchResult", "Term", "VectorStore",
           "apply_duplicates", "dedupe", "default_index_dir", "find_duplicates", "open_index", "open_store",
           "parse_bytes", "parse_date", "parse_query", "query_vector", "search", "search_vectors"]
