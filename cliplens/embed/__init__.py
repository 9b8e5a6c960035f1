"""THE images -> vectors home: files, folders, bytes, in-memory images, the cache, the fast path.

    image_vectors(encoder, images)   any mix of paths/URLs/bytes/PIL/arrays -> `ImageVectors`
    embed_images(encoder, paths)     files and folders (recursive) -> `EmbeddingResult`
    iter_embeddings(encoder, srcs)   the shared loop, batch by batch (index sync uses it)
    encode_texts_fast(encoder, ts)   many texts, token-budget batches
    EmbeddingCache                   per-model SQLite cache keyed by content hash

Modules: core (the loop), pipeline/decode/preprocess (read, decode, resize exactly as the
backend does, crop/normalise on the device), runner (forward passes, async copies), texts,
cache, files, vectors. Names load lazily: importing `cliplens.embed` does not import torch.

    >>> from cliplens.embed import image_vectors                    # doctest: +SKIP
    >>> image_vectors(load_encoder("toyclip"), ["a.png", pil_image]).vectors.shape  # doctest: +SKIP
    (2, 64)
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EmbeddingCache": "cache",
    "EmbeddedBatch": "core",
    "default_batch_size": "core",
    "iter_embeddings": "core",
    "EmbeddingResult": "files",
    "embed_images": "files",
    "ImageVectors": "vectors",
    "image_vectors": "vectors",
    "encode_texts_fast": "texts",
    "text_batches": "texts",
    "ModelRunner": "runner",
    "Preparer": "pipeline",
    "PreparedBatch": "pipeline",
    "prefetched": "pipeline",
    "default_workers": "pipeline",
    "DevicePreprocessor": "preprocess",
}

__all__ = sorted([*_EXPORTS, "content_hash"])


def __getattr__(name: str) -> Any:
    if name == "content_hash":  # lives in the image layer; kept here for old imports
        from ..images import content_hash

        return content_hash
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'cliplens.embed' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
