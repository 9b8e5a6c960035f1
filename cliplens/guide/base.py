"""The base of every image parametrisation (`ImageParam`): its own module so that `params` (the
pixel/Fourier/pyramid family and the `make_param` factory) and `shapes` both build on it without
importing each other in a circle."""
from __future__ import annotations

import torch
from torch import nn


def _logit(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x) - torch.log1p(-x)


class ImageParam(nn.Module):
    """Base class: ``raw()`` is the unbounded image, ``squash(raw)`` maps it into [0, 1].

    `bounded` says whether `squash` can never leave [0, 1] smoothly (sigmoid) or clamps (pixel),
    in which case the range loss pulls `raw` back inside and `project()` enforces it.
    """

    bounded = True
    default_lr = 0.05
    uses_tv = True  # whether the total-variation prior helps this parametrisation

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = size

    def raw(self) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def squash(self, raw: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(raw)

    def forward(self) -> torch.Tensor:
        return self.squash(self.raw())

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:  # pragma: no cover - abstract
        """Set the parameters so that `forward()` reproduces `x01` ((1, 3, h, w) in [0, 1])."""
        raise NotImplementedError

    @torch.no_grad()
    def project(self) -> None:
        """Called after each optimiser step (pixel images clamp themselves into range)."""

    def set_progress(self, t: float) -> None:
        """Told the fraction of the run done (0..1) before each step; schedules live here."""

    def param_groups(self) -> list[dict]:
        """Optimiser groups; a group's ``lr_scale`` multiplies the run's learning rate for it."""
        return [{"params": list(self.parameters()), "lr_scale": 1.0}]
