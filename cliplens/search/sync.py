"""Bringing an index up to date with folders on disk: scan, diff against the catalog, embed, commit.

`sync(index, roots, ...)` is what `Index.add` and `Index.update` run under the write lock:

1. scan: every image under the roots (by content) with its size and mtime, versus the rows the
   catalog holds under the same roots; unchanged (size, mtime) files are left alone;
2. embed: each new or changed file is read ONCE; its bytes give the content hash, the pixel
   size and (unless the index or the embedding cache already knows that content) the vector;
3. commit, batch by batch, in the crash-safe order: reserve ids, write vectors to the store,
   commit rows in one transaction, then drop the vectors of replaced rows. Contents that
   vanished from one path and appear at another are moves (same id, no embedding).

Files that cannot be read or decoded become `ItemError`s in the report; the run goes on.

    >>> report = idx.add(["photos/"]); report.added, report.errors      # doctest: +SKIP
    (120, [])
"""
from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..images import find_images
from ..progress import progress_bar
from ..results import ItemError, Result
from .catalog import Catalog, FileEntry
from .store import VectorStore


class IndexLike(Protocol):
    """What sync needs of an index (`cliplens.search.index.Index`; not imported: it imports this module)."""

    catalog: Catalog
    store: VectorStore
    dim: int

    @property
    def encoder(self) -> Any: ...


@dataclass
class AddReport(Result):
    """What one `Index.add` / `Index.update` did (counts of files), and each file it could not use.

    `errors[i].index` is the file's position in the sorted list of files found under the roots.
    """

    index: str = ""
    images: int = 0  # files in the index afterwards
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    cached: int = 0  # of `embedded`, how many came from the embedding cache
    seconds: float = 0.0


@dataclass
class Scanned:
    """One image file found on disk, and the row its path had in the catalog (if any)."""

    pos: int  # position among the files found (for ItemError.index)
    path: str
    size: int
    mtime: float
    old: FileEntry | None


@dataclass
class EmbedBatch:
    """A commit-sized batch of embedded files (row i of `vectors` <-> `paths[i]`), and the failures."""

    paths: list[str]
    hashes: list[str]
    sizes: list[tuple[int, int]]
    vectors: np.ndarray
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    embedded: int = 0  # vectors computed or taken from the cache (not reused from the index)
    cached: int = 0


#: an embedder turns file paths into `EmbedBatch`es (e.g. `cliplens.search.ray_embed.ray_embedder`)
Embedder = Callable[[list[str]], Iterator[EmbedBatch]]


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from an image's header; (0, 0) if Pillow cannot tell."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # noqa: BLE001  (the embedder reports undecodable files)
        return 0, 0


def scan(index: IndexLike, roots: list[Path]) -> tuple[list[Scanned], dict[str, FileEntry], list[tuple[int, str, str]]]:
    """Files on disk under `roots` vs rows under the same roots.

    Returns (found files, rows whose file is gone, errors as (pos, path, reason)).
    """
    found: dict[str, Path] = {}
    existing: dict[str, FileEntry] = {}
    for r in roots:
        for e in index.catalog.entries_under(r):
            existing[e.path] = e
        if r.exists():
            for f in find_images([r]):
                found.setdefault(str(f), f)
    scanned: list[Scanned] = []
    errors: list[tuple[int, str, str]] = []
    for pos, p in enumerate(sorted(found)):
        try:
            st = os.stat(p)
        except OSError as exc:
            errors.append((pos, p, f"cannot stat ({exc.strerror or exc})"))
            continue
        scanned.append(Scanned(pos, p, int(st.st_size), st.st_mtime, existing.pop(p, None)))
    return scanned, existing, errors


def sync(index: IndexLike, roots: list[Path], report: AddReport, *, batch_size: int, progress: bool,
         use_cache: bool, embedder: Embedder | None) -> None:
    """Scan, embed and commit (see the module docstring); counts and errors go into `report`."""
    scanned, gone, scan_errors = scan(index, roots)
    report.errors += [ItemError(pos, p, why) for pos, p, why in scan_errors]
    todo = [s for s in scanned if s.old is None or s.old.size != s.size or s.old.mtime != s.mtime]
    report.unchanged = len(scanned) - len(todo)
    by_path = {s.path: s for s in todo}
    gone_by_hash: dict[str, list[FileEntry]] = {}
    for e in gone.values():
        gone_by_hash.setdefault(e.hash, []).append(e)
    batch_size = max(1, int(batch_size))
    paths = [s.path for s in todo]
    with progress_bar(len(todo), "images", enabled=progress, desc="indexing") as bar:
        if embedder is None:
            batches = local_batches(index, paths, batch_size, use_cache, gone_by_hash)
        else:
            batches = embedder(paths)
        for b in batches:
            report.errors += [ItemError(by_path[p].pos if p in by_path else -1, p, why) for p, why in b.errors]
            report.embedded += b.embedded
            report.cached += b.cached
            commit(index, b, by_path, gone_by_hash, report)
            bar.update(len(b.paths) + len(b.errors))
    report.errors.sort(key=lambda e: e.index)
    leftover = [e for es in gone_by_hash.values() for e in es]
    if leftover:
        index.catalog.delete(e.id for e in leftover)
        index.store.remove(np.array([e.id for e in leftover], np.int64))
        report.removed += len(leftover)


