"""A backend's image preprocessing, described as data, so the fast path can redo it exactly.

Each backend knows how its own preprocessing resizes, crops and normalises; it says so with a
`PreprocessSpec` (`Encoder.preprocess_spec`). `cliplens.embed` reads only that description:
it resizes exactly as the backend does (Pillow on the CPU for Pillow backends, the same
antialiased tensor kernel for torchvision ones), then crops and normalises batched on the
model's device. A backend whose preprocessing cannot be described returns None and keeps its
own (plain) path. Adding a backend therefore means editing only `cliplens/models/`.

    >>> spec = PreprocessSpec((224, 224), resize_to=224)
    >>> resized_shape(spec, 480, 640)
    (224, 298)
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

#: Pillow filters by the names a spec uses
PIL_FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
               "lanczos": Image.LANCZOS}


@dataclass(frozen=True)
class PreprocessSpec:
    """What a backend's preprocessing does, as data.

    `resize`: "shortest" (short edge -> `resize_to`, keep aspect) or "squash" (to `out_size`).
    `long_rounding`: how the long edge is computed ("floor" like torchvision/transformers,
    "round" like Pillow code that calls round()). `crop_rounding`: offset of the centre crop
    ("round" like torchvision, "floor" like transformers). `resampler`: who resizes in the
    backend's own code: "pil" (`PIL.Image.resize`) or "torch" (antialiased interpolation on
    uint8 tensors, rounded back to uint8, as torchvision's tensor `resize` does).
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
    resampler: str = "pil"

    def __post_init__(self) -> None:
        if self.resize not in ("shortest", "squash"):
            raise ValueError(f"resize must be 'shortest' or 'squash', not {self.resize!r}")
        if self.resampler not in ("pil", "torch"):
            raise ValueError(f"resampler must be 'pil' or 'torch', not {self.resampler!r}")
        if self.interpolation not in PIL_FILTERS or (self.resampler == "torch" and self.interpolation == "lanczos"):
            raise ValueError(f"unsupported interpolation {self.interpolation!r} for resampler {self.resampler!r}")


def resized_shape(spec: PreprocessSpec, h: int, w: int) -> tuple[int, int]:
    """(height, width) of an (h, w) image after the resize step (before cropping)."""
    if spec.resize == "squash":
        return spec.out_size
    short = spec.resize_to
    if h <= w:
        long = w * short / h
        return short, max(1, int(long) if spec.long_rounding == "floor" else round(long))
    long = h * short / w
    return max(1, int(long) if spec.long_rounding == "floor" else round(long)), short


def needs_resize(spec: PreprocessSpec, h: int, w: int) -> bool:
    """Whether the resize step changes an (h, w) image at all."""
    return resized_shape(spec, h, w) != (h, w)


def pil_resize(image: Image.Image, spec: PreprocessSpec) -> Image.Image:
    """The resize step exactly as a Pillow backend does it (no crop, no normalisation)."""
    h, w = image.size[1], image.size[0]
    rh, rw = resized_shape(spec, h, w)
    if (rh, rw) == (h, w):
        return image
    return image.resize((rw, rh), PIL_FILTERS[spec.interpolation])
