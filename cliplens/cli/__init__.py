"""`cliplens <verb>`: a thin layer over the library; errors become one line and exit code 2.

Each capability keeps its verbs in its own module here; importing the module registers them on `app`.
They are NOT imported here: the root group (cli/app.py, VERBS) lists every verb from a static table and
imports a verb's module only when that verb runs (issue 13, fast start). The modules themselves import
only typer/rich (and light cliplens modules) at top level; the library is imported inside each command.
"""
from __future__ import annotations

import sys

from ..errors import CliplensError
from .app import app

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
