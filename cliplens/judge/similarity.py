"""Cosine similarity between any terms: texts and images, every A against every B.

The one rule for what a term is (issue 14): in the library a `str` is **always text**; an image
is anything else: a `pathlib.Path` (or other path object), PIL image, bytes or array. The CLI
and the server decide, from what the user said (``@path``, ``--image``, an upload, a served
path), which of their inputs are images, and pass those as `Path`s or images, so a long prompt
is never tried as a file name and a missing image file is reported, not scored as text.

Every term is encoded once; a term that fails (unreadable image, empty text) becomes an
`ItemError` whose `index` is its position in ``a + b``, and its row/column is null.

    >>> from pathlib import Path
    >>> r = similarity(enc, Path("red.png"), ["a red circle", "a blue square"])   # doctest: +SKIP
    >>> r.cosine[0], r.best[0]                                                   # doctest: +SKIP
    ([0.31, 0.12], 'a red circle')
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..defaults import LONG_PROMPTS, ON_ERROR, ON_ERROR_CHOICES
from ..errors import InvalidInputError
from ..images import describe
from ..models.encoder import Encoder
from ..results import ItemError, Result
from .scores import image_vectors
from .text import encode_prompts


@dataclass
class SimilarityResult(Result):
    """`cosine[i][j]` of a[i] and b[j] (b = a when no b was given); null where a term failed.

    `probs[i]`: softmax over the b terms at the model's logit scale (CLIP's zero-shot
    probabilities when b are texts); `best[i]`: the b term most similar to a[i].
    `a`/`b`: each term as ``{"source", "kind"}`` (kind "text" or "image").
    """

    model: str
    a: list[dict[str, str]]
    b: list[dict[str, str]]
    cosine: list[list[float | None]]
    probs: list[list[float | None]] = field(default_factory=list)
    best: list[str | None] = field(default_factory=list)


def _is_text(t: Any) -> bool:
    return isinstance(t, str)


def _source(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, os.PathLike):
        return os.fspath(t)
    return describe(t)


def _as_list(x: Any) -> list:
    if isinstance(x, (str, bytes, os.PathLike)) or not isinstance(x, Sequence):
        return [x]
    return list(x)


def similarity(
    encoder: Encoder,
    a: Any,
    b: Any = None,
    *,
    long_prompts: str = LONG_PROMPTS,
    on_error: str = ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> SimilarityResult:
    """Cosine of every term of `a` with every term of `b` (or of `a` with itself when `b` is None).

    `a`, `b`: one term or a list; a `str` is text, anything else an image (see module doc).
    """
    if on_error not in ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error={on_error!r}: use 'skip' or 'raise'")
    la = _as_list(a)
    lb = None if b is None else _as_list(b)
    if not la:
        raise InvalidInputError("a: give at least one text or image")
    if lb is not None and not lb:
        raise InvalidInputError("b: give at least one text or image to compare with")
    terms = la + (lb or [])
    sources = [_source(t) for t in terms]
    kinds = ["text" if _is_text(t) else "image" for t in terms]
    vecs = np.full((len(terms), encoder.embed_dim), np.nan, np.float32)
    errors: list[ItemError] = []
    txt = []
    for i, t in enumerate(terms):
        if kinds[i] != "text":
            continue
        if not t.strip():
            if on_error == "raise":
                raise InvalidInputError(f"term {i} is an empty text")
            errors.append(ItemError(i, t, "empty text"))
        else:
            txt.append(i)
    if txt:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation is reported by `cliplens compose`/`score`, not here
            te = encode_prompts(encoder, [terms[i] for i in txt],
                                long_prompts="truncate" if long_prompts == "warn" else long_prompts)
        vecs[txt] = te.vectors
    img = [i for i, k in enumerate(kinds) if k == "image"]
    if img:
        iv, errs = image_vectors(encoder, [terms[i] for i in img], on_error=on_error, use_cache=use_cache,
                                 batch_size=batch_size, progress=progress)
        vecs[img] = iv
        errors += [ItemError(img[e.index], e.source, e.reason) for e in errs]
    errors.sort(key=lambda e: e.index)
    va = vecs[: len(la)].astype(np.float64)
    vb = va if lb is None else vecs[len(la):].astype(np.float64)
    cos = va @ vb.T
    out_b = list(range(len(la))) if lb is None else list(range(len(la), len(terms)))
    probs: list[list[float | None]] = []
    best: list[str | None] = []
    scale = float(encoder.logit_scale)
    for row in cos:
        ok = ~np.isnan(row)
        if not ok.any():
            probs.append([None] * len(row))
            best.append(None)
            continue
        z = scale * row[ok]
        e = np.exp(z - z.max())
        p = np.full(len(row), np.nan)
        p[ok] = e / e.sum()
        probs.append([None if np.isnan(x) else round(float(x), 6) for x in p])
        best.append(sources[out_b[int(np.nanargmax(np.where(ok, row, -np.inf)))]])
    cosine = [[None if np.isnan(x) else round(float(x), 6) for x in row] for row in cos]
    info = [{"source": s, "kind": k} for s, k in zip(sources, kinds)]
    return SimilarityResult(model=encoder.name, a=info[: len(la)], b=info[len(la):] if lb is not None else info,
                            cosine=cosine, probs=probs, best=best, errors=errors)
