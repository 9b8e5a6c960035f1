"""Read, hash and decode image sources into uint8 tensors, resized exactly as the backend does.

CPU decoding goes through `cliplens.images.load_image` (Pillow releases the GIL while it
decodes, so a thread pool scales with cores) and therefore keeps every rule of safe loading:
EXIF orientation, odd modes, size limits, clear errors. When the backend resizes with Pillow,
the resize happens here too, with the same call, so the fast path equals the plain path.
GPU decoding (torchvision's batched nvjpeg) is used only for the files it handles identically:
baseline RGB/greyscale JPEGs with no EXIF rotation, within the pixel limit, and (for Pillow
backends) already at the size the resize step would give; everything else, and any batch
nvjpeg rejects, falls back to the CPU path.

    >>> data, digest, err = read_and_hash(Path("photo.jpg"))      # doctest: +SKIP
    >>> decode_cpu(data, "photo.jpg").shape                        # doctest: +SKIP
    torch.Size([3, 512, 512])
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import images as _images
from ..errors import ImageLoadError
from ..images import content_hash
from ..models.preprocess import PreprocessSpec, needs_resize, pil_resize

_JPEG_MAGIC = b"\xff\xd8\xff"


def read_and_hash(path: Path) -> tuple[bytes | None, str, ImageLoadError | None]:
    """(file bytes, content hash, None) or (None, "", error naming the file)."""
    name = str(path)
    try:
        if not path.exists():
            return None, "", ImageLoadError(name, "no such file")
        if path.is_dir():
            return None, "", ImageLoadError(name, "is a folder, not an image file")
        size = path.stat().st_size
        if size > _images.MAX_FILE_BYTES:
            return None, "", ImageLoadError(name, f"file is {size} bytes, over the {_images.MAX_FILE_BYTES}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        return None, "", ImageLoadError(name, f"cannot read file ({exc.strerror or exc})")
    if not data:
        return None, "", ImageLoadError(name, "empty file")
    return data, content_hash(data), None


def decode_cpu(source: Any, name: str, spec: PreprocessSpec | None = None) -> torch.Tensor:
    """Decode with the safe loader (and resize like a Pillow backend) -> (3, h, w) uint8 tensor.

    `source` is anything `load_image` takes (bytes, PIL image, array, URL); an `ImageLoadError`
    names `name`.
    """
    try:
        img = _images.load_image(source)
    except ImageLoadError as exc:
        raise ImageLoadError(name, exc.reason) from None
    if spec is not None and spec.resampler == "pil":
        img = pil_resize(img, spec)
    arr = np.array(img, dtype=np.uint8)  # a writable copy: torch tensors must own writable memory
    return torch.from_numpy(arr).permute(2, 0, 1)


def gpu_decodable(data: bytes, spec: PreprocessSpec | None = None) -> bool:
    """True for files nvjpeg decodes exactly like the CPU path: baseline RGB/L JPEG, no rotation,
    and, for a Pillow-resizing backend, no resize needed (a device resize would differ)."""
    if not data.startswith(_JPEG_MAGIC):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data))  # lazy: reads the header only
            w, h = img.size
            if img.format != "JPEG" or img.mode not in ("RGB", "L") or w * h > _images.MAX_PIXELS or w == 0 or h == 0:
                return False
            if img.info.get("progressive") or img.info.get("progression"):
                return False
            if spec is not None and spec.resampler == "pil" and needs_resize(spec, h, w):
                return False
            return int(img.getexif().get(0x0112, 1) or 1) == 1
    except Exception:  # noqa: BLE001 - anything odd: let the CPU path decide and report
        return False


def decode_gpu(datas: Sequence[bytes], device: torch.device) -> list[torch.Tensor]:
    """Batched nvjpeg decode of JPEG bytes -> list of (3, h, w) uint8 tensors on `device`.

    Raises whatever torchvision raises for a bad batch; callers fall back to `decode_cpu`.
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    tensors = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for d in datas]
    out = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device)
    return list(out) if isinstance(out, (list, tuple)) else [out]


@lru_cache(maxsize=8)
def nvjpeg_available(device: str) -> bool:
    """Whether torchvision can decode JPEGs on `device` here (checked once with a tiny JPEG)."""
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return False
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "JPEG")
    try:
        out = decode_gpu([buf.getvalue()], dev)[0]
        return tuple(out.shape) == (3, 16, 16) and out.device.type == "cuda"
    except Exception:  # noqa: BLE001 - no nvjpeg in this build
        return False
