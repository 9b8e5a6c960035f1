"""What the server holds between requests: loaded models (once), their locks, roots, jobs.

Models are loaded once per process (`cliplens.load_encoder` caches them) and shared by every
request. Each model gets a lock: a PyTorch forward pass is safe from several threads, but the
fast tokenizers are not ("Already borrowed"), and with 2-16 cores one forward at a time at full
intra-op parallelism is as fast as several fighting for the cores anyway.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import CliplensError
from ..models import Encoder, load_encoder
from .config import ServerConfig
from .disconnect import acquire, check_gone, run_abandonable
from .files import RootSet
from .jobs import JobRunner

T = TypeVar("T")


class UnknownModelError(CliplensError):
    """A client asked for a model this server does not serve (answered with 404)."""


@dataclass
class ServedModel:
    """One model clients may choose, loaded on first use."""

    spec: str
    encoder: Encoder | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.spec, "loaded": self.encoder is not None}
        if self.encoder is not None:
            e = self.encoder
            out.update(backend=e.backend, embed_dim=e.embed_dim, context_length=e.context_length,
                       max_text_tokens=e.max_text_tokens, image_size=list(e.image_size), fingerprint=e.fingerprint,
                       device=str(e.device), dtype=str(e.dtype).removeprefix("torch."), differentiable=e.differentiable)
        return out


class ServerState:
    """Per-app state; `app.state.cl` holds one."""

    def __init__(self, config: ServerConfig):
        if not config.models:
            raise CliplensError("serve at least one model (--model)")
        self.config = config
        self.models: dict[str, ServedModel] = {m: ServedModel(m) for m in config.models}
        self.roots = RootSet(config.extra_roots)
        self.jobs = JobRunner(max_jobs=config.limits.max_jobs, max_queued=config.limits.max_queued_jobs)
        self._load_lock = threading.Lock()
        self.indexes: dict[str, Any] = {}  # name -> opened index (filled by the search routes)
        self.index_dirs: dict[str, Path] = {}
        self.extras: dict[str, Any] = {}  # per-capability caches (interrogators, label tables...)
        self.extras_lock = threading.Lock()
        #: capability -> True, or why its endpoints are off
        self.capabilities: dict[str, bool | str] = {}

    @property
    def default_model(self) -> str:
        return self.config.models[0]

    def served(self, name: str | None) -> ServedModel:
        """The served model a request names (None: the default); others are refused, never loaded."""
        key = name or self.default_model
        if key not in self.models:
            raise UnknownModelError(f"model {key!r} is not served here; choose one of {list(self.models)}")
        return self.models[key]

    def encoder(self, name: str | None = None) -> Encoder:
        """Load (once) and return a served model's encoder. Blocking: call from a worker thread."""
        sm = self.served(name)
        if sm.encoder is None:
            with self._load_lock:
                if sm.encoder is None:
                    sm.encoder = load_encoder(sm.spec, device=self.config.device, precision=self.config.precision)
        return sm.encoder

    async def run_locked(self, model: str | None, fn: Callable[[Encoder], T]) -> T:
        """Run `fn(encoder)` on a worker thread while holding that model's lock (keeps the event loop free).

        Work queued behind the lock is dropped (never started) when its client disconnects.
        """
        sm = self.served(model)

        def work(gone) -> T:
            check_gone(gone)
            enc = self.encoder(sm.spec)
            acquire(sm.lock, gone)
            try:
                return fn(enc)
            finally:
                sm.lock.release()

        return await run_abandonable(work)

    def lock_for(self, enc: Encoder) -> threading.Lock:
        """The lock guarding `enc`: a served model's own lock, or one made for another encoder (an index's)."""
        for sm in self.models.values():
            if sm.encoder is enc:
                return sm.lock
        return self.extra(("lock", id(enc)), threading.Lock)

    async def run_with(self, enc: Encoder, fn: Callable[[], T]) -> T:
        """Run `fn()` on a worker thread holding `enc`'s lock."""
        lock = self.lock_for(enc)

        def work(gone) -> T:
            acquire(lock, gone)
            try:
                return fn()
            finally:
                lock.release()

        return await run_abandonable(work)

    def extra(self, key: Any, build: Callable[[], T]) -> T:
        """A per-process cache for expensive per-capability objects (built once, thread-safe)."""
        with self.extras_lock:
            if key not in self.extras:
                self.extras[key] = build()
            return self.extras[key]
