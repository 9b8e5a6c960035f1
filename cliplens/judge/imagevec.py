"""Compatibility shim: judge's old `image_vectors` tuple API over `cliplens.embed.image_vectors`.

The images->vectors home is `cliplens.embed`; this keeps `(vectors with NaN rows, [dict errors])`
for callers that have not switched yet. New code: `from cliplens.embed import image_vectors`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embed.vectors import image_vectors as _image_vectors
from ..images import ImageInput
from ..models.encoder import Encoder


def image_vectors(
    encoder: Encoder,
    images: Sequence[ImageInput],
    *,
    on_error: str = "raise",
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, list[dict]]:
    """(n, d) unit vectors (NaN rows for failures) and ``[{"index", "image", "reason"}]``."""
    res = _image_vectors(encoder, images, on_error=on_error, use_cache=use_cache, batch_size=batch_size,
                         progress=progress)
    return res.aligned(), [{"index": e.index, "image": e.source, "reason": e.reason} for e in res.errors]
