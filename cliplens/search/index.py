"""An index directory: files' metadata in SQLite, their vectors in a store, bound to one model.

Layout of ``<index>/``::

    index.json      manifest: model spec + fingerprint, dim, store URI, collection name
    meta.sqlite     files(id, path, size, mtime, hash, width, height), roots, id counter
    vectors.sqlite  (embedded store) vectors; ann.usearch: the HNSW graph once it is large
    write.lock      held (flock) by the one process that writes

Crash safety comes from the order of writes, each one atomic on its own:
(1) reserve ids in meta.sqlite, (2) write vectors to the store, (3) commit the file rows,
(4) remove replaced vectors. A kill between any two steps leaves vectors nobody points at
("orphans"), never a file row without its vector; the next writer deletes orphans before it
starts, and a file that was not committed is simply seen as new again. Readers drop hits
whose id has no file row, so they never show a half-written state.

    >>> idx = open_index("photos.idx", model="toyclip", create=True)   # doctest: +SKIP
    >>> idx.add(["photos/"]).added                                      # doctest: +SKIP
    120
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..embed import content_hash, embed_images
from ..errors import CliplensError, ImageLoadError, InvalidInputError
from ..images import find_images
from ..progress import progress_bar
from ..settings import atomic_write_bytes, cache_dir
from .filters import Filters, folder_clause
from .store import VectorStore, open_store

MANIFEST = "index.json"
FORMAT_VERSION = 1


class ModelMismatchError(CliplensError):
    """The index was built with another model: its vectors are meaningless for this one."""


class IndexBusyError(CliplensError):
    """Another process is writing to this index."""


def default_index_dir() -> Path:
    """`CLIPLENS_INDEX`, else ``<cache>/index``: where `cliplens index`/`search` work without --index."""
    env = os.environ.get("CLIPLENS_INDEX")
    return Path(env).expanduser() if env else cache_dir() / "index"


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


@dataclass
class AddReport:
    """What one `Index.add` did (counts of files), and the files it could not read."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    cached: int = 0  # of `embedded`, how many came from the embedding cache
    errors: list[ImageLoadError] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["errors"] = [{"file": e.source, "reason": e.reason} for e in self.errors]
        return d


@dataclass
class _Scanned:
    path: str
    size: int
    mtime: float
    old: FileEntry | None  # the row this path had, if any


# An embedder turns file paths into (path, hash, width, height, vector) rows plus errors, batch by batch.
EmbedBatch = tuple[list[str], list[str], list[tuple[int, int]], np.ndarray, list[ImageLoadError]]
Embedder = Callable[[list[str]], Iterator[EmbedBatch]]

_COLS = "id, path, size, mtime, hash, width, height"


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # noqa: BLE001  (the embedder reports unreadable files)
        return 0, 0


