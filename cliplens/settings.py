"""Process-wide settings read from the environment: cache dir, offline mode, network timeout.

Kept tiny on purpose: everything else is an explicit argument (no hidden global state).
"""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

import platformdirs

#: seconds any network probe or download may wait before cliplens gives up and goes offline
NETWORK_TIMEOUT_S = float(os.environ.get("CLIPLENS_NETWORK_TIMEOUT", "3"))


def cache_dir() -> Path:
    """Root of every cliplens cache (label tables, image embeddings...).

    `CLIPLENS_CACHE` overrides the platform default (e.g. ``~/.cache/cliplens``).

    >>> cache_dir().name  # doctest: +SKIP
    'cliplens'
    """
    root = os.environ.get("CLIPLENS_CACHE")
    path = Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("cliplens"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def offline_requested() -> bool:
    """True when the user asked for offline mode (`CLIPLENS_OFFLINE`, or the HF/transformers flags)."""
    return any(_truthy(os.environ.get(k)) for k in ("CLIPLENS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


@lru_cache(maxsize=1)
def hub_reachable(host: str = "huggingface.co", port: int = 443) -> bool:
    """Whether the model hub answers a TCP connect within `NETWORK_TIMEOUT_S` (checked once per process)."""
    try:
        with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S):
            return True
    except OSError:
        return False


def is_offline() -> bool:
    """Offline if asked for, or if the hub cannot be reached within seconds (never hang)."""
    return offline_requested() or not hub_reachable()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
