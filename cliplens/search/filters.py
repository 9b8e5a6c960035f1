"""Search filters (folder, file size, pixel size, date) turned into SQL over the index metadata.

    >>> f = Filters(folders=["/photos/2024"], min_bytes=10_000, after=parse_date("2024-05-01"))
    >>> sql, args = f.to_sql(); "path" in sql and len(args)
    5
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InvalidInputError

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_bytes(text: str) -> int:
    """'250KB' -> 250000, '2MiB' -> 2097152, '1234' -> 1234.

    >>> parse_bytes("1.5MB")
    1500000
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise InvalidInputError(f"size {text!r}: use a number of bytes with an optional unit, e.g. 250KB or 2MB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_date(text: str) -> float:
    """'2024-05-01' or an ISO date-time (local time unless it says otherwise) -> POSIX seconds."""
    try:
        dt = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidInputError(f"date {text!r}: use YYYY-MM-DD or an ISO date-time like 2024-05-01T13:00") from None
    if dt.tzinfo is None:
        dt = dt.astimezone()  # local time
    return dt.astimezone(timezone.utc).timestamp()


def folder_clause(folder: str | Path, resolve: bool = True) -> tuple[str, list]:
    """SQL matching a file or everything below a folder (a range on the path, so it uses the index).

    `resolve=False` takes `folder` as an already absolute, normalised path and never touches the disk.
    """
    root = str(Path(folder).expanduser().resolve()) if resolve else str(folder).rstrip("/") or "/"
    # '/' is 0x2F and '0' is 0x30: every path below `root/` sorts in [root/, root0)
    return "(path = ? OR (path >= ? AND path < ?))", [root, root + "/", root + "0"]


@dataclass
class Filters:
    """Which indexed files a query may return; empty filters allow everything."""

    folders: list[str | Path] = field(default_factory=list)
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_width: int | None = None
    min_height: int | None = None
    after: float | None = None  # file mtime, POSIX seconds
    before: float | None = None
    #: resolve `folders` on disk (symlinks, ~, relative); False: they are absolute and normalised already
    resolve: bool = True

    def active(self) -> bool:
        return bool(self.folders) or any(v is not None for v in (self.min_bytes, self.max_bytes, self.min_width,
                                                                  self.min_height, self.after, self.before))

    def to_sql(self) -> tuple[str, list]:
        """A WHERE clause (without 'WHERE') and its arguments."""
        parts: list[str] = []
        args: list = []
        if self.folders:
            ors = [folder_clause(f, self.resolve) for f in self.folders]
            parts.append("(" + " OR ".join(c for c, _ in ors) + ")")
            for _, a in ors:
                args += a
        for col, op, val in (("size", ">=", self.min_bytes), ("size", "<=", self.max_bytes),
                             ("width", ">=", self.min_width), ("height", ">=", self.min_height),
                             ("mtime", ">=", self.after), ("mtime", "<", self.before)):
            if val is not None:
                parts.append(f"{col} {op} ?")
                args.append(val)
        return (" AND ".join(parts) if parts else "1"), args
