"""One progress-bar helper so every long loop looks the same and can be silenced."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from collections.abc import Iterator

from tqdm.auto import tqdm


def progress_enabled(requested: bool) -> bool:
    """Progress shows when asked for, unless `CLIPLENS_QUIET=1` silences everything."""
    return requested and os.environ.get("CLIPLENS_QUIET", "").lower() not in {"1", "true", "yes"}


@contextmanager
def progress_bar(total: int | None, unit: str, enabled: bool = True, desc: str | None = None) -> Iterator[tqdm]:
    """A tqdm bar on stderr showing items/s; a no-op bar when disabled.

    >>> with progress_bar(3, "images", enabled=False) as bar:
    ...     bar.update(3)
    """
    bar = tqdm(total=total, unit=f" {unit}", desc=desc, disable=not progress_enabled(enabled),
               file=sys.stderr, dynamic_ncols=True, leave=False)
    try:
        yield bar
    finally:
        bar.close()
