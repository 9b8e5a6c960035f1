"""The one loop that turns image sources into vectors: prepare ahead, run the tower, cache, report.

Every images->vectors entry point (`embed_images` for files and folders, `image_vectors` for
mixed in-memory inputs, the search index's sync) runs this loop, so the same image gets the
same vector whichever surface asks. Batches come out in input order as `EmbeddedBatch`es:
which inputs got vectors (and their content hashes), which failed and why.

    >>> for b in iter_embeddings(load_encoder("toyclip"), [Path("a.png"), b"...png bytes..."]):  # doctest: +SKIP
    ...     print(b.indices, b.vectors.shape, b.errors)
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..models.encoder import Encoder
from ..progress import progress_bar
from ..results import ItemError
from .cache import EmbeddingCache
from .pipeline import PreparedBatch, Preparer, prefetched, source_name
from .runner import ModelRunner


def default_batch_size(encoder: Encoder) -> int:
    """256 images per forward pass on a GPU (keeps it saturated), 64 elsewhere."""
    return 256 if encoder.device.type == "cuda" else 64


@dataclass
class EmbeddedBatch:
    """One batch of results: input positions that got vectors, their hashes and vectors, and errors."""

    indices: list[int] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    errors: list[ItemError] = field(default_factory=list)
    cached: int = 0
    computed: int = 0


def check_batch_size(batch_size: int | None, encoder: Encoder) -> int:
    """`batch_size`, or the device default; an `InvalidInputError` naming the parameter if < 1."""
    size = default_batch_size(encoder) if batch_size is None else int(batch_size)
    if size < 1:
        raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
    return size


def iter_embeddings(
    encoder: Encoder,
    sources: Sequence[Any],
    *,
    batch_size: int | None = None,
    use_cache: bool = True,
    progress: bool = False,
    workers: int | None = None,
    cache_root: Path | None = None,
    fast: bool = True,
    decode: str = "auto",
    compile: bool = False,
    prefetch: int = 3,
) -> Iterator[EmbeddedBatch]:
    """Vectors for `sources` (file `Path`s, image bytes, PIL images, arrays), batch by batch, in order.

    Files and bytes are hashed (BLAKE2b of the bytes) and looked up in the model's embedding
    cache; only misses reach the model. A source that cannot be read or decoded becomes an
    `ItemError` with its position in `sources`; the rest go on. Each source is read once.
    """
    batch_size = check_batch_size(batch_size, encoder)
    cache = EmbeddingCache(encoder.fingerprint, cache_root) if use_cache else None
    preparer = Preparer(encoder, cache, fast=fast, decode=decode, workers=workers)
    runner = ModelRunner(encoder, compile=compile and preparer.fast, batch_size=batch_size)
    sources = list(sources)
    starts = range(0, len(sources), batch_size)
    in_flight: deque = deque()

    def finish(start: int, batch: PreparedBatch, pending) -> EmbeddedBatch:
        fresh: dict[int, np.ndarray] = {}
        if pending is not None:
            vecs = pending.result() if hasattr(pending, "result") else pending
            fresh = dict(zip(batch.todo, vecs))
            if cache is not None:
                new = {batch.hashes[i]: v for i, v in fresh.items() if batch.hashes[i]}
                if new:
                    cache.put(new)
        out = EmbeddedBatch()
        rows = []
        for i, src in enumerate(batch.sources):
            if i in batch.errors:
                e = batch.errors[i]
                out.errors.append(ItemError(start + i, source_name(src), e.reason))
                continue
            vec = batch.hits.get(i)
            if vec is None:
                vec = fresh.get(i)
                if vec is None:
                    out.errors.append(ItemError(start + i, source_name(src), "could not be embedded"))
                    continue
                out.computed += 1
            else:
                out.cached += 1
            out.indices.append(start + i)
            out.hashes.append(batch.hashes[i])
            rows.append(vec)
        out.vectors = np.stack(rows).astype(np.float32) if rows else np.empty((0, encoder.embed_dim), np.float32)
        bar.update(len(batch.sources))
        return out

    chunks = (sources[s : s + batch_size] for s in starts)
    try:
        # no inference_mode around the loop: it would stay on in the caller's code between yields;
        # `encode_images` and `ModelRunner.submit` switch it on around their own work
        with progress_bar(len(sources), "images", enabled=progress, desc="embedding") as bar:
            for start, batch in zip(starts, prefetched(preparer, chunks, depth=prefetch)):
                pending = None
                if batch.todo and batch.images is not None:
                    pending = encoder.encode_images(batch.images, batch_size=batch_size)
                elif batch.todo:
                    pending = runner.submit(batch.ready_pixels())
                in_flight.append((start, batch, pending))
                while len(in_flight) > 1:
                    yield finish(*in_flight.popleft())
            while in_flight:
                yield finish(*in_flight.popleft())
    finally:
        preparer.close()
