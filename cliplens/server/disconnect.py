"""Abandon queued work whose client has gone: a request's model work starts only if someone still waits.

Model work runs one request at a time per model (see `state.ServerState.run_locked`), so a client
that gave up (closed the tab, hit Cancel, timed out) would otherwise still cost its full turn
while every later request waits. The outermost middleware records each request's ASGI `receive`
here; while the work waits for its thread and lock, a watcher listens on it for
`http.disconnect` and sets an event the worker checks before it starts.

    >>> import threading
    >>> gone = threading.Event()
    >>> check_gone(gone)              # nothing happens while the client is there
"""
from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from ..errors import CliplensError

T = TypeVar("T")
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

#: the current request's raw ASGI receive (set by the access-log middleware, the outermost one)
current_receive: contextvars.ContextVar[Receive | None] = contextvars.ContextVar("cliplens_receive", default=None)


class ClientGone(CliplensError):
    """The client disconnected before its queued work started (logged as 499; nobody reads the reply)."""


def check_gone(gone: threading.Event) -> None:
    """Raise `ClientGone` when the watcher saw the client leave."""
    if gone.is_set():
        raise ClientGone("the client disconnected before the work started")


def acquire(lock: threading.Lock, gone: threading.Event, poll_s: float = 0.05) -> None:
    """Take `lock`, giving up (ClientGone) as soon as the client leaves while we wait."""
    while not lock.acquire(timeout=poll_s):
        check_gone(gone)
    if gone.is_set():
        lock.release()
        check_gone(gone)


async def run_abandonable(fn: Callable[[threading.Event], T]) -> T:
    """Run blocking `fn(gone)` on a worker thread while watching the request for a disconnect.

    `fn` should call `check_gone(gone)` / `acquire(lock, gone)` before it starts expensive work.
    Outside a request (no receive recorded) `gone` is simply never set.
    """
    gone = threading.Event()
    receive = current_receive.get()
    if receive is None:
        return await run_in_threadpool(fn, gone)

    async def watch() -> None:
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                gone.set()
                return
            if message.get("type") != "http.request":  # unknown message: stop listening, never spin
                return
            if not message.get("more_body", False) and not message.get("body"):
                await asyncio.sleep(0.05)  # a drained body answering empty: poll gently

    watcher = asyncio.ensure_future(watch())
    try:
        return await run_in_threadpool(fn, gone)
    finally:
        watcher.cancel()
