"""Server settings in one frozen object: what is served, to whom, and within which limits.

    >>> cfg = ServerConfig(models=("toyclip",))
    >>> cfg.requires_token
    False
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

#: hosts that only this machine can reach; anything else must be protected by a token
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost' (the only binds allowed without a token).

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
    (True, False)
    """
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one request may ask for (defence against accidental and hostile load)."""

    max_request_bytes: int = 32 * 1024 * 1024  #: whole request body (uploads included) -> 413 above
    max_image_pixels: int = 40_000_000  #: per decoded image -> 400 above (decompression bombs)
    max_images: int = 64  #: images per request
    max_texts: int = 512  #: texts (prompts, labels) per request
    max_text_chars: int = 4000  #: characters per text
    max_top_k: int = 500  #: search/rank result rows
    max_guide_size: int = 512  #: guide output side in pixels
    max_guide_steps: int = 1000
    max_jobs: int = 32  #: jobs remembered (queued + running + finished)
    max_queued_jobs: int = 4  #: unfinished jobs at once -> 429 above


@dataclass(frozen=True)
class ServerConfig:
    """What `create_app` serves.

    `models`: the model specs clients may use (the first is the default); clients can only
    *choose among* these, never name a new path, so nothing a client sends is ever loaded as
    weights. `index_dirs`: search indexes served; only files inside their image roots (plus
    `extra_roots`) can be read by path. `token`: when set, every request must carry it.
    """

    models: tuple[str, ...] = ("toyclip",)
    device: str = "auto"
    precision: str = "auto"
    index_dirs: tuple[Path, ...] = ()
    extra_roots: tuple[Path, ...] = ()
    token: str | None = None
    host: str = "127.0.0.1"
    caption_model: str | None = None
    limits: Limits = field(default_factory=Limits)
    allowed_hosts: tuple[str, ...] | None = None  #: Host header values accepted (None: derived from `host`)

    @property
    def requires_token(self) -> bool:
        return bool(self.token)
