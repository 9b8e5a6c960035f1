"""One access-log line per request (method, path, status, duration): what an operator needs to see
failing requests. Never the query string (a page load may carry `?token=`) and never a header.

    127.0.0.1 POST /api/interrogate 200 412.3ms

On by default (`create_app(access_log=True)`); `cliplens serve -q` turns it off. Lines go to the
`cliplens.access` logger, which writes to stderr unless the host application configured it.
This is also the outermost middleware, so it records the request's `receive` for
`disconnect.run_abandonable`.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .disconnect import current_receive

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("cliplens.access")


def _ensure_handler() -> None:
    """Give the logger a plain stderr handler unless someone configured it already."""
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False


class AccessLogMiddleware:
    """Logs each HTTP request once it has been answered (or abandoned: status 499)."""

    def __init__(self, app: ASGIApp, enabled: bool = True):
        self.app = app
        self.enabled = enabled
        if enabled:
            _ensure_handler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = current_receive.set(receive)
        start = time.perf_counter()
        status = {"code": 499}  # until a response starts: the client left (or the app crashed, then 500)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception:
            status["code"] = 500
            raise
        finally:
            current_receive.reset(token)
            if self.enabled:
                client = scope.get("client") or ("-", 0)
                ms = (time.perf_counter() - start) * 1000
                logger.info("%s %s %s %d %.1fms", client[0], scope.get("method", "-"), scope.get("path", "-"),
                            status["code"], ms)
