"""A vector parametrisation in the spirit of CLIPDraw: the picture is a few filled shapes and strokes.

Pixel and spectrum parametrisations let CLIP's gradient paint textures that score well but show
no object. A picture made of a handful of flat-coloured primitives on a flat background cannot
hold a texture at all, so the only way to raise CLIP's score is to place, size, colour and bend
shapes until they look like the prompt. Everything is rasterised in plain torch with soft
(sigmoid) edges about a pixel wide, so gradients reach every parameter; edges sharpen a little
over the run (`set_progress`). Wider edges were tried and lose: CLIP reads a soft edge as
"blurry", so a blurred start scores far below a crisp one. The result can be
exported as SVG (`to_svg`) as well as pixels.

Each filled shape is a polygon with ``vertices`` corners, each corner at its own radius around
the shape's centre (a star-shaped polygon): all corners equal is a regular polygon (a circle for
many corners), alternating radii a star, four long corners a diamond or a square. Strokes are
straight capsules (a line with round caps and a width). Shapes are drawn in order over the
background colour with their own opacity.

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


#: the eleven basic colour terms (Berlin & Kay), as sRGB in [0, 1]: the palette that starting
#: points draw their background and fill colours from (the run then moves them freely)
BASIC_COLOURS = {
    "white": (0.96, 0.96, 0.96), "black": (0.06, 0.06, 0.06), "grey": (0.5, 0.5, 0.5), "red": (0.85, 0.12, 0.12),
    "green": (0.15, 0.65, 0.25), "yellow": (0.95, 0.85, 0.15), "blue": (0.15, 0.3, 0.88), "brown": (0.5, 0.32, 0.16),
    "purple": (0.55, 0.22, 0.7), "pink": (0.96, 0.55, 0.75), "orange": (0.96, 0.53, 0.1),
}


def palette_pairs() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """Every (background, fill) pair of two different basic colours (110 pairs)."""
    cols = list(BASIC_COLOURS.values())
    return [(b, f) for b in cols for f in cols if b != f]


class ShapesImage(ImageParam):
    """``shapes`` filled star-shaped polygons + ``strokes`` capsules over a flat background."""

    default_lr = 0.05
    uses_tv = False  # flat shapes have no speckle to smooth; TV would only blur the edges

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, shapes: int = 4,
                 strokes: int = 0, vertices: int = 12, radius: float = 0.18, edge_start: float = 1.0,
                 edge_end: float = 0.5, bg_lr_scale: float = 0.3, max_radius: float = 0.3):
        super().__init__(size)
        h, w = size
        g = generator
        self.vertices = vertices
        self.bg_lr_scale = bg_lr_scale
        # a shape may not grow over the whole canvas: then a "background" word could only be met by
        # painting a shape in the background's colour, and the picture stops being a figure on a ground
        self.max_radius = max_radius
        self.edge = (edge_start, edge_end)  # soft-edge width in output pixels, start -> end of the run
        self._edge_now = edge_start
        self.unit = float(min(h, w))  # one shape unit = the shorter side
        # background: starts mid-grey so it can move to any colour
        self.bg = nn.Parameter(1.5 * torch.randn(3, generator=g))
        n = shapes
        self.centre = nn.Parameter(_logit(0.2 + 0.6 * torch.rand(n, 2, generator=g)))
        self.log_radius = nn.Parameter(torch.full((n,), math.log(radius)) + 0.2 * torch.randn(n, generator=g))
        self.corner = nn.Parameter(0.05 * torch.randn(n, vertices, generator=g))  # log radius of each corner
        self.angle = nn.Parameter(0.3 * torch.randn(n, generator=g))
        self.colour = nn.Parameter(1.5 * torch.randn(n, 3, generator=g))
        self.opacity = nn.Parameter(torch.full((n,), 3.0))
        m = strokes
        self.stroke_ends = nn.Parameter(_logit(0.15 + 0.7 * torch.rand(m, 2, 2, generator=g)))
        self.stroke_width = nn.Parameter(torch.full((m,), math.log(0.03)))
        self.stroke_colour = nn.Parameter(1.5 * torch.randn(m, 3, generator=g))
        self.stroke_opacity = nn.Parameter(torch.full((m,), 3.0))
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) / self.unit
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) / self.unit
        self.register_buffer("gy", ys[:, None].expand(h, w).clone())
        self.register_buffer("gx", xs[None, :].expand(h, w).clone())

    # ------------------------------------------------------------------ geometry
    def _centres(self) -> torch.Tensor:
        h, w = self.size
        scale = torch.tensor([w / self.unit, h / self.unit], device=self.centre.device)
        return torch.sigmoid(self.centre) * scale  # (n, 2) as (x, y) in shape units

    def _corners(self) -> torch.Tensor:
        """Radius of every corner, (n, vertices), in shape units (bounded so a shape stays on the canvas)."""
        r = torch.exp(self.log_radius.clamp(math.log(0.01), math.log(self.max_radius)))[:, None]
        return r * torch.exp(self.corner.clamp(-2.0, 0.5))

    def _ends(self) -> torch.Tensor:
        h, w = self.size
        scale = torch.tensor([w / self.unit, h / self.unit], device=self.stroke_ends.device)
        return torch.sigmoid(self.stroke_ends) * scale  # (m, 2 ends, 2 xy)

    def set_progress(self, t: float) -> None:
        """Edges go from soft (wide gradients) to crisp as the run goes from t=0 to t=1."""
        a, b = self.edge
        self._edge_now = a + (b - a) * min(1.0, max(0.0, t))

    def _coverage_shapes(self) -> torch.Tensor:
        """(n, h, w) soft coverage of each filled polygon."""
        c = self._centres()
        dx = self.gx[None] - c[:, 0, None, None]
        dy = self.gy[None] - c[:, 1, None, None]
        rho = torch.sqrt(dx * dx + dy * dy + 1e-12)
        k = self.vertices
        step = 2 * math.pi / k
        theta = torch.remainder(torch.atan2(dy, dx) - self.angle[:, None, None], 2 * math.pi)
        sector = (theta / step).floor().clamp(0, k - 1)
        t = theta - sector * step
        idx = sector.long()
        corners = self._corners()  # (n, k)
        n, h, w = idx.shape
        r0 = torch.gather(corners, 1, idx.view(n, -1)).view(n, h, w)
        r1 = torch.gather(corners, 1, ((idx + 1) % k).view(n, -1)).view(n, h, w)
        # distance from the centre to the straight edge between the two corners, along this ray
        edge_r = r0 * r1 * math.sin(step) / (r0 * torch.sin(t) + r1 * torch.sin(step - t)).clamp_min(1e-6)
        return torch.sigmoid((edge_r - rho) * self.unit / self._edge_now)

    def _coverage_strokes(self) -> torch.Tensor:
        """(m, h, w) soft coverage of each stroke (a capsule around a segment)."""
        e = self._ends()
        a, b = e[:, 0], e[:, 1]
        ab = b - a
        px = self.gx[None] - a[:, 0, None, None]
        py = self.gy[None] - a[:, 1, None, None]
        denom = (ab * ab).sum(-1).clamp_min(1e-8)[:, None, None]
        u = ((px * ab[:, 0, None, None] + py * ab[:, 1, None, None]) / denom).clamp(0, 1)
        qx = px - u * ab[:, 0, None, None]
        qy = py - u * ab[:, 1, None, None]
        dist = torch.sqrt(qx * qx + qy * qy + 1e-12)
        half = 0.5 * torch.exp(self.stroke_width.clamp(math.log(0.005), math.log(0.3)))[:, None, None]
        return torch.sigmoid((half - dist) * self.unit / self._edge_now)

    def raw(self) -> torch.Tensor:
        img = torch.sigmoid(self.bg)[:, None, None].expand(3, *self.size)
        layers = []
        if self.centre.shape[0]:
            cov = self._coverage_shapes() * torch.sigmoid(self.opacity)[:, None, None]
            layers += list(zip(cov, torch.sigmoid(self.colour)))
        if self.stroke_ends.shape[0]:
            cov = self._coverage_strokes() * torch.sigmoid(self.stroke_opacity)[:, None, None]
            layers += list(zip(cov, torch.sigmoid(self.stroke_colour)))
        for a, col in layers:  # painter's order: later shapes cover earlier ones
            img = img * (1 - a[None]) + col[:, None, None] * a[None]
        return img[None]

    def squash(self, raw: torch.Tensor) -> torch.Tensor:
        return raw  # already in [0, 1]

    def param_groups(self) -> list[dict]:
        """The background moves slower: one colour over the whole image is the cheapest way to
        match a colour word, and letting it win early hides the shapes (a red background for
        "a red circle on a white background")."""
        bg = [self.bg]
        rest = [p for p in self.parameters() if p is not self.bg]
        return [{"params": bg, "lr_scale": self.bg_lr_scale}, {"params": rest, "lr_scale": 1.0}]

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        """Shapes cannot copy a picture; the background takes its mean colour (the init loss does the rest)."""
        self.bg.copy_(_logit(x01.to(self.bg).mean(dim=(0, 2, 3))))

    @torch.no_grad()
    def set_colours(self, background: tuple[float, float, float], fill: tuple[float, float, float]) -> None:
        """Paint the background and every shape and stroke in one colour each (a starting point)."""
        self.bg.copy_(_logit(torch.tensor(background, dtype=self.bg.dtype)).to(self.bg))
        f = _logit(torch.tensor(fill, dtype=self.colour.dtype)).to(self.colour)
        self.colour.copy_(f.expand_as(self.colour))
        self.stroke_colour.copy_(f.expand_as(self.stroke_colour))

    @torch.no_grad()
    def show_only(self, k: int) -> None:
        """Make every filled shape after the first `k` transparent (they stay out of the picture)."""
        self.opacity[k:] = -12.0

    # ------------------------------------------------------------------ export
    @torch.no_grad()
    def to_svg(self) -> str:
        """The picture as an SVG document (same geometry and colours, crisp edges)."""
        h, w = self.size
        u = self.unit

        def rgb(logits: torch.Tensor) -> str:
            r, g, b = (int(round(float(v) * 255)) for v in torch.sigmoid(logits))
            return f"#{r:02x}{g:02x}{b:02x}"

        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
               f'<rect width="{w}" height="{h}" fill="{rgb(self.bg)}"/>']
        polys = []
        if self.centre.shape[0]:
            c = self._centres()
            corners = self._corners()
            k = self.vertices
            for i in range(c.shape[0]):
                pts = []
                for j in range(k):
                    a = float(self.angle[i]) + j * 2 * math.pi / k
                    r = float(corners[i, j])
                    pts.append(f"{(float(c[i, 0]) + r * math.cos(a)) * u:.2f},{(float(c[i, 1]) + r * math.sin(a)) * u:.2f}")
                op = float(torch.sigmoid(self.opacity[i]))
                polys.append(f'<polygon points="{" ".join(pts)}" fill="{rgb(self.colour[i])}" fill-opacity="{op:.3f}"/>')
        out += polys
        if self.stroke_ends.shape[0]:
            e = self._ends() * u
            wid = torch.exp(self.stroke_width.clamp(math.log(0.005), math.log(0.3))) * u
            for i in range(e.shape[0]):
                op = float(torch.sigmoid(self.stroke_opacity[i]))
                out.append(f'<line x1="{float(e[i, 0, 0]):.2f}" y1="{float(e[i, 0, 1]):.2f}" '
                           f'x2="{float(e[i, 1, 0]):.2f}" y2="{float(e[i, 1, 1]):.2f}" stroke="{rgb(self.stroke_colour[i])}" '
                           f'stroke-width="{float(wid[i]):.2f}" stroke-linecap="round" stroke-opacity="{op:.3f}"/>')
        out.append("</svg>")
        return "\n".join(out) + "\n"
