"""HTTP API and web page: every cliplens capability behind one local server.

    >>> from cliplens.server import create_app
    >>> app = create_app(models=["toyclip"])     # then: uvicorn.run(app, host="127.0.0.1", port=8000)

`cliplens serve` is the command-line way in. See the "Serve" section of README.md.
FastAPI is imported only when `create_app` is first used (fast start, issue 13).
"""
from __future__ import annotations

from typing import Any

from .config import Limits, ServerConfig

__all__ = ["create_app", "Limits", "ServerConfig"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
