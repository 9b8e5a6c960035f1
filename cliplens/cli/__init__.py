"""`cliplens <verb>`: a thin layer over the library; errors become one line and exit code 2.

Each capability keeps its verbs in its own module here; importing the module registers them.
"""
from __future__ import annotations

import sys

from ..errors import CliplensError
from .app import app
from . import models_cmd, embed_cmd, serve_cmd, guide_cmd, compose_cmd, search_cmd, interrogate_cmd, judge_cmd  # noqa: F401,E402  (register verbs)

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point."""
    try:
        app()
    except CliplensError as exc:
        from .common import err_console

        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
