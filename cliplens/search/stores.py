"""`open_store`: the vector store an index's manifest names, picked by URI (embedded or Milvus).

Kept apart from `store.py` (the interface the backends import) so that no backend imports the
module that imports it back.

    >>> store = open_store("embedded", Path("/tmp/idx"), dim=4)          # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInputError
from .store import VectorStore


def open_store(uri: str, root: Path, dim: int, name: str = "cliplens", ann: str = "auto") -> VectorStore:
    """Open (creating if needed) the store an index names in its manifest.

    - ``embedded`` (default): vectors in ``<root>/vectors.sqlite`` + exact or HNSW search.
    - ``milvus://host:19530`` or ``http(s)://host:19530``: a Milvus server or cluster.
    - ``milvus-lite:FILE.db`` (relative to the index folder unless absolute): the same Milvus
      engine in-process, started by pymilvus (what the tests use).
    """
    if uri in ("", "embedded"):
        from .embedded import EmbeddedStore

        return EmbeddedStore(root, dim, ann=ann)
    if uri.startswith(("milvus://", "milvus-lite:", "http://", "https://")):
        from .milvus_store import MilvusStore

        return MilvusStore(uri, root, dim, collection=name)
    raise InvalidInputError(f"unknown store {uri!r}: use 'embedded', 'milvus://HOST:PORT' or 'milvus-lite:FILE.db'")
