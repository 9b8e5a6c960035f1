"""Model specs -> `Encoder`s: one factory, three backends, a per-process cache.

    >>> from cliplens.models import load_encoder
    >>> enc = load_encoder("toyclip")                  # bundled toy model, no downloads
    >>> enc.encode_texts(["a red circle"]).shape
    (1, 64)
"""
from __future__ import annotations

import os
import threading

import torch

from ..settings import NETWORK_TIMEOUT_S

# the hub client reads these at import: never let a metadata request hang for long
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(NETWORK_TIMEOUT_S)))
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")

from .device import resolve_device, resolve_dtype  # noqa: E402
from .encoder import Encoder  # noqa: E402
from .spec import DEFAULT_MODEL, PRESETS, ModelSpec, Preset, parse_spec  # noqa: E402

__all__ = ["Encoder", "ModelSpec", "Preset", "PRESETS", "DEFAULT_MODEL", "load_encoder", "parse_spec",
           "resolve_device", "resolve_dtype", "clear_cache"]

_CACHE: dict[tuple[str, str, str], Encoder] = {}
_LOCK = threading.Lock()


def _backend_class(backend: str) -> type[Encoder]:
    if backend == "openclip":
        from .openclip_backend import OpenClipEncoder

        return OpenClipEncoder
    if backend == "hf":
        from .hf_backend import HFEncoder

        return HFEncoder
    from .onnx_backend import OnnxEncoder

    return OnnxEncoder


def load_encoder(
    spec: str | ModelSpec = DEFAULT_MODEL, device: str | torch.device | None = "auto", precision: str | None = "auto"
) -> Encoder:
    """Load (once per process) the encoder a spec names; later calls return the same object.

    `device`: auto | cpu | cuda[:N] | mps. `precision`: auto (fp16 on CUDA) | fp32 | fp16 | bf16.
    Missing weights raise `ModelNotFoundError` saying where cliplens looked and what to do.
    """
    parsed = parse_spec(spec)
    dev = resolve_device(device)
    dtype = resolve_dtype(precision, dev)
    key = (f"{parsed.backend}|{parsed.name}|{parsed.pretrained}", str(dev), str(dtype))
    with _LOCK:
        enc = _CACHE.get(key)
        if enc is None:
            enc = _backend_class(parsed.backend)(parsed, dev, dtype)
            _CACHE[key] = enc
    return enc


def clear_cache() -> None:
    """Forget every loaded model (frees memory; the next `load_encoder` loads again)."""
    with _LOCK:
        _CACHE.clear()
