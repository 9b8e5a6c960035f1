"""Saving results: PNGs that carry their prompt and settings, so any image can be reproduced.

    >>> save_png(result, "out.png")            # doctest: +SKIP
    >>> read_png_metadata("out.png")["prompt"]   # doctest: +SKIP
    'a red star:1'
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
from ..settings import atomic_write_bytes
from .loop import GuideResult

#: PNG text keys: ``prompt`` (plain text, what image viewers show) and ``cliplens`` (JSON settings)
PROMPT_KEY = "prompt"
SETTINGS_KEY = "cliplens"


def png_bytes(image: Image.Image, metadata: dict[str, Any] | None = None) -> bytes:
    """Encode an image as PNG with text chunks for `metadata` (prompt as text, the rest as JSON)."""
    info = PngInfo()
    if metadata:
        if "prompt" in metadata:
            info.add_itxt(PROMPT_KEY, str(metadata["prompt"]))
        info.add_itxt(SETTINGS_KEY, json.dumps(metadata, ensure_ascii=False, default=str))
        info.add_text("Software", "cliplens guide")
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def save_png(result: GuideResult | Image.Image, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> None:
    """Write a result (or image) atomically as PNG with its prompt and settings embedded."""
    if str(path).lower().rsplit(".", 1)[-1] != "png":
        raise InvalidInputError(f"output must be a .png file (it stores the prompt and settings), got {path}")
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
