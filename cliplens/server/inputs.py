"""Turning request parts into checked inputs: uploads -> RGB images within limits, texts, paths.

Every image a client sends goes through `cliplens.images.load_image` with the server's pixel
limit, so corrupt files, decompression bombs and non-images become 400s naming the upload.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import UploadFile
from PIL import Image

from ..errors import ImageLoadError, InvalidInputError
from ..images import load_image
from .config import Limits
from .files import RootSet
from .jsonguard import text_problem


async def read_uploads(files: Sequence[UploadFile] | None, limits: Limits) -> list[tuple[str, bytes]]:
    """Read uploaded files fully (the request-size guard already bounded their total)."""
    out: list[tuple[str, bytes]] = []
    for f in files or []:
        data = await f.read()
        name = f.filename or f"upload{len(out)}"
        if not data:
            raise ImageLoadError(name, "empty upload")
        out.append((name, data))
    return out


def decode_images(uploads: Sequence[tuple[str, bytes]], paths: Sequence[str], roots: RootSet,
                  limits: Limits, decode_paths: bool = True, required: bool = False) -> tuple[list[str], list]:
    """Uploads and root-checked paths -> (names, RGB images). Blocking: call from a worker thread.

    With `required=True` an empty request is refused here, with the one message every route shares.

    With `decode_paths=False` served files stay as their resolved `Path` (so the library's
    embedding cache, keyed by file content, can skip re-encoding them).
    """
    if len(uploads) + len(paths) > limits.max_images:
        raise InvalidInputError(f"{len(uploads) + len(paths)} images in one request; the limit is {limits.max_images}")
    names: list[str] = []
    images: list[Image.Image] = []
    for name, data in uploads:
        try:
            img = load_image(data, max_pixels=limits.max_image_pixels)
        except ImageLoadError as exc:
            raise ImageLoadError(name, exc.reason) from None
        names.append(name)
        images.append(img)
    for p in paths:
        real = roots.resolve(p)
        images.append(load_image(real, max_pixels=limits.max_image_pixels) if decode_paths else real)
        names.append(p)
    if required and not images:
        raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
    return names, images


def parse_texts(values: Sequence[str] | None, limits: Limits, what: str = "texts", required: bool = True) -> list[str]:
    """Form fields -> list of texts. Accepts repeated fields, one JSON array, or newline-separated text."""
    texts: list[str] = []
    for v in values or []:
        v = v if isinstance(v, str) else str(v)
        s = v.strip()
        if s.startswith("[") and s.endswith("]"):
            try:
                arr = json.loads(s)
            except json.JSONDecodeError:
                arr = None
            if isinstance(arr, list) and all(isinstance(x, str) for x in arr):
                texts.extend(arr)
                continue
        texts.extend(line for line in v.splitlines() if line.strip()) if "\n" in v else texts.append(v)
    return check_texts(texts, limits, what, required)


def check_texts(texts: Sequence[str], limits: Limits, what: str = "texts", required: bool = True) -> list[str]:
    """Enforce count/length limits and non-emptiness with messages that name the field."""
    texts = [t.strip() for t in texts]
    for t in texts:
        problem = text_problem(t)
        if problem:
            raise InvalidInputError(f"one of the {what} has {problem}")
    if required and not texts:
        raise InvalidInputError(f"no {what} given")
    if any(not t for t in texts):
        raise InvalidInputError(f"empty string in {what}")
    if len(texts) > limits.max_texts:
        raise InvalidInputError(f"{len(texts)} {what}; the limit is {limits.max_texts}")
    for t in texts:
        if len(t) > limits.max_text_chars:
            raise InvalidInputError(f"one of the {what} has {len(t)} characters; the limit is {limits.max_text_chars}")
    return list(texts)
