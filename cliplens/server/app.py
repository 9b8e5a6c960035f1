"""`create_app(...)`: the FastAPI application behind `cliplens serve`.

    >>> from cliplens.server import create_app
    >>> app = create_app(models=["toyclip"])            # loopback only, no token
    >>> from fastapi.testclient import TestClient
    >>> TestClient(app, base_url="http://127.0.0.1").get("/api/health").json()["status"]
    'ok'

Capability endpoints are registered only when their library module imports (so a partial
install still serves the rest); `/api/health` lists which are on.
"""
from __future__ import annotations

import importlib
import re
import os
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..errors import CliplensError
from .accesslog import AccessLogMiddleware
from .config import Limits, ServerConfig, is_loopback
from .errors import ERROR_SCHEMA, install_error_handlers
from .jsonguard import StrictJSONBodyMiddleware
from .responses import StrictJSONResponse
from .security import GuardMiddleware
from .state import ServerState

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: capability -> endpoint module (in cliplens.server.routes)
ROUTE_MODULES: dict[str, str] = {
    "judge": "judge",
    "classify": "classify",
    "interrogate": "interrogate",
    "compose": "compose",
    "search": "search",
    "guide": "guide",
}



class InsecureBindError(CliplensError):
    """Binding to a non-loopback address without a token."""


def create_app(
    models: Sequence[str] | str = ("toyclip",),
    index_dirs: Iterable[str | os.PathLike] = (),
    token: str | None = None,
    host: str = "127.0.0.1",
    device: str = "auto",
    precision: str = "auto",
    roots: Iterable[str | os.PathLike] = (),
    limits: Limits | None = None,
    allowed_hosts: Sequence[str] | None = None,
    caption_model: str | None = None,
    preload: bool = False,
    access_log: bool = True,
) -> FastAPI:
    """Build the app. `host` is where it will bind: anything but loopback requires `token`.

    `models`: served model specs (the first is the default). `index_dirs`: search indexes to
    serve (their image folders become readable roots). `roots`: extra folders whose images may
    be named by path. `allowed_hosts`: Host headers accepted (default: loopback names on a
    loopback bind, any with a token elsewhere). `preload`: load the default model now instead
    of on the first request. `access_log`: one line per request on stderr (method, path, status,
    duration; never the query string or the token).
    """
    if isinstance(models, str):
        models = (models,)
    if not is_loopback(host) and not token:
        raise InsecureBindError(f"binding to {host} exposes the server to the network: pass a token "
                                "(--token SECRET or CLIPLENS_TOKEN), or bind to 127.0.0.1")
    if token is not None and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{8,256}", token):
        raise InsecureBindError("the token must have at least 8 characters, all letters, digits or ._~+/=- "
                                "(e.g. --token auto)")
    config = ServerConfig(models=tuple(models), device=device, precision=precision,
                          index_dirs=tuple(Path(p) for p in index_dirs), extra_roots=tuple(Path(p) for p in roots),
                          token=token, host=host, limits=limits or Limits(),
                          allowed_hosts=tuple(allowed_hosts) if allowed_hosts is not None else None,
                          caption_model=caption_model)
    state = ServerState(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        state.jobs.shutdown()

    app = FastAPI(title="cliplens", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  default_response_class=StrictJSONResponse,
                  description="CLIP for people who make images: similarity, judge, classify, interrogate, compose, "
                  "search and guide over HTTP. Errors are JSON `{error, type}` with a 4xx status.")
    app.state.cl = state
    install_error_handlers(app)
    # added innermost first: access log (outermost) -> Host/Origin/token/size guard -> JSON body check
    app.add_middleware(StrictJSONBodyMiddleware)
    app.add_middleware(GuardMiddleware, config=config)
    app.add_middleware(AccessLogMiddleware, enabled=access_log)

    from .routes import core, defaults

    app.include_router(core.router)
    app.include_router(defaults.router)
    for cap, mod in ROUTE_MODULES.items():
        try:
            module = importlib.import_module(f".routes.{mod}", __package__)
        except ImportError as exc:  # the capability's library is not installed / not built yet
            state.capabilities[cap] = f"unavailable: {exc}"
            continue
        if hasattr(module, "setup"):
            module.setup(state)
        app.include_router(module.router)
        state.capabilities[cap] = True

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "docs.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = lambda: custom_openapi(app)  # type: ignore[method-assign]

    if preload:
        state.encoder()
    return app


def custom_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema, with the error shape the server really sends.

    FastAPI documents validation failures as 422 `{"detail": [...]}`; this server answers every
    client mistake with `{error, type}` instead, so each operation's 422 points at the `Error`
    schema and the other 4xx answers a route can give (400 bad input, 403 path outside the
    served folders, 404 unknown model/index/job, 413 too large, 429 busy) are listed with it.
    """
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    comps["Error"] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    codes = {"400": "Bad input (a message says which and why)", "403": "Path outside the served folders",
             "404": "Unknown model, index, job or file", "413": "Request body too large",
             "422": "Invalid request (field, type or bound)", "429": "Too many queued jobs"}
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for code, desc in codes.items():
                if code == "422" or op.get("requestBody") or op.get("parameters"):
                    op["responses"][code] = {"description": desc, **ref}
    app.openapi_schema = schema
    return schema


def app_info(app: FastAPI) -> dict[str, Any]:
    """Served models/indexes of an app (for the CLI's start-up banner)."""
    st: ServerState = app.state.cl
    return {"models": list(st.models), "indexes": {k: str(v) for k, v in st.index_dirs.items()},
            "roots": [str(r) for r in st.roots.roots], "capabilities": dict(st.capabilities)}
