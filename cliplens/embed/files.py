"""Embed image files and folders: find the images, run the shared loop, collect one result.

    >>> from cliplens import load_encoder
    >>> from cliplens.embed import embed_images
    >>> result = embed_images(load_encoder("toyclip"), ["photos/"], progress=False)  # doctest: +SKIP
    >>> result.vectors.shape, result.computed, result.cached, result.errors          # doctest: +SKIP
    ((120, 64), 120, 0, [])
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..images import find_images
from ..models.encoder import Encoder
from ..results import Result
from .core import iter_embeddings


@dataclass
class EmbeddingResult(Result):
    """Vectors for the files that loaded (row i <-> `paths[i]`, content hash `hashes[i]`).

    `errors` holds one `ItemError` per file that could not be read or decoded; its `index` is
    the file's position in the sorted list of files found.
    """

    paths: list[str] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))
    hashes: list[str] = field(default_factory=list)
    cached: int = 0
    computed: int = 0

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["dim"] = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0
        return d


def embed_images(
    encoder: Encoder,
    paths: Iterable[str | os.PathLike],
    batch_size: int | None = None,
    use_cache: bool = True,
    progress: bool = True,
    workers: int | None = None,
    cache_root: Path | None = None,
    fast: bool = True,
    decode: str = "auto",
    compile: bool = False,
    prefetch: int = 3,
) -> EmbeddingResult:
    """Embed image files and folders (recursively) with caching; bad files are reported, not fatal.

    The fast path (default) reads, hashes and decodes files in `workers` threads (nvjpeg on
    CUDA for plain JPEGs when `decode` allows), resizes exactly as the backend does, crops and
    normalises on the model's device, and keeps one batch in flight while the next `prefetch`
    are prepared; `compile=True` adds torch.compile at a fixed batch shape. `fast=False` uses
    the backend's own preprocessing and `encoder.encode_images`; both give the same vectors.
    The progress bar (on a terminal only) counts images/s.
    """
    files = find_images(paths)
    result = EmbeddingResult(vectors=np.empty((0, encoder.embed_dim), np.float32))
    parts: list[np.ndarray] = []
    for b in iter_embeddings(encoder, files, batch_size=batch_size, use_cache=use_cache, progress=progress,
                             workers=workers, cache_root=cache_root, fast=fast, decode=decode, compile=compile,
                             prefetch=prefetch):
        result.paths.extend(str(files[i]) for i in b.indices)
        result.hashes.extend(b.hashes)
        result.errors.extend(b.errors)
        result.cached += b.cached
        result.computed += b.computed
        if b.vectors is not None and len(b.vectors):
            parts.append(b.vectors)
    if parts:
        result.vectors = np.concatenate(parts).astype(np.float32, copy=False)
    return result
