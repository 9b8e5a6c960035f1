"""The priors added to CLIP's score: smoothness (total variation), range, and staying near an init.

    >>> float(tv_loss(torch.zeros(1, 3, 8, 8)))
    0.0
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def tv_loss(img: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels: penalises speckle, not edges' existence.

    Computed per pixel, so its weight means the same at 64 px and at 1024 px.
    """
    dx = img[..., :, 1:] - img[..., :, :-1]
    dy = img[..., 1:, :] - img[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def range_loss(raw: torch.Tensor, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Mean squared distance of values outside [low, high]: keeps clamped pixels from running away."""
    return (raw - raw.clamp(low, high)).pow(2).mean()


def anchor_loss(img: torch.Tensor, init: torch.Tensor) -> torch.Tensor:
    """Mean squared distance to the init image (how an init image keeps its hold)."""
    return F.mse_loss(img, init)


def prompt_score(feats: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted cosine similarity of unit image features ``(n, d)`` to unit text targets ``(p, d)``.

    Averaged over the n views; weights are divided by the sum of the positive ones, so adding a
    negative prompt does not change the step size of the positive ones.
    """
    sims = feats @ targets.T  # (n, p)
    w = weights / weights.clamp_min(0).sum()
    return (sims.mean(0) * w).sum()
