"""Vector primitives for the ``shapes`` parametrisation: the basic shapes of any drawing program.

A picture is a flat background plus a few *figures*. Each figure is one primitive from a small,
generic library (the "basic shapes" menu of a vector editor: ellipse, rectangle, rhombus,
regular polygons, a five-pointed star, plus sign, ring, heart, moon) with a centre, a size, a
rotation, a colour and a fill mode (filled, or outlined with a stroke). Every primitive is a
signed distance field in torch, so the picture is rasterised with soft edges about a pixel wide
and gradients reach every continuous parameter; `figure_svg` writes the same figure as SVG.

Coordinates are in *units* of the picture's shorter side: ``(0, 0)`` is the top-left corner,
``y`` grows downwards, a figure's ``size`` is its circumradius.

    >>> img = render_scene((0.9, 0.9, 0.9), [Figure("circle", 0.5, 0.5, 0.3, 0.0, (1.0, 0.0, 0.0))], (64, 64))
    >>> img.shape, [round(float(v), 2) for v in img[0, :, 32, 32]]
    (torch.Size([1, 3, 64, 64]), [1.0, 0.0, 0.0])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

#: fill modes: a filled figure, or only its outline (a stroke of `STROKE` x size)
MODES = ("fill", "outline")
STROKE = 0.16


def _regular(n: int, phase: float = -math.pi / 2) -> list[tuple[float, float]]:
    return [(math.cos(phase + 2 * math.pi * k / n), math.sin(phase + 2 * math.pi * k / n)) for k in range(n)]


def _star(points: int, inner: float) -> list[tuple[float, float]]:
    out = []
    for k in range(2 * points):
        a = -math.pi / 2 + math.pi * k / points
        r = 1.0 if k % 2 == 0 else inner
        out.append((r * math.cos(a), r * math.sin(a)))
    return out


def _plus(arm: float) -> list[tuple[float, float]]:
    a, e = arm, 0.95
    return [(-a, -e), (a, -e), (a, -a), (e, -a), (e, a), (a, a), (a, e), (-a, e), (-a, a), (-e, a), (-e, -a), (-a, -a)]


#: polygon primitives: vertices on (about) the unit circle, y down
POLYGONS: dict[str, list[tuple[float, float]]] = {
    "square": [(-0.72, -0.72), (0.72, -0.72), (0.72, 0.72), (-0.72, 0.72)],
    "rectangle": [(-0.9, -0.45), (0.9, -0.45), (0.9, 0.45), (-0.9, 0.45)],
    "triangle": [(x, y + 0.15) for x, y in _regular(3)],
    "rhombus": [(0.0, -1.0), (0.68, 0.0), (0.0, 1.0), (-0.68, 0.0)],
    "pentagon": _regular(5),
    "hexagon": _regular(6, 0.0),
    "octagon": _regular(8, math.pi / 8),
    "star": _star(5, 0.42),
    "plus": _plus(0.3),
}
#: every primitive (the polygons plus the curved ones)
KINDS = ("circle", *POLYGONS, "ring", "heart", "moon")
#: what a drawing program's shape menu calls each primitive (singular, plural); the first is its
#: own name, the others the names the same figure goes by in PowerPoint / Inkscape menus
NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "circle": (("circle", "circles"),),
    "square": (("square", "squares"),),
    "rectangle": (("rectangle", "rectangles"),),
    "triangle": (("triangle", "triangles"),),
    "rhombus": (("rhombus", "rhombuses"), ("diamond", "diamonds")),
    "pentagon": (("pentagon", "pentagons"),),
    "hexagon": (("hexagon", "hexagons"),),
    "octagon": (("octagon", "octagons"),),
    "star": (("star", "stars"),),
    "plus": (("plus sign", "plus signs"), ("cross", "crosses")),
    "ring": (("ring", "rings"), ("donut", "donuts")),
    "heart": (("heart", "hearts"),),
    "moon": (("moon", "moons"), ("crescent", "crescents")),
}


@dataclass(frozen=True)
class Figure:
    """One primitive: kind, centre (x, y) and size (circumradius) in units, rotation in radians,
    colour as sRGB in [0, 1], fill mode (`MODES`)."""

    kind: str
    x: float
    y: float
    size: float
    angle: float
    rgb: tuple[float, float, float]
    mode: str = "fill"

    def moved(self, **changes) -> "Figure":
        return replace(self, **changes)


# ---------------------------------------------------------------------------------- distance fields
def _sd_polygon(px: torch.Tensor, py: torch.Tensor, verts: torch.Tensor) -> torch.Tensor:
    """Signed distance (negative inside) of points ``(..., h, w)`` to a polygon ``(m, 2)``."""
    vx, vy = verts[:, 0], verts[:, 1]
    nx, ny = torch.roll(vx, -1), torch.roll(vy, -1)
    ex, ey = nx - vx, ny - vy
    x, y = px[..., None], py[..., None]
    wx, wy = x - vx, y - vy
    t = ((wx * ex + wy * ey) / (ex * ex + ey * ey)).clamp(0, 1)
    bx, by = wx - ex * t, wy - ey * t
    d2 = (bx * bx + by * by).amin(-1)
    c1, c2, c3 = y >= vy, y < ny, ex * wy > ey * wx
    crossings = ((c1 == c2) & (c2 == c3)).sum(-1)
    sign = torch.where(crossings % 2 == 1, -1.0, 1.0).to(px)
    return sign * torch.sqrt(d2 + 1e-12)


def _circle(px: torch.Tensor, py: torch.Tensor, cx: float, cy: float, r: float) -> torch.Tensor:
    return torch.sqrt((px - cx) ** 2 + (py - cy) ** 2 + 1e-12) - r


def unit_sdf(kind: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Signed distance field of a primitive of size 1 centred at 0, at local coordinates (u, v)."""
    if kind == "circle":
        return _circle(u, v, 0.0, 0.0, 1.0)
    if kind == "ring":  # an annulus between radius 0.62 and 1
        return (torch.sqrt(u * u + v * v + 1e-12) - 0.81).abs() - 0.19
    if kind == "moon":  # a disc with an offset disc cut out of it
        return torch.maximum(_circle(u, v, 0.0, 0.0, 1.0), -_circle(u, v, 0.5, -0.2, 0.85))
    if kind == "heart":  # two discs over a square turned 45 degrees (the classic construction)
        r = 0.5
        sq = torch.tensor([(0.0, -0.2), (0.6, 0.4), (0.0, 1.0), (-0.6, 0.4)], dtype=u.dtype, device=u.device)
        lobes = torch.minimum(_circle(u, v, -0.3, -0.1 - 0.0, r), _circle(u, v, 0.3, -0.1, r))
        return torch.minimum(lobes, _sd_polygon(u, v, sq))
    if kind in POLYGONS:
        return _sd_polygon(u, v, torch.tensor(POLYGONS[kind], dtype=u.dtype, device=u.device))
    raise ValueError(f"unknown primitive {kind!r}; known: {', '.join(KINDS)}")


