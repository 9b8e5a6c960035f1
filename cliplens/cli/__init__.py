"""`cliplens <verb>`: a thin layer over the library; errors become one line and exit code 2.

Each capability keeps its verbs in its own module here; importing the module registers them.
Those modules import only typer/rich (and light cliplens modules) at top level, so `cliplens --help`
starts fast; the library is imported inside each command function.
"""
from __future__ import annotations

import sys

from ..errors import CliplensError
from .app import app
from . import models_cmd, embed_cmd, serve_cmd, guide_cmd, compose_cmd, search_cmd, interrogate_cmd, judge_cmd, classify_cmd, similarity_cmd, comfyui_cmd  # noqa: F401,E402  (register verbs)

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: library errors become one line on stderr and exit code 2."""
    if sys.argv[1:] in (["--version"], ["-V"]):   # answer without building every verb's parser (typer: ~0.2 s)
        from .. import __version__

        sys.stdout.write(f"cliplens {__version__}\n")
        return
    try:
        app()
    except CliplensError as exc:   # raised outside a verb (e.g. by a parameter callback)
        from .app import report_error

        report_error(exc)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except BrokenPipeError:   # `cliplens ... | head`: the reader left; not an error worth a traceback
        sys.stderr.close()
        sys.exit(0)
