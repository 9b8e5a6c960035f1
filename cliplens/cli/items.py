"""Turning command-line arguments into library inputs, and per-item errors into lines (judge/classify verbs).

Light on purpose (no numpy/torch/PIL at import): verb modules import it at top level.

The term rule (issue 14, one rule for every verb that takes "a text or an image"):
- ``@path`` is an image (``@@text`` is the literal text ``@text``);
- a bare argument that names an existing file or folder is an image (a folder or a file that
  does not decode becomes a per-item error, never text);
- a bare argument that looks like a file name with an image extension (no spaces, e.g.
  ``shot.png``) but does not exist is an image too, so it is reported as missing instead of
  being scored as the text "shot.png";
- anything else is text. Path checks never raise (a 300-byte prompt is just text).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidInputError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".avif", ".jp2", ".qoi")
#: longer arguments are never tried as paths (no filesystem allows such names)
_MAX_PATH_ARG = 4096


def _exists(s: str) -> bool:
    if not s or len(s) > _MAX_PATH_ARG or "\x00" in s or "\n" in s:
        return False
    try:
        return os.path.lexists(s)
    except (OSError, ValueError):
        return False


def term(arg: str) -> str | Path:
    """One command-line term -> a text (`str`) or an image (`Path`), by the rule above.

    >>> term("a red circle"), term("@x.png"), term("@@handle"), term("missing_shot.png")
    ('a red circle', PosixPath('x.png'), '@handle', PosixPath('missing_shot.png'))
    """
    if arg.startswith("@@"):
        return arg[1:]
    if arg.startswith("@") and len(arg) > 1:
        return Path(arg[1:]).expanduser()
    if _exists(arg):
        return Path(arg)
    if (len(arg) <= _MAX_PATH_ARG and not any(c.isspace() for c in arg)
            and arg.lower().endswith(IMAGE_EXTENSIONS)):
        return Path(arg)
    return arg


def expand(paths: list[Path]) -> list[str]:
    """Files as given (a missing or broken one is reported per item by the library), folders expanded
    recursively to the images in them (recognised by content)."""
    from ..images import find_images

    if not paths:
        raise InvalidInputError("no images given: pass image files and/or folders")
    out: list[str] = []
    for p in paths:
        try:
            is_dir = p.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            found = [str(f) for f in find_images([p])]
            if not found:
                raise InvalidInputError(f"no images found in folder {p}")
            out.extend(found)
        else:
            out.append(str(p))
    return out


def print_item_errors(errors) -> None:
    """One 'skipped SOURCE: REASON' line on stderr per `ItemError`."""
    from rich.markup import escape

    from .common import err_console

    for e in errors:
        err_console.print(f"[yellow]skipped[/yellow] {escape(str(e.source)[:200])}: {escape(e.reason)}",
                          highlight=False, soft_wrap=True)


def require_some(result, n_ok: int, verb: str) -> None:
    """Refuse (exit 2) a run in which no item worked, naming the first reasons."""
    if n_ok == 0:
        reasons = "; ".join(f"{str(e.source)[:120]}: {e.reason}" for e in result.errors[:3])
        raise InvalidInputError(f"nothing could be {verb}" + (f": {reasons}" if reasons else ""))
