"""One error shape for every client mistake: JSON `{"error": ..., "type": ...}` with a 4xx.

- `CliplensError` (the library's family) -> its status from `STATUS` (400 unless listed);
- request validation (pydantic: wrong type, out of bounds, missing field, malformed JSON) -> 422,
  one readable line naming the field (`top_k: must be >= 1`), never pydantic's raw dump;
- Starlette's HTTP errors (unknown path 404, wrong method 405, ...) -> same shape;
- anything else is a bug: 500 `{"error": "internal error ...", "type": "InternalError"}`, with the
  traceback in the server log, never in the response.

`ERROR_SCHEMA` documents the shape in the OpenAPI schema (see `app.custom_openapi`).
"""
from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (CapabilityError, CliplensError, ImageLoadError, InvalidInputError, ModelNotFoundError,
                      ModelSpecError)
from .disconnect import ClientGone
from .files import PathForbiddenError
from .jobs import JobNotFoundError, TooManyJobsError
from .responses import StrictJSONResponse
from .state import UnknownModelError

log = logging.getLogger("cliplens.server")

#: most specific first; anything else in the family is a 400
STATUS: list[tuple[type[CliplensError] | str, int]] = [
    (PathForbiddenError, 403),
    (UnknownModelError, 404),
    ("UnknownIndexError", 404),
    (JobNotFoundError, 404),
    (TooManyJobsError, 429),
    (ClientGone, 499),
    (ImageLoadError, 400),
    (InvalidInputError, 400),
    (ModelSpecError, 400),
    (CapabilityError, 422),
    (ModelNotFoundError, 503),
]

#: the JSON schema of every error body (documented for each route's 4xx answers)
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "type"],
    "properties": {"error": {"type": "string", "description": "what went wrong and what to do about it"},
                   "type": {"type": "string", "description": "error class, e.g. InvalidInputError"}},
}


def status_for(exc: CliplensError) -> int:
    for cls, code in STATUS:
        if isinstance(cls, str):  # named, for classes in optional endpoint modules
            if any(c.__name__ == cls for c in type(exc).__mro__):
                return code
        elif isinstance(exc, cls):
            return code
    return 400


def error_response(message: str, type_: str, status: int, headers: dict[str, str] | None = None) -> StrictJSONResponse:
    return StrictJSONResponse({"error": message, "type": type_}, status_code=status, headers=headers)


_PYDANTIC_PREFIXES = ("Input should be ", "Value error, ", "Assertion failed, ")


def _field(loc: Any) -> str:
    parts = [str(p) for p in (loc or ()) if p not in ("body", "query", "path", "form", "header", "cookie")]
    return ".".join(parts)


def validation_message(errors: list[dict[str, Any]]) -> str:
    """Pydantic's error list -> one line a person can act on: `top_k: must be >= 1; model: ...`."""
    out: list[str] = []
    for e in errors[:5]:
        kind = e.get("type", "")
        where = _field(e.get("loc"))
        if kind == "json_invalid":
            err = (e.get("ctx") or {}).get("error", "malformed")
            out.append(f"the body is not valid JSON ({err})")
            continue
        if kind == "missing":
            out.append(f"{where or 'body'}: required")
            continue
        msg = str(e.get("msg", "invalid"))
        for pre in _PYDANTIC_PREFIXES:
            if msg.startswith(pre):
                msg = ("must be " + msg[len(pre):]) if pre == "Input should be " else msg[len(pre):]
        msg = re.sub(r"greater than or equal to", ">=", msg)
        msg = re.sub(r"less than or equal to", "<=", msg)
        msg = re.sub(r"greater than", ">", msg)
        msg = re.sub(r"less than", "<", msg)
        out.append(f"{where}: {msg}" if where else msg)
    if len(errors) > 5:
        out.append(f"and {len(errors) - 5} more")
    return "; ".join(out) or "invalid request"


def _type_name(status: int) -> str:
    try:
        return "".join(w.capitalize() for w in HTTPStatus(status).phrase.replace("-", " ").split())
    except ValueError:
        return "HTTPError"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(CliplensError)
    async def _cliplens_error(_: Request, exc: CliplensError) -> StrictJSONResponse:
        return error_response(str(exc), type(exc).__name__, status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> StrictJSONResponse:
        return error_response(validation_message(list(exc.errors())), "ValidationError", 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> StrictJSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(detail, _type_name(exc.status_code), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> StrictJSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(f"internal error ({type(exc).__name__}); the server log has the details",
                              "InternalError", 500)
