"""A vector parametrisation in the spirit of CLIPDraw: the picture is a few flat figures and strokes.

Pixel and spectrum parametrisations let CLIP's gradient paint textures that score well but show
no object. A picture made of a handful of flat-coloured primitives on a flat background cannot
hold a texture at all, so the only way to raise CLIP's score is to choose, place, size, colour
and turn figures until they look like the prompt. The figures are the generic primitives of
`vector` (ellipse, rectangle, regular polygons, star, plus, ring, heart, moon; filled or
outlined), usually chosen by `search`; their centres, sizes, rotations and colours (and the
background colour) are the continuous parameters that gradient steps refine. Optional strokes
are straight capsules (a line with round caps and a width) drawn on top. Everything is
rasterised in plain torch with soft edges about a pixel wide, and exports as SVG (`to_svg`).

    >>> p = ShapesImage((64, 64), generator=torch.Generator().manual_seed(0))
    >>> p().shape
    torch.Size([1, 3, 64, 64])
    >>> p.to_svg().startswith("<svg")
    True
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import ImageParam, _logit
from .vector import KINDS, Figure, coverage, grid, hex_colour, scene_svg


class ShapesImage(ImageParam):
    """A background colour, flat `figures` (from `search`, or drawn at random) and `strokes` capsules."""

    default_lr = 0.005  # a polish: larger steps drift to pictures only the guiding model likes
    uses_tv = False  # flat shapes have no speckle to smooth; TV would only blur the edges

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, shapes: int = 4,
                 strokes: int = 0, figures: list[Figure] | None = None,
                 background: tuple[float, float, float] | None = None, edge: float = 0.5):
        super().__init__(size)
        g = generator
        self.edge = edge  # soft-edge width in output pixels
        if figures is None:  # a random picture: random primitives, places and colours
            figures = []
            for _ in range(shapes):
                kind = KINDS[int(torch.randint(len(KINDS), (1,), generator=g))]
                x, y = (0.2 + 0.6 * torch.rand(2, generator=g)).tolist()
                figures.append(Figure(kind, x * self.aspect_w, y * self.aspect_h, 0.1 + 0.15 * float(torch.rand(1, generator=g)),
                                      float(0.3 * torch.randn(1, generator=g)), tuple(torch.rand(3, generator=g).tolist())))
        if background is None:
            background = tuple(torch.rand(3, generator=g).tolist())
        self.kinds = [f.kind for f in figures]
        self.modes = [f.mode for f in figures]
        n = len(figures)
        self.bg = nn.Parameter(_logit(torch.tensor(background, dtype=torch.float32)))
        self.centre = nn.Parameter(torch.tensor([[f.x, f.y] for f in figures], dtype=torch.float32).view(n, 2))
        self.log_size = nn.Parameter(torch.tensor([math.log(f.size) for f in figures], dtype=torch.float32))
        self.angle = nn.Parameter(torch.tensor([f.angle for f in figures], dtype=torch.float32))
        self.colour = nn.Parameter(_logit(torch.tensor([f.rgb for f in figures], dtype=torch.float32).view(n, 3)))
        m = strokes
        fill = figures[0].rgb if figures else (0.5, 0.5, 0.5)
        lo = torch.tensor([0.15 * self.aspect_w, 0.15 * self.aspect_h])
        span = torch.tensor([0.7 * self.aspect_w, 0.7 * self.aspect_h])
        self.stroke_ends = nn.Parameter(lo + span * torch.rand(m, 2, 2, generator=g))
        self.stroke_width = nn.Parameter(torch.full((m,), math.log(0.03)))
        self.stroke_colour = nn.Parameter(_logit(torch.tensor(fill, dtype=torch.float32)).expand(m, 3).clone())
        gx, gy, self.unit = grid(size)
        self.register_buffer("gx", gx.contiguous())
        self.register_buffer("gy", gy.contiguous())

    @property
    def aspect_w(self) -> float:
        return self.size[1] / min(self.size)

    @property
    def aspect_h(self) -> float:
        return self.size[0] / min(self.size)

    @classmethod
    def from_design(cls, size: tuple[int, int], figures: list[Figure], background, strokes: int = 0,
                    generator: torch.Generator | None = None) -> "ShapesImage":
        """The parametrisation that draws exactly these figures on this background."""
        return cls(size, generator, figures=figures, background=background, strokes=strokes)

    # ------------------------------------------------------------------ current values
    def _sizes(self) -> torch.Tensor:
        return torch.exp(self.log_size.clamp(math.log(0.02), math.log(0.5)))

    def figures(self) -> list[Figure]:
        """The figures as they stand now (plain values)."""
        with torch.no_grad():
            c, s, a = self.centre.tolist(), self._sizes().tolist(), self.angle.tolist()
            col = torch.sigmoid(self.colour).tolist()
        return [Figure(k, x, y, sz, an, tuple(rgb), m)
                for k, m, (x, y), sz, an, rgb in zip(self.kinds, self.modes, c, s, a, col)]

    def background(self) -> tuple[float, float, float]:
        with torch.no_grad():
            return tuple(torch.sigmoid(self.bg).tolist())

    def _stroke_width(self) -> torch.Tensor:
        return torch.exp(self.stroke_width.clamp(math.log(0.005), math.log(0.3)))

    def _coverage_strokes(self) -> torch.Tensor:
        """(m, h, w) soft coverage of each stroke (a capsule around a segment)."""
        e = self.stroke_ends
        a, b = e[:, 0], e[:, 1]
        ab = b - a
        px = self.gx[None] - a[:, 0, None, None]
        py = self.gy[None] - a[:, 1, None, None]
        denom = (ab * ab).sum(-1).clamp_min(1e-8)[:, None, None]
        u = ((px * ab[:, 0, None, None] + py * ab[:, 1, None, None]) / denom).clamp(0, 1)
        qx = px - u * ab[:, 0, None, None]
        qy = py - u * ab[:, 1, None, None]
        dist = torch.sqrt(qx * qx + qy * qy + 1e-12)
        half = 0.5 * self._stroke_width()[:, None, None]
        return torch.sigmoid((half - dist) * self.unit / self.edge)

    def raw(self) -> torch.Tensor:
        img = torch.sigmoid(self.bg)[:, None, None].expand(3, *self.size)
        sizes = self._sizes()
        cols = torch.sigmoid(self.colour)
        for i, (kind, mode) in enumerate(zip(self.kinds, self.modes)):  # painter's order
            a = coverage(kind, mode, self.gx, self.gy, self.unit, self.centre[i, 0], self.centre[i, 1], sizes[i],
                         self.angle[i], self.edge)
            img = img * (1 - a[None]) + cols[i][:, None, None] * a[None]
        if self.stroke_ends.shape[0]:
            for a, col in zip(self._coverage_strokes(), torch.sigmoid(self.stroke_colour)):
                img = img * (1 - a[None]) + col[:, None, None] * a[None]
        return img[None]

    def squash(self, raw: torch.Tensor) -> torch.Tensor:
        return raw  # already in [0, 1]

    def param_groups(self) -> list[dict]:
        """The background moves slower: one colour over the whole image is the cheapest way to
        match any colour word, so letting it run would hide the figures."""
        rest = [p for p in self.parameters() if p is not self.bg]
        return [{"params": [self.bg], "lr_scale": 0.3}, {"params": rest, "lr_scale": 1.0}]

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        """Shapes cannot copy a picture; the background takes its mean colour (the init loss does the rest)."""
        self.bg.copy_(_logit(x01.to(self.bg).mean(dim=(0, 2, 3))))

    # ------------------------------------------------------------------ export
    @torch.no_grad()
    def to_svg(self) -> str:
        """The picture as an SVG document (same primitives, geometry and colours, crisp edges)."""
        svg = scene_svg(self.background(), self.figures(), self.size)
        if not self.stroke_ends.shape[0]:
            return svg
        e = (self.stroke_ends * self.unit).tolist()
        wid = (self._stroke_width() * self.unit).tolist()
        cols = torch.sigmoid(self.stroke_colour)
        lines = [f'<line x1="{a[0]:.2f}" y1="{a[1]:.2f}" x2="{b[0]:.2f}" y2="{b[1]:.2f}" stroke="{hex_colour(c)}" '
                 f'stroke-width="{wd:.2f}" stroke-linecap="round"/>' for (a, b), wd, c in zip(e, wid, cols)]
        return svg.replace("</svg>\n", "\n".join(lines) + "\n</svg>\n")