def grid(size: tuple[int, int], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, float]:
    """Pixel-centre coordinates in units, ``(gx, gy)`` each ``(h, w)``, and pixels per unit."""
    h, w = size
    unit = float(min(h, w))
    ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / unit
    xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / unit
    return xs[None, :].expand(h, w), ys[:, None].expand(h, w), unit


def coverage(kind: str, mode: str, gx: torch.Tensor, gy: torch.Tensor, unit: float, x, y, size, angle,
             edge: float = 0.5) -> torch.Tensor:
    """Soft coverage in [0, 1] of one figure (``x, y, size, angle`` floats or 0-d tensors)."""
    size = torch.as_tensor(size, dtype=gx.dtype, device=gx.device)
    angle = torch.as_tensor(angle, dtype=gx.dtype, device=gx.device)
    dx, dy = gx - x, gy - y
    ca, sa = torch.cos(angle), torch.sin(angle)
    u = (ca * dx + sa * dy) / size
    v = (-sa * dx + ca * dy) / size
    d = unit_sdf(kind, u, v) * size * unit  # in pixels
    if mode == "outline":
        half = torch.clamp(0.5 * STROKE * size * unit, min=0.75)
        d = d.abs() - half
    return torch.sigmoid(-d / edge)


def render_scene(background, figures: list[Figure], size: tuple[int, int], device: torch.device | str = "cpu",
                 edge: float = 0.5) -> torch.Tensor:
    """A background colour plus figures (painter's order) -> ``(1, 3, h, w)`` in [0, 1]."""
    gx, gy, unit = grid(size, device)
    img = torch.as_tensor(background, dtype=torch.float32, device=device)[:, None, None].expand(3, *size)
    for f in figures:
        a = coverage(f.kind, f.mode, gx, gy, unit, f.x, f.y, f.size, f.angle, edge)
        col = torch.as_tensor(f.rgb, dtype=torch.float32, device=device)
        img = img * (1 - a) + col[:, None, None] * a
    return img[None]


