"""The backend's crop and normalisation (and, for tensor-resizing backends, the resize), batched
on the model's device, driven only by the backend's public `PreprocessSpec`.

Pillow-resizing backends get their resize on the CPU, in the decode threads, with the very
same Pillow call (`cliplens.embed.decode`), because no tensor kernel reproduces Pillow's
bicubic to the level: the device only crops, scales and normalises, which is exact. Backends
whose own preprocessing resizes uint8 tensors (torchvision's antialiased kernel, e.g.
transformers' torchvision image processors) are resized here with that same kernel.

    >>> from cliplens.models.preprocess import PreprocessSpec
    >>> pp = DevicePreprocessor(PreprocessSpec((4, 4), resize_to=4, resampler="torch"), "cpu", torch.float32)
    >>> pp([torch.zeros(3, 8, 6, dtype=torch.uint8)]).shape
    torch.Size([1, 3, 4, 4])
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..models.preprocess import PreprocessSpec, resized_shape


def _tensor_resize(x: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    """uint8 (g, 3, h, w) -> uint8 resized as torchvision's tensor `resize` does (antialiased)."""
    try:
        from torchvision.transforms.v2 import functional as tvF
        from torchvision.transforms.v2.functional import InterpolationMode

        mode = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR,
                "nearest": InterpolationMode.NEAREST}[interpolation]
        return tvF.resize(x, list(size), interpolation=mode, antialias=True)
    except ImportError:  # pragma: no cover - torchvision ships with open_clip
        y = x.float()
        if interpolation == "nearest":
            y = F.interpolate(y, size=size, mode="nearest")
        else:
            y = F.interpolate(y, size=size, mode=interpolation, align_corners=False, antialias=True)
        return y.round_().clamp_(0, 255).to(torch.uint8)


class DevicePreprocessor:
    """uint8 images (CHW tensors, any sizes) -> the model's normalised input batch, on `device`.

    Images of the same size are processed together, so a folder of same-size generated images
    costs one resize (if any) per batch.
    """

    def __init__(self, spec: PreprocessSpec, device: torch.device | str, dtype: torch.dtype):
        self.spec = spec
        self.device = torch.device(device)
        self.dtype = dtype
        self.mean = torch.tensor(spec.mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(spec.std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255.0

    def _resize_crop(self, x: torch.Tensor) -> torch.Tensor:
        """(g, 3, h, w) uint8 -> (g, 3, H, W) float in [0, 255]."""
        spec = self.spec
        h, w = x.shape[-2:]
        rh, rw = resized_shape(spec, h, w)
        if (rh, rw) != (h, w):
            # Pillow backends arrive here already resized (decode.py); a GPU-decoded JPEG never needs it
            x = _tensor_resize(x, (rh, rw), spec.interpolation)
        x = x.float()
        if spec.crop:
            th, tw = spec.out_size
            if rh < th or rw < tw:  # torchvision pads an image smaller than the crop with zeros
                ph, pw = max(0, th - rh), max(0, tw - rw)
                x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
                rh, rw = x.shape[-2:]
            if spec.crop_rounding == "round":
                top, left = int(round((rh - th) / 2.0)), int(round((rw - tw) / 2.0))
            else:
                top, left = (rh - th) // 2, (rw - tw) // 2
            x = x[..., top : top + th, left : left + tw]
        return x

    def __call__(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """Preprocess a list of (3, h, w) uint8 tensors (CPU or device) into one batch."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(tuple(im.shape[-2:]), []).append(i)
        return self.from_groups([(idx, torch.stack([images[i] for i in idx])) for idx in groups.values()], len(images))

    def from_groups(self, groups: Sequence[tuple[Sequence[int], torch.Tensor]], n: int) -> torch.Tensor:
        """Like calling the preprocessor, with images already stacked by size: [(rows, (g,3,h,w) uint8)]."""
        th, tw = self.spec.out_size
        out = torch.empty((n, 3, th, tw), dtype=torch.float32, device=self.device)
        for idx, batch in groups:
            x = self._resize_crop(batch.to(self.device, non_blocking=True))
            if len(idx) == n:
                out.copy_(x)
            else:
                out[torch.as_tensor(list(idx), device=self.device)] = x
        out.sub_(self.mean).div_(self.std)
        return out.to(self.dtype)
