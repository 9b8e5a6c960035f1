"""An index folder: the facade over its catalog (file rows), vector store, write lock and sync.

Layout of ``<index>/``::

    index.json      manifest: model spec + fingerprint, dim, store URI, collection name
    meta.sqlite     the catalog (`catalog.py`): files(id, path, size, mtime, hash, width, height), roots
    vectors.sqlite  (embedded store) vectors; ann.ivf / ann.usearch: the derived search structure
    write.lock      held (filelock) by the one process that writes; write.pid names it

Crash safety comes from the order of writes, each one atomic on its own (see `sync.py`):
(1) reserve ids in the catalog, (2) write vectors to the store, (3) commit the file rows,
(4) remove replaced vectors. A kill between any two steps leaves vectors nobody points at
("orphans"), never a file row without its vector; the next writer deletes orphans before it
starts, and a file that was not committed is simply seen as new again. Readers drop hits
whose id has no file row, so they never show a half-written state.

    >>> idx = open_index("photos.idx", model="toyclip", create=True)   # doctest: +SKIP
    >>> idx.add(["photos/"]).added                                      # doctest: +SKIP
    120
"""
from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import CliplensError, ImageLoadError, InvalidInputError
from ..settings import atomic_write_bytes, cache_dir
from .catalog import Catalog, FileEntry
from .filters import Filters
from .lock import LOCK_FILE, PID_FILE, IndexBusyError, WriteLock
from .store import VectorStore
from .stores import open_store
from .sync import AddReport, EmbedBatch, Embedder, sync

__all__ = ["AddReport", "EmbedBatch", "Embedder", "FileEntry", "Index", "IndexBusyError", "MANIFEST",
           "ModelMismatchError", "default_index_dir", "open_index"]

MANIFEST = "index.json"
FORMAT_VERSION = 1
_OURS = {"meta.sqlite", "vectors.sqlite", LOCK_FILE, PID_FILE, "vectors.db"}


class ModelMismatchError(CliplensError):
    """The index was built with another model: its vectors are meaningless for this one."""


def default_index_dir() -> Path:
    """`CLIPLENS_INDEX`, else ``<cache>/index``: where `cliplens index`/`search` work without --index."""
    env = os.environ.get("CLIPLENS_INDEX")
    return Path(env).expanduser() if env else cache_dir() / "index"


