"""Result tables: one row per item as CSV (spreadsheets) or JSONL (pipelines), strict JSON, atomic.

Rows are dicts (e.g. the items of a Result's `to_dict()`); numpy values become plain numbers and
NaN/inf become empty/null, so every file parses with a strict JSON reader.

    >>> import tempfile, pathlib
    >>> p = write_table([{"image": "a.png", "score": float("nan")}], pathlib.Path(tempfile.mkdtemp()) / "t.jsonl")
    >>> p.read_text()
    '{"image": "a.png", "score": null}\\n'
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidInputError
from ..results import jsonable
from .atomic import atomic_write_bytes

TABLE_SUFFIXES = (".csv", ".jsonl", ".ndjson")


def _tag_names(tags) -> list[str]:
    out = []
    for t in tags or []:
        out.append(t.get("tag", t.get("label", "")) if isinstance(t, dict)
                   else t[0] if isinstance(t, (tuple, list)) else str(t))
    return [str(x) for x in out]


def write_jsonl(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """One strict-JSON object per line."""
    data = "".join(json.dumps(jsonable(r), ensure_ascii=False, allow_nan=False) + "\n" for r in rows)
    return atomic_write_bytes(Path(path), data.encode("utf-8"))


def write_csv(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """A CSV table; ``tags`` become ``tag1; tag2`` (+ a ``tag_scores`` column), other lists/dicts JSON."""
    rows = [jsonable(r) for r in rows]
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
                if k == "tags":
                    cols.append("tag_scores")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        flat = {}
        for k, v in r.items():
            if k == "tags":
                flat[k] = "; ".join(_tag_names(v))
                flat["tag_scores"] = "; ".join(f"{t['score']:.4f}" for t in v or []
                                               if isinstance(t, dict) and isinstance(t.get("score"), (int, float)))
            elif isinstance(v, (list, dict)):
                flat[k] = json.dumps(v, ensure_ascii=False, allow_nan=False)
            else:
                flat[k] = "" if v is None else v
        w.writerow(flat)
    return atomic_write_bytes(Path(path), buf.getvalue().encode("utf-8"))


def write_table(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """CSV or JSONL, chosen by the file name's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return write_csv(rows, path)
    if suffix in (".jsonl", ".ndjson"):
        return write_jsonl(rows, path)
    raise InvalidInputError(f"out {path}: use a .csv or .jsonl file name")
