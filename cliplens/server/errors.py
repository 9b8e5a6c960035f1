"""CliplensError -> JSON 4xx with the message a user can act on (never a traceback)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import (CapabilityError, CliplensError, ImageLoadError, InvalidInputError, ModelNotFoundError,
                      ModelSpecError)
from .files import PathForbiddenError
from .jobs import JobNotFoundError, TooManyJobsError
from .state import UnknownModelError

#: most specific first; anything else in the family is a 400
STATUS: list[tuple[type[CliplensError] | str, int]] = [
    (PathForbiddenError, 403),
    (UnknownModelError, 404),
    ("UnknownIndexError", 404),
    (JobNotFoundError, 404),
    (TooManyJobsError, 429),
    (ImageLoadError, 400),
    (InvalidInputError, 400),
    (ModelSpecError, 400),
    (CapabilityError, 422),
    (ModelNotFoundError, 503),
]


def status_for(exc: CliplensError) -> int:
    for cls, code in STATUS:
        if isinstance(cls, str):  # named, for classes in optional endpoint modules
            if any(c.__name__ == cls for c in type(exc).__mro__):
                return code
        elif isinstance(exc, cls):
            return code
    return 400


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler on `app`."""

    @app.exception_handler(CliplensError)
    async def _cliplens_error(_: Request, exc: CliplensError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "type": type(exc).__name__}, status_code=status_for(exc))
