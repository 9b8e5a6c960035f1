"""The one library call of the interrogator: `interrogate(encoder, images, *, mode, ...)`.

The CLI verb (`cliplens interrogate`), the HTTP routes (`/api/interrogate`, `/api/interrogate/batch`)
and folder runs all call this function with the defaults of `cliplens.defaults`, so one request
gives one answer everywhere.

    >>> from cliplens.interrogate import interrogate
    >>> r = interrogate("toyclip", "example.png", mode="fast")      # doctest: +SKIP
    >>> r.prompt, [p.confidence for p in r.parts]                                     # doctest: +SKIP
    >>> rs = interrogate("toyclip", ["a.png", "broken.png"], mode="negative")          # doctest: +SKIP
    >>> [r.prompt for r in rs.results], rs.errors                                     # doctest: +SKIP
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import defaults as D
from ..errors import ImageLoadError, InvalidInputError
from ..images import describe, load_image
from ..results import ItemError, Result
from .interrogator import InterrogateResult, Interrogator

_SINGLE = (str, bytes, bytearray, os.PathLike)


@dataclass
class InterrogateResults(Result):
    """Prompts for several images: `results[k]` is the k-th image that worked (its `index` says which
    input it was); a failed image is an `ItemError` in `errors` and the batch goes on."""

    mode: str = ""
    results: list[InterrogateResult] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    prepare_seconds: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode,
                "results": [dict(r.to_dict(), index=i) for r, i in zip(self.results, self.indices)],
                "prepare_seconds": round(self.prepare_seconds, 4), "seconds": round(self.seconds, 4),
                "errors": [e.to_dict() for e in self.errors]}


_CACHE: dict[tuple, Interrogator] = {}


def get_interrogator(model: Any = D.MODEL, *, caption_model: Any = "auto", vocab: Any = None, device: str = "auto",
                     precision: str = "auto", low_vram: bool = False, progress: bool = False) -> Interrogator:
    """An `Interrogator` for these settings, kept (up to 4) so repeated calls reuse loaded tables."""
    if isinstance(model, Interrogator):
        return model
    vkey = tuple(map(str, vocab)) if isinstance(vocab, (list, tuple)) else str(vocab)
    mkey = id(model) if not isinstance(model, str) else model
    ckey = id(caption_model) if not isinstance(caption_model, str) and caption_model is not None else caption_model
    key = (mkey, ckey, vkey, device, precision, low_vram)
    it = _CACHE.get(key)
    if it is None:
        it = Interrogator(model, caption_model=caption_model, vocab=vocab, device=device, precision=precision,
                          low_vram=low_vram, progress=progress)
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = it
    it.progress = progress
    return it


def interrogate(model: Any, images: Any, *, mode: str = D.INTERROGATE_MODE, caption: str | None = None,
                captions: Sequence[str | None] | None = None, caption_model: Any = "auto", vocab: Any = None,
                min_flavors: int = D.INTERROGATE_MIN_FLAVORS, max_flavors: int | None = None,
                min_confidence: float | None = D.INTERROGATE_MIN_CONFIDENCE, top_k: int = D.TOP_K,
                on_error: str = D.ON_ERROR, batch_size: int | None = None, progress: bool = False,
                low_vram: bool = False, device: str = "auto", precision: str = "auto"
                ) -> InterrogateResult | InterrogateResults:
    """Image(s) -> prompt(s). One image (path, bytes, PIL, array) gives an `InterrogateResult`; a
    list gives `InterrogateResults` (bad images become `ItemError`s with ``on_error="skip"``).

    `model`: an `Interrogator`, an `Encoder`, a list of encoders (scored together, as SDXL), or a
    spec (``sd15``, ``toyclip``...). `caption`: one caption for every image (skips the caption
    model); `captions`: one per image. `max_flavors` None: the mode's default. `min_confidence`:
    leave out parts less confident than this. `caption_model`/`vocab`/`device`/`low_vram` are
    used when `model` is not already an `Interrogator`.
    """
    if mode not in D.INTERROGATE_MODES:
        raise InvalidInputError(f"mode must be one of: {', '.join(D.INTERROGATE_MODES)}; got {mode!r}")
    if on_error not in D.ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error must be one of: {', '.join(D.ON_ERROR_CHOICES)}; got {on_error!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise InvalidInputError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if caption is not None and captions is not None:
        raise InvalidInputError("give caption (one for all images) or captions (one per image), not both")
    single = isinstance(images, _SINGLE) or not isinstance(images, Sequence)
    items = [images] if single else list(images)
    if not items:
        raise InvalidInputError("images must not be empty")
    it = get_interrogator(model, caption_model=caption_model, vocab=vocab, device=device, precision=precision,
                          low_vram=low_vram, progress=progress)
    if batch_size is not None:
        it.batch_size = batch_size
    caps = [caption] * len(items) if caption is not None else (list(captions) if captions is not None else None)
    if caps is not None and len(caps) != len(items):
        raise InvalidInputError(f"got {len(caps)} captions for {len(items)} images")
    kw = dict(min_flavors=min_flavors, max_flavors=max_flavors, top_k=top_k, min_confidence=min_confidence)
    if single:
        return it.interrogate_many(items, mode, caps, **kw)[0]
    t0 = time.perf_counter()
    out = InterrogateResults(mode=mode)
    ok, pil = [], []
    for i, src in enumerate(items):
        try:
            pil.append(load_image(src))
            ok.append(i)
        except ImageLoadError as exc:
            if on_error == "raise":
                raise
            out.errors.append(ItemError(i, describe(src) if not isinstance(src, (str, os.PathLike)) else str(src),
                                        exc.reason))
    if ok:
        rs = it.interrogate_many(pil, mode, [caps[i] for i in ok] if caps is not None else None, **kw)
        for i, r in zip(ok, rs):
            src = items[i]
            r.image = str(src) if isinstance(src, (str, os.PathLike)) else describe(src)
        out.results, out.indices = rs, ok
        out.prepare_seconds = it.last_prepare_seconds
    out.seconds = time.perf_counter() - t0
    return out
