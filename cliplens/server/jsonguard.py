"""Refuse JSON bodies that Python's parser accepts but no client should send and no route can use.

`json.loads` takes `NaN`/`Infinity` (not JSON at all), and `"\\ud800"` (a lone surrogate that
crashes the first UTF-8 encode, in a tokenizer or a path); a NUL character breaks paths and
C libraries. Each becomes one 400 `{error, type}` naming where it was, before any route runs.
Only bodies a route would parse as JSON are read (application/json or `+json`), and those are
small: the size guard in `security` already bounded them.

    >>> problem_in({"query": "a\\x00b"})
    'a NUL character in $.query'
"""
from __future__ import annotations

import email.message
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _NotJSON(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(f"{name} (not a JSON number; send a finite number or null)")


def text_problem(s: str) -> str | None:
    """Why `s` cannot be used as text (NUL, lone surrogate), or None."""
    if "\x00" in s:
        return "a NUL character"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (invalid Unicode)"
    return None


def problem_in(value: Any, where: str = "$") -> str | None:
    """The first unusable string (key or value) in a parsed JSON document, described with its place."""
    if isinstance(value, str):
        p = text_problem(value)
        return f"{p} in {where}" if p else None
    if isinstance(value, dict):
        for k, v in value.items():
            p = text_problem(k)
            if p:
                return f"{p} in a key of {where}"
            found = problem_in(v, f"{where}.{k}")
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = problem_in(v, f"{where}[{i}]")
            if found:
                return found
    return None


def is_json_request(scope: Scope) -> bool:
    """Would FastAPI parse this request's body as JSON? (same content-type rule)"""
    if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    ct = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"content-type"), None)
    if not ct:
        return False
    msg = email.message.Message()
    msg["content-type"] = ct
    sub = msg.get_content_subtype()
    return msg.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))


async def _send_error(send: Send, message: str) -> None:
    body = json.dumps({"error": message, "type": "InvalidInputError"}).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class StrictJSONBodyMiddleware:
    """Reads JSON bodies first, refuses the unusable ones, replays the rest to the app unchanged."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_json_request(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = None
        if body.strip():
            try:
                problem = problem_in(json.loads(body, parse_constant=_refuse_constant))
            except _NotJSON as exc:
                problem = str(exc)
            except (ValueError, UnicodeDecodeError):
                problem = None  # malformed JSON: FastAPI answers it as a validation error
        if problem:
            await _send_error(send, f"the JSON body has {problem}")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
