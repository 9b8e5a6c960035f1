"""The backend's image preprocessing, redone as batched tensor ops on the model's device.

Every backend preprocesses with Pillow on the CPU, one image at a time (resize the short
edge, centre-crop, scale, normalise). At thousands of images per second that is the wall,
so the fast path decodes to uint8 tensors and does the same steps here, batched, on the GPU
(or on the CPU, where it is still faster than Pillow per image). Bicubic resizing uses
`antialias=True`, PyTorch's Pillow-compatible kernel, and the result is rounded to uint8
levels as Pillow's is, so the pixels match the backend's to within a level or two.

    >>> spec = preprocess_spec(load_encoder("toyclip"))            # doctest: +SKIP
    >>> pixels = DevicePreprocessor(spec, "cpu", torch.float32)([uint8_chw])  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..models.encoder import Encoder

_PIL_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}


@dataclass(frozen=True)
class PreprocessSpec:
    """What a backend's preprocessing does, as data.

    `resize`: "shortest" (short edge -> `resize_to`, keep aspect) or "squash" (to `out_size`).
    `long_rounding`: how the long edge is computed ("floor" like torchvision/transformers,
    "round" like the ONNX backend's Pillow code). `crop_rounding`: offset of the centre crop.
    """

    out_size: tuple[int, int]
    resize: str = "shortest"
    resize_to: int = 224
    interpolation: str = "bicubic"
    long_rounding: str = "floor"
    crop: bool = True
    crop_rounding: str = "round"
    mean: tuple[float, ...] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, ...] = (0.26862954, 0.26130258, 0.27577711)


def _field(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _openclip_spec(enc: Encoder) -> PreprocessSpec | None:
    from torchvision import transforms as T

    steps = list(getattr(enc._preprocess, "transforms", []))  # type: ignore[attr-defined]
    resize = crop = None
    mean, std = enc.image_mean, enc.image_std
    for s in steps:
        name = type(s).__name__
        if isinstance(s, T.Resize):
            resize = s
        elif isinstance(s, T.CenterCrop):
            crop = s
        elif isinstance(s, T.Normalize):
            mean, std = tuple(s.mean), tuple(s.std)
        elif name in ("MaybeConvertMode", "MaybeToTensor", "ToTensor", "function"):
            continue  # RGB conversion and uint8 -> [0, 1]: the fast path does both
        else:
            return None  # e.g. ResizeKeepRatio / CenterCropOrPad ("longest" mode): use the backend's own code
    if resize is None:
        return None
    interp = resize.interpolation.value if hasattr(resize.interpolation, "value") else str(resize.interpolation)
    if interp not in ("bicubic", "bilinear", "nearest") or resize.max_size is not None:
        return None
    size = resize.size
    if isinstance(size, int) or (isinstance(size, (list, tuple)) and len(size) == 1):
        short = size if isinstance(size, int) else size[0]
        if crop is None:
            return None
        ch, cw = crop.size if isinstance(crop.size, (list, tuple)) else (crop.size, crop.size)
        return PreprocessSpec((ch, cw), "shortest", int(short), interp, "floor", True, "round", mean, std)
    h, w = size
    out = (h, w)
    if crop is not None:
        ch, cw = crop.size if isinstance(crop.size, (list, tuple)) else (crop.size, crop.size)
        if (ch, cw) != out:
            return None
    return PreprocessSpec(out, "squash", 0, interp, "floor", False, "round", mean, std)


def _hf_spec(enc: Encoder) -> PreprocessSpec | None:
    ip = enc.image_processor  # type: ignore[attr-defined]
    if not getattr(ip, "do_resize", True) or not getattr(ip, "do_rescale", True):
        return None
    interp = _PIL_RESAMPLE.get(int(getattr(ip, "resample", 3) or 3))
    if interp is None:
        return None
    size = getattr(ip, "size", None)
    mean = tuple(ip.image_mean) if getattr(ip, "do_normalize", True) else (0.0, 0.0, 0.0)
    std = tuple(ip.image_std) if getattr(ip, "do_normalize", True) else (1.0, 1.0, 1.0)
    short = _field(size, "shortest_edge")
    if short:
        if not getattr(ip, "do_center_crop", False):
            return None
        crop = getattr(ip, "crop_size", None)
        ch, cw = _field(crop, "height"), _field(crop, "width")
        if not ch or not cw:
            return None
        return PreprocessSpec((int(ch), int(cw)), "shortest", int(short), interp, "floor", True, "floor", mean, std)
    h, w = _field(size, "height"), _field(size, "width")
    if h and w and not getattr(ip, "do_center_crop", False):
        return PreprocessSpec((int(h), int(w)), "squash", 0, interp, "floor", False, "floor", mean, std)
    return None


def _onnx_spec(enc: Encoder) -> PreprocessSpec | None:
    from PIL import Image

    interp = {Image.BICUBIC: "bicubic", Image.BILINEAR: "bilinear", Image.NEAREST: "nearest"}.get(enc._resample)  # type: ignore[attr-defined]
    if interp is None:
        return None
    return PreprocessSpec(tuple(enc.image_size), "shortest", int(enc._shortest), interp, "round", True, "floor",  # type: ignore[attr-defined]
                          tuple(enc.image_mean), tuple(enc.image_std))


def preprocess_spec(encoder: Encoder) -> PreprocessSpec | None:
    """Describe `encoder`'s preprocessing as a `PreprocessSpec`, or None if the fast path can't mimic it.

    None means: keep using the backend's own (Pillow) preprocessing, which is always correct.
    """
    try:
        if encoder.backend == "openclip":
            return _openclip_spec(encoder)
        if encoder.backend == "hf":
            return _hf_spec(encoder)
        if encoder.backend == "onnx":
            return _onnx_spec(encoder)
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def resized_shape(spec: PreprocessSpec, h: int, w: int) -> tuple[int, int]:
    """Size of an (h, w) image after the resize step (before cropping)."""
    if spec.resize == "squash":
        return spec.out_size
    short = spec.resize_to
    if h <= w:
        long = w * short / h
        return short, max(1, int(long) if spec.long_rounding == "floor" else round(long))
    long = h * short / w
    return max(1, int(long) if spec.long_rounding == "floor" else round(long)), short


class DevicePreprocessor:
    """uint8 images (CHW tensors, any sizes) -> the model's normalised input batch, on `device`.

    Images of the same size are resized together in one call, so a folder of same-size
    generated images costs one interpolate per batch.

    >>> pp = DevicePreprocessor(PreprocessSpec((4, 4), resize_to=4), "cpu", torch.float32)
    >>> pp([torch.zeros(3, 8, 6, dtype=torch.uint8)]).shape
    torch.Size([1, 3, 4, 4])
    """

    def __init__(self, spec: PreprocessSpec, device: torch.device | str, dtype: torch.dtype):
        self.spec = spec
        self.device = torch.device(device)
        self.dtype = dtype
        self.mean = torch.tensor(spec.mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(spec.std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255.0

    def _resize_crop(self, x: torch.Tensor) -> torch.Tensor:
        """(g, 3, h, w) float in [0, 255] -> (g, 3, H, W) float, rounded to uint8 levels."""
        spec = self.spec
        h, w = x.shape[-2:]
        rh, rw = resized_shape(spec, h, w)
        if (rh, rw) != (h, w):
            if spec.interpolation == "nearest":
                x = F.interpolate(x, size=(rh, rw), mode="nearest")
            else:
                x = F.interpolate(x, size=(rh, rw), mode=spec.interpolation, align_corners=False, antialias=True)
            x = x.round_().clamp_(0.0, 255.0)  # Pillow resizes to uint8
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
            x = batch.to(self.device, non_blocking=True).float()
            x = self._resize_crop(x)
            if len(idx) == n:
                out.copy_(x)
            else:
                out[torch.as_tensor(list(idx), device=self.device)] = x
        out.sub_(self.mean).div_(self.std)
        return out.to(self.dtype)
