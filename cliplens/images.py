"""Safe image loading: any source in, an RGB `PIL.Image` out, or a clear `ImageLoadError`.

Generated-image folders are messy: PNGs with alpha, palette GIFs, 16-bit TIFFs, CMYK JPEGs
from print workflows, phone photos rotated by EXIF, half-written files from a crashed run.
Every capability goes through `load_image` so each of those behaves the same everywhere.

    >>> img = load_image("photo.jpg")                        # doctest: +SKIP
    >>> images, errors = load_images(["a.png", "broken.png"])  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError
from .settings import NETWORK_TIMEOUT_S, is_offline

ImageInput = Union[str, os.PathLike, bytes, bytearray, Image.Image, np.ndarray]

#: refuse images above this many pixels (decompression bombs); `CLIPLENS_MAX_PIXELS` overrides
MAX_PIXELS = int(os.environ.get("CLIPLENS_MAX_PIXELS", str(16384 * 16384)))
#: refuse files above this size before reading them
MAX_FILE_BYTES = int(os.environ.get("CLIPLENS_MAX_FILE_BYTES", str(512 * 1024 * 1024)))

ImageFile.LOAD_TRUNCATED_IMAGES = False

# magic numbers of the formats Pillow decodes that people keep generated images in
_MAGIC: list[tuple[int, bytes]] = [
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),  # BMP
    (0, b"II*\x00"),  # TIFF little endian
    (0, b"MM\x00*"),  # TIFF big endian
    (8, b"WEBP"),  # RIFF....WEBP
    (4, b"ftypavif"),
    (0, b"\x00\x00\x00\x0cjP  "),  # JPEG 2000
    (0, b"qoif"),
]


def content_hash(data: bytes) -> str:
    """Hash of an image's bytes (BLAKE2b-128): same picture bytes -> same key, whatever the name.

    The embedding cache and the search index key vectors on it.

    >>> content_hash(b"abc")
    'cf4ab791c62b8d2b2109c90275287816'
    """
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _unreadable(path: Path) -> bool:
    """True when a file exists but cannot be opened (permission denied, I/O error)."""
    try:
        with open(path, "rb"):
            return False
    except FileNotFoundError:
        return False
    except OSError:
        return True


def looks_like_image(path: str | os.PathLike) -> bool:
    """Sniff the first bytes: True for JPEG/PNG/GIF/BMP/TIFF/WebP/AVIF/JP2/QOI, whatever the extension."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return any(head[off : off + len(magic)] == magic for off, magic in _MAGIC)


def find_images(paths: Iterable[str | os.PathLike], recursive: bool = True) -> list[Path]:
    """Expand files and folders into a sorted list of image files (recognised by content).

    Hidden files and folders (``.name``) are skipped. A file in a folder that cannot be opened
    (permission denied) is listed anyway, so the step that reads it reports it per item instead
    of it vanishing silently. A path that does not exist raises `ImageLoadError`, since silently
    indexing nothing is worse than stopping.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            walker: Iterator[Path] = p.rglob("*") if recursive else p.glob("*")
            for f in walker:
                rel = f.relative_to(p).parts
                if any(part.startswith(".") for part in rel):
                    continue
                if f.is_file() and (looks_like_image(f) or _unreadable(f)):
                    found.append(f)
        elif p.is_file():
            found.append(p)
        else:
            raise ImageLoadError(str(p), "no such file or folder")
    return sorted(dict.fromkeys(found))


def _to_rgb(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Flatten any Pillow mode to 8-bit RGB; transparency is composited on `background`."""
    if img.mode == "RGB":
        return img
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F":
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo if hi > lo else 1.0) * 255.0
        else:
            arr = arr / hi * 255.0
        img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return img.convert("RGB")