class Index:
    """A folder of images made searchable; see the module docstring for the on-disk format."""

    def __init__(self, root: Path, manifest: dict, ann: str = "auto"):
        self.root = Path(root)
        self.manifest = manifest
        self.dim = int(manifest["dim"])
        self.model = manifest["model"]
        self.fingerprint = manifest["fingerprint"]
        self.catalog = Catalog(self.root / "meta.sqlite")
        self.ann = ann if ann != "auto" else manifest.get("ann", "auto")
        self.store: VectorStore = open_store(manifest.get("store", "embedded"), self.root, self.dim,
                                             name=manifest.get("collection", "cliplens"), ann=self.ann)
        self._encoder = None
        self._lock = WriteLock(self.root)

    # -- creation / model ------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, encoder, store: str = "embedded", ann: str = "auto") -> "Index":
        root = Path(root)
        if (root / MANIFEST).exists():
            raise InvalidInputError(f"{root} already holds an index")
        if root.exists() and not root.is_dir():
            raise InvalidInputError(f"{root} is a file; give a folder for the index")
        if root.is_dir() and any(not (p.name in _OURS or p.name.startswith(("meta.sqlite-", "vectors.sqlite-", ".")))
                                 for p in root.iterdir()):
            raise InvalidInputError(f"{root} holds other files and no index; give a new or empty folder for the index "
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

            self.use_encoder(load_encoder(self.model))
        return self._encoder

    @property
    def bound_encoder(self):
        """The encoder bound to this index, or None if none is loaded yet (never loads one)."""
        return self._encoder

    def accepts(self, enc) -> bool:
        """Does `enc` embed into this index's space (same weights, same dimension)?"""
        return enc.fingerprint == self.fingerprint and int(enc.embed_dim) == self.dim

    def _check_model(self, enc) -> None:
        if enc.fingerprint != self.fingerprint:
            raise ModelMismatchError(
                f"index {self.root} was built with model '{self.model}' (fingerprint {self.fingerprint}); "
                f"'{enc.name}' (fingerprint {enc.fingerprint}) embeds into a different space. "
                f"Use model {self.model!r}, or another index folder for this model.")
        if int(enc.embed_dim) != self.dim:
            raise ModelMismatchError(f"index {self.root} holds {self.dim}-d vectors; '{enc.name}' makes "
                                     f"{enc.embed_dim}-d ones")

    def use_encoder(self, enc) -> None:
        """Use an already-loaded encoder (refused unless it is the index's model)."""
        self._check_model(enc)
        self._encoder = enc

    def bind_encoder(self, candidates: Iterable = (), load: Callable[[str], object] | None = None):
        """Bind (once) and return this index's encoder: the first of `candidates` with the index's
        weights, else `load(self.model)` (default: `load_encoder`). What a server uses to share one
        loaded model between its routes and its indexes.

        >>> enc = idx.bind_encoder([served_encoder], load=my_loader)     # doctest: +SKIP
        """
        if self._encoder is not None:
            return self._encoder
        for enc in candidates:
            if enc is not None and self.accepts(enc):
                self._encoder = enc
                return enc
        if load is None:
            return self.encoder
        self.use_encoder(load(self.model))
        return self._encoder

    # -- reading ---------------------------------------------------------------------------
    def entries(self, where: str = "1", args: Sequence = ()) -> list[FileEntry]:
        """File rows matching a SQL condition (all by default), ordered by path."""
        return self.catalog.entries(where, args)

    def entries_by_id(self, ids: Iterable[int]) -> dict[int, FileEntry]:
        return self.catalog.entries_by_id(ids)

    def file_ids(self, filters: Filters | None = None) -> np.ndarray:
        return self.catalog.file_ids(filters)

    def __len__(self) -> int:
        return len(self.catalog)

    def roots(self) -> list[str]:
        return self.catalog.roots()

    def info(self) -> dict:
        """Counts, model, store and disk use (for `cliplens index info`)."""
        n, total_bytes = self.catalog.totals()
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

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock (one writer at a time; re-entrant) and clean up orphans."""
        if self._lock.held:
            with self._lock:
                yield
            return
        with self._lock:
            self.reconcile()
            yield
            self.store.flush()

    def reconcile(self) -> dict[str, int]:
        """Make store and catalog agree: drop orphan vectors, forget rows whose vector is missing."""
        in_store = self.store.ids()
        in_meta = self.file_ids()
        orphans = np.setdiff1d(in_store, in_meta, assume_unique=True)
        missing = np.setdiff1d(in_meta, in_store, assume_unique=True)
        if len(orphans):
            self.store.remove(orphans)
        if len(missing):  # only possible if the store lost data; the files get re-added by the next scan
            self.catalog.delete(missing.tolist())
        return {"orphans": int(len(orphans)), "missing": int(len(missing))}

    def add(self, paths: Iterable[str | os.PathLike], batch_size: int = 64, progress: bool = True,
            use_cache: bool = True, embedder: Embedder | None = None) -> AddReport:
        """Index new and changed images under `paths`; forget deleted ones; recognise moves by hash.

        Commits every `batch_size` files, so an interrupted run keeps what it finished. Files that
        cannot be read or decoded are listed in `report.errors` (one `ItemError` each).

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
        report = AddReport(index=str(self.root))
        with self.writing():
            self.catalog.add_roots(roots)
            sync(self, roots, report, batch_size=batch_size, progress=progress, use_cache=use_cache,
                 embedder=embedder)
        report.images = len(self)
        report.seconds = time.perf_counter() - t0
        return report

    def update(self, batch_size: int = 64, progress: bool = True, use_cache: bool = True,
               embedder: Embedder | None = None) -> AddReport:
        """Re-scan every folder added before (new, changed, moved and deleted files)."""
        t0 = time.perf_counter()
        report = AddReport(index=str(self.root))
        with self.writing():
            roots = [Path(r) for r in self.roots()]
            gone = [r for r in roots if not r.exists()]
            if gone:
                self.catalog.forget_roots(gone)
            if roots:
                sync(self, roots, report, batch_size=batch_size, progress=progress, use_cache=use_cache,
                     embedder=embedder)
        report.images = len(self)
        report.seconds = time.perf_counter() - t0
        return report

    def remove(self, paths: Iterable[str | os.PathLike]) -> int:
        """Forget files (or everything below folders), whether or not they still exist on disk."""
        total = 0
        with self.writing():
            for p in paths:
                ids = self.catalog.remove_under(p)
                self.store.remove(np.array(ids, np.int64))
                total += len(ids)
        return total

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

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
        raise InvalidInputError(f"no index at {root}; create one by adding images to it (`cliplens index add FOLDER`)")
    if encoder is None:
        from ..models import load_encoder
        from ..models.spec import DEFAULT_MODEL

        encoder = load_encoder(model or DEFAULT_MODEL)
    return Index.create(root, encoder, store=store or "embedded", ann=ann)