# ---------------------------------------------------------------------------------------------- SVG
def hex_colour(rgb) -> str:
    r, g, b = (min(255, max(0, int(round(float(c) * 255)))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def figure_svg(f: Figure, unit: float, ident: str) -> str:
    """One figure as SVG elements (pixel coordinates; `ident` names its mask when it needs one).

    Filled figures match the torch render; an *outlined* heart or moon is drawn as the outlines
    of its parts (two discs and a square; a masked disc), close to but not exactly the torch
    outline of the union.
    """
    col = hex_colour(f.rgb)
    paint = (f'fill="{col}"' if f.mode == "fill" else
             f'fill="none" stroke="{col}" stroke-width="{STROKE * f.size * unit:.2f}" stroke-linejoin="round"')
    tr = f'transform="translate({f.x * unit:.2f} {f.y * unit:.2f}) rotate({math.degrees(f.angle):.2f}) scale({f.size * unit:.3f})"'
    if f.mode == "outline":  # keep the stroke width in pixels under the scale
        paint += ' vector-effect="non-scaling-stroke"'
    if f.kind == "circle":
        return f'<circle r="1" {tr} {paint}/>'
    if f.kind == "ring":
        if f.mode == "fill":
            return (f'<circle r="0.81" {tr} fill="none" stroke="{col}" stroke-width="0.38"/>')
        return f'<g {tr}><circle r="1" {paint}/><circle r="0.62" {paint}/></g>'
    if f.kind == "moon":
        return (f'<mask id="{ident}" maskContentUnits="userSpaceOnUse"><g {tr}><circle r="1" fill="white"/>'
                f'<circle cx="0.5" cy="-0.2" r="0.85" fill="black"/></g></mask>'
                f'<g mask="url(#{ident})"><circle r="1" {tr} {paint}/></g>')
    if f.kind == "heart":
        return (f'<g {tr}><circle cx="-0.3" cy="-0.1" r="0.5" {paint}/><circle cx="0.3" cy="-0.1" r="0.5" {paint}/>'
                f'<polygon points="0,-0.2 0.6,0.4 0,1 -0.6,0.4" {paint}/></g>')
    pts = " ".join(f"{x:.4f},{y:.4f}" for x, y in POLYGONS[f.kind])
    return f'<polygon points="{pts}" {tr} {paint}/>'


def scene_svg(background, figures: list[Figure], size: tuple[int, int]) -> str:
    """The picture as an SVG document (same geometry and colours, crisp edges)."""
    h, w = size
    unit = float(min(h, w))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
           f'<rect width="{w}" height="{h}" fill="{hex_colour(background)}"/>']
    out += [figure_svg(f, unit, f"m{i}") for i, f in enumerate(figures)]
    out.append("</svg>")
    return "\n".join(out) + "\n"
