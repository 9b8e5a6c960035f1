"""Sidecar files beside images (``.txt`` captions/tags, ``.xmp`` keywords): naming, clashes, ownership.

Three rules keep a user's folder safe:

1. **Named from the full file name.** ``a.png`` -> ``a.png.txt`` / ``a.png.xmp`` (``naming="full"``,
   the default), so ``a.png`` and ``a.jpg`` never share a sidecar. ``naming="stem"`` gives the layout
   LoRA trainers (kohya_ss, OneTrainer) and Adobe apps read (``a.txt`` / ``a.xmp``); there two images
   can map to one sidecar, so a batch is checked first and **refused as a whole, before anything is
   written**, when two images would share a sidecar or a sidecar would land on an input file.
2. **A write never replaces a file cliplens did not write.** Every sidecar cliplens writes is
   recorded, with the SHA-256 of its content, in a small ledger in the same folder
   (``.cliplens-sidecars.jsonl``). ``mode="overwrite"`` replaces an existing file only when the
   ledger says cliplens wrote exactly those bytes; a file the user made, or edited since, is left
   alone and reported as an `ItemError`. ``mode="append"`` (the default) keeps an existing file's
   text verbatim and adds only the missing tags (XMP: merges keywords, keeps other metadata);
   ``mode="skip"`` leaves existing files untouched. A folder ledger (not a cache-dir database) was
   chosen so the record moves with the folder; losing it is safe: overwrites are then refused.
3. **Atomic writes.** Temp file + rename: a crash never leaves half a sidecar.

A batch goes on past a bad item (unreadable, not UTF-8, permission denied) and reports it.

    >>> sidecar_path("shots/a.png")
    PosixPath('shots/a.png.txt')
    >>> sidecar_path("shots/a.png", naming="stem")
    PosixPath('shots/a.txt')
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInputError
from ..results import ItemError, Result
from .atomic import atomic_write_bytes
from .xmp import build_xmp

SIDECAR_MODES = ("append", "overwrite", "skip")
NAMINGS = ("full", "stem")
#: older XMP names for the two layouts (darktable's "extension" = full, Adobe's "basename" = stem)
_NAMING_ALIASES = {"extension": "full", "basename": "stem"}
LEDGER_NAME = ".cliplens-sidecars.jsonl"
#: an existing ".txt" larger than this is not a caption file; cliplens will not touch it
MAX_CAPTION_BYTES = 1 << 20


class SidecarClashError(InvalidInputError):
    """Two inputs would share one sidecar, or a sidecar would replace an input: nothing was written."""


def _naming(naming: str) -> str:
    n = _NAMING_ALIASES.get(naming, naming)
    if n not in NAMINGS:
        raise InvalidInputError(f"naming {naming!r}: use 'full' (a.png.txt) or 'stem' (a.txt)")
    return n


def _check_mode(mode: str) -> None:
    if mode not in SIDECAR_MODES:
        raise InvalidInputError(f"mode {mode!r}: use {', '.join(SIDECAR_MODES)}")


def sidecar_path(image: str | os.PathLike, ext: str = ".txt", *, naming: str = "full",
                 out_dir: str | os.PathLike | None = None, roots: Sequence[str | os.PathLike] = ()) -> Path:
    """Where the `ext` sidecar of `image` goes.

    Beside the image, or under `out_dir` mirroring the image's place below the first of `roots`
    that contains it (just the file name when none does).

    >>> sidecar_path("in/sub/a.jpg", ".xmp", out_dir="out", roots=["in"])
    PosixPath('out/sub/a.jpg.xmp')
    """
    img = Path(image)
    if not ext.startswith("."):
        ext = "." + ext
    rel: Path = img
    if out_dir is not None:
        rel = Path(img.name)
        for r in roots:
            try:
                rel = img.relative_to(r)
                break
            except ValueError:
                continue
        rel = Path(out_dir) / rel
    return rel.with_name(rel.name + ext) if _naming(naming) == "full" else rel.with_suffix(ext)


def find_sidecar(image: str | os.PathLike, ext: str = ".txt") -> Path | None:
    """The existing sidecar of `image` to READ: ``a.png.txt`` first, else ``a.txt``; None if neither.

    Reading both layouts lets cliplens score folders that trainers or older cliplens versions wrote.
    """
    img = Path(image)
    for cand in (sidecar_path(img, ext, naming="full"), sidecar_path(img, ext, naming="stem")):
        if cand != img and cand.is_file():
            return cand
    return None


def _key(p: Path) -> str:
    return os.path.normcase(os.path.abspath(p))


def plan_sidecars(images: Sequence[str | os.PathLike], ext: str = ".txt", *, naming: str = "full",
                  out_dir: str | os.PathLike | None = None, roots: Sequence[str | os.PathLike] = (),
                  inputs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The sidecar path of each image, after checking the whole batch for clashes.

    Raises `SidecarClashError` (nothing written) when two images map to one sidecar, or a sidecar
    would land on one of the images or on any of `inputs` (other files of the same run).
    """
    paths = [sidecar_path(i, ext, naming=naming, out_dir=out_dir, roots=roots) for i in images]
    owner: dict[str, Path] = {}
    for img, side in zip(images, paths):
        k = _key(side)
        if k in owner and _key(owner[k]) != _key(Path(img)):
            raise SidecarClashError(
                f"{owner[k]} and {img} would both write {side} (naming={naming!r}); nothing was written. "
                "Use naming='full' (a.png.txt) or rename one of them")
        owner[k] = Path(img)
    protected = {_key(Path(p)) for p in (*images, *inputs)}
    for img, side in zip(images, paths):
        if _key(side) in protected:
            raise SidecarClashError(f"the sidecar of {img} would replace the input file {side}; nothing was written. "
                                    "Use naming='full' or another out_dir")
    return paths


