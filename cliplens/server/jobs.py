"""Background jobs (guide runs) with progress that clients poll.

Guide runs take seconds to minutes, far too long for one HTTP request. `JobRunner` runs them
one at a time on a worker thread; each job exposes status, step/total, a message, the latest
snapshot PNG and its result, and can be cancelled between steps.

    >>> runner = JobRunner(max_jobs=8, max_queued=2)
    >>> job = runner.submit("demo", lambda job: {"answer": 42})
    >>> runner.wait(job.id, timeout=5).status
    'done'
"""
from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import CliplensError


class JobCancelled(Exception):
    """Raised inside a job's progress callback after a client cancelled it."""


class TooManyJobsError(CliplensError):
    """More unfinished jobs than the server allows (answered with 429)."""


class JobNotFoundError(CliplensError):
    """No job with that id (answered with 404)."""


@dataclass
class Job:
    """One background task and everything a poller may see about it."""

    id: str
    kind: str
    status: str = "queued"  # queued | running | done | error | cancelled
    step: int = 0
    total: int = 0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    snapshot_png: bytes | None = None
    snapshot_step: int = -1
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)
    params: dict[str, Any] = field(default_factory=dict)

    def update(self, step: int, total: int | None = None, message: str | None = None,
               snapshot_png: bytes | None = None) -> None:
        """Called by the task: record progress; raises `JobCancelled` if a client cancelled."""
        self.step = step
        if total is not None:
            self.total = total
        if message is not None:
            self.message = message
        if snapshot_png is not None:
            self.snapshot_png = snapshot_png
            self.snapshot_step = step
        if self.cancel_event.is_set():
            raise JobCancelled()

    @property
    def finished_ok(self) -> bool:
        return self.status == "done"

    def public(self) -> dict[str, Any]:
        """JSON view for pollers (no image bytes; those are fetched from the snapshot URL)."""
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "step": self.step, "total": self.total,
            "progress": (self.step / self.total) if self.total else (1.0 if self.status == "done" else 0.0),
            "message": self.message, "error": self.error, "result": self.result,
            "snapshot_step": self.snapshot_step, "has_snapshot": self.snapshot_png is not None,
            "created": self.created, "finished": self.finished, "params": self.params,
        }


class JobRunner:
    """A one-worker queue of jobs (one guide run at a time keeps the CPU/GPU free for requests)."""

    def __init__(self, max_jobs: int = 32, max_queued: int = 4, workers: int = 1):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cliplens-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_jobs = max_jobs
        self.max_queued = max_queued

    def submit(self, kind: str, fn: Callable[[Job], dict[str, Any]], params: dict[str, Any] | None = None) -> Job:
        """Queue `fn(job)`; its return value becomes `job.result`. Raises `TooManyJobsError` when full."""
        with self._lock:
            unfinished = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if unfinished >= self.max_queued:
                raise TooManyJobsError(f"{unfinished} jobs are already queued or running; wait or cancel one")
            job = Job(id=uuid.uuid4().hex, kind=kind, params=dict(params or {}))
            self._jobs[job.id] = job
            self._evict()
        self._pool.submit(self._run, job, fn)
        return job

    def _evict(self) -> None:
        while len(self._jobs) > self.max_jobs:
            for jid, j in self._jobs.items():
                if j.status not in ("queued", "running"):
                    del self._jobs[jid]
                    break
            else:
                return

    def _run(self, job: Job, fn: Callable[[Job], dict[str, Any]]) -> None:
        if job.cancel_event.is_set():
            job.status = "cancelled"
        else:
            job.status = "running"
            try:
                job.result = fn(job)
                job.status = "done"
                job.message = job.message or "done"
            except JobCancelled:
                job.status = "cancelled"
                job.message = "cancelled"
            except CliplensError as exc:
                job.status, job.error = "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - a job's crash must not kill the worker
                job.status, job.error = "error", f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        job.finished = time.time()
        job.done_event.set()

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(f"no job {job_id!r} (finished jobs are forgotten after {self.max_jobs} newer ones)")
        return job

    def list(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        job.cancel_event.set()
        if job.status == "queued":
            job.status = "cancelled"
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        job = self.get(job_id)
        job.done_event.wait(timeout)
        return job

    def shutdown(self) -> None:
        for j in self.list():
            j.cancel_event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
