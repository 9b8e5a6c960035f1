"""Saving results: PNGs that carry their prompt and settings (so any image can be reproduced) and SVGs.

A save never replaces a file cliplens did not write: an existing PNG without the guide's
metadata, or an SVG without the guide's marker, is refused with a clear error.

    >>> save_png(result, "out.png")            # doctest: +SKIP
    >>> read_png_metadata("out.png")["prompt"]   # doctest: +SKIP
    'a red star'
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ..errors import InvalidInputError
from ..io import atomic_write_bytes, atomic_write_text
from .loop import GuideResult

#: PNG text keys: ``prompt`` (plain text, what image viewers show) and ``cliplens`` (JSON settings)
PROMPT_KEY = "prompt"
SETTINGS_KEY = "cliplens"
SOFTWARE = "cliplens guide"
#: first line of every SVG the guide writes (how a later save knows the file is ours to replace)
SVG_MARKER = "<!-- cliplens guide -->"


def _ours_png(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            return (getattr(im, "text", {}) or {}).get("Software") == SOFTWARE
    except Exception:  # noqa: BLE001 - unreadable or not a PNG: not ours
        return False


def _refuse_foreign(path: Path, ours: bool) -> None:
    if path.exists() and (path.is_dir() or not ours):
        raise InvalidInputError(f"{path} exists and was not written by cliplens guide; not replacing it "
                                "(choose another output path or remove the file)")


def png_bytes(image: Image.Image, metadata: dict[str, Any] | None = None) -> bytes:
    """Encode an image as PNG with text chunks for `metadata` (prompt as text, the rest as JSON)."""
    info = PngInfo()
    if metadata:
        if "prompt" in metadata:
            info.add_itxt(PROMPT_KEY, str(metadata["prompt"]))
        info.add_itxt(SETTINGS_KEY, json.dumps(metadata, ensure_ascii=False, default=str))
    info.add_text("Software", SOFTWARE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def save_png(result: GuideResult | Image.Image, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> None:
    """Write a result (or image) atomically as PNG with its prompt and settings embedded.

    Replaces an existing file only when it is a PNG cliplens guide wrote.
    """
    if str(path).lower().rsplit(".", 1)[-1] != "png":
        raise InvalidInputError(f"output must be a .png file (it stores the prompt and settings), got {path}")
    _refuse_foreign(Path(path), _ours_png(Path(path)))
    if isinstance(result, GuideResult):
        image, meta = result.image, {**result.metadata(), **(metadata or {})}
    else:
        image, meta = result, metadata
    atomic_write_bytes(Path(path), png_bytes(image, meta))


def read_png_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The settings `save_png` stored (``{}`` for a PNG without them)."""
    with Image.open(path) as im:
        text = dict(getattr(im, "text", {}) or {})
    if SETTINGS_KEY in text:
        return json.loads(text[SETTINGS_KEY])
    return {"prompt": text[PROMPT_KEY]} if PROMPT_KEY in text else {}


def save_svg(result: GuideResult, path: str | os.PathLike) -> None:
    """Write a vector result (``param="shapes"``) as SVG; replaces only an SVG the guide wrote."""
    if result.svg is None:
        raise InvalidInputError(f"only the 'shapes' parametrisation makes a vector image; this run used "
                                f"{result.config.param!r}")
    p = Path(path)
    if p.suffix.lower() != ".svg":
        raise InvalidInputError(f"svg output must end in .svg, got {path}")
    try:
        ours = p.is_file() and p.read_text(encoding="utf-8", errors="replace").startswith(SVG_MARKER)
    except OSError:
        ours = False
    _refuse_foreign(p, ours)
    atomic_write_text(p, SVG_MARKER + "\n" + result.svg)