def _from_array(arr: np.ndarray) -> Image.Image:
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)  # CHW -> HWC
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ImageLoadError("<array>", f"expected HxW, HxWx3 or HxWx4, got shape {a.shape}")
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating):
            a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0) + 0.5, 0, 255).astype(np.uint8)
        else:
            a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def _fetch_url(url: str) -> bytes:
    if is_offline():
        raise ImageLoadError(url, "URLs can only be read online (offline mode is on or the network is unreachable)")
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT_S) as resp:  # noqa: S310 (http/https only)
            data = resp.read(MAX_FILE_BYTES + 1)
    except Exception as exc:  # noqa: BLE001
        raise ImageLoadError(url, f"download failed ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageLoadError(url, f"larger than {MAX_FILE_BYTES} bytes")
    return data


def describe(source: ImageInput) -> str:
    """A short human name for an image source, used in messages."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    if isinstance(source, Image.Image):
        return f"<PIL image {source.size[0]}x{source.size[1]} {source.mode}>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape}>"
    return f"<{type(source).__name__}>"


def _open_checked(fp: io.BytesIO | str | os.PathLike, name: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except UnidentifiedImageError:
        raise ImageLoadError(name, "not an image (unrecognised format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(name, f"too many pixels (limit {max_pixels})") from None
    except OSError as exc:
        raise ImageLoadError(name, f"unreadable ({exc})") from None
    w, h = img.size
    if w * h > max_pixels:
        raise ImageLoadError(name, f"{w}x{h} is more than the {max_pixels}-pixel limit (CLIPLENS_MAX_PIXELS)")
    if w == 0 or h == 0:
        raise ImageLoadError(name, "image has zero width or height")
    try:
        if getattr(img, "is_animated", False):
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
        img.load()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for broken data
        reason = "truncated file" if "truncated" in str(exc).lower() else f"corrupt image data ({exc})"
        raise ImageLoadError(name, reason) from None
    return img


def load_image(source: ImageInput, max_pixels: int | None = None) -> Image.Image:
    """Load one image from a path, URL, bytes, PIL image or numpy array as 8-bit RGB.

    EXIF orientation is applied; palette, alpha, CMYK, 16-bit and greyscale images become RGB
    (transparent areas on white); animated images give their first frame.

    >>> load_image(np.zeros((8, 8, 3), np.uint8)).size
    (8, 8)
    """
    limit = max_pixels or MAX_PIXELS
    name = describe(source)
    if isinstance(source, Image.Image):
        img = source
        if img.size[0] * img.size[1] > limit:
            raise ImageLoadError(name, f"more than the {limit}-pixel limit")
    elif isinstance(source, np.ndarray):
        img = _from_array(source)
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageLoadError(name, "empty data")
        img = _open_checked(io.BytesIO(bytes(source)), name, limit)
    elif isinstance(source, (str, os.PathLike)):
        s = str(source)
        if s.startswith(("http://", "https://")):
            img = _open_checked(io.BytesIO(_fetch_url(s)), name, limit)
        else:
            path = Path(s).expanduser()
            if not path.exists():
                raise ImageLoadError(name, "no such file")
            if path.is_dir():
                raise ImageLoadError(name, "is a folder, not an image file")
            size = path.stat().st_size
            if size == 0:
                raise ImageLoadError(name, "empty file")
            if size > MAX_FILE_BYTES:
                raise ImageLoadError(name, f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            img = _open_checked(path, name, limit)
    else:
        raise ImageLoadError(name, "unsupported image source type")
    try:
        img = ImageOps.exif_transpose(img) or img
    except Exception:  # noqa: BLE001 - a broken EXIF block should not lose the image
        pass
    return _to_rgb(img)


def load_images(
    sources: Sequence[ImageInput], max_pixels: int | None = None
) -> tuple[list[Image.Image | None], list[ImageLoadError]]:
    """Load many images; a bad one is reported (and left as ``None``) while the rest load.

    >>> images, errors = load_images([np.zeros((4, 4, 3), np.uint8), b"junk"])
    >>> images[1] is None and "not an image" in str(errors[0])
    True
    """
    images: list[Image.Image | None] = []
    errors: list[ImageLoadError] = []
    for src in sources:
        try:
            images.append(load_image(src, max_pixels))
        except ImageLoadError as exc:
            images.append(None)
            errors.append(exc)
    return images, errors
