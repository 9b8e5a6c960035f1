"""The scale-out store: vectors in Milvus (a server/cluster, or milvus-lite in-process).

Same interface and the same conformance tests as the embedded store. A user points an index
at a cluster with ``--store milvus://host:19530``; the tests use ``milvus-lite:vectors.db``,
which pymilvus starts locally (the same engine, single process). Milvus has no transactions
shared with the index's SQLite, so the index writes vectors here *first* and commits its
metadata second; on the next write it deletes ids the metadata does not know (orphans of a
killed run). Reads are made with Strong consistency, so a search sees every finished write.

    >>> store = MilvusStore("milvus-lite:v.db", Path("/tmp/idx"), dim=4)       # doctest: +SKIP
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np

from ..errors import CliplensError, InvalidInputError
from .store import Neighbours, check_queries, check_vectors

_MAX_LIMIT = 16384  # Milvus' cap on topk and on query limit+offset
_ALLOW_EXPR_LIMIT = 2000  # larger filters are answered by over-fetching, not by an `id in [...]` expression


def _client_uri(uri: str, root: Path) -> str:
    if uri.startswith("milvus-lite:"):
        path = Path(uri[len("milvus-lite:") :] or "vectors.db")
        return str(path if path.is_absolute() else Path(root) / path)
    if uri.startswith("milvus://"):
        return "http://" + uri[len("milvus://") :]
    return uri


class MilvusStore:
    """Vectors in one Milvus collection (int64 primary key `id`, FLOAT_VECTOR `vector`, IP metric)."""

    def __init__(self, uri: str, root: Path, dim: int, collection: str = "cliplens", token: str | None = None):
        try:
            from pymilvus import DataType, MilvusClient
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise CliplensError("the Milvus store needs pymilvus: pip install 'cliplens[scale]'") from exc
        self.uri = uri
        self.dim = int(dim)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.collection = re.sub(r"[^A-Za-z0-9_]", "_", collection)
        if not re.match(r"[A-Za-z_]", self.collection):
            self.collection = "c_" + self.collection
        self._lock = threading.RLock()
        target = _client_uri(uri, self.root)
        try:
            self._client = MilvusClient(uri=target, token=token or "")
        except Exception as exc:  # noqa: BLE001
            raise CliplensError(f"cannot reach Milvus at {uri} ({type(exc).__name__}: {exc}); is the server up?") from None
        if not self._client.has_collection(self.collection):
            schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            params = self._client.prepare_index_params()
            params.add_index(field_name="vector", index_type="AUTOINDEX", metric_type="IP")
            self._client.create_collection(self.collection, schema=schema, index_params=params,
                                           consistency_level="Strong")
        else:
            desc = self._client.describe_collection(self.collection)
            for f in desc.get("fields", []):
                if f.get("name") == "vector":
                    have = int(f.get("params", {}).get("dim", self.dim))
                    if have != self.dim:
                        raise InvalidInputError(f"Milvus collection {self.collection} holds {have}-d vectors, "
                                                f"not {self.dim}-d")
        self._client.load_collection(self.collection)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_vectors(ids, vectors, self.dim)
        if not len(ids):
            return
        with self._lock:
            for s in range(0, len(ids), 1000):
                rows = [{"id": int(i), "vector": v.tolist()} for i, v in zip(ids[s : s + 1000], vectors[s : s + 1000])]
                self._client.upsert(self.collection, rows)

    def remove(self, ids: np.ndarray) -> None:
        ids = [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]
        with self._lock:
            for s in range(0, len(ids), 1000):
                self._client.delete(self.collection, ids=ids[s : s + 1000])

    def get(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        ids = [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]
        out: dict[int, np.ndarray] = {}
        with self._lock:
            for s in range(0, len(ids), 1000):
                for row in self._client.get(self.collection, ids=ids[s : s + 1000], output_fields=["vector"]):
                    out[int(row["id"])] = np.asarray(row["vector"], dtype=np.float32)
        return out

    def ids(self) -> np.ndarray:
        with self._lock:
            it = self._client.query_iterator(self.collection, batch_size=5000, filter="id >= -9223372036854775807",
                                             output_fields=["id"])
            found: list[int] = []
            try:
                while True:
                    batch = it.next()
                    if not batch:
                        break
                    found.extend(int(r["id"]) for r in batch)
            finally:
                it.close()
        return np.unique(np.asarray(found, dtype=np.int64))

    def count(self) -> int:
        with self._lock:
            res = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def _search(self, q: np.ndarray, k: int, expr: str = "") -> list[Neighbours]:
        with self._lock:
            res = self._client.search(self.collection, data=[row.tolist() for row in q], limit=min(k, _MAX_LIMIT),
                                      filter=expr, search_params={"metric_type": "IP"}, output_fields=["id"])
        out = []
        for hits in res:
            ids = np.asarray([int(h["id"]) for h in hits], dtype=np.int64)
            scores = np.asarray([float(h["distance"]) for h in hits], dtype=np.float32)
            order = np.argsort(-scores, kind="stable")
            out.append(Neighbours(ids[order], scores[order]))
        return out

    def search(self, queries: np.ndarray, k: int, allow: np.ndarray | None = None) -> list[Neighbours]:
        q = check_queries(queries, self.dim, k)
        if allow is None:
            return self._search(q, k)
        allow = np.unique(np.asarray(allow, dtype=np.int64))
        if len(allow) == 0:
            return [Neighbours(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in q]
        if len(allow) <= _ALLOW_EXPR_LIMIT:
            return self._search(q, k, f"id in [{','.join(str(int(i)) for i in allow)}]")
        out = []
        total = max(1, self.count())
        for row in q:
            want = min(_MAX_LIMIT, k * max(2, 2 * total // len(allow)))
            while True:
                res = self._search(row[None, :], want)[0]
                ok = np.isin(res.ids, allow)
                if ok.sum() >= k or want >= min(total, _MAX_LIMIT):
                    out.append(Neighbours(res.ids[ok][:k], res.scores[ok][:k]))
                    break
                want = min(_MAX_LIMIT, want * 2)
        return out

    def flush(self) -> None:
        with self._lock:
            self._client.flush(self.collection)

    def close(self) -> None:
        with self._lock:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass

    def drop(self) -> None:
        with self._lock:
            if self._client.has_collection(self.collection):
                self._client.drop_collection(self.collection)
