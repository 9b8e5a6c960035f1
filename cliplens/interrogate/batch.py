"""Interrogate a folder: one prompt per image as .txt sidecars, CSV or JSONL; resumable; two passes.

Pass 1 captions every image that needs one and appends each batch to a caption cache
(``<cache>/captions/<captioner fingerprint>.jsonl``, keyed by file content); the caption model is
then released, and pass 2 does all the CLIP work, so only one model sits on the GPU at a time.
Every result is written as soon as it exists (sidecars atomically, JSONL/CSV rows appended and
flushed), so an interrupted run loses at most the batch in flight; re-running skips what is done.
Sidecars go through `cliplens.io`: named from the full file name (``a.png.txt``), so ``a.png`` and
``a.jpg`` never share one and an input file is never a sidecar; a file cliplens did not write is
never replaced (it becomes an error of that image). Each image's prompt comes from
`interrogate.interrogate`, the call the CLI and HTTP API make for one image.

    >>> from cliplens.interrogate import Interrogator
    >>> from cliplens.interrogate.batch import interrogate_folder
    >>> s = interrogate_folder(Interrogator("toyclip"), ["shots/"], mode="fast")   # doctest: +SKIP
    >>> s.done, s.skipped, s.errors                                               # doctest: +SKIP
    (120, 0, [])
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import defaults as D
from ..errors import ImageLoadError, InvalidInputError
from ..images import content_hash, find_images, load_image
from ..io import plan_sidecars, sidecar_path, write_sidecar
from ..progress import progress_bar
from ..results import ItemError, Result
from ..settings import cache_dir
from .api import interrogate
from .interrogator import InterrogateResult, Interrogator

FORMATS = ("txt", "jsonl", "csv")
CSV_FIELDS = ["file", "mode", "prompt", "similarity", "caption", "tokens"]


@dataclass
class BatchSummary(Result):
    """What a folder run did: counts, where the output went, and each file it could not read or
    write (`errors`: ItemError(index in the run's file list, path, reason))."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    captioned: int = 0
    captions_cached: int = 0
    out: str = ""


class CaptionCache:
    """Append-only JSONL of {hash: caption} for one captioner; a torn last line is ignored."""

    def __init__(self, fingerprint: str, root: Path | None = None):
        self.path = (root or cache_dir() / "captions") / f"{fingerprint}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.data: dict[str, str] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                    self.data[row["h"]] = row["c"]
                except (ValueError, KeyError, TypeError):
                    continue

    def put(self, items: dict[str, str]) -> None:
        if not items:
            return
        _ensure_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as fh:
            for h, c in items.items():
                fh.write(json.dumps({"h": h, "c": c}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.data.update(items)


def _ensure_newline(path: Path) -> None:
    """Cut a torn last line (from a killed run) so appended rows stay parseable."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        cut = data.rfind(b"\n")
        with open(path, "r+b") as fh:
            fh.truncate(cut + 1 if cut >= 0 else 0)


def _sidecar(img: Path, roots: list[Path], out: Path | None) -> Path:
    return sidecar_path(img, ".txt", out_dir=out, roots=[r for r in roots if r.is_dir()])


def _done_rows(path: Path, fmt: str, mode: str) -> set[str]:
    if not path.is_file():
        return set()
    _ensure_newline(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    done: set[str] = set()
    if fmt == "jsonl":
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if row.get("mode") == mode and "file" in row:
                done.add(row["file"])
    else:
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("mode") == mode and row.get("file"):
                done.add(row["file"])
    return done


def interrogate_folder(interrogator: Interrogator, inputs: Sequence[str | os.PathLike], mode: str = "best", *,
                       fmt: str = "txt", out: str | os.PathLike | None = None, resume: bool = True,
                       caption: str | None = None, min_flavors: int = D.INTERROGATE_MIN_FLAVORS,
                       max_flavors: int | None = None, min_confidence: float | None = D.INTERROGATE_MIN_CONFIDENCE,
                       progress: bool = False, on_result: Callable[[Path, InterrogateResult], None] | None = None
                       ) -> BatchSummary:
    """Interrogate every image under `inputs` and write one prompt per image.

    fmt: ``txt`` (sidecar ``name.png.txt`` next to each image, or under `out` mirroring the folders),
    ``jsonl`` or ``csv`` (one file, `out`, default ``interrogate-<mode>.<fmt>`` in the first folder).
    `resume`: skip images whose output already exists (False: redo and overwrite/append).
    `on_result(path, result)` is called after each image is written.
    """
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown output format {fmt!r}; use one of: {', '.join(FORMATS)}")
    roots = [Path(p) for p in inputs]
    files = find_images(roots)
    summary = BatchSummary(total=len(files))
    if fmt == "txt":
        out_path = Path(out) if out is not None else None
        if out_path is not None and out_path.exists() and not out_path.is_dir():
            raise InvalidInputError(f"out {out_path} must be a folder for .txt sidecars")
        summary.out = str(out_path) if out_path else "(sidecars next to the images)"
        sides = plan_sidecars(files, ".txt", out_dir=out_path, roots=[r for r in roots if r.is_dir()])
        todo = [f for f, sd in zip(files, sides) if not (resume and sd.is_file())]
    else:
        base = next((r for r in roots if r.is_dir()), roots[0].parent if roots else Path("."))
        out_path = Path(out) if out is not None else base / f"interrogate-{mode}.{fmt}"
        if out_path.is_dir():
            raise InvalidInputError(f"out {out_path} is a folder; give a .{fmt} file")
        if out_path.resolve() in {f.resolve() for f in files}:
            raise InvalidInputError(f"out {out_path} is one of the input images; give another file")
        summary.out = str(out_path)
        done = _done_rows(out_path, fmt, mode) if resume else set()
        todo = [f for f in files if str(f) not in done]
    summary.skipped = len(files) - len(todo)
    index = {f: i for i, f in enumerate(files)}
    if not todo:
        return summary

    # ---- pass 1: captions (then the caption model leaves memory)
    hashes: dict[Path, str] = {}
    captions: dict[Path, str | None] = {f: caption for f in todo}
    if caption is None and interrogator.needs_caption(mode) and interrogator.has_captioner:
        cap = interrogator.captioner
        cache = CaptionCache(cap.fingerprint)
        need = []
        for f in todo:
            try:
                hashes[f] = content_hash(f.read_bytes())
            except OSError as exc:
                summary.errors.append(ItemError(index[f], str(f), f"unreadable ({exc.strerror})"))
                continue
            if hashes[f] in cache.data:
                captions[f] = cache.data[hashes[f]]
                summary.captions_cached += 1
            else:
                need.append(f)
        bs = interrogator.batch_size
        with progress_bar(len(need), "captions", enabled=progress, desc="pass 1/2 captions") as bar:
            for s in range(0, len(need), bs):
                chunk, pil = [], []
                for f in need[s : s + bs]:
                    try:
                        pil.append(load_image(f))
                        chunk.append(f)
                    except ImageLoadError as exc:
                        summary.errors.append(ItemError(index[f], str(f), exc.reason))
                if chunk:
                    got = cap.caption(pil, batch_size=bs)
                    cache.put({hashes[f]: c for f, c in zip(chunk, got)})
                    for f, c in zip(chunk, got):
                        captions[f] = c
                    summary.captioned += len(chunk)
                bar.update(len(need[s : s + bs]))
        interrogator.release_captioner()
    bad = {e.source for e in summary.errors}
    todo = [f for f in todo if str(f) not in bad]

    # ---- pass 2: CLIP work, written as it goes
    if fmt != "txt":
        out_path.parent.mkdir(parents=True, exist_ok=True)
        _ensure_newline(out_path)
        if fmt == "csv" and (not out_path.is_file() or out_path.stat().st_size == 0 or not resume):
            with open(out_path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(CSV_FIELDS)
        elif not resume and fmt == "jsonl":
            out_path.write_text("")
    bs = interrogator.batch_size
    with progress_bar(len(todo), "images", enabled=progress, desc="pass 2/2 prompts") as bar:
        for s in range(0, len(todo), bs):
            chunk, pil = [], []
            for f in todo[s : s + bs]:
                try:
                    pil.append(load_image(f))
                    chunk.append(f)
                except ImageLoadError as exc:
                    summary.errors.append(ItemError(index[f], str(f), exc.reason))
            if not chunk:
                bar.update(len(todo[s : s + bs]))
                continue
            results = interrogate(interrogator, pil, mode=mode, captions=[captions.get(f) for f in chunk],
                                  min_flavors=min_flavors, max_flavors=max_flavors, min_confidence=min_confidence)
            for f, r in zip(chunk, results.results):
                r.image = str(f)
                try:
                    _write(r, f, fmt, roots, out_path)
                except (InvalidInputError, OSError) as exc:
                    reason = str(exc) if isinstance(exc, InvalidInputError) else f"cannot write: {exc.strerror or exc}"
                    summary.errors.append(ItemError(index[f], str(f), reason))
                    bar.update(1)
                    continue
                summary.done += 1
                bar.update(1)
                if on_result is not None:
                    on_result(f, r)
            bar.update(len(todo[s : s + bs]) - len(chunk))
    summary.errors.sort(key=lambda e: e.index)
    return summary


def _write(r: InterrogateResult, f: Path, fmt: str, roots: list[Path], out_path: Path | None) -> None:
    if fmt == "txt":  # replaces only a sidecar cliplens wrote (resume=False); anything else is refused
        write_sidecar(_sidecar(f, roots, out_path), "txt", r.prompt, mode="overwrite")
        return
    with open(out_path, "a", newline="", encoding="utf-8") as fh:
        if fmt == "jsonl":
            row = r.to_dict()
            row["file"] = str(f)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            csv.writer(fh).writerow([str(f), r.mode, r.prompt, f"{r.similarity:.6f}", r.caption or "", r.tokens])
        fh.flush()
