"""Run an encoder's towers on ready batches and bring vectors back without stalling the GPU.

`ModelRunner.submit` queues a forward pass and an asynchronous copy of the normalised
features into pinned host memory, and returns at once; `Pending.result()` waits only for
that batch. Keeping one batch in flight means the CPU prepares batch k+1 while the GPU
computes batch k. On the CPU everything is simply synchronous.

    >>> runner = ModelRunner(load_encoder("toyclip"))                     # doctest: +SKIP
    >>> runner.submit(pixels).result().shape                             # doctest: +SKIP
    (64, 64)
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..models.encoder import Encoder


@dataclass
class Pending:
    """Features of one submitted batch, possibly still being computed/copied."""

    host: torch.Tensor
    event: torch.cuda.Event | None = None

    def result(self) -> np.ndarray:
        if self.event is not None:
            self.event.synchronize()
        return self.host.numpy()


def to_host(feats: torch.Tensor, n: int) -> Pending:
    feats = F.normalize(feats[:n].float(), dim=-1)
    if feats.device.type != "cuda":
        return Pending(feats.detach().cpu().contiguous())
    host = torch.empty(feats.shape, dtype=torch.float32, pin_memory=True)
    host.copy_(feats, non_blocking=True)
    event = torch.cuda.Event()
    event.record()
    return Pending(host, event)


#: images per image-tower pass on a CPU. A pass's activations (tokens x MLP width) should stay
#: near the core's caches: toyclip (65 tokens, 768-wide MLP) runs ~230 images/s in passes of
#: 16 and ~190 in passes of 64 on one EPYC core; larger towers lose nothing at 16.
CPU_MICRO_BATCH = 16


class ModelRunner:
    """Image tower runner: optional torch.compile at a fixed batch size (last batch padded).

    On a CPU (not compiled) a submitted batch runs in passes of `micro_batch` images
    (default `CPU_MICRO_BATCH`): files are still read, cached and reported `batch_size` at a
    time, but each forward pass stays cache-sized. GPUs get the whole batch in one pass.

    `compile=True` compiles `encoder.encode_pixel_tensor` for one static shape (on CUDA in
    "reduce-overhead" mode, i.e. replayed as a CUDA graph); if compilation fails, it warns
    and runs eagerly. `compile_backend="eager"` exercises the same plumbing without code
    generation (tests use it).
    """

    def __init__(self, encoder: Encoder, compile: bool = False, batch_size: int | None = None,
                 compile_backend: str = "inductor", micro_batch: int | None = None):
        self.encoder = encoder
        self.batch_size = batch_size
        on_cpu = encoder.device.type == "cpu" and encoder.torch_image_tower
        self.micro_batch = micro_batch if micro_batch is not None else (CPU_MICRO_BATCH if on_cpu else 0)
        self._eager: Callable[[torch.Tensor], torch.Tensor] = encoder.encode_pixel_tensor
        self._forward = self._eager
        self.compiled = False
        if compile and encoder.torch_image_tower:
            mode = "reduce-overhead" if encoder.device.type == "cuda" else None
            if compile_backend != "inductor":
                mode = None  # modes are inductor options
            self._forward = torch.compile(encoder.encode_pixel_tensor, mode=mode, dynamic=False, backend=compile_backend)
            self.compiled = True

    def _run(self, pixels: torch.Tensor) -> torch.Tensor:
        if not self.compiled:
            m = self.micro_batch
            if m and pixels.shape[0] > m:
                return torch.cat([self._eager(pixels[s : s + m]) for s in range(0, pixels.shape[0], m)])
            return self._eager(pixels)
        try:
            out = self._forward(pixels)
            if out.device.type == "cuda":
                out = out.clone()  # CUDA-graph outputs are overwritten by the next replay
            return out
        except Exception as exc:  # noqa: BLE001 - any compiler failure: fall back, keep going
            warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); running eagerly", stacklevel=2)
            self.compiled = False
            return self._eager(pixels)

    def submit(self, pixels: torch.Tensor) -> Pending:
        """Queue one batch of preprocessed pixels (on the encoder's device) -> `Pending` features."""
        n = pixels.shape[0]
        with torch.inference_mode():
            if self.compiled and self.batch_size and n < self.batch_size:  # keep one shape: no recompiles
                pad = pixels.new_zeros((self.batch_size - n, *pixels.shape[1:]))
                pixels = torch.cat([pixels, pad])
            return to_host(self._run(pixels), n)