class _Ledger:
    """What cliplens wrote in one folder: file name -> SHA-256 of each content it wrote there.

    Re-read only when the ledger file changed on disk since this process last saw it, so a batch
    of 10k sidecars reads it once, while another process's writes are still seen.
    """

    def __init__(self, folder: Path):
        self.path = folder / LEDGER_NAME
        self._hashes: dict[str, set[str]] = {}
        self._seen: tuple[int, int] | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def hashes(self) -> dict[str, set[str]]:
        st = self._stat()
        if st != self._seen:
            self._hashes = {}
            try:
                lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            for line in lines:
                try:
                    row = json.loads(line)
                    self._hashes.setdefault(str(row["name"]), set()).add(str(row["sha256"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a killed run, or not ours: ignore it
            self._seen = st
        return self._hashes

    def owns(self, side: Path, data: bytes) -> bool:
        return _sha(data) in self.hashes().get(side.name, ())

    def record(self, side: Path, data: bytes) -> None:
        hashes = self.hashes()
        line = json.dumps({"name": side.name, "sha256": _sha(data)}, ensure_ascii=False) + "\n"
        # one short O_APPEND write per line: concurrent writers in one folder do not interleave
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        hashes.setdefault(side.name, set()).add(_sha(data))
        self._seen = self._stat()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_LEDGERS: dict[str, _Ledger] = {}
_LEDGER_LOCK = threading.Lock()


def _ledger(folder: Path) -> _Ledger:
    key = _key(folder)
    with _LEDGER_LOCK:
        if key not in _LEDGERS:
            if len(_LEDGERS) > 4096:
                _LEDGERS.clear()
            _LEDGERS[key] = _Ledger(folder)
        return _LEDGERS[key]


def written_by_cliplens(side: str | os.PathLike) -> bool:
    """True when `side` exists and holds exactly bytes that cliplens recorded writing there."""
    p = Path(side)
    try:
        return p.is_file() and _ledger(p.parent).owns(p, p.read_bytes())
    except OSError:
        return False


@dataclass
class SidecarReport(Result):
    """What a sidecar batch did: files written, files left as they were, and per-item errors."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _merge_txt(old: bytes, tags: Sequence[str], separator: str) -> bytes:
    text = old.decode("utf-8")  # UnicodeDecodeError -> item error by the caller
    have = {t.strip() for t in text.replace("\n", ",").split(",") if t.strip()}
    new = [t for t in tags if t.strip() and t.strip() not in have]
    if not new:
        return old
    body = text.rstrip()
    return ((body + separator if body else "") + separator.join(new) + "\n").encode("utf-8")


def _render(kind: str, content: Sequence[str] | str, old: bytes | None, separator: str) -> bytes:
    if kind == "xmp":
        tags = [content] if isinstance(content, str) else list(content)
        return build_xmp(tags, old)
    if isinstance(content, str):  # a prompt/caption: the whole file
        return (content.rstrip("\n") + "\n").encode("utf-8") if old is None else _merge_txt(old, [content], separator)
    if old is None:
        return (separator.join(content) + "\n").encode("utf-8")
    return _merge_txt(old, content, separator)


def write_sidecar(side: str | os.PathLike, kind: str, content: Sequence[str] | str, *, mode: str = "append",
                  separator: str = ", ") -> bool:
    """Write one sidecar by the rules above; True if the file changed, False if left as it was.

    `content`: tags (joined with `separator`; append adds the missing ones) or one text (a prompt).
    Raises `InvalidInputError` (a refusal: not ours, not text, too large) or `OSError`.
    For a batch use `write_sidecars`, which also checks for clashes.

        >>> write_sidecar(sidecar_path("a.png"), "txt", "a red circle", mode="overwrite")  # doctest: +SKIP
    """
    _check_mode(mode)
    side = Path(side)
    ledger = _ledger(side.parent)
    if side.is_dir():
        raise InvalidInputError(f"{side} is a folder, not a sidecar")
    old: bytes | None = None
    owned = False
    if side.exists():
        if mode == "skip":
            return False
        size = side.stat().st_size
        if kind == "txt" and size > MAX_CAPTION_BYTES:
            raise InvalidInputError(f"{side} exists and is larger than 1 MiB: not a caption file, left alone")
        old = side.read_bytes()
        owned = ledger.owns(side, old)
        if mode == "overwrite":
            if not owned:
                raise InvalidInputError(f"{side} exists and was not written by cliplens (or was edited since); "
                                        "left alone: move it away, or use mode 'append' or 'skip'")
            old = None
    try:
        data = _render(kind, content, old, separator)
    except UnicodeDecodeError:
        raise InvalidInputError(f"{side} exists and is not UTF-8 text; left alone") from None
    if old is not None and data == old:
        return False
    atomic_write_bytes(side, data)
    if old is None or owned:  # a merge into the user's own file stays the user's file
        ledger.record(side, data)
    return True


def write_sidecars(items: Sequence[tuple[str | os.PathLike, Sequence[str] | str]], kind: str = "txt", *,
                   mode: str = "append", naming: str = "full", out_dir: str | os.PathLike | None = None,
                   roots: Sequence[str | os.PathLike] = (), inputs: Iterable[str | os.PathLike] = (),
                   separator: str = ", ") -> SidecarReport:
    """Write one sidecar per ``(image path, tags or text)``: ``kind`` "txt" (captions) or "xmp" (keywords).

    Checks the batch for clashes first (`SidecarClashError`, nothing written); then each item is
    written or becomes an `ItemError` (index = position in `items`); the batch goes on.

        >>> write_sidecars([("a.png", ["red", "circle"])])  # doctest: +SKIP
    """
    if kind not in ("txt", "xmp"):
        raise InvalidInputError(f"kind {kind!r}: use 'txt' or 'xmp'")
    _check_mode(mode)
    report = SidecarReport()
    ok: list[int] = []
    for i, (img, _) in enumerate(items):
        s = str(img)
        if not s or s.startswith("<"):
            report.errors.append(ItemError(i, s, "sidecars need an image file path; this image has none"))
        else:
            ok.append(i)
    paths = plan_sidecars([items[i][0] for i in ok], "." + kind, naming=naming, out_dir=out_dir, roots=roots,
                          inputs=inputs)
    for i, side in zip(ok, paths):
        try:
            changed = write_sidecar(side, kind, items[i][1], mode=mode, separator=separator)
        except InvalidInputError as exc:
            report.errors.append(ItemError(i, str(items[i][0]), str(exc)))
            continue
        except OSError as exc:
            report.errors.append(ItemError(i, str(items[i][0]), f"cannot write {side}: {exc.strerror or exc}"))
            continue
        (report.written if changed else report.skipped).append(str(side))
    report.errors.sort(key=lambda e: e.index)
    return report
