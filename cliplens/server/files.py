"""Reading files by path, but only inside the served roots (the image folders of the indexes).

A client may name an image by path instead of uploading it. Every such path is resolved with
all symlinks followed and must land inside one of the roots, so ``../``, absolute paths,
URL-encoded traversal (decoded before we see it) and symlinks pointing out of a root all fail
the same way: 403 with no hint about what exists outside.

    >>> roots = RootSet([Path("/data/photos")])
    >>> roots.resolve("/etc/passwd")                     # doctest: +SKIP
    Traceback (most recent call last):
    PathForbiddenError: ...
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import CliplensError


class PathForbiddenError(CliplensError):
    """A client named a file outside every served root (answered with 403)."""


class RootSet:
    """The folders whose files clients may read by path; each stored fully resolved."""

    def __init__(self, roots: Iterable[str | os.PathLike] = ()):
        self._roots: list[Path] = []
        for r in roots:
            self.add(r)

    def add(self, root: str | os.PathLike) -> None:
        p = Path(root).expanduser().resolve()
        if p.is_dir() and p not in self._roots:
            self._roots.append(p)

    @property
    def roots(self) -> list[Path]:
        return list(self._roots)

    def __bool__(self) -> bool:
        return bool(self._roots)

    def contains(self, path: Path) -> bool:
        """Is the already-resolved `path` inside (or equal to) a root?"""
        return any(path == r or path.is_relative_to(r) for r in self._roots)

    def resolve(self, requested: str) -> Path:
        """A client's path -> the real file it names, or `PathForbiddenError`.

        Relative paths are taken relative to each root in turn (first existing match wins).
        """
        if not isinstance(requested, str) or not requested or "\x00" in requested:
            raise PathForbiddenError("empty or malformed path")
        if not self._roots:
            raise PathForbiddenError("this server serves no image folders; upload the image instead")
        raw = Path(requested).expanduser()
        candidates = [raw] if raw.is_absolute() else [r / raw for r in self._roots]
        for cand in candidates:
            try:
                real = cand.resolve(strict=True)  # follows every symlink, including the last one
            except (OSError, RuntimeError):
                continue
            if self.contains(real) and real.is_file():
                return real
        # the same answer whether the file is missing or outside: nothing leaks about the disk
        raise PathForbiddenError(f"{requested!r} is not a file inside the served folders")
