"""Choose a picture before drawing it: a scored, coordinate-wise search over simple vector scenes.

Gradient steps on CLIP's similarity drift towards pictures that the guiding model likes and
nothing else does (adversarial detail). CLIP is far more reliable as a *judge among natural
pictures*: shown a few hundred plain vector scenes (a flat background and one to four figures
drawn from `vector.KINDS`), it ranks the one that matches the prompt highly. So the ``shapes``
parametrisation starts here: a `Design` (background colour, figure colour, primitive, fill mode,
count, size, place, rotation) is improved one coordinate at a time, each candidate scored by the
guiding encoder(s) over a fixed set of augmented views (the same views for every candidate, so
choices compare like with like and do not hang on one pixel pattern). Colours go from a coarse
RGB grid to finer local steps. The only words here are the primitives' own menu names (below):
the primitives are the basic shapes of a drawing program and the colours a plain grid of RGB values.

CLIP is a better reader than it is a judge of drawings: shown two plain figures, it may rate a
heart about as high as a circle for "a red circle", and one big disc about as high as three
small ones for "three circles", while its *text* encoder tells "circle" from "heart" and "three"
from "one" easily. So each design also has a plain description ("a circle", "three hearts",
from the primitive's menu names, `vector.NAMES`), and `NamePrior` adds to a candidate's score
how much less the prompt's text matches its description than the best-matching description
(0 for the best, negative for the rest). A prompt that names no primitive ("a lighthouse")
still leans the search towards the primitives whose names its text encoder puts nearest;
``search_prior=0`` leaves the choice to the pictures alone.

    >>> d = Design()
    >>> [f.kind for f in d.figures()]
    ['circle']
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .vector import KINDS, MODES, NAMES, Figure, render_scene

#: figure sizes (circumradius, in units of the shorter side) tried by the search
SIZES = (0.14, 0.2, 0.27, 0.34)
#: where a figure (or a group's middle) may sit: centre, then a quarter of the way to each side
PLACES = ((0.5, 0.5), (0.27, 0.5), (0.73, 0.5), (0.5, 0.27), (0.5, 0.73))
#: rotations tried (radians)
ANGLES = (0.0, math.pi / 4, math.pi / 2, math.pi)
COUNTS = (1, 2, 3, 4)


def colour_grid(levels: Sequence[float] = (0.0, 0.5, 1.0)) -> list[tuple[float, float, float]]:
    """Every RGB colour whose channels are all in `levels` (27 for three levels)."""
    return [tuple(c) for c in itertools.product(levels, repeat=3)]


@dataclass(frozen=True)
class Design:
    """A plain vector scene: one background colour and `count` equal figures laid out together."""

    background: tuple[float, float, float] = (0.5, 0.5, 0.5)
    rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    kind: str = "circle"
    mode: str = "fill"
    count: int = 1
    size: float = 0.27
    place: tuple[float, float] = (0.5, 0.5)
    angle: float = 0.0

    def figures(self, aspect: float = 1.0) -> list[Figure]:
        """The figures in units (`aspect` = width / height; the shorter side is 1 unit)."""
        w, h = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
        n = self.count
        # a group is shrunk until it fits: a row for 2-3 figures, a 2 x 2 block for 4
        size = min(self.size, 0.9 / (2.5 * (n - 1) + 2)) if n in (2, 3) else (
            min(self.size, 0.9 / 4.5) if n == 4 else self.size)
        gap = 2.5 * size
        if n == 4:
            offs = [(-gap / 2, -gap / 2), (gap / 2, -gap / 2), (-gap / 2, gap / 2), (gap / 2, gap / 2)]
        else:
            offs = [((k - (n - 1) / 2) * gap, 0.0) for k in range(n)]
        cx, cy = self.place[0] * w, self.place[1] * h
        # keep the whole group on the canvas
        ext_x = max(abs(o[0]) for o in offs) + size
        ext_y = max(abs(o[1]) for o in offs) + size
        cx = min(max(cx, ext_x), w - ext_x) if 2 * ext_x < w else w / 2
        cy = min(max(cy, ext_y), h - ext_y) if 2 * ext_y < h else h / 2
        return [Figure(self.kind, cx + ox, cy + oy, size, self.angle, self.rgb, self.mode) for ox, oy in offs]


#: how a design's figure count is said in its description
COUNT_WORDS = {2: "two", 3: "three", 4: "four"}


def descriptions(kind: str, count: int) -> list[str]:
    """Plain descriptions of `count` figures of primitive `kind`, one per name the primitive goes by.

    >>> descriptions("plus", 2)
    ['two plus signs', 'two crosses']
    """
    out = []
    for one, many in NAMES[kind]:
        out.append(f"{'an' if one[0] in 'aeiou' else 'a'} {one}" if count == 1 else f"{COUNT_WORDS[count]} {many}")
    return out


class NamePrior:
    """How much worse a design's description matches the prompt's text than the best one does.

    ``prior(design)`` is ``strength * (s(kind, count) - max s)``, where ``s`` is the guides'
    weighted cosine between the prompt texts (negative weights count against) and the design's
    descriptions (the best of its primitive's names). ``strength`` 0 turns it off.
    """

    def __init__(self, guides, targets, weights: torch.Tensor, strength: float = 1.0, max_count: int = 4):
        self.keys = [(k, n) for k in KINDS for n in COUNTS if n <= max(1, max_count)]
        texts = [descriptions(k, n) for k, n in self.keys]
        flat = [t for ts in texts for t in ts]
        w = weights / weights.clamp_min(0).sum()
        total = torch.zeros(len(flat))
        for (enc, mw), tgt in zip(guides, targets):
            d = enc.encode_text_tensor(flat).float()
            total = total + mw * ((d @ tgt.T) * w).sum(-1).cpu()
        s, k = [], 0
        for ts in texts:  # the best of each primitive's names
            s.append(float(total[k:k + len(ts)].max()))
            k += len(ts)
        top = max(s)
        self.value = {key: strength * (v - top) for key, v in zip(self.keys, s)}

    def __call__(self, design: "Design") -> float:
        return self.value.get((design.kind, design.count), 0.0)

    def best(self) -> tuple[str, int]:
        """The (primitive, count) whose description the prompt matches best."""
        return max(self.value, key=self.value.__getitem__)


class Scorer:
    """Weighted prompt score of many pictures at once, averaged over a fixed set of augmented views.

    The views (the whole picture, then square crops of `cut_min`..1 of the shorter side, each
    a little shifted and rotated) are drawn once from `generator`, so every candidate is seen
    through the same views.
    """

    def __init__(self, guides, targets, weights: torch.Tensor, view: tuple[int, int], views: int = 4,
                 generator: torch.Generator | None = None, cut_min: float = 0.7, rotate: float = 5.0,
                 translate: float = 0.05, batch: int = 64):
        self.guides, self.targets, self.weights = guides, targets, weights
        self.view, self.batch = view, batch
        thetas = [torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])]
        for _ in range(views - 1):
            s = cut_min + (1 - cut_min) * float(torch.rand(1, generator=generator))
            tx, ty = ((1 - s) * (2 * torch.rand(2, generator=generator) - 1)).tolist()
            tx += translate * 2 * (2 * float(torch.rand(1, generator=generator)) - 1)
            ty += translate * 2 * (2 * float(torch.rand(1, generator=generator)) - 1)
            a = math.radians(rotate) * (2 * float(torch.rand(1, generator=generator)) - 1)
            thetas.append(torch.tensor([[s * math.cos(a), -s * math.sin(a), tx], [s * math.sin(a), s * math.cos(a), ty]]))
        self.thetas = torch.stack(thetas)
        self.evaluated = 0

    def views_of(self, imgs: torch.Tensor, v: int | None = None) -> torch.Tensor:
        """``(b, 3, h, w)`` -> ``(b * v, 3, *view)`` (the first `v` views), differentiable."""
        b = imgs.shape[0]
        v = v or self.thetas.shape[0]
        x = imgs
        if tuple(x.shape[-2:]) != tuple(self.view):
            x = F.interpolate(x, size=self.view, mode="bilinear", align_corners=False, antialias=True)
        x = x.repeat_interleave(v, 0)
        theta = self.thetas[:v].to(x).repeat(b, 1, 1)
        g = F.affine_grid(theta, [b * v, 3, *self.view], align_corners=False)
        return F.grid_sample(x, g, mode="bilinear", padding_mode="reflection", align_corners=False)

    def score(self, imgs: torch.Tensor, views: int | None = None) -> torch.Tensor:
        """``(b, 3, h, w)`` -> ``(b,)`` weighted prompt score, mean over the (first `views`) views (differentiable)."""
        v = self.thetas.shape[0] if views is None else max(1, min(views, self.thetas.shape[0]))
        views = self.views_of(imgs, v)
        total = torch.zeros(imgs.shape[0], device=imgs.device)
        w = self.weights / self.weights.clamp_min(0).sum()
        for (enc, mw), tgt in zip(self.guides, self.targets):
            sims = enc.encode_unit_images(views) @ tgt.T  # (b * v, p)
            total = total + mw * (sims.view(imgs.shape[0], v, -1).mean(1) * w).sum(-1)
        return total

    @torch.no_grad()
    def __call__(self, imgs: torch.Tensor, views: int | None = None) -> torch.Tensor:
        out = [self.score(imgs[k:k + self.batch], views) for k in range(0, imgs.shape[0], self.batch)]
        self.evaluated += imgs.shape[0]
        return torch.cat(out)


def _render(d: Design, size: tuple[int, int], device) -> torch.Tensor:
    return render_scene(d.background, d.figures(size[1] / size[0]), size, device)


def _visible(d: Design, contrast: float) -> bool:
    """A figure must stand out from its ground (else the picture is an empty canvas)."""
    return math.dist(d.background, d.rgb) >= contrast


def search(scorer: Scorer, size: tuple[int, int], device, start: Design | None = None, rounds: int = 2,
           top: int = 4, chains: int = 3, contrast: float = 0.3, max_count: int = 4,
           recheck: Scorer | None = None, finalists: int = 6, margin: float = 0.002,
           prior: Callable[[Design], float] | None = None,
           log: Callable[[str], None] | None = None) -> tuple[Design, float]:
    """Coordinate-wise search over designs; returns the best design and its score.

    `size` is the resolution candidates are drawn at (the guiding models' view is enough).
    Colours first: each colour of a 5-level RGB grid as a bare background, and as the colour of
    the start's figure on a neutral ground; the `top` of each are then tried in every pairing
    (both ways round, so a figure and its ground cannot swap unnoticed). From each of the
    `chains` best pairs, one coordinate at a time (primitive and fill mode, count and size,
    place, rotation, background, figure colour), `rounds` times; the best chain's design then
    gets finer colour steps. Figures closer than `contrast` (RGB distance) to the background are
    never tried; groups have at most `max_count` figures. A change of structure (primitive,
    count, place, rotation) must win by `margin`: a near tie keeps the earlier choice. With
    `recheck` (a scorer with other, more views), the `finalists` best distinct designs seen are
    scored again and the best of that second look wins, so a design that pleased only the
    first views does not. With `prior` (e.g. a `NamePrior`), each candidate's score is the
    scorer's plus ``prior(design)``.
    """
    first = start or Design()
    seen: dict[Design, float] = {}

    def render_all(cands: list[Design]) -> torch.Tensor:
        return torch.cat([_render(c, size, device) for c in cands])

    def judged(by: Scorer, cands: list[Design], views: int | None = None) -> torch.Tensor:
        s = by(render_all(cands), views=views)
        if prior is not None:
            s = s + torch.tensor([prior(c) for c in cands], dtype=s.dtype, device=s.device)
        return s

    # colour pairs: rank backgrounds on bare canvases (one view: a flat canvas looks the same in
    # every view) and figure colours on a neutral ground, then try the best of both in pairs
    fine = colour_grid((0.0, 0.25, 0.5, 0.75, 1.0))
    bare = judged(scorer, [replace(first, background=c, rgb=c) for c in fine], views=1)
    neutral = [c for c in fine if math.dist(c, first.background) >= contrast]
    figs = judged(scorer, [replace(first, rgb=c) for c in neutral], views=2)
    bgs = [fine[int(k)] for k in bare.argsort(descending=True)[:top]]
    fgs = [neutral[int(k)] for k in figs.argsort(descending=True)[:top]]
    pairs = [replace(first, background=b, rgb=f) for b in bgs + fgs for f in fgs + bgs if b != f]
    pairs = [p for p in dict.fromkeys(pairs) if _visible(p, contrast)] or [first]
    ps = judged(scorer, pairs)
    seen.update(zip(pairs, ps.tolist()))
    order = ps.argsort(descending=True).tolist()
    best, best_score = pairs[order[0]], float(ps[order[0]])
    if log:
        log(f"{'pairs':10s} {best_score:+.4f} {best}")

    def sweep(name: str, cands: list[Design], need: float = 0.0) -> None:
        nonlocal best, best_score
        cands = [c for c in dict.fromkeys(cands) if c != best and c not in seen and _visible(c, contrast)]
        if not cands:
            return
        s = judged(scorer, cands)
        seen.update(zip(cands, s.tolist()))
        k = int(s.argmax())
        if float(s[k]) > best_score + need:
            best, best_score = cands[k], float(s[k])
        if log:
            log(f"{name:10s} {best_score:+.4f} {best}")

    coarse = colour_grid()
    results = []
    for j in order[:max(1, chains)]:
        best, best_score = pairs[j], float(ps[j])
        for _ in range(rounds):
            sweep("kind", [replace(best, kind=k, mode=m) for k in KINDS for m in MODES], margin)
            sweep("count", [replace(best, count=n, size=z) for n in COUNTS if n <= max(1, max_count)
                            for z in SIZES], margin)
            sweep("place", [replace(best, place=p) for p in PLACES], margin)
            sweep("angle", [replace(best, angle=a) for a in ANGLES], margin)
            sweep("background", [replace(best, background=c) for c in coarse])
            sweep("colour", [replace(best, rgb=c) for c in coarse])
        results.append((best_score, best))
    best_score, best = max(results, key=lambda r: r[0])
    for step in (0.25, 0.125, 0.0625):  # finer colours around the winner
        for field in ("background", "rgb"):
            base = getattr(best, field)
            near = []
            for dv in itertools.product((-step, 0.0, step), repeat=3):
                c = tuple(min(1.0, max(0.0, b + d)) for b, d in zip(base, dv))
                near.append(replace(best, **{field: c}))
            sweep(f"{field}±{step}", near)
    if recheck is not None and finalists > 1:
        ranked = sorted(seen, key=seen.__getitem__, reverse=True)[:finalists]
        s = judged(recheck, ranked)
        k = int(s.argmax())
        if log:
            log(f"{'recheck':10s} {float(s[k]):+.4f} {ranked[k]} (was #{k + 1})")
        return ranked[k], seen[ranked[k]]
    return best, best_score
