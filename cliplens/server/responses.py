"""Strict JSON out: every response body is valid JSON (no NaN/Infinity, numpy values converted).

Routes return plain dicts or `Result.to_dict()`; this response class passes them through
`cliplens.results.jsonable` (NaN/inf -> null, arrays -> lists) and then refuses anything that
would still not be JSON, so a client never receives `NaN`.

    >>> StrictJSONResponse({"x": float("nan")}).body
    b'{"x":null}'
"""
from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from ..results import jsonable


class StrictJSONResponse(JSONResponse):
    """`JSONResponse` that converts first (jsonable) and never writes NaN."""

    def render(self, content: Any) -> bytes:
        return json.dumps(jsonable(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
