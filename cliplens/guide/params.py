"""Image parametrisations: what the optimiser actually changes to make a picture.

Optimising raw pixels lets CLIP's gradient write high-frequency patterns that CLIP scores well
and people see as noise. Parametrising the image as a colour-decorrelated Fourier spectrum (1/f
scaled, so coarse structure moves first) or as a sum of image pyramid levels gives every step
a natural-image bias. Each parametrisation maps its parameters to an ``(1, 3, h, w)`` image in
[0, 1] and can be set from an existing image (for init images).

    >>> p = make_param("fourier", (64, 96), generator=torch.Generator().manual_seed(0))
    >>> p().shape
    torch.Size([1, 3, 64, 96])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInputError
from .base import ImageParam, _logit  # noqa: F401  (ImageParam is part of this module's API)

#: square root of the colour covariance of natural images (a fixed property of RGB photos,
#: measured on ImageNet): mixing independent channels through it gives natural colour statistics
_COLOUR_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOUR = _COLOUR_SQRT / _COLOUR_SQRT.norm(dim=0).max()

#: the parametrisations a user can pick (``--param``); see `make_param`
PARAMS = ("pixels", "fourier", "pyramid", "shapes")
#: older names, still accepted
ALIASES = {"pixel": "pixels", "multiscale": "pyramid"}


class PixelImage(ImageParam):
    """Plain pixels in [0, 1], clamped after every step: the naive loop's parametrisation."""

    bounded = False
    default_lr = 0.02

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, init: str = "uniform",
                 scale: float = 0.1):
        super().__init__(size)
        h, w = size
        if init == "uniform":
            x = torch.rand(1, 3, h, w, generator=generator)
        else:
            x = 0.5 + scale * torch.randn(1, 3, h, w, generator=generator)
        self.pixels = nn.Parameter(x.clamp(0, 1))

    def raw(self) -> torch.Tensor:
        return self.pixels

    def squash(self, raw: torch.Tensor) -> torch.Tensor:
        return raw.clamp(0, 1)

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        self.pixels.copy_(x01.to(self.pixels))

    @torch.no_grad()
    def project(self) -> None:
        self.pixels.clamp_(0, 1)


def _decorrelate(x: torch.Tensor) -> torch.Tensor:
    """Mix decorrelated channels into RGB with natural-image colour statistics."""
    return torch.einsum("ij,bjhw->bihw", _COLOUR.to(x), x)


def _recorrelate(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_COLOUR).to(x), x)


class FourierImage(ImageParam):
    """A colour-decorrelated image stored as its 2-D spectrum, scaled by 1/frequency**decay.

    Adam moves every coefficient by about the same amount, so the 1/f scale makes coarse
    shapes change fast and fine texture slowly, which is how natural images are built.
    """

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, std: float = 0.01,
                 decay: float = 1.0):
        super().__init__(size)
        h, w = size
        fy = torch.fft.fftfreq(h)[:, None]
        fx = torch.fft.rfftfreq(w)[None, :]
        freqs = torch.sqrt(fx * fx + fy * fy)
        scale = 1.0 / freqs.clamp_min(1.0 / max(h, w)) ** decay
        self.register_buffer("scale", scale[None, None, :, :, None])
        self.spectrum = nn.Parameter(std * torch.randn(1, 3, h, w // 2 + 1, 2, generator=generator))

    def raw(self) -> torch.Tensor:
        spec = torch.view_as_complex((self.spectrum * self.scale).contiguous())
        img = torch.fft.irfft2(spec, s=self.size, norm="ortho") / 4.0
        return _decorrelate(img)

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        img = _recorrelate(_logit(x01.to(self.spectrum))) * 4.0
        spec = torch.view_as_real(torch.fft.rfft2(img, norm="ortho")) / self.scale
        self.spectrum.copy_(spec)


class MultiScaleImage(ImageParam):
    """A sum of pixel grids at 1, 1/2, 1/4, ... resolution (a Laplacian-pyramid-like image).

    Coarse levels get the same per-step change as fine ones, so layout appears before detail.
    """

    default_lr = 0.03

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, levels: int = 5,
                 std: float = 0.02):
        super().__init__(size)
        h, w = size
        shapes = []
        for k in range(levels):
            hk, wk = max(1, math.ceil(h / 2**k)), max(1, math.ceil(w / 2**k))
            shapes.append((hk, wk))
            if hk == 1 and wk == 1:
                break
        self.levels = nn.ParameterList(
            [nn.Parameter(std * torch.randn(1, 3, hk, wk, generator=generator)) for hk, wk in shapes]
        )

    def raw(self) -> torch.Tensor:
        total = self.levels[0]
        for level in list(self.levels)[1:]:
            total = total + F.interpolate(level, size=self.size, mode="bilinear", align_corners=False)
        return _decorrelate(total)

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        for level in self.levels:
            level.zero_()
        self.levels[0].copy_(_recorrelate(_logit(x01.to(self.levels[0]))))


class PyramidImage(MultiScaleImage):
    """Coarse to fine: the pyramid's levels open one by one, coarsest first (progressive resolution).

    Early steps can only change the picture at low resolution, so CLIP's gradient lays out big
    flat regions first; finer levels open over the first `open_until` of the run and can then
    only add detail on top of a layout that already scores well.
    """

    def __init__(self, size: tuple[int, int], generator: torch.Generator | None = None, levels: int = 5,
                 std: float = 0.02, open_until: float = 0.6):
        super().__init__(size, generator, levels=levels, std=std)
        with torch.no_grad():
            for level in list(self.levels)[:-1]:
                level.zero_()
        self.open_until = open_until
        self.gates = [1.0] * len(self.levels)
        self._holds_image = False
        self.set_progress(0.0)

    def set_progress(self, t: float) -> None:
        n = len(self.levels)
        for k in range(n):  # k = 0 is full resolution, n - 1 the coarsest
            opens = self.open_until * (n - 1 - k) / max(1, n - 1)
            self.gates[k] = 1.0 if opens <= 0 else min(1.0, max(0.0, (t - opens) / 0.1))
        if self._holds_image:
            self.gates[0] = 1.0

    @torch.no_grad()
    def set_image(self, x01: torch.Tensor) -> None:
        """An init image lives in the full-resolution level, which then stays open."""
        super().set_image(x01)
        self._holds_image = True
        self.set_progress(0.0)

    def raw(self) -> torch.Tensor:
        levels = list(self.levels)
        total = levels[0] * self.gates[0] if self.gates[0] else torch.zeros_like(levels[0])
        for level, gate in zip(levels[1:], self.gates[1:]):
            if gate:
                total = total + gate * F.interpolate(level, size=self.size, mode="bilinear", align_corners=False)
        return _decorrelate(total)


def canonical_param(kind: str) -> str:
    """The current name of a parametrisation (``pixel`` -> ``pixels``); raises for unknown names."""
    kind = ALIASES.get(kind, kind)
    if kind not in PARAMS:
        raise InvalidInputError(f"param must be one of {', '.join(PARAMS)}, got {kind!r}")
    return kind


def make_param(kind: str, size: tuple[int, int], generator: torch.Generator | None = None, **kwargs) -> ImageParam:
    """Build a parametrisation by name: ``pixels``, ``fourier``, ``pyramid`` or ``shapes``."""
    kind = canonical_param(kind)
    if kind == "fourier":
        return FourierImage(size, generator, **kwargs)
    if kind == "pixels":
        return PixelImage(size, generator, **kwargs)
    if kind == "pyramid":
        return PyramidImage(size, generator, **kwargs)
    from .shapes import ShapesImage

    return ShapesImage(size, generator, **kwargs)
