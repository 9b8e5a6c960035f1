"""Process-wide settings read from the environment: cache dir, offline mode, hub probe, network timeout.

Kept tiny on purpose: everything else is an explicit argument (no hidden global state).
"""
from __future__ import annotations

import os
import socket
import threading
from functools import lru_cache
from pathlib import Path

import platformdirs

#: seconds any network probe or download may wait before cliplens gives up and goes offline
#: (`CLIPLENS_NETWORK_TIMEOUT`; read at import, `network_timeout()` reads it again)
try:
    NETWORK_TIMEOUT_S = max(0.1, float(os.environ.get("CLIPLENS_NETWORK_TIMEOUT", "3")))
except ValueError:
    NETWORK_TIMEOUT_S = 3.0


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


def network_timeout() -> float:
    """Seconds a network probe may wait (`CLIPLENS_NETWORK_TIMEOUT`, default 3), read now."""
    try:
        return max(0.1, float(os.environ.get("CLIPLENS_NETWORK_TIMEOUT", "3")))
    except ValueError:
        return 3.0


def hub_endpoint() -> str:
    """The model hub's base URL: `HF_ENDPOINT` (a mirror) when set, else https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def proxy_for(url: str) -> str | None:
    """The proxy a request to `url` goes through (HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, honouring NO_PROXY), or None.

    >>> proxy_for("https://example.invalid") is None or True
    True
    """
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or not parts.hostname:
        return None
    try:
        if urllib.request.proxy_bypass(parts.hostname):
            return None
    except OSError:  # pragma: no cover - platform registry lookups (Windows/macOS) can fail
        pass
    return proxy


def _probe_through_proxy(url: str, proxy: str, timeout: float) -> bool:
    """HEAD `url` through `proxy`: any answer from the hub counts; proxy refusals and gateway errors do not."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "cliplens-probe"})
    try:
        with opener.open(request, timeout=timeout):
            return True
    except urllib.error.HTTPError as exc:   # the hub answered (e.g. 401/404): it is reachable
        return exc.code not in (407, 502, 503, 504)
    except (OSError, ValueError):   # URLError, timeouts, refused, bad proxy URL
        return False


@lru_cache(maxsize=8)
def _reachable(url: str, proxy: str | None, timeout: float) -> bool:
    from urllib.parse import urlsplit

    if proxy:
        return _probe_through_proxy(url, proxy, timeout)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def hub_reachable() -> bool:
    """Whether the model hub answers within `CLIPLENS_NETWORK_TIMEOUT` seconds (checked once per setting).

    Honours `HF_ENDPOINT` (a mirror is probed instead of huggingface.co) and the standard proxy
    variables: behind `HTTPS_PROXY` the probe is an HTTP HEAD through the proxy (a direct TCP connect
    would fail on locked-down networks), unless `NO_PROXY` exempts the host. On a timeout cliplens
    goes offline rather than hanging.
    """
    url = hub_endpoint()
    return _reachable(url, proxy_for(url), network_timeout())


def is_offline() -> bool:
    """Offline if asked for, or if the hub cannot be reached within seconds (never hang)."""
    return offline_requested() or not hub_reachable()


def cache_lock(path: str | os.PathLike, timeout: float = 60.0):
    """A cross-process lock (filelock: flock on POSIX, LockFileEx on Windows) guarding a cache entry.

    Use around read-check-write of a shared cache file so two processes do not compute it twice
    or interleave writes; the lock file is `<path>.lock`.

    >>> with cache_lock(cache_dir() / "demo.npy"):   # doctest: +SKIP
    ...     pass
    """
    from filelock import FileLock

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(target.with_name(target.name + ".lock")), timeout=timeout)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
