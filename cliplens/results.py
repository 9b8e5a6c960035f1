"""The one shape every capability returns: a dataclass result with `errors: list[ItemError]`.

Every capability call (`judge.clip_score`, `classify.classify`, `search.search`, ...) returns a
dataclass that subclasses `Result`. The CLI prints `result.to_dict()` for `--json`, the server
returns it as the response body, so the three surfaces cannot drift apart. A bad item in a batch
never aborts the batch: it becomes one `ItemError(index, source, reason)`.

    >>> r = Result(errors=[ItemError(2, "broken.png", "not an image")])
    >>> r.to_dict()
    {'errors': [{'index': 2, 'source': 'broken.png', 'reason': 'not an image'}]}
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemError:
    """One input that could not be processed: its position in the request, what it was, why."""

    index: int
    source: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "source": self.source, "reason": self.reason}


def jsonable(value: Any) -> Any:
    """Plain JSON types for `value`: numpy arrays/scalars become lists/numbers, NaN/inf become None.

    Strict JSON (no NaN) on every surface: the server, `--json` and files all go through here.

    >>> import numpy as np
    >>> jsonable({"a": np.array([0.5, np.nan]), "b": (1, np.float32(2.0))})
    {'a': [0.5, None], 'b': [1, 2.0]}
    """
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(value.tolist())
    if hasattr(value, "__fspath__"):
        return str(value)
    return str(value)


@dataclass
class Result:
    """Base of every capability's result. Subclasses add fields; `to_dict()` is strict JSON.

    Override `to_dict` only to add derived values (call `super().to_dict()` first) or to leave
    out large internal fields; the default walks the dataclass fields.
    """

    errors: list[ItemError] = field(default_factory=list, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if not f.name.startswith("_")}
