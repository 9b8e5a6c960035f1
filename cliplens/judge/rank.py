"""Best-of-N: rank N images for one prompt (or N prompts for one image) and keep the winners.

    >>> ranked = rank_images(enc, "a red circle, pixel art", ["s1.png", "s2.png", "s3.png"], top=2)  # doctest: +SKIP
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

from ..errors import InvalidInputError
from ..images import ImageInput
from ..models.encoder import Encoder
from .imagevec import image_vectors
from .scores import PAPER_W, _names, paper_clipscore
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
class Ranking:
    """Candidates best first (only the top `k` when asked), the query, and failed candidates."""

    query: str
    kind: str  # "images" (images ranked for a prompt) or "prompts" (prompts ranked for an image)
    items: list[Ranked]
    total: int
    errors: list[dict] = field(default_factory=list)
    truncations: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"query": self.query, "ranked": self.kind, "total": self.total,
                "results": [r.to_dict() for r in self.items], "errors": self.errors,
                "truncations": self.truncations}


def _check_top(top: int | None, n: int) -> int:
    if top is None:
        return n
    if int(top) < 1:
        raise InvalidInputError(f"--top {top}: keep at least 1")
    return min(int(top), n)


def _order(scores: np.ndarray) -> np.ndarray:
    s = np.where(np.isnan(scores), -np.inf, scores)
    return np.argsort(-s, kind="stable")


def rank_images(
    encoder: Encoder,
    prompt: str,
    images: Sequence[ImageInput],
    *,
    top: int | None = None,
    long_prompts: str = "warn",
    use_cache: bool = True,
    progress: bool = False,
) -> Ranking:
    """Rank images by their match to `prompt` (best first); unreadable images are reported, not ranked."""
    images = list(images)
    if not images:
        raise InvalidInputError("no candidate images to rank")
    te = encode_prompts(encoder, [prompt], long_prompts=long_prompts)
    iv, errors = image_vectors(encoder, images, on_error="skip", use_cache=use_cache, progress=progress)
    cos = iv.astype(np.float64) @ te.vectors[0].astype(np.float64)
    ok = [i for i in _order(cos) if not np.isnan(cos[i])]
    if not ok:
        raise InvalidInputError(f"none of the {len(images)} images could be read: "
                                + "; ".join(f"{e['image']}: {e['reason']}" for e in errors[:3]))
    names = _names(images)
    k = _check_top(top, len(ok))
    cs = paper_clipscore(cos, PAPER_W)
    items = [Ranked(r + 1, int(i), names[i], float(cos[i]), float(cs[i])) for r, i in enumerate(ok[:k])]
    return Ranking(prompt, "images", items, len(images), errors, [t.to_dict() for t in te.truncations])


def rank_prompts(
    encoder: Encoder,
    image: ImageInput,
    prompts: Sequence[str],
    *,
    top: int | None = None,
    long_prompts: str = "warn",
) -> Ranking:
    """Rank prompts by how well they describe `image` (best first)."""
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompts:
        raise InvalidInputError("no candidate prompts to rank")
    te = encode_prompts(encoder, prompts, long_prompts=long_prompts)
    iv, _ = image_vectors(encoder, [image])
    cos = te.vectors.astype(np.float64) @ iv[0].astype(np.float64)
    k = _check_top(top, len(prompts))
    cs = paper_clipscore(cos, PAPER_W)
    order = _order(cos)
    items = [Ranked(r + 1, int(i), prompts[i], float(cos[i]), float(cs[i])) for r, i in enumerate(order[:k])]
    return Ranking(_names([image])[0], "prompts", items, len(prompts), [], [t.to_dict() for t in te.truncations])


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
