"""The embedded store: vectors in SQLite (the truth) plus an in-memory exact or HNSW search.

Nothing to start: one folder, two files. `vectors.sqlite` holds every vector; its commits are
atomic, so a writer killed at any moment leaves whole batches or nothing. The search structure
is *derived*: below `EXACT_LIMIT` vectors a float32 matrix (exact search, a few ms), above it
a faiss IVF index saved as `ann.ivf` (or, when asked, a usearch HNSW graph, `ann.usearch`). A reader never trusts the derived copy blindly: it
compares the keys it holds with the ids in SQLite and adds/removes the difference, so a stale
graph (writer killed before saving it) costs a little time, never a wrong answer.

    >>> store = EmbeddedStore(Path("/tmp/cl-store"), dim=4)                     # doctest: +SKIP
    >>> store.add(np.array([1]), np.ones((1, 4), np.float32) / 2); store.count()  # doctest: +SKIP
    1
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from .ann import HnswIndex, IvfIndex
from .store import Neighbours, check_queries, check_vectors, exact_topk
from .sqlite import thread_connection

#: below this many vectors search is exact (brute force is fast and has recall 1)
EXACT_LIMIT = int(os.environ.get("CLIPLENS_EXACT_LIMIT", "50000"))
#: a filter allowing at most this many ids is answered exactly over those ids
FILTER_EXACT_LIMIT = 50_000
_CHUNK = 20_000


def _fetch_vectors(con: sqlite3.Connection, ids: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(found ids, vectors) for `ids`, in the order SQLite returns them."""
    got_ids: list[int] = []
    blobs: list[bytes] = []
    ids = [int(i) for i in ids]
    for s in range(0, len(ids), 900):
        part = ids[s : s + 900]
        for i, b in con.execute(f"SELECT id, v FROM vec WHERE id IN ({','.join('?' * len(part))})", part):
            got_ids.append(i)
            blobs.append(b)
    mat = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim) if blobs else np.empty((0, dim), np.float32)
    return np.asarray(got_ids, dtype=np.int64), mat


