"""Best-of-N: rank N images for one prompt (or N prompts for one image) and keep the winners.

    >>> ranked = rank(enc, "a red circle, pixel art", ["s1.png", "s2.png", "s3.png"], top_k=2)  # doctest: +SKIP
    >>> [(r.rank, r.item, round(r.cosine, 3)) for r in ranked.items]                                 # doctest: +SKIP
    [(1, 's2.png', 0.512), (2, 's1.png', 0.44)]
    >>> keep_winners(ranked, "best/", mode="symlink")                                              # doctest: +SKIP
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from typing import Any

from ..defaults import LONG_PROMPTS, ON_ERROR, RANK_TOP_K
from ..errors import InvalidInputError
from ..images import ImageInput
from ..models.encoder import Encoder
from ..results import Result, jsonable
from .scores import PAPER_W, _names, image_vectors, paper_clipscore
from .text import encode_prompts


@dataclass
class Ranked:
    """One ranked candidate: `index` is its position in the input list."""

    rank: int
    index: int
    item: str
    cosine: float
    clip_s: float

    def to_dict(self) -> dict:
        return {"rank": self.rank, "index": self.index, "item": self.item, "cosine": self.cosine,
                "clip_s": self.clip_s}


@dataclass
class Ranking(Result):
    """Candidates best first (only the top `top_k` when asked), the query, and failed candidates.

    `errors[i].index` is the failed candidate's position in the input list.
    """

    query: str
    kind: str  # "images" (images ranked for a prompt) or "prompts" (prompts ranked for an image)
    items: list[Ranked]
    total: int
    truncations: list[dict] = field(default_factory=list)
    model: str = ""

    def to_dict(self) -> dict:
        return jsonable({"model": self.model, "query": self.query, "ranked": self.kind, "total": self.total,
                         "results": [r.to_dict() for r in self.items], "truncations": self.truncations,
                         "errors": self.errors})


def _check_top(top_k: int | None, n: int) -> int:
    if top_k is None:
        return n
    if int(top_k) < 1:
        raise InvalidInputError(f"top_k must be >= 1 (got {top_k})")
    return min(int(top_k), n)


def _order(scores: np.ndarray) -> np.ndarray:
    s = np.where(np.isnan(scores), -np.inf, scores)
    return np.argsort(-s, kind="stable")


def rank(
    encoder: Encoder,
    query: Any,
    candidates: Sequence[Any],
    *,
    top_k: int | None = RANK_TOP_K,
    long_prompts: str = LONG_PROMPTS,
    on_error: str = ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> Ranking:
    """Best-of-N, the one call: a text `query` ranks candidate images; an image `query` (a `Path`,
    PIL image, bytes or array) ranks candidate prompts. Best first; `top_k` None keeps all.

    >>> rank(enc, "a red circle", [Path("a.png"), Path("b.png")], top_k=1).items[0].item  # doctest: +SKIP
    """
    if isinstance(query, str):
        return rank_images(encoder, query, candidates, top_k=top_k, long_prompts=long_prompts, on_error=on_error,
                           use_cache=use_cache, batch_size=batch_size, progress=progress)
    return rank_prompts(encoder, query, candidates, top_k=top_k, long_prompts=long_prompts)


def rank_images(
    encoder: Encoder,
    prompt: str,
    images: Sequence[ImageInput],
    *,
    top_k: int | None = RANK_TOP_K,
    long_prompts: str = LONG_PROMPTS,
    on_error: str = ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> Ranking:
    """Rank images by their match to `prompt` (best first); unreadable images are reported, not ranked."""
    images = list(images)
    if not images:
        raise InvalidInputError("no candidate images to rank")
    te = encode_prompts(encoder, [prompt], long_prompts=long_prompts)
    iv, errors = image_vectors(encoder, images, on_error=on_error, use_cache=use_cache, batch_size=batch_size,
                               progress=progress)
    cos = iv.astype(np.float64) @ te.vectors[0].astype(np.float64)
    ok = [i for i in _order(cos) if not np.isnan(cos[i])]
    if not ok:
        raise InvalidInputError(f"none of the {len(images)} images could be read: "
                                + "; ".join(f"{e.source}: {e.reason}" for e in errors[:3]))
    names = _names(images)
    k = _check_top(top_k, len(ok))
    cs = paper_clipscore(cos, PAPER_W)
    items = [Ranked(r + 1, int(i), names[i], float(cos[i]), float(cs[i])) for r, i in enumerate(ok[:k])]
    return Ranking(prompt, "images", items, len(images), [t.to_dict() for t in te.truncations], encoder.name,
                   errors=errors)


def rank_prompts(
    encoder: Encoder,
    image: ImageInput,
    prompts: Sequence[str],
    *,
    top_k: int | None = RANK_TOP_K,
    long_prompts: str = LONG_PROMPTS,
) -> Ranking:
    """Rank prompts by how well they describe `image` (best first)."""
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompts:
        raise InvalidInputError("no candidate prompts to rank")
    te = encode_prompts(encoder, prompts, long_prompts=long_prompts)
    iv, _ = image_vectors(encoder, [image], on_error="raise")  # one image: nothing to rank without it
    cos = te.vectors.astype(np.float64) @ iv[0].astype(np.float64)
    k = _check_top(top_k, len(prompts))
    cs = paper_clipscore(cos, PAPER_W)
    order = _order(cos)
    items = [Ranked(r + 1, int(i), prompts[i], float(cos[i]), float(cs[i])) for r, i in enumerate(order[:k])]
    return Ranking(_names([image])[0], "prompts", items, len(prompts), [t.to_dict() for t in te.truncations],
                   encoder.name)


def keep_winners(ranking: Ranking, dest: str | os.PathLike, mode: str = "copy", prefix_rank: bool = True) -> list[Path]:
    """Copy or symlink the ranked image files into `dest` (``001_name.png`` ...); returns the new paths.

    Existing files in `dest` with the same name are replaced; the source files are never touched.
    """
    if ranking.kind != "images":
        raise InvalidInputError("only ranked images can be copied; this ranking is of prompts")
    if mode not in ("copy", "symlink"):
        raise InvalidInputError(f"mode={mode!r}: use 'copy' or 'symlink'")
    out = Path(dest).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    width = max(3, len(str(len(ranking.items))))
    for r in ranking.items:
        src = Path(r.item)
        if not src.is_file():
            raise InvalidInputError(f"cannot copy {r.item}: not a file (in-memory images cannot be kept)")
        name = f"{r.rank:0{width}d}_{src.name}" if prefix_rank else src.name
        target = out / name
        if target.is_symlink() or target.exists():
            if target.resolve() == src.resolve() and mode == "copy" and not target.is_symlink():
                raise InvalidInputError(f"{target} is the source file itself; choose another folder")
            target.unlink()
        if mode == "copy":
            shutil.copy2(src, target)
        else:
            os.symlink(src.resolve(), target)
        written.append(target)
    return written
