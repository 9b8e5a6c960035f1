"""Choose the device and precision once: cuda > mps > cpu; fp16 on cuda, fp32 elsewhere."""
from __future__ import annotations

import torch

from ..errors import CliplensError

_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16,
           "bf16": torch.bfloat16, "bfloat16": torch.bfloat16}


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """`"auto"` picks the fastest available device; anything else is checked, not trusted.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    name = (device or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CliplensError(f"device={device!r}: no CUDA GPU is visible to PyTorch here; use device 'cpu' or 'auto'")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise CliplensError("device='mps': Apple's Metal backend is not available here; use device 'cpu' or 'auto'")
    try:
        return torch.device(name)
    except RuntimeError:
        raise CliplensError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps") from None


def resolve_dtype(precision: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """`"auto"` is fp16 on CUDA (half the memory, tensor cores) and fp32 on CPU/MPS."""
    if isinstance(precision, torch.dtype):
        return precision
    name = (precision or "auto").lower()
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if name not in _DTYPES:
        raise CliplensError(f"unknown precision {precision!r}; use auto, fp32, fp16 or bf16")
    dtype = _DTYPES[name]
    if device.type == "cpu" and dtype == torch.float16:
        raise CliplensError("fp16 is not supported on CPU; use fp32 or bf16")
    return dtype
