"""Request guards that run before any endpoint: body size, token, Host and Origin checks.

One pure-ASGI middleware so the checks cover *every* route, the static page and /docs included.

- **Token**: when the server has one, a request must carry it in the ``X-Cliplens-Token`` header,
  as ``Authorization: Bearer <token>``, or in the ``cliplens_token`` cookie that visiting
  ``/?token=<token>`` sets (browsers cannot add headers to page loads or ``<img>`` requests).
  Compared in constant time.
- **Host**: on a loopback bind only loopback Host headers are accepted (``localhost``, any
  127.0.0.0/8 address, ``[::1]``), which defeats DNS rebinding (a web page whose domain suddenly
  resolves to 127.0.0.1) while a bind to 127.0.0.5 works like one to 127.0.0.1.
- **Origin**: a cross-site browser request (``Origin`` differing from ``Host``) is refused, so a
  random web page cannot make a visitor's browser start work on the local server.
- **Size**: bodies over the limit get 413, checked on Content-Length *and* while streaming.
"""
from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .config import LOOPBACK_NAMES, ServerConfig, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_HEADER = "x-cliplens-token"
TOKEN_COOKIE = "cliplens_token"


class BodyTooLarge(Exception):
    """Raised inside `receive` when a streamed body passes the byte limit."""


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _host_only(hostport: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:80' -> '[::1]'."""
    hostport = hostport.strip().lower()
    if hostport.startswith("["):
        return hostport.split("]")[0] + "]"
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def _cookie(headers: dict[str, str], name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


def presented_token(scope: Scope) -> str | None:
    """The token a request carries (header, bearer, cookie, or `?token=` on a page load)."""
    headers = _headers(scope)
    if TOKEN_HEADER in headers:
        return headers[TOKEN_HEADER]
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = _cookie(headers, TOKEN_COOKIE)
    if cookie is not None:
        return cookie
    if scope.get("method") == "GET" and scope.get("path") == "/":
        q = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if q.get("token"):
            return q["token"][0]
    return None


async def _send_json(send: Send, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """The checks above, in order: Host, Origin, token, size. Failing requests never reach a route."""

    def __init__(self, app: ASGIApp, config: ServerConfig):
        self.app = app
        self.config = config
        #: explicit Host allow-list; None with `loopback_only` False: any Host (the token protects a public bind)
        self.allowed_hosts: frozenset[str] | None = None
        self.loopback_only = False
        if config.allowed_hosts is not None:
            self.allowed_hosts = frozenset(h.lower() for h in config.allowed_hosts)
        elif is_loopback(config.host):
            self.loopback_only = True  # any loopback name or address (127.0.0.5 too), never a domain

    def host_allowed(self, host: str) -> bool:
        """Is a request's Host (port removed) one this server answers?"""
        if self.allowed_hosts is not None:
            return host in self.allowed_hosts
        if self.loopback_only:
            return host in LOOPBACK_NAMES or is_loopback(host)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no websocket routes: refuse before any handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = _host_only(headers.get("host", ""))
        if not self.host_allowed(host):
            await _send_json(send, 421, {"error": f"Host {host!r} is not served here (DNS rebinding guard); "
                                         "use http://127.0.0.1:PORT", "type": "HostRejected"})
            return
        origin = headers.get("origin")
        if origin and origin != "null":
            o = urlsplit(origin)
            if (o.netloc or "").lower() != headers.get("host", "").lower():
                await _send_json(send, 403, {"error": f"cross-origin request from {origin} refused", "type": "OriginRejected"})
                return
        elif origin == "null":
            await _send_json(send, 403, {"error": "requests from opaque origins are refused", "type": "OriginRejected"})
            return
        set_cookie: list[tuple[bytes, bytes]] = []
        if self.config.token:
            given = presented_token(scope)
            if given is None or not hmac.compare_digest(given.encode(), self.config.token.encode()):
                await _send_json(send, 401, {"error": "missing or wrong token: send the X-Cliplens-Token header "
                                             "(or open /?token=... once in a browser)", "type": "Unauthorized"},
                                 [(b"www-authenticate", b"Bearer")])
                return
            if scope.get("path") == "/" and _cookie(headers, TOKEN_COOKIE) is None:  # the page: let the browser keep it
                set_cookie = [(b"set-cookie", f"{TOKEN_COOKIE}={self.config.token}; HttpOnly; SameSite=Strict; Path=/".encode())]

        limit = self.config.limits.max_request_bytes
        declared = headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _send_json(send, 400, {"error": "bad Content-Length", "type": "BadRequest"})
                return
            if too_big:
                await _send_json(send, 413, {"error": f"request body is {declared} bytes; the limit is {limit}",
                                             "type": "PayloadTooLarge"})
                return
        seen = 0
        state = {"started": False, "exceeded": False, "replaced": False}

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    state["exceeded"] = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # a body that passed the limit while streaming: whatever the app answers (frameworks
            # wrap parse errors as 400), the client gets 413
            if state["exceeded"]:
                if message["type"] == "http.response.start" and not state["replaced"]:
                    state["replaced"] = True
                    state["started"] = True
                    await _send_json(send, 413, {"error": f"request body over the {limit}-byte limit",
                                                 "type": "PayloadTooLarge"})
                return
            if message["type"] == "http.response.start":
                state["started"] = True
                if set_cookie:
                    message = dict(message)
                    message["headers"] = list(message.get("headers", [])) + set_cookie
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not state["started"]:
                await _send_json(send, 413, {"error": f"request body over the {limit}-byte limit", "type": "PayloadTooLarge"})