class Index:
    """A folder of images made searchable; see the module docstring for the on-disk format."""

    def __init__(self, root: Path, manifest: dict, ann: str = "auto"):
        self.root = Path(root)
        self.manifest = manifest
        self.dim = int(manifest["dim"])
        self.model = manifest["model"]
        self.fingerprint = manifest["fingerprint"]
        self._local = threading.local()
        self._init_db()
        self.ann = ann if ann != "auto" else manifest.get("ann", "auto")
        self.store: VectorStore = open_store(manifest.get("store", "embedded"), self.root, self.dim,
                                             name=manifest.get("collection", "cliplens"), ann=self.ann)
        self._encoder = None
        self._lock_fd: int | None = None
        self._lock_depth = 0

    # -- creation / opening ----------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, encoder, store: str = "embedded", ann: str = "auto") -> "Index":
        root = Path(root)
        if (root / MANIFEST).exists():
            raise InvalidInputError(f"{root} already holds an index")
        if root.exists() and not root.is_dir():
            raise InvalidInputError(f"{root} is a file; give a folder for the index")
        ours = {"meta.sqlite", "vectors.sqlite", "write.lock", "vectors.db"}
        if root.is_dir() and any(not (p.name in ours or p.name.startswith(("meta.sqlite-", "vectors.sqlite-", "."))
                                      ) for p in root.iterdir()):
            raise InvalidInputError(f"{root} holds other files and no index; give a new or empty folder for --index "
                                    "(not the image folder itself)")
        root.mkdir(parents=True, exist_ok=True)
        manifest = {"format": FORMAT_VERSION, "model": encoder.name, "fingerprint": encoder.fingerprint,
                    "dim": int(encoder.embed_dim), "store": store or "embedded", "ann": ann,
                    "collection": "cliplens_" + uuid.uuid4().hex[:12], "created": time.time()}
        idx = cls(root, manifest, ann=ann)  # opens the store first: a bad store URI leaves no manifest
        atomic_write_bytes(root / MANIFEST, json.dumps(manifest, indent=2).encode())
        idx._encoder = encoder
        return idx

    @property
    def encoder(self):
        """The index's model, loaded on first use (cached per process by `load_encoder`)."""
        if self._encoder is None:
            from ..models import load_encoder

            enc = load_encoder(self.model)
            self._check_model(enc)
            self._encoder = enc
        return self._encoder

    def _check_model(self, enc) -> None:
        if enc.fingerprint != self.fingerprint:
            raise ModelMismatchError(
                f"index {self.root} was built with model '{self.model}' (fingerprint {self.fingerprint}); "
                f"'{enc.name}' (fingerprint {enc.fingerprint}) embeds into a different space. "
                f"Use --model {self.model}, or give another --index folder for this model.")
        if int(enc.embed_dim) != self.dim:
            raise ModelMismatchError(f"index {self.root} holds {self.dim}-d vectors; '{enc.name}' makes "
                                     f"{enc.embed_dim}-d ones")

    def use_encoder(self, enc) -> None:
        """Use an already-loaded encoder (refused unless it is the index's model)."""
        self._check_model(enc)
        self._encoder = enc

    # -- metadata database ------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.root / "meta.sqlite", timeout=60, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    def _init_db(self) -> None:
        con = self._con()
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
    def _txn(self) -> Iterator[sqlite3.Connection]:
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def _reserve_ids(self, n: int) -> np.ndarray:
        with self._txn() as con:
            start = int(con.execute("SELECT value FROM state WHERE key='next_id'").fetchone()[0])
            con.execute("UPDATE state SET value = ? WHERE key='next_id'", (start + n,))
        return np.arange(start, start + n, dtype=np.int64)

    def entries(self, where: str = "1", args: Sequence = ()) -> list[FileEntry]:
        """File rows matching a SQL condition (all by default), ordered by path."""
        rows = self._con().execute(f"SELECT {_COLS} FROM files WHERE {where} ORDER BY path", list(args)).fetchall()
        return [FileEntry(*r) for r in rows]

    def entries_by_id(self, ids: Iterable[int]) -> dict[int, FileEntry]:
        ids = [int(i) for i in ids]
        out: dict[int, FileEntry] = {}
        for s in range(0, len(ids), 900):
            part = ids[s : s + 900]
            q = f"SELECT {_COLS} FROM files WHERE id IN ({','.join('?' * len(part))})"
            for r in self._con().execute(q, part):
                out[r[0]] = FileEntry(*r)
        return out

    def file_ids(self, filters: Filters | None = None) -> np.ndarray:
        where, args = (filters or Filters()).to_sql()
        rows = self._con().execute(f"SELECT id FROM files WHERE {where} ORDER BY id", args).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def __len__(self) -> int:
        return int(self._con().execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def roots(self) -> list[str]:
        return [r[0] for r in self._con().execute("SELECT path FROM roots ORDER BY path")]

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock (one writer at a time; re-entrant) and clean up orphans."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        fd = os.open(self.root / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise IndexBusyError(f"index {self.root} is being written by another process (pid {holder}); "
                                 "wait for it to finish, or use another --index") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd, self._lock_depth = fd, 1
        try:
            self.reconcile()
            yield
            self.store.flush()
        finally:
            self._lock_depth = 0
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def reconcile(self) -> dict[str, int]:
        """Make store and metadata agree: drop orphan vectors, forget rows whose vector is missing."""
        in_store = self.store.ids()
        in_meta = self.file_ids()
        orphans = np.setdiff1d(in_store, in_meta, assume_unique=True)
        missing = np.setdiff1d(in_meta, in_store, assume_unique=True)
        if len(orphans):
            self.store.remove(orphans)
        if len(missing):  # only possible if the store lost data; the files get re-added by the next scan
            with self._txn() as con:
                con.executemany("DELETE FROM files WHERE id = ?", [(int(i),) for i in missing])
        return {"orphans": int(len(orphans)), "missing": int(len(missing))}

    def _scan(self, roots: list[Path]) -> tuple[list[_Scanned], dict[str, FileEntry], list[ImageLoadError]]:
        """Files on disk under `roots` (by content) vs rows in the index under the same roots."""
        found: dict[str, Path] = {}
        errors: list[ImageLoadError] = []
        existing: dict[str, FileEntry] = {}
        for r in roots:
            clause, args = folder_clause(r)
            for e in self.entries(clause, args):
                existing[e.path] = e
            if r.exists():
                for f in find_images([r]):
                    found.setdefault(str(f), f)
        scanned: list[_Scanned] = []
        for p in sorted(found):
            try:
                st = os.stat(p)
            except OSError as exc:
                errors.append(ImageLoadError(p, f"cannot stat ({exc.strerror})"))
                continue
            scanned.append(_Scanned(p, int(st.st_size), st.st_mtime, existing.pop(p, None)))
        return scanned, existing, errors  # `existing` now holds only rows whose file is gone

    def add(self, paths: Iterable[str | os.PathLike], batch_size: int = 64, progress: bool = True,
            use_cache: bool = True, embedder: Embedder | None = None) -> AddReport:
        """Index new and changed images under `paths`; forget deleted ones; recognise moves by hash.

        Commits every `batch_size` files, so an interrupted run keeps what it finished.

        >>> idx.add(["photos/"]).to_dict()["added"]                    # doctest: +SKIP
        120
        """
        t0 = time.perf_counter()
        roots = [Path(p).expanduser().resolve() for p in paths]
        if not roots:
            raise InvalidInputError("give at least one image file or folder to index")
        for r in roots:
            if not r.exists():
                raise ImageLoadError(str(r), "no such file or folder")
        report = AddReport()
        with self.writing():
            with self._txn() as con:
                con.executemany("INSERT OR IGNORE INTO roots VALUES (?)", [(str(r),) for r in roots])
            self._sync(roots, report, batch_size, progress, use_cache, embedder)
        report.seconds = time.perf_counter() - t0
        return report

    def update(self, batch_size: int = 64, progress: bool = True, use_cache: bool = True,
               embedder: Embedder | None = None) -> AddReport:
        """Re-scan every folder added before (new, changed, moved and deleted files)."""
        t0 = time.perf_counter()
        report = AddReport()
        with self.writing():
            roots = [Path(r) for r in self.roots()]
            gone = [r for r in roots if not r.exists()]
            if gone:
                with self._txn() as con:
                    con.executemany("DELETE FROM roots WHERE path = ?", [(str(r),) for r in gone])
            if roots:
                self._sync(roots, report, batch_size, progress, use_cache, embedder)
        report.seconds = time.perf_counter() - t0
        return report

    def _sync(self, roots: list[Path], report: AddReport, batch_size: int, progress: bool, use_cache: bool,
              embedder: Embedder | None) -> None:
        scanned, gone, errors = self._scan(roots)
        report.errors += errors
        todo = [s for s in scanned if s.old is None or s.old.size != s.size or s.old.mtime != s.mtime]
        report.unchanged = len(scanned) - len(todo)
        by_path = {s.path: s for s in todo}
        gone_by_hash: dict[str, list[FileEntry]] = {}
        for e in gone.values():
            gone_by_hash.setdefault(e.hash, []).append(e)
        batch_size = max(1, int(batch_size))
        with progress_bar(len(todo), "images", enabled=progress, desc="indexing") as bar:
            if embedder is None:
                batches = self._local_batches([s.path for s in todo], batch_size, use_cache, gone_by_hash, report)
            else:
                batches = embedder([s.path for s in todo])
            for paths, hashes, sizes, vectors, errs in batches:
                report.errors += errs
                if embedder is not None:
                    report.embedded += len(paths)
                self._commit(paths, hashes, sizes, vectors, by_path, gone_by_hash, report)
                bar.update(len(paths) + len(errs))
        leftover = [e for es in gone_by_hash.values() for e in es]
        if leftover:
            with self._txn() as con:
                con.executemany("DELETE FROM files WHERE id = ?", [(e.id,) for e in leftover])
            self.store.remove(np.array([e.id for e in leftover], np.int64))
            report.removed += len(leftover)

    def _local_batches(self, paths: list[str], batch_size: int, use_cache: bool,
                       gone_by_hash: dict[str, list[FileEntry]], report: AddReport) -> Iterator[EmbedBatch]:
        """In-process embedding through `cliplens.embed` (cache included), one commit-sized batch at a time.

        Files whose content the index already holds (moved or copied files) are hashed but not embedded.
        """
        def read(p: str) -> tuple[str, str | None, tuple[int, int], ImageLoadError | None]:
            try:
                data = Path(p).read_bytes()
            except OSError as exc:
                return p, None, (0, 0), ImageLoadError(p, f"cannot read file ({exc.strerror or exc})")
            return p, content_hash(data), _image_size(data), None

        with ThreadPoolExecutor(max_workers=4) as pool:
            for s in range(0, len(paths), batch_size):
                chunk = list(pool.map(read, paths[s : s + batch_size]))
                errs = [e for *_, e in chunk if e is not None]
                ok = [(p, h, wh) for p, h, wh, e in chunk if e is None]
                known = self._known_vectors([h for _, h, _ in ok], gone_by_hash)
                to_embed = [p for p, h, _ in ok if h not in known]
                fresh: dict[str, tuple[str, np.ndarray]] = {}
                if to_embed:
                    res = embed_images(self.encoder, to_embed, batch_size=batch_size, use_cache=use_cache,
                                       progress=False)
                    errs += res.errors
                    report.cached += res.cached
                    for p, h, v in zip(res.paths, res.hashes, res.vectors):
                        fresh[p] = (h, v)
                out_p, out_h, out_wh, out_v = [], [], [], []
                for p, h, wh in ok:
                    if p in fresh:
                        h, v = fresh[p]
                    elif h in known:
                        v = known[h]
                    else:
                        continue  # failed to decode: reported in errs
                    out_p.append(p)
                    out_h.append(h)
                    out_wh.append(wh)
                    out_v.append(v)
                report.embedded += len(fresh)
                vecs = np.stack(out_v).astype(np.float32) if out_v else np.empty((0, self.dim), np.float32)
                yield out_p, out_h, out_wh, vecs, errs

    def _known_vectors(self, hashes: list[str], gone_by_hash: dict[str, list[FileEntry]]) -> dict[str, np.ndarray]:
        """Vectors the index already has for these contents (from moved-away or copied files)."""
        want = sorted(set(hashes))
        ids: dict[int, str] = {}
        for s in range(0, len(want), 900):
            part = want[s : s + 900]
            q = f"SELECT id, hash FROM files WHERE hash IN ({','.join('?' * len(part))})"
            for i, h in self._con().execute(q, part):
                ids.setdefault(i, h)
        for h in want:
            for e in gone_by_hash.get(h, []):
                ids.setdefault(e.id, h)
        got = self.store.get(np.array(list(ids), np.int64)) if ids else {}
        return {ids[i]: v for i, v in got.items()}

    def _commit(self, paths: list[str], hashes: list[str], sizes: list[tuple[int, int]], vectors: np.ndarray,
                by_path: dict[str, _Scanned], gone_by_hash: dict[str, list[FileEntry]], report: AddReport) -> None:
        """Write one batch: store first, then the rows in one transaction, then drop replaced vectors."""
        moves: list[tuple[FileEntry, _Scanned, tuple[int, int]]] = []
        touches: list[tuple[int, _Scanned]] = []
        fresh: list[tuple[str, str, tuple[int, int], np.ndarray, _Scanned]] = []
        for p, h, wh, v in zip(paths, hashes, sizes, vectors):
            s = by_path[p]
            if s.old is not None and s.old.hash == h:
                touches.append((s.old.id, s))  # same content, new mtime
            elif gone_by_hash.get(h):
                moves.append((gone_by_hash[h].pop(), s, wh))
            else:
                fresh.append((p, h, wh, v, s))
        new_ids = self._reserve_ids(len(fresh)) if fresh else np.empty(0, np.int64)
        if fresh:
            self.store.add(new_ids, np.stack([f[3] for f in fresh]))
        replaced: list[int] = []
        now = time.time()
        with self._txn() as con:
            for fid, s in touches:
                con.execute("UPDATE files SET size = ?, mtime = ? WHERE id = ?", (s.size, s.mtime, fid))
            for old, s, wh in moves:
                if s.old is not None:  # the path held other content before: that row goes
                    con.execute("DELETE FROM files WHERE id = ?", (s.old.id,))
                    replaced.append(s.old.id)
                con.execute("UPDATE files SET path = ?, size = ?, mtime = ?, width = ?, height = ? WHERE id = ?",
                            (s.path, s.size, s.mtime, wh[0], wh[1], old.id))
            for fid, (p, h, wh, _, s) in zip(new_ids, fresh):
                if s.old is not None:
                    con.execute("DELETE FROM files WHERE id = ?", (s.old.id,))
                    replaced.append(s.old.id)
                con.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (int(fid), p, s.size, s.mtime, h, wh[0], wh[1], now))
        if replaced:
            self.store.remove(np.array(replaced, np.int64))
        report.updated += len(touches) + sum(1 for f in fresh if f[4].old is not None)
        report.added += sum(1 for f in fresh if f[4].old is None)
        report.moved += len(moves)

    def remove(self, paths: Iterable[str | os.PathLike]) -> int:
        """Forget files (or everything below folders), whether or not they still exist on disk."""
        total = 0
        with self.writing():
            for p in paths:
                clause, args = folder_clause(p)
                ids = [e.id for e in self.entries(clause, args)]
                with self._txn() as con:
                    con.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in ids])
                    con.execute(f"DELETE FROM roots WHERE {clause}", args)
                self.store.remove(np.array(ids, np.int64))
                total += len(ids)
        return total

    # -- reading ---------------------------------------------------------------------------------
    def info(self) -> dict:
        """Counts, model, store and disk use (for `cliplens index info`)."""
        con = self._con()
        n, total_bytes = con.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files").fetchone()
        disk = sum(f.stat().st_size for f in self.root.iterdir() if f.is_file())
        return {"index": str(self.root), "model": self.model, "fingerprint": self.fingerprint, "dim": self.dim,
                "store": self.manifest.get("store", "embedded"), "images": int(n), "image_bytes": int(total_bytes),
                "vectors": int(self.store.count()), "roots": self.roots(), "index_disk_bytes": int(disk),
                "search": _search_kind(self)}

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Vectors of `ids` in that order (KeyError-free: missing ids raise a clear error)."""
        got = self.store.get(ids)
        missing = [int(i) for i in ids if int(i) not in got]
        if missing:
            raise CliplensError(f"{len(missing)} vectors are missing from the store; run `cliplens index update`")
        return np.stack([got[int(i)] for i in ids]) if len(ids) else np.empty((0, self.dim), np.float32)

    def close(self) -> None:
        self.store.close()
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _search_kind(idx: Index) -> str:
    from .embedded import EXACT_LIMIT, EmbeddedStore

    if isinstance(idx.store, EmbeddedStore):
        mode = idx.store.ann_mode
        if mode == "auto":
            mode = "ivf" if idx.store.count() >= EXACT_LIMIT else "exact"
        return mode
    return "milvus"


def open_index(path: str | os.PathLike | None = None, model: str | None = None, create: bool = False,
               store: str | None = None, ann: str = "auto", encoder=None) -> Index:
    """Open an index folder (or create it with `create=True`, which needs a model).

    `model`/`encoder`, when given for an existing index, must be the model it was built with;
    anything else raises `ModelMismatchError` with what to do.

    >>> idx = open_index("photos.idx", model="toyclip", create=True)   # doctest: +SKIP
    """
    root = Path(path).expanduser() if path else default_index_dir()
    man = root / MANIFEST
    if man.exists():
        try:
            manifest = json.loads(man.read_text())
        except (OSError, ValueError) as exc:
            raise CliplensError(f"{man} is unreadable ({exc}); the folder is not a usable index") from None
        if int(manifest.get("format", 0)) > FORMAT_VERSION:
            raise CliplensError(f"{root} was written by a newer cliplens (format {manifest.get('format')})")
        if store and store != manifest.get("store", "embedded"):
            raise InvalidInputError(f"index {root} uses store {manifest.get('store')!r}, not {store!r}; "
                                    "a store is chosen when the index is created")
        idx = Index(root, manifest, ann=ann)
        if encoder is not None:
            idx.use_encoder(encoder)
        elif model is not None and model != idx.model:
            from ..models import load_encoder

            idx.use_encoder(load_encoder(model))
        return idx
    if not create:
        raise InvalidInputError(f"no index at {root}; create one with `cliplens index add FOLDER --index {root}`")
    if encoder is None:
        from ..models import load_encoder
        from ..models.spec import DEFAULT_MODEL

        encoder = load_encoder(model or DEFAULT_MODEL)
    return Index.create(root, encoder, store=store or "embedded", ann=ann)