class EmbeddedStore:
    """SQLite-backed vectors with exact search (small) or a persisted HNSW graph (large).

    `ann`: "auto" (exact below `EXACT_LIMIT` vectors, IVF above), "exact", "ivf" or "hnsw".
    Safe across processes: many readers, one writer (the index holds the write lock).
    """

    def __init__(self, root: Path, dim: int, ann: str = "auto", threads: int = 0):
        if ann not in ("auto", "exact", "hnsw", "ivf"):
            raise InvalidInputError(f"ann={ann!r}: use auto, exact, hnsw or ivf")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dim = int(dim)
        self.ann_mode = ann
        self.threads = threads
        self.uri = "embedded"
        self.path = self.root / "vectors.sqlite"
        self.ann_path = self.root / "ann.usearch"
        self._local = threading.local()
        self._lock = threading.RLock()
        # the derived search state, refreshed whenever SQLite's generation moves
        self._gen = -1
        self._ids = np.empty(0, np.int64)  # sorted live ids
        self._mat: np.ndarray | None = None  # exact mode: rows aligned with _ids
        self._ann: HnswIndex | IvfIndex | None = None
        self._ann_kind: str | None = None
        con = self._con()
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name='state'").fetchone():
            con.execute("BEGIN IMMEDIATE")
            con.execute("CREATE TABLE IF NOT EXISTS vec (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
            con.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER)")
            # ids whose vector was overwritten, and when: readers re-fetch them (ids alone would not show it)
            con.execute("CREATE TABLE IF NOT EXISTS replaced (id INTEGER PRIMARY KEY, gen INTEGER)")
            con.execute("INSERT OR IGNORE INTO state VALUES ('generation', 0)")
            con.execute("INSERT OR IGNORE INTO state VALUES ('dim', ?)", (self.dim,))
            con.execute("COMMIT")
        stored_dim = con.execute("SELECT value FROM state WHERE key='dim'").fetchone()[0]
        if int(stored_dim) != self.dim:
            raise InvalidInputError(f"{self.path} holds {stored_dim}-d vectors, not {self.dim}-d")

    # -- SQLite ---------------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        return thread_connection(self._local, self.path)

    def _bump(self, con: sqlite3.Connection) -> None:
        con.execute("UPDATE state SET value = value + 1 WHERE key='generation'")

    def generation(self) -> int:
        return int(self._con().execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Upsert vectors (one transaction: all of the batch or none of it)."""
        ids, vectors = check_vectors(ids, vectors, self.dim)
        if not len(ids):
            return
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            gen = int(con.execute("SELECT value FROM state WHERE key='generation'").fetchone()[0]) + 1
            id_list = [int(i) for i in ids]
            for s in range(0, len(id_list), 900):
                part = id_list[s : s + 900]
                old = con.execute(f"SELECT id FROM vec WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
                con.executemany("INSERT OR REPLACE INTO replaced VALUES (?, ?)", [(r[0], gen) for r in old])
            con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                            [(i, v.tobytes()) for i, v in zip(id_list, vectors)])
            self._bump(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def remove(self, ids: np.ndarray) -> None:
        ids = [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]
        if not ids:
            return
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("DELETE FROM vec WHERE id = ?", [(i,) for i in ids])
            self._bump(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def get(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        got, mat = _fetch_vectors(self._con(), np.asarray(ids).reshape(-1), self.dim)
        return {int(i): mat[j].copy() for j, i in enumerate(got)}

    def ids(self) -> np.ndarray:
        rows = self._con().execute("SELECT id FROM vec ORDER BY id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def count(self) -> int:
        return int(self._con().execute("SELECT COUNT(*) FROM vec").fetchone()[0])

    # -- derived search state ----------------------------------------------------------------
    def _kind(self, n: int) -> str:
        """exact | hnsw | ivf for a collection of n vectors."""
        if self.ann_mode == "auto":
            return "ivf" if n >= EXACT_LIMIT else "exact"
        return self.ann_mode

    def _ann_file(self, kind: str) -> Path:
        return self.root / ("ann.usearch" if kind == "hnsw" else "ann.ivf")

    def _refresh(self) -> None:
        """Bring the in-memory search state up to SQLite's current snapshot (by id difference)."""
        con = self._con()
        con.execute("BEGIN")  # one read snapshot for generation + ids + vectors
        try:
            gen = int(con.execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])
            if gen == self._gen:
                return
            rows = con.execute("SELECT id FROM vec ORDER BY id").fetchall()
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            kind = self._kind(len(ids))
            if kind != "exact":
                self._mat = None
                since = self._gen
                if self._ann is None or self._ann_kind != kind:
                    cls = HnswIndex if kind == "hnsw" else IvfIndex
                    loaded = cls.load(self._ann_file(kind), self.dim, threads=self.threads)
                    if loaded:
                        self._ann, since = loaded[0], int(loaded[1].get("generation", -1))
                    else:
                        self._ann, since = cls(self.dim, threads=self.threads), gen
                    self._ann_kind = kind
                if isinstance(self._ann, IvfIndex) and len(ids) and self._ann.needs_retrain(len(ids)):
                    rng = np.random.default_rng(len(ids))
                    n_train = min(len(ids), 64 * IvfIndex.nlist_for(len(ids)))
                    _, sample = _fetch_vectors(con, np.sort(rng.choice(ids, n_train, replace=False)), self.dim)
                    self._ann.train(sample, n_expected=len(ids))
                have = self._ann.keys()
                self._ann.remove(np.setdiff1d(have, ids, assume_unique=True))
                have = self._ann.keys()
                missing = np.setdiff1d(ids, have, assume_unique=True)
                stale = self._replaced_since(con, since if since >= 0 else -1)
                missing = np.union1d(missing, stale[np.isin(stale, have)])
                for s in range(0, len(missing), _CHUNK):
                    got, mat = _fetch_vectors(con, missing[s : s + _CHUNK], self.dim)
                    self._ann.add(got, mat)
                self._ids = ids
            else:
                self._ann, self._ann_kind = None, None
                if self._mat is None or self._gen < 0:
                    got, mat = _fetch_vectors_all(con, self.dim)
                else:
                    stale = self._replaced_since(con, self._gen)
                    keep = np.isin(self._ids, ids, assume_unique=True) & ~np.isin(self._ids, stale)
                    new = np.setdiff1d(ids, self._ids[keep], assume_unique=True)
                    nid, nmat = _fetch_vectors(con, new, self.dim)
                    got = np.concatenate([self._ids[keep], nid])
                    mat = np.concatenate([self._mat[keep], nmat])
                order = np.argsort(got, kind="stable")
                self._ids, self._mat = got[order], np.ascontiguousarray(mat[order])
            self._gen = gen
        finally:
            con.execute("COMMIT")

    @staticmethod
    def _replaced_since(con: sqlite3.Connection, gen: int) -> np.ndarray:
        rows = con.execute("SELECT id FROM replaced WHERE gen > ?", (gen,)).fetchall()
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def reload(self) -> None:
        """Forget the derived state (e.g. after vectors were replaced under the same ids)."""
        with self._lock:
            self._gen, self._mat, self._ann, self._ann_kind = -1, None, None, None
            self._ids = np.empty(0, np.int64)

    def search(self, queries: np.ndarray, k: int, allow: np.ndarray | None = None) -> list[Neighbours]:
        """Top-k by cosine for each query; `allow` restricts hits to those ids (filters)."""
        q = check_queries(queries, self.dim, k)
        with self._lock:
            self._refresh()
            if allow is not None:
                allow = np.unique(np.asarray(allow, dtype=np.int64))
                allow = allow[np.isin(allow, self._ids, assume_unique=True)]
                if self._mat is not None:
                    rows = np.searchsorted(self._ids, allow)
                    return exact_topk(q, self._mat[rows], allow, k)
                if len(allow) <= FILTER_EXACT_LIMIT:
                    got, mat = _fetch_vectors(self._con(), allow, self.dim)
                    return exact_topk(q, mat, got, k)
                return [self._filtered_ann(row[None, :], k, allow) for row in q]
            if self._mat is not None:
                return exact_topk(q, self._mat, self._ids, k)
            assert self._ann is not None
            return self._ann.search(q, k)

    def _filtered_ann(self, q: np.ndarray, k: int, allow: np.ndarray) -> Neighbours:
        """ANN with over-fetching until k allowed hits are found (large filters only)."""
        assert self._ann is not None
        want = k * max(2, int(np.ceil(len(self._ids) / max(1, len(allow)))) * 2)
        while True:
            res = self._ann.search(q, min(want, len(self._ids)))[0]
            ok = np.isin(res.ids, allow)
            if ok.sum() >= k or want >= len(self._ids):
                return Neighbours(res.ids[ok][:k], res.scores[ok][:k])
            want *= 2

    def flush(self) -> None:
        """Persist the ANN structure (writer side), so the next reader does not rebuild it."""
        with self._lock:
            if self._kind(self.count()) == "exact":
                for kind in ("hnsw", "ivf"):
                    self._ann_file(kind).unlink(missing_ok=True)
                self.ann_path.with_suffix(".json").unlink(missing_ok=True)
                return
            self._refresh()
            if self._ann is not None and self._ann_kind is not None:
                self._ann.save(self._ann_file(self._ann_kind), {"generation": self._gen})

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def drop(self) -> None:
        """Delete every vector file of this store."""
        self.close()
        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"), self.ann_path,
                  self.ann_path.with_suffix(".json"), self._ann_file("ivf")):
            p.unlink(missing_ok=True)


def _fetch_vectors_all(con: sqlite3.Connection, dim: int) -> tuple[np.ndarray, np.ndarray]:
    ids: list[int] = []
    blobs: list[bytes] = []
    for i, b in con.execute("SELECT id, v FROM vec ORDER BY id"):
        ids.append(i)
        blobs.append(b)
    mat = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim) if blobs else np.empty((0, dim), np.float32)
    return np.asarray(ids, dtype=np.int64), mat
