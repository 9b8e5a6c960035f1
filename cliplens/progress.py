"""One progress-bar helper so every long loop looks the same, and bars only ever go to a terminal.

A bar written into a log file or a CI transcript is thousands of lines of noise, so bars show only
when asked for AND stderr is a terminal. `CLIPLENS_QUIET=1` silences them everywhere;
`CLIPLENS_PROGRESS=1` forces them on (e.g. under a pseudo-terminal that does not say it is one).
tqdm is imported only when a bar is actually drawn.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr and sys.stderr.isatty())
    except (AttributeError, ValueError):   # replaced or closed stream
        return False


def progress_enabled(requested: bool) -> bool:
    """Progress shows when asked for, on a terminal, unless `CLIPLENS_QUIET=1` silences everything.

    >>> progress_enabled(False)
    False
    """
    if not requested or os.environ.get("CLIPLENS_QUIET", "").strip().lower() in _TRUE:
        return False
    if os.environ.get("CLIPLENS_PROGRESS", "").strip().lower() in _TRUE:
        return True
    return _stderr_is_terminal()


class _NoBar:
    """What `progress_bar` yields when disabled: accepts the tqdm calls loops make, draws nothing."""

    def __init__(self, total: int | None = None):
        self.total = total
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        pass

    def write(self, *args: Any, **kwargs: Any) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def progress_bar(total: int | None, unit: str, enabled: bool = True, desc: str | None = None) -> Iterator[Any]:
    """A tqdm bar on stderr showing items/s; a no-op bar when disabled or not on a terminal.

    >>> with progress_bar(3, "images", enabled=False) as bar:
    ...     bar.update(3)
    """
    if not progress_enabled(enabled):
        bar: Any = _NoBar(total)
    else:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=f" {unit}", desc=desc, file=sys.stderr, dynamic_ncols=True, leave=False)
    try:
        yield bar
    finally:
        bar.close()
