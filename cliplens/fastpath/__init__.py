"""The fast embedding path: keep the accelerator busy from image files (and texts) to vectors.

    decode.py      read + hash files; decode with Pillow threads or nvjpeg on the GPU
    preprocess.py  the backend's resize/crop/normalise as batched tensor ops on the device
    pipeline.py    chunks of files -> cache-checked, decoded, preprocessed batches, prefetched
    runner.py      forward passes with asynchronous device->host copies; fast text encoding
    tokenize.py    open_clip's BPE on the Rust tokenizers library (identical ids)

`cliplens.embed.embed_images` and `encode_texts_fast` are the entry points most callers want.
"""
from __future__ import annotations

from .pipeline import PreparedBatch, Preparer, default_workers, prefetched
from .preprocess import DevicePreprocessor, PreprocessSpec, preprocess_spec
from .runner import ModelRunner, encode_texts_fast
from .tokenize import fast_tokenize

__all__ = ["DevicePreprocessor", "ModelRunner", "PreparedBatch", "Preparer", "PreprocessSpec", "default_workers",
           "encode_texts_fast", "fast_tokenize", "prefetched", "preprocess_spec"]
