"""Vectors for a list of images of any kind: files, encoded bytes, PIL images, arrays, URLs, mixed.

Best-of-N, score grids, manifests and uploads name the same image many times; each distinct
image is embedded once (files by path, bytes by content), files and bytes go through the
embedding cache, and an image that cannot be read becomes one `ItemError` while the rest go
on. All of it runs the same loop as `embed_images`, so a picture gets the same vector from a
file, from its bytes, or as a PIL image.

    >>> res = image_vectors(enc, ["a.png", "a.png", "missing.png"])         # doctest: +SKIP
    >>> res.indices, res.vectors.shape, res.errors[0].index                 # doctest: +SKIP
    ([0, 1], (2, 64), 2)
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .. import defaults
from ..errors import ImageLoadError, InvalidInputError
from ..images import ImageInput, content_hash
from ..models.encoder import Encoder
from ..results import ItemError, Result
from .core import iter_embeddings


@dataclass
class ImageVectors(Result):
    """Unit vectors for the inputs that loaded: row r belongs to input `indices[r]`.

    `hashes[r]` is the content hash of a file/bytes input ("" for PIL images and arrays);
    `errors` has one `ItemError(index, source, reason)` per input that failed; `count` is the
    number of inputs. `aligned()` gives an (count, d) array with NaN rows for the failures.
    """

    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))
    indices: list[int] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    count: int = 0
    cached: int = 0
    computed: int = 0

    def aligned(self) -> np.ndarray:
        """(count, d) float32: row i is input i's vector, NaN where input i failed."""
        out = np.full((self.count, self.vectors.shape[1]), np.nan, np.float32)
        if self.indices:
            out[self.indices] = self.vectors
        return out

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask over the inputs: True where a vector was computed."""
        mask = np.zeros(self.count, bool)
        mask[self.indices] = True
        return mask


def _key(src: ImageInput) -> tuple[str, object] | None:
    """A de-duplication key (files by path, bytes by content) and the source to embed, or None."""
    if isinstance(src, (str, os.PathLike)):
        s = str(src)
        if s.startswith(("http://", "https://")):
            return ("url", s), s
        return ("path", str(Path(s).expanduser())), Path(s).expanduser()
    if isinstance(src, (bytes, bytearray)):
        data = bytes(src)
        return ("bytes", content_hash(data) if data else ""), data
    return None


def image_vectors(
    encoder: Encoder,
    images: Sequence[ImageInput] | ImageInput,
    *,
    on_error: str = defaults.ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> ImageVectors:
    """Unit vectors for `images` (paths, URLs, bytes, PIL images, arrays, or a mix).

    `on_error="skip"` (default) reports each bad input in `errors` and goes on;
    ``"raise"`` raises the first `ImageLoadError` (lowest index).
    """
    if on_error not in defaults.ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error must be one of {', '.join(defaults.ON_ERROR_CHOICES)}, got {on_error!r}")
    if isinstance(images, (str, bytes, bytearray, Image.Image, os.PathLike, np.ndarray)):
        images = [images]
    images = list(images)
    slots: dict[object, int] = {}       # de-duplication key -> position in `sources`
    sources: list[object] = []
    owner: list[int] = []               # input i -> its position in `sources`
    for src in images:
        k = _key(src)
        if k is None:
            owner.append(len(sources))
            sources.append(src)
            continue
        key, item = k
        if key not in slots:
            slots[key] = len(sources)
            sources.append(item)
        owner.append(slots[key])
    got: dict[int, tuple[np.ndarray, str]] = {}
    failed: dict[int, ItemError] = {}
    cached = computed = 0
    for b in iter_embeddings(encoder, sources, batch_size=batch_size, use_cache=use_cache, progress=progress,
                             workers=workers):
        for j, h, v in zip(b.indices, b.hashes, b.vectors):
            got[j] = (v, h)
        for e in b.errors:
            failed[e.index] = e
            if on_error == "raise":  # batches and their errors come in input order: this is the first
                raise ImageLoadError(e.source, e.reason)
        cached += b.cached
        computed += b.computed
    res = ImageVectors(count=len(images), cached=cached, computed=computed)
    rows: list[np.ndarray] = []
    for i, j in enumerate(owner):
        if j in got:
            v, h = got[j]
            res.indices.append(i)
            res.hashes.append(h)
            rows.append(v)
        else:
            e = failed.get(j)
            res.errors.append(ItemError(i, e.source if e else str(images[i]), e.reason if e else "could not be embedded"))
    res.vectors = np.stack(rows).astype(np.float32) if rows else np.empty((0, encoder.embed_dim), np.float32)
    return res
