"""Turn a chunk of image sources into a ready model batch, in background threads.

One `Preparer.prepare(chunk)` call reads and hashes the sources (thread pool), looks the
hashes up in the embedding cache, decodes only the misses (nvjpeg on the GPU for plain JPEGs
that need no resize, Pillow threads for the rest, resized as the backend does), stacks
same-size images (into pinned memory when the model is on CUDA) and crops/normalises them on
the model's device on a side CUDA stream. `prefetched` runs several `prepare` calls ahead of
the consumer, so file I/O, decoding, host-to-device copies and preprocessing of the next
batches overlap the forward pass of the current one.

A source is a file `Path`, encoded image `bytes` (hashed and cached like a file), or an
in-memory picture (PIL image, array, URL string) that is decoded but not cached.

    >>> prep = Preparer(load_encoder("toyclip"), cache=None)                 # doctest: +SKIP
    >>> for batch in prefetched(prep, [files[:64], files[64:]], depth=2): ...  # doctest: +SKIP
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..errors import ImageLoadError, InvalidInputError
from ..images import content_hash, describe, load_image
from ..models.encoder import Encoder
from .decode import decode_cpu, decode_gpu, gpu_decodable, nvjpeg_available, read_and_hash
from .preprocess import DevicePreprocessor

DECODE_CHOICES = ("auto", "cpu", "gpu")


def default_workers() -> int:
    """Decode threads: one per core (Pillow and hashing release the GIL), at most 32."""
    return max(1, min(32, os.cpu_count() or 4))


def source_name(src: Any) -> str:
    """How a source is named in an error: the path for files, a short description otherwise."""
    return str(src) if isinstance(src, Path) else describe(src)


def read_source(src: Any) -> tuple[Any, str, ImageLoadError | None]:
    """(data to decode, content hash or "" when not cacheable, error) for one source."""
    if isinstance(src, Path):
        return read_and_hash(src)
    if isinstance(src, (bytes, bytearray)):
        if not src:
            return None, "", ImageLoadError(describe(src), "empty data")
        data = bytes(src)
        return data, content_hash(data), None
    return src, "", None


@dataclass
class PreparedBatch:
    """One chunk of sources, sorted into cache hits, errors, and rows for the model."""

    sources: list[Any]
    hashes: list[str]
    errors: dict[int, ImageLoadError] = field(default_factory=dict)
    hits: dict[int, np.ndarray] = field(default_factory=dict)
    #: chunk positions computed by the model, in row order of `pixels` / `images`
    todo: list[int] = field(default_factory=list)
    pixels: torch.Tensor | None = None
    images: list[Image.Image] | None = None
    event: torch.cuda.Event | None = None
    gpu_decoded: int = 0

    @property
    def files(self) -> list[Any]:
        """The sources of this chunk (kept under its old name)."""
        return self.sources

    def ready_pixels(self) -> torch.Tensor | None:
        """The pixel batch, made safe to use on the current CUDA stream."""
        if self.pixels is not None and self.event is not None:
            stream = torch.cuda.current_stream(self.pixels.device)
            stream.wait_event(self.event)
            self.pixels.record_stream(stream)
        return self.pixels


class Preparer:
    """Reads, hashes, cache-checks, decodes and preprocesses chunks of sources for one encoder.

    `fast=False`, or a backend without a `preprocess_spec`, keeps the backend's own
    preprocessing (the plain path: batches are lists of PIL images for `encoder.encode_images`).
    Both paths give the same vectors. `decode`: "auto" (nvjpeg when the model is on CUDA and
    torchvision has it), "cpu" or "gpu".
    """

    def __init__(self, encoder: Encoder, cache=None, fast: bool = True, decode: str = "auto",
                 workers: int | None = None):
        if decode not in DECODE_CHOICES:
            raise InvalidInputError(f"decode must be one of {', '.join(DECODE_CHOICES)}, not {decode!r}")
        if workers is not None and int(workers) < 1:
            raise InvalidInputError(f"workers must be >= 1, got {workers}")
        self.encoder = encoder
        self.cache = cache
        self.device = encoder.pixel_device
        self.spec = encoder.preprocess_spec if fast else None
        self.preprocessor = DevicePreprocessor(self.spec, self.device, encoder.dtype) if self.spec else None
        self.fast = self.preprocessor is not None
        self.use_nvjpeg = self.fast and decode != "cpu" and nvjpeg_available(str(self.device))
        self.pool = ThreadPoolExecutor(max_workers=int(workers or default_workers()), thread_name_prefix="cliplens-decode")
        self._local = threading.local()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _stream(self) -> torch.cuda.Stream | None:
        if self.device.type != "cuda":
            return None
        s = getattr(self._local, "stream", None)
        if s is None:
            s = self._local.stream = torch.cuda.Stream(self.device)
        return s

    # ------------------------------------------------------------------ stages
    def prepare(self, chunk: Sequence[Any]) -> PreparedBatch:
        raw = list(self.pool.map(read_source, chunk))
        batch = PreparedBatch(list(chunk), [h for _, h, _ in raw])
        for i, (_, _, err) in enumerate(raw):
            if err is not None:
                batch.errors[i] = err
        if self.cache is not None:
            found = self.cache.get(sorted({h for h in batch.hashes if h}))
            batch.hits = {i: found[h] for i, h in enumerate(batch.hashes) if h in found}
        todo = [i for i, (data, _, err) in enumerate(raw) if err is None and i not in batch.hits]
        if not todo:
            return batch
        if not self.fast:
            self._decode_plain(batch, raw, todo)
        else:
            self._decode_fast(batch, raw, todo)
        return batch

    def _decode_plain(self, batch: PreparedBatch, raw, todo: list[int]) -> None:
        def one(i: int):
            try:
                return load_image(raw[i][0]), None
            except ImageLoadError as exc:
                return None, ImageLoadError(source_name(batch.sources[i]), exc.reason)

        images = []
        for i, (im, err) in zip(todo, self.pool.map(one, todo)):
            if err is not None:
                batch.errors[i] = err
            else:
                batch.todo.append(i)
                images.append(im)
        batch.images = images

    def _decode_fast(self, batch: PreparedBatch, raw, todo: list[int]) -> None:
        use_gpu = self.use_nvjpeg
        spec = self.spec

        def one(i: int):
            data = raw[i][0]
            if use_gpu and isinstance(data, bytes) and gpu_decodable(data, spec):
                return "gpu", None
            try:
                return "cpu", decode_cpu(data, source_name(batch.sources[i]), spec)
            except ImageLoadError as exc:
                return "err", exc

        decoded: dict[int, torch.Tensor] = {}
        gpu_idx: list[int] = []
        for i, (kind, val) in zip(todo, self.pool.map(one, todo)):
            if kind == "gpu":
                gpu_idx.append(i)
            elif kind == "err":
                batch.errors[i] = val
            else:
                decoded[i] = val
        stream = self._stream()
        with torch.cuda.stream(stream) if stream is not None else nullcontext():
            if gpu_idx:
                try:
                    for i, t in zip(gpu_idx, decode_gpu([raw[i][0] for i in gpu_idx], self.device)):
                        decoded[i] = t
                    batch.gpu_decoded = len(gpu_idx)
                except Exception:  # noqa: BLE001 - nvjpeg refused the batch: decode these on the CPU
                    def cpu(i: int):
                        try:
                            return decode_cpu(raw[i][0], source_name(batch.sources[i]), spec)
                        except ImageLoadError as exc:
                            return exc

                    for i, val in zip(gpu_idx, self.pool.map(cpu, gpu_idx)):
                        if isinstance(val, ImageLoadError):
                            batch.errors[i] = val
                        else:
                            decoded[i] = val
            batch.todo = [i for i in todo if i in decoded]
            if not batch.todo:
                return
            pin = stream is not None
            groups: dict[tuple[tuple[int, int], str], list[int]] = {}
            for row, i in enumerate(batch.todo):
                t = decoded[i]
                groups.setdefault((tuple(t.shape[-2:]), t.device.type), []).append(row)
            stacked = []
            for ((h, w), dev), rows in groups.items():
                parts = [decoded[batch.todo[r]] for r in rows]
                if dev == "cpu" and pin:
                    buf = torch.empty((len(parts), 3, h, w), dtype=torch.uint8, pin_memory=True)
                    stacked.append((rows, torch.stack(parts, out=buf)))
                else:
                    stacked.append((rows, torch.stack(parts)))
            assert self.preprocessor is not None
            batch.pixels = self.preprocessor.from_groups(stacked, len(batch.todo))
            if stream is not None:
                batch.event = torch.cuda.Event()
                batch.event.record(stream)


def prefetched(preparer: Preparer, chunks: Iterable[Sequence[Any]], depth: int = 3) -> Iterator[PreparedBatch]:
    """Yield `preparer.prepare(chunk)` in order, with up to `depth` chunks being prepared ahead."""
    with ThreadPoolExecutor(max_workers=max(1, depth), thread_name_prefix="cliplens-prep") as ex:
        futures: deque = deque()
        for chunk in chunks:
            futures.append(ex.submit(preparer.prepare, chunk))
            if len(futures) >= depth:
                yield futures.popleft().result()
        while futures:
            yield futures.popleft().result()
