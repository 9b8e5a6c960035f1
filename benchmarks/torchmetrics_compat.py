"""Benchmark/test helper (not part of the package): torchmetrics' CLIPScore on transformers 5,
the (model, processor) pair it can actually run.

torchmetrics 1.9 expects `CLIPModel.get_image_features` / `get_text_features` to return
tensors; transformers 5 returns output objects, so `CLIPScore` fails with
"'BaseModelOutputWithPooling' object has no attribute 'norm'". `torchmetrics_clip_pair` loads
a local CLIP folder as a `CLIPModel` subclass whose feature methods return `.pooler_output`,
which is what the tests and the benchmark compare cliplens against on identical weights.

    >>> from torchmetrics.multimodal.clip_score import CLIPScore              # doctest: +SKIP
    >>> model, proc = torchmetrics_clip_pair("assets/models/toyclip/hf")     # doctest: +SKIP
    >>> metric = CLIPScore(model_name_or_path=lambda: (model, proc))         # doctest: +SKIP
"""
from __future__ import annotations

import os


def torchmetrics_clip_pair(model_dir: str | os.PathLike):
    """(CLIPModel whose get_*_features return tensors, CLIPProcessor) for a local CLIP folder, in eval mode."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    def _tensor(out):
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    class TensorFeaturesCLIP(CLIPModel):
        def get_image_features(self, *a, **k):
            return _tensor(super().get_image_features(*a, **k))

        def get_text_features(self, *a, **k):
            return _tensor(super().get_text_features(*a, **k))

    return TensorFeaturesCLIP.from_pretrained(model_dir).eval(), CLIPProcessor.from_pretrained(model_dir)


def torchmetrics_image(path: str | os.PathLike):
    """An image file as the uint8 (3, H, W) tensor torchmetrics' CLIPScore takes."""
    import numpy as np
    import torch
    from PIL import Image

    with Image.open(path) as im:
        return torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1)
