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
STATUS: list[tuple[type[CliplensError], int]] = [
    (PathForbiddenError, 403),
    (UnknownModelError, 404),
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
        if isinstance(exc, cls):
            return code
    return 400


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler on `app`."""

    @app.exception_handler(CliplensError)
    async def _cliplens_error(_: Request, exc: CliplensError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "type": type(exc).__name__}, status_code=status_for(exc))
