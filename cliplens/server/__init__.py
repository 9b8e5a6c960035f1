"""HTTP API and web page: every cliplens capability behind one local server.

    >>> from cliplens.server import create_app
    >>> app = create_app(models=["toyclip"])     # then: uvicorn.run(app, host="127.0.0.1", port=8000)

`cliplens serve` is the command-line way in. See the "Serve" section of README.md.
"""
from __future__ import annotations

from .app import create_app
from .config import Limits, ServerConfig

__all__ = ["create_app", "Limits", "ServerConfig"]
