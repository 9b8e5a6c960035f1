"""The `Encoder` interface: texts and images in, L2-normalised float32 vectors out.

Every capability (judge, classify, search, interrogate, compose, guide) talks to CLIP only
through this class, so a backend (open_clip, transformers, ONNX Runtime) is swappable.
Backends implement four small torch-level hooks; the batching, padding trimming, ordering,
normalisation and numpy conversion live here once.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import CapabilityError, InvalidInputError
from ..images import ImageInput, load_image
from ..progress import progress_bar
from .fingerprint import weights_digest
from .preprocess import PreprocessSpec
from .spec import ModelSpec


def file_signature(path: Path) -> str:
    """Identity of a weight file: the digest of all its bytes (cached per file version).

    See `cliplens.models.fingerprint`: any changed byte changes it; later loads cost a `stat`.
    """
    return weights_digest(path)


def check_texts(texts: Sequence[str], who: str = "encode_texts") -> list[str]:
    """A list of strings, or an `InvalidInputError` saying what was passed instead."""
    if isinstance(texts, str):
        raise InvalidInputError(f"{who} takes a list of strings, not one string")
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise InvalidInputError(f"texts must be strings, got {type(t).__name__}")
    return texts


class Encoder(ABC):
    """One CLIP-like model: `encode_texts` / `encode_images` return unit vectors as numpy.

    >>> enc = load_encoder("toyclip")                      # doctest: +SKIP
    >>> enc.encode_texts(["a red circle"]).shape           # doctest: +SKIP
    (1, 64)

    Attributes a backend sets: `embed_dim`, `context_length`, `image_size` (h, w),
    `image_mean`/`image_std`, `logit_scale`, `eot_id`, and `weight_files` (for `fingerprint`).
    """

    backend: str = ""
    #: can gradients flow from the embedding back to the pixels? (False for ONNX graphs)
    differentiable: bool = True
    #: may a text batch be cut to its longest sequence? (causal text tower pooled at EOT)
    trims_padding: bool = True
    #: is the image tower a torch module on `device`? (False for ONNX graphs: no torch.compile,
    #: pixels are prepared on the CPU, no CPU micro-batching)
    torch_image_tower: bool = True

    def __init__(self, spec: ModelSpec, device: torch.device, dtype: torch.dtype):
        self.spec = spec
        self.device = device
        self.dtype = dtype
        self.embed_dim: int = 0
        self.context_length: int = 0  # set by the backend from the model's own config
        self.image_size: tuple[int, int] = (224, 224)
        self.image_mean: tuple[float, ...] = (0.48145466, 0.4578275, 0.40821073)
        self.image_std: tuple[float, ...] = (0.26862954, 0.26130258, 0.27577711)
        self.logit_scale: float = 100.0
        self.eot_id: int | None = 49407
        self.weight_files: list[Path] = []
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ backend hooks
    @abstractmethod
    def token_ids(self, text: str) -> list[int]:
        """BPE ids of `text` without start/end tokens and without truncation."""

    @abstractmethod
    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """(n, context_length) int64 ids exactly as the model expects them (specials, truncation, padding)."""

    @abstractmethod
    def encode_token_tensor(self, ids: torch.Tensor) -> torch.Tensor:
        """(n, L) ids on `device` -> (n, d) projected text features, not normalised. L may be < context."""

    @abstractmethod
    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """The backend's own preprocessing: RGB PIL images -> (n, 3, H, W) normalised float32 on CPU."""

    @abstractmethod
    def encode_pixel_tensor(self, pixels: torch.Tensor) -> torch.Tensor:
        """(n, 3, H, W) normalised pixels -> (n, d) projected image features, not normalised.

        Differentiable with respect to `pixels` when `differentiable` is True (guide uses it).
        """

    # ------------------------------------------------------------------ preprocessing description
    def describe_preprocess(self) -> PreprocessSpec | None:
        """Backend hook: this encoder's `preprocess` as a `PreprocessSpec`, or None if it has none.

        None keeps every caller on the backend's own `preprocess` (always correct, slower).
        """
        return None

    @property
    def preprocess_spec(self) -> PreprocessSpec | None:
        """What `preprocess` does, as data (resize, crop, mean/std, interpolation), computed once.

        `cliplens.embed` reads this to preprocess batches on the device with the same result.
        """
        if not hasattr(self, "_preprocess_spec"):
            try:
                self._preprocess_spec = self.describe_preprocess()
            except (AttributeError, TypeError, ValueError, KeyError):
                self._preprocess_spec = None
        return self._preprocess_spec

    def causal_text_tower(self):
        """The text tower's pieces for prefix key/value caching (`cliplens.models.text_tower`), or
        None when this backend's tower cannot be split that way (the caller encodes plainly)."""
        return None

    @property
    def pixel_device(self) -> torch.device:
        """Where a pixel batch for `encode_pixel_tensor` should be prepared (the CPU for ONNX)."""
        return self.device if self.torch_image_tower else torch.device("cpu")

    # ------------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> str:
        """Stable id of the weights (not of device/precision): caches and indexes are keyed on it.

        Built from the backend, spec, dimension and the full-content digest of every weight
        file, so any change to the weights gives a new fingerprint. A local folder counts by its
        name, not its full path: the same weights installed elsewhere keep their fingerprint (and
        their caches and indexes stay valid).
        """
        if self._fingerprint is None:
            name = Path(self.spec.name).name if self.spec.is_local else self.spec.name
            h = hashlib.sha256(f"{self.backend}|{name}|{self.spec.pretrained}|{self.embed_dim}".encode())
            for f in sorted(self.weight_files):
                h.update(file_signature(f).encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    @property
    def name(self) -> str:
        return str(self.spec)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} d={self.embed_dim} {self.device.type}/{str(self.dtype).removeprefix('torch.')}>"

    # ------------------------------------------------------------------ tokens
    def count_tokens(self, text: str) -> int:
        """Number of BPE tokens in `text` (without the 2 special tokens); see `max_text_tokens`.

        >>> enc.count_tokens("a red circle")  # doctest: +SKIP
        3
        """
        return len(self.token_ids(text))

    @property
    def max_text_tokens(self) -> int:
        """Content tokens that fit one window (context minus start and end tokens)."""
        return self.context_length - 2

    def sequence_lengths(self, ids: torch.Tensor) -> torch.Tensor:
        """Length of each tokenized row up to and including its first end-of-text token."""
        if self.eot_id is None:
            return torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long)
        is_eot = ids == self.eot_id
        first = is_eot.int().argmax(dim=1)
        first = torch.where(is_eot.any(dim=1), first, torch.full_like(first, ids.shape[1] - 1))
        return first + 1

    # ------------------------------------------------------------------ numpy API
    def encode_texts(
        self, texts: Sequence[str], batch_size: int = 256, progress: bool = False, normalize: bool = True
    ) -> np.ndarray:
        """Encode texts to an (n, d) float32 array of unit vectors.

        Texts are sorted by token length and each batch is cut to its longest member: the
        text tower is causal and pooled at the end token, so padding never changes a vector,
        and short vocabulary phrases run several times faster than at the full context length.
        """
        texts = check_texts(texts)
        out = np.empty((len(texts), self.embed_dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        order = np.arange(len(texts))
        lengths = None
        if self.trims_padding:
            lengths = self.sequence_lengths(ids)
            order = np.argsort(lengths.numpy(), kind="stable")
        with progress_bar(len(texts), "texts", enabled=progress) as bar, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                batch = ids[idx]
                if lengths is not None:
                    batch = batch[:, : int(lengths[idx].max())]
                feats = self.encode_token_tensor(batch.to(self.device, non_blocking=True))
                if normalize:
                    feats = F.normalize(feats.float(), dim=-1)
                out[idx] = feats.float().cpu().numpy()
                bar.update(len(idx))
        return out

    def encode_images(
        self,
        images: Sequence[ImageInput],
        batch_size: int = 64,
        progress: bool = False,
        normalize: bool = True,
    ) -> np.ndarray:
        """Encode images (paths, bytes, PIL, arrays) to an (n, d) float32 array of unit vectors.

        A bad image raises `ImageLoadError` naming it; `cliplens.embed` skips and reports instead.
        """
        if isinstance(images, (str, Image.Image, bytes)):
            images = [images]
        images = list(images)
        out = np.empty((len(images), self.embed_dim), dtype=np.float32)
        with progress_bar(len(images), "images", enabled=progress) as bar, torch.inference_mode():
            for start in range(0, len(images), batch_size):
                chunk = [load_image(im) for im in images[start : start + batch_size]]
                pixels = self.preprocess(chunk).to(self.device, self.dtype, non_blocking=True)
                feats = self.encode_pixel_tensor(pixels)
                if normalize:
                    feats = F.normalize(feats.float(), dim=-1)
                out[start : start + len(chunk)] = feats.float().cpu().numpy()
                bar.update(len(chunk))
        return out

    # ------------------------------------------------------------------ gradient path
    def pixels_from_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable preprocessing for gradient work: (n, 3, h, w) in [0, 1] -> model input.

        Resizes to the model's resolution (bicubic, anti-aliased when shrinking) and applies
        the model's mean/std, so `encode_pixel_tensor(pixels_from_unit(x))` can be optimised.
        """
        if x.ndim != 4 or x.shape[1] != 3:
            raise InvalidInputError(f"expected (n, 3, h, w) images in [0, 1], got shape {tuple(x.shape)}")
        if tuple(x.shape[-2:]) != self.image_size:
            shrinking = x.shape[-1] > self.image_size[1] or x.shape[-2] > self.image_size[0]
            x = F.interpolate(x, size=self.image_size, mode="bicubic", align_corners=False, antialias=shrinking)
        mean = torch.tensor(self.image_mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x - mean) / std

    def encode_unit_images(self, x: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """(n, 3, h, w) in [0, 1] -> (n, d) torch features, with gradients (the guide's path)."""
        if not self.differentiable:
            raise CapabilityError(
                f"{self.name} ({self.backend}) has no differentiable image path; use an open_clip or "
                "transformers model for gradient work (e.g. the model 'toyclip')"
            )
        feats = self.encode_pixel_tensor(self.pixels_from_unit(x.to(self.device)).to(self.dtype)).float()
        return F.normalize(feats, dim=-1) if normalize else feats

    def encode_text_tensor(self, texts: Sequence[str]) -> torch.Tensor:
        """Texts -> (n, d) normalised torch features on `device` (no numpy round-trip)."""
        return torch.from_numpy(self.encode_texts(texts)).to(self.device)
