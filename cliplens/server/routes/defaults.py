"""`GET /api/defaults`: every user-visible default from `cliplens/defaults.py`, so the page (and any
client) uses exactly the CLI's defaults instead of its own copies.

Names are the module's constants, lower-cased: `{"top_k": 10, "on_error": "skip", ...}`.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...results import jsonable

router = APIRouter(prefix="/api", tags=["core"])


def all_defaults() -> dict[str, Any]:
    """The public UPPER_CASE constants of cliplens.defaults as a JSON-ready dict (read at call time)."""
    from ... import defaults

    return {name.lower(): jsonable(getattr(defaults, name)) for name in dir(defaults)
            if name.isupper() and not name.startswith("_")}


@router.get("/defaults", summary="The defaults every surface shares (cliplens/defaults.py)")
async def defaults() -> dict[str, Any]:
    """Example: `{"top_k": 10, "on_error": "skip", "model": "sd15", ...}` (one key per constant)."""
    return all_defaults()
