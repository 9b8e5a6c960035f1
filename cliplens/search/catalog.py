"""The index's catalog: one row per indexed file (path, size, mtime, content hash, pixel size) in SQLite.

``<index>/meta.sqlite`` holds ``files``, the folders added (``roots``) and the id counter. It is
the truth about which files the index holds; vectors live in the store under the same ids.
Connections are per thread (SQLite objects cannot cross threads), WAL mode lets readers work
while one writer commits.

    >>> cat = Catalog(Path("/tmp/photos.idx/meta.sqlite"))             # doctest: +SKIP
    >>> len(cat), cat.roots()                                           # doctest: +SKIP
    (120, ['/home/me/photos'])
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .filters import Filters, folder_clause
from .sqlite import thread_connection

_COLS = "id, path, size, mtime, hash, width, height"
#: SQLite's default limit on host parameters is 999: id/hash lists are sent in parts of this size
_PART = 900


@dataclass
class FileEntry:
    """One indexed image."""

    id: int
    path: str
    size: int
    mtime: float
    hash: str
    width: int
    height: int

    def to_dict(self) -> dict:
        return asdict(self)


class Catalog:
    """File rows and roots of one index (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._init_db()

    def con(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use `txn` for writes)."""
        return thread_connection(self._local, self.path)

    def _init_db(self) -> None:
        con = self.con()
        if con.execute("SELECT 1 FROM sqlite_master WHERE name='state'").fetchone():
            return  # an existing index: readers never need to write
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, "
                    "size INTEGER, mtime REAL, hash TEXT, width INTEGER, height INTEGER, added REAL)")
        con.execute("CREATE INDEX IF NOT EXISTS files_hash ON files(hash)")
        con.execute("CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY)")
        con.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER)")
        con.execute("INSERT OR IGNORE INTO state VALUES ('next_id', 1)")
        con.execute("COMMIT")

    @contextmanager
    def txn(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside commits together or not at all."""
        con = self.con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------------
    def entries(self, where: str = "1", args: Sequence = ()) -> list[FileEntry]:
        """File rows matching a SQL condition (all by default), ordered by path."""
        rows = self.con().execute(f"SELECT {_COLS} FROM files WHERE {where} ORDER BY path", list(args)).fetchall()
        return [FileEntry(*r) for r in rows]

    def entries_under(self, folder: str | Path) -> list[FileEntry]:
        """Rows of a file, or of everything below a folder."""
        clause, args = folder_clause(folder)
        return self.entries(clause, args)

    def entries_by_id(self, ids: Iterable[int]) -> dict[int, FileEntry]:
        """Rows for these ids (ids without a row are simply absent)."""
        ids = [int(i) for i in ids if 0 <= int(i) < 2**63]
        out: dict[int, FileEntry] = {}
        for s in range(0, len(ids), _PART):
            part = ids[s : s + _PART]
            q = f"SELECT {_COLS} FROM files WHERE id IN ({','.join('?' * len(part))})"
            for r in self.con().execute(q, part):
                out[r[0]] = FileEntry(*r)
        return out

    def ids_by_hash(self, hashes: Iterable[str]) -> dict[int, str]:
        """id -> hash of the rows holding any of these contents."""
        want = sorted(set(hashes))
        out: dict[int, str] = {}
        for s in range(0, len(want), _PART):
            part = want[s : s + _PART]
            q = f"SELECT id, hash FROM files WHERE hash IN ({','.join('?' * len(part))})"
            for i, h in self.con().execute(q, part):
                out.setdefault(int(i), h)
        return out

    def file_ids(self, filters: Filters | None = None) -> np.ndarray:
        """Sorted ids of the rows the filters allow (all rows by default)."""
        where, args = (filters or Filters()).to_sql()
        rows = self.con().execute(f"SELECT id FROM files WHERE {where} ORDER BY id", args).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def __len__(self) -> int:
        return int(self.con().execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def totals(self) -> tuple[int, int]:
        """(number of files, their total bytes)."""
        n, total = self.con().execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files").fetchone()
        return int(n), int(total)

    def roots(self) -> list[str]:
        """The folders (and files) added to the index, which `update` re-scans."""
        return [r[0] for r in self.con().execute("SELECT path FROM roots ORDER BY path")]

    # -- writing (the caller holds the index's write lock) ---------------------------------------
    def reserve_ids(self, n: int) -> np.ndarray:
        """`n` fresh ids, never handed out again (even if the caller dies before using them)."""
        with self.txn() as con:
            start = int(con.execute("SELECT value FROM state WHERE key='next_id'").fetchone()[0])
            con.execute("UPDATE state SET value = ? WHERE key='next_id'", (start + n,))
        return np.arange(start, start + n, dtype=np.int64)

    def add_roots(self, roots: Iterable[str | Path]) -> None:
        with self.txn() as con:
            con.executemany("INSERT OR IGNORE INTO roots VALUES (?)", [(str(r),) for r in roots])

    def forget_roots(self, roots: Iterable[str | Path]) -> None:
        with self.txn() as con:
            con.executemany("DELETE FROM roots WHERE path = ?", [(str(r),) for r in roots])

    def delete(self, ids: Iterable[int]) -> None:
        """Drop rows by id, in one transaction."""
        with self.txn() as con:
            con.executemany("DELETE FROM files WHERE id = ?", [(int(i),) for i in ids])

    def remove_under(self, folder: str | Path) -> list[int]:
        """Drop the rows of a file or of everything below a folder (and that root); returns their ids."""
        clause, args = folder_clause(folder)
        ids = [e.id for e in self.entries(clause, args)]
        with self.txn() as con:
            con.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in ids])
            con.execute(f"DELETE FROM roots WHERE {clause}", args)
        return ids

    def commit_batch(self, touches: Sequence[tuple[int, int, float]],
                     moves: Sequence[tuple[int, int | None, str, int, float, tuple[int, int]]],
                     inserts: Sequence[tuple[int, int | None, str, int, float, str, tuple[int, int]]]) -> list[int]:
        """Apply one batch of changes in one transaction; returns the ids of rows it replaced.

        - touches: (id, size, mtime): same content, new file times;
        - moves: (id, replaced_id, path, size, mtime, (w, h)): a known content at a new path;
        - inserts: (id, replaced_id, path, size, mtime, hash, (w, h)): new rows (vectors already stored).
        A replaced_id is the row the path held before (other content): it goes.
        """
        replaced: list[int] = []
        now = time.time()
        with self.txn() as con:
            for fid, size, mtime in touches:
                con.execute("UPDATE files SET size = ?, mtime = ? WHERE id = ?", (size, mtime, fid))
            for fid, old_id, path, size, mtime, wh in moves:
                if old_id is not None:
                    con.execute("DELETE FROM files WHERE id = ?", (old_id,))
                    replaced.append(old_id)
                con.execute("UPDATE files SET path = ?, size = ?, mtime = ?, width = ?, height = ? WHERE id = ?",
                            (path, size, mtime, wh[0], wh[1], fid))
            for fid, old_id, path, size, mtime, h, wh in inserts:
                if old_id is not None:
                    con.execute("DELETE FROM files WHERE id = ?", (old_id,))
                    replaced.append(old_id)
                con.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (int(fid), path, size, mtime, h, wh[0], wh[1], now))
        return replaced

    def close(self) -> None:
        """Close this thread's connection (other threads' close with their thread)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
