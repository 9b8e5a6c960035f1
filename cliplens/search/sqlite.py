"""One SQLite connection per thread for the search stores (the catalog and the embedded vector store).

SQLite connections must not be shared across threads; each thread opens its own on first use, in
WAL mode (readers never block the writer) with autocommit, so writes go through explicit
transactions and a kill -9 leaves the last committed state.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


def thread_connection(local: threading.local, path: str | Path) -> sqlite3.Connection:
    """This thread's connection to `path`, opened (WAL, synchronous=NORMAL, autocommit) on first use."""
    con = getattr(local, "con", None)
    if con is None:
        con = sqlite3.connect(path, timeout=60, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        local.con = con
    return con