def _read(path: str) -> tuple[bytes | None, str | None]:
    try:
        return Path(path).read_bytes(), None
    except OSError as exc:
        return None, f"cannot read file ({exc.strerror or exc})"


def local_batches(index: IndexLike, paths: list[str], batch_size: int, use_cache: bool,
                  gone_by_hash: dict[str, list[FileEntry]]) -> Iterator[EmbedBatch]:
    """In-process embedding, one commit-sized batch at a time; each file is read once.

    Contents the index already holds (moved or copied files) are hashed but not embedded.
    """
    from ..images import content_hash

    with ThreadPoolExecutor(max_workers=4) as pool:
        for s in range(0, len(paths), batch_size):
            chunk = paths[s : s + batch_size]
            datas = list(pool.map(_read, chunk))
            errors: list[tuple[str, str]] = []
            ok: list[tuple[str, bytes, str]] = []
            for p, (data, why) in zip(chunk, datas):
                if data is None:
                    errors.append((p, why or "cannot read file"))
                else:
                    ok.append((p, data, content_hash(data)))
            known = known_vectors(index, [h for *_, h in ok], gone_by_hash)
            new = [(p, data, h) for p, data, h in ok if h not in known]
            vecs, bad, cached = embed_contents(index.encoder, new, use_cache=use_cache, batch_size=batch_size)
            errors += bad
            out = EmbedBatch([], [], [], np.empty((0, index.dim), np.float32), errors, embedded=len(vecs),
                             cached=cached)
            rows = []
            for p, data, h in ok:
                v = known.get(h)
                if v is None:
                    v = vecs.get(p)
                if v is None:
                    continue  # could not be decoded: reported in errors
                out.paths.append(p)
                out.hashes.append(h)
                out.sizes.append(image_size(data))
                rows.append(v)
            if rows:
                out.vectors = np.stack(rows).astype(np.float32)
            yield out


def embed_contents(encoder, items: list[tuple[str, bytes, str]], *, use_cache: bool,
                   batch_size: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str]], int]:
    """Vectors for in-memory file contents (path, bytes, hash) through the shared images->vectors home
    (`cliplens.embed.image_vectors`: embedding cache, fast path, per-item errors).

    Returns ({path: vector}, [(path, reason)] for contents that do not decode, how many came from the cache).
    """
    if not items:
        return {}, [], 0
    from ..embed import image_vectors

    res = image_vectors(encoder, [data for _, data, _ in items], on_error="skip", use_cache=use_cache,
                        batch_size=batch_size, progress=False)
    vecs = {items[i][0]: v for i, v in zip(res.indices, res.vectors)}
    return vecs, [(items[e.index][0], e.reason) for e in res.errors], int(res.cached)


def known_vectors(index: IndexLike, hashes: list[str], gone_by_hash: dict[str, list[FileEntry]]) -> dict[str, np.ndarray]:
    """Vectors the index already has for these contents (from moved-away or copied files)."""
    ids = index.catalog.ids_by_hash(hashes)
    for h in set(hashes):
        for e in gone_by_hash.get(h, []):
            ids.setdefault(e.id, h)
    got = index.store.get(np.array(list(ids), np.int64)) if ids else {}
    return {ids[i]: v for i, v in got.items()}


def commit(index: IndexLike, batch: EmbedBatch, by_path: dict[str, Scanned], gone_by_hash: dict[str, list[FileEntry]],
           report: AddReport) -> None:
    """Write one batch: store first, then the rows in one transaction, then drop replaced vectors."""
    touches: list[tuple[int, int, float]] = []
    moves: list[tuple[int, int | None, str, int, float, tuple[int, int]]] = []
    fresh: list[tuple[str, str, tuple[int, int], np.ndarray, Scanned]] = []
    for p, h, wh, v in zip(batch.paths, batch.hashes, batch.sizes, batch.vectors):
        s = by_path[p]
        if s.old is not None and s.old.hash == h:
            touches.append((s.old.id, s.size, s.mtime))  # same content, new mtime
        elif gone_by_hash.get(h):
            old = gone_by_hash[h].pop()
            moves.append((old.id, s.old.id if s.old is not None else None, s.path, s.size, s.mtime, wh))
        else:
            fresh.append((p, h, wh, v, s))
    new_ids = index.catalog.reserve_ids(len(fresh)) if fresh else np.empty(0, np.int64)
    if fresh:
        index.store.add(new_ids, np.stack([f[3] for f in fresh]))
    inserts = [(int(fid), s.old.id if s.old is not None else None, p, s.size, s.mtime, h, wh)
               for fid, (p, h, wh, _, s) in zip(new_ids, fresh)]
    replaced = index.catalog.commit_batch(touches, moves, inserts)
    if replaced:
        index.store.remove(np.array(replaced, np.int64))
    report.updated += len(touches) + sum(1 for f in fresh if f[4].old is not None)
    report.added += sum(1 for f in fresh if f[4].old is None)
    report.moved += len(moves)
