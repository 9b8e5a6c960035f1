"""Near-duplicates: images whose embeddings are closer than a threshold, grouped transitively.

Pairs above `threshold` are edges; groups are the connected components (so A~B and B~C put
A, B, C together even if A and C are a bit further apart). In each group one file is kept:
the most pixels, then the largest file, then the oldest, then the shortest path.
Moving/deleting the others is a dry run unless asked.

    >>> result = dedupe(idx, threshold=0.95)                             # doctest: +SKIP
    >>> result.to_dict()["groups"][0]["keep"]                           # doctest: +SKIP
    '/photos/star.png'
    >>> apply_duplicates(idx, groups, action="move", to="dupes/", dry_run=False)  # doctest: +SKIP
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import defaults
from ..errors import InvalidInputError
from ..progress import progress_bar
from ..results import Result
from .filters import Filters
from .index import FileEntry, Index

#: up to this many images, all pairs are compared exactly (blockwise); above it, k-NN through the store
EXACT_PAIRS_LIMIT = 30_000


@dataclass
class DuplicateGroup:
    """One group: `keep` plus the near-copies, each with its similarity to `keep`."""

    keep: FileEntry
    others: list[tuple[FileEntry, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"keep": self.keep.path, "keep_id": self.keep.id,
                "duplicates": [{"path": e.path, "id": e.id, "similarity": round(float(s), 5)} for e, s in self.others]}


@dataclass
class DedupeResult(Result):
    """Near-duplicate groups of an index (largest first) and how many files could go."""

    groups: list[DuplicateGroup] = field(default_factory=list)
    duplicates: int = 0  # files in groups that are not the kept one
    threshold: float = defaults.DEDUPE_THRESHOLD
    images: int = 0  # images compared


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _pairs_exact(vecs: np.ndarray, threshold: float, progress: bool) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    n = len(vecs)
    block = 2048
    with progress_bar(n, "images", enabled=progress, desc="comparing") as bar:
        for s in range(0, n, block):
            sims = vecs[s : s + block] @ vecs.T
            rows, cols = np.nonzero(sims >= threshold)
            for r, c in zip(rows.tolist(), cols.tolist()):
                if c > s + r:
                    pairs.append((s + r, c))
            bar.update(min(block, n - s))
    return pairs


def _pairs_knn(index: Index, ids: np.ndarray, vecs: np.ndarray, threshold: float, k: int,
               progress: bool) -> list[tuple[int, int]]:
    pos = {int(i): j for j, i in enumerate(ids)}
    pairs: list[tuple[int, int]] = []
    with progress_bar(len(ids), "images", enabled=progress, desc="comparing") as bar:
        for s in range(0, len(ids), 1024):
            res = index.store.search(vecs[s : s + 1024], k + 1, allow=ids if len(ids) < index.store.count() else None)
            for r, nb in enumerate(res):
                for i, sc in zip(nb.ids.tolist(), nb.scores.tolist()):
                    j = pos.get(int(i))
                    if j is not None and j != s + r and sc >= threshold:
                        pairs.append((s + r, j))
            bar.update(len(res))
    return pairs


def _keep_key(e: FileEntry) -> tuple:
    return (-(e.width * e.height), -e.size, e.mtime, len(e.path), e.path)


def dedupe(index: Index, *, threshold: float = defaults.DEDUPE_THRESHOLD, filters: Filters | None = None,
           progress: bool = False) -> DedupeResult:
    """The one library call behind `cliplens dedupe` and `/api/dedupe`: groups, nothing moved.

    >>> dedupe(idx, threshold=0.95).duplicates                           # doctest: +SKIP
    3
    """
    groups = find_duplicates(index, threshold=threshold, filters=filters, progress=progress)
    return DedupeResult(groups=groups, duplicates=sum(len(g.others) for g in groups), threshold=float(threshold),
                        images=int(len(index.file_ids(filters))))


def find_duplicates(index: Index, threshold: float = defaults.DEDUPE_THRESHOLD, filters: Filters | None = None, k: int = 16,
                    progress: bool = True) -> list[DuplicateGroup]:
    """Groups of near-duplicate images in the index (largest groups first).

    `threshold` is a cosine similarity: ~0.95+ for resized/recompressed copies with real CLIP
    models; lower values also group crops and variations. `k` bounds neighbours per image
    on the approximate path (indexes above `EXACT_PAIRS_LIMIT` images).
    """
    if not -1.0 <= threshold <= 1.0:
        raise InvalidInputError(f"threshold {threshold}: a cosine similarity lies in [-1, 1]")
    ids = index.file_ids(filters)
    if len(ids) < 2:
        return []
    vecs = index.vectors(ids).astype(np.float32)
    if len(ids) <= EXACT_PAIRS_LIMIT:
        pairs = _pairs_exact(vecs, threshold, progress)
    else:
        pairs = _pairs_knn(index, ids, vecs, threshold, k, progress)
    uf = _UnionFind(len(ids))
    for a, b in pairs:
        uf.union(a, b)
    comps: dict[int, list[int]] = {}
    for a, b in pairs:
        for x in (a, b):
            comps.setdefault(uf.find(x), [])
    for x in sorted({x for ab in pairs for x in ab}):
        comps[uf.find(x)].append(x)
    entries = index.entries_by_id(ids.tolist())
    groups: list[DuplicateGroup] = []
    for members in comps.values():
        es = [(entries[int(ids[m])], m) for m in members if int(ids[m]) in entries]
        if len(es) < 2:
            continue
        es.sort(key=lambda t: _keep_key(t[0]))
        keep, km = es[0]
        sims = vecs[[m for _, m in es[1:]]] @ vecs[km]
        others = sorted(zip([e for e, _ in es[1:]], sims.tolist()), key=lambda t: -t[1])
        groups.append(DuplicateGroup(keep, others))
    groups.sort(key=lambda g: (-len(g.others), g.keep.path))
    return groups


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = Path(name).stem, Path(name).suffix, 1
    while target.exists():
        target = folder / f"{stem}.{n}{suffix}"
        n += 1
    return target


def apply_duplicates(index: Index, groups: list[DuplicateGroup], action: str = "report", to: str | os.PathLike | None = None,
                     dry_run: bool = True) -> list[dict]:
    """Plan (or, with dry_run=False, do) moving or deleting every non-kept file; returns the actions.

    Moved/deleted files leave the index. `action`: "report" (nothing), "move" (needs `to`), "delete".
    """
    if action not in ("report", "move", "delete"):
        raise InvalidInputError(f"action {action!r}: use report, move or delete")
    if action == "move" and not to:
        raise InvalidInputError("moving duplicates needs a destination folder (to=...)")
    plan: list[dict] = []
    if action == "report":
        return plan
    dest = Path(to).expanduser().resolve() if to else None
    for g in groups:
        for e, sim in g.others:
            plan.append({"action": action, "path": e.path, "keep": g.keep.path, "similarity": round(float(sim), 5),
                         "to": None, "done": False})
    if dry_run:
        if dest is not None:
            for p in plan:
                p["to"] = str(dest / Path(p["path"]).name)
        return plan
    done_paths: list[str] = []
    with index.writing():
        if dest is not None:
            dest.mkdir(parents=True, exist_ok=True)
        for p in plan:
            src = Path(p["path"])
            if not src.exists():
                p["error"] = "file no longer exists"
                continue
            if action == "move":
                target = _free_name(dest, src.name)
                shutil.move(str(src), target)
                p["to"] = str(target)
            else:
                src.unlink()
            p["done"] = True
            done_paths.append(p["path"])
        if done_paths:
            index.remove(done_paths)
    return plan
