"""Random cutouts with augmentations: many slightly different views of the image per step.

A single view of the whole image lets the optimiser find a pixel pattern that fools CLIP in
exactly that view. Averaging the loss over many random crops, each a little shifted, rotated and
noised, means only features that survive those changes (shapes, colours) raise the score. Crops
are resized with anti-aliasing, so sub-pixel noise cannot alias into the model's input.

    >>> g = torch.Generator().manual_seed(0)
    >>> cuts = make_cutouts(torch.rand(1, 3, 128, 128), 8, (64, 64), CutoutConfig(), g)
    >>> cuts.shape
    torch.Size([8, 3, 64, 64])
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class CutoutConfig:
    """How the views are drawn.

    Crop sides are ``min_frac + (max_frac - min_frac) * u**power`` of the shorter image side
    (``power`` > 1 favours small crops); ``full_view`` makes the first view the whole image,
    so whole-image words ("on the left", "background") keep their meaning.
    """

    min_frac: float = 0.6
    max_frac: float = 1.0
    power: float = 1.0
    full_view: bool = True
    translate: float = 0.05  # max shift, fraction of the view
    rotate: float = 5.0  # max rotation, degrees
    hflip: float = 0.0  # probability; off by default since flips swap "left" and "right"
    noise: float = 0.05  # max std of added Gaussian noise (each view draws its own level)
    jitter: float = 0.0  # max brightness shift


def _crop_resize(img: torch.Tensor, top: int, left: int, ch: int, cw: int, size: tuple[int, int]) -> torch.Tensor:
    crop = img[:, :, top : top + ch, left : left + cw]
    if (ch, cw) == size:
        return crop
    return F.interpolate(crop, size=size, mode="bilinear", align_corners=False, antialias=ch > size[0] or cw > size[1])


def _rand(g: torch.Generator | None, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=g)


def make_cutouts(img: torch.Tensor, n: int, size: tuple[int, int], cfg: CutoutConfig,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """``(1, 3, H, W)`` image -> ``(n, 3, *size)`` augmented views (differentiable w.r.t. `img`).

    All randomness comes from `generator` (on the CPU), so a seed fixes every view.
    """
    _, _, h, w = img.shape
    side = min(h, w)
    views = []
    for i in range(n):
        if i == 0 and cfg.full_view:
            views.append(_crop_resize(img, 0, 0, h, w, size))
            continue
        u = float(_rand(generator, 1)) ** cfg.power
        frac = cfg.min_frac + (cfg.max_frac - cfg.min_frac) * u
        c = max(1, min(side, round(side * frac)))
        top = int(_rand(generator, 1) * (h - c + 1))
        left = int(_rand(generator, 1) * (w - c + 1))
        views.append(_crop_resize(img, top, left, c, c, size))
    cuts = torch.cat(views)
    return augment(cuts, cfg, generator)


def augment(cuts: torch.Tensor, cfg: CutoutConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Small random affine jitter, optional flips, brightness jitter and Gaussian noise, per view."""
    n = cuts.shape[0]
    dev, dt = cuts.device, cuts.dtype
    if cfg.translate > 0 or cfg.rotate > 0 or cfg.hflip > 0:
        ang = (2 * _rand(generator, n) - 1) * math.radians(cfg.rotate)
        shift = (2 * _rand(generator, n, 2) - 1) * cfg.translate * 2  # grid units span 2
        flip = torch.where(_rand(generator, n) < cfg.hflip, -1.0, 1.0)
        cos, sin = torch.cos(ang), torch.sin(ang)
        theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                             torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1).to(dev, dt)
        grid = F.affine_grid(theta, list(cuts.shape), align_corners=False)
        cuts = F.grid_sample(cuts, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if cfg.jitter > 0:
        cuts = cuts + ((2 * _rand(generator, n, 1, 1, 1) - 1) * cfg.jitter).to(dev, dt)
    if cfg.noise > 0:
        level = (_rand(generator, n, 1, 1, 1) * cfg.noise).to(dev, dt)
        cuts = cuts + level * torch.randn(cuts.shape, generator=generator).to(dev, dt)
    return cuts.clamp(0, 1)
