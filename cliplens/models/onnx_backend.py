"""ONNX Runtime backend: exported image/text graphs for CPU-only deployments.

A folder holds `image_encoder.onnx` and `text_encoder.onnx` (or one combined graph with
both inputs), the CLIP tokenizer files and `preprocessor_config.json`. Preprocessing is done
with Pillow + numpy (resize shortest edge, centre crop, mean/std), so nothing but
onnxruntime runs the model.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import ModelNotFoundError
from .encoder import Encoder
from .hf_backend import HFTokenizerMixin
from .preprocess import PreprocessSpec
from .spec import ModelSpec

_RESAMPLE = {0: Image.NEAREST, 1: Image.LANCZOS, 2: Image.BILINEAR, 3: Image.BICUBIC}


class OnnxEncoder(HFTokenizerMixin, Encoder):
    """ONNX graphs behind the `Encoder` interface (no gradients)."""

    backend = "onnx"
    differentiable = False
    torch_image_tower = False

    def __init__(self, spec: ModelSpec, device: torch.device, dtype: torch.dtype):
        super().__init__(spec, device, torch.float32)
        import onnxruntime as ort
        from transformers import CLIPTokenizer

        folder = Path(spec.name)
        if not folder.is_dir():
            raise ModelNotFoundError(f"ONNX model folder {folder} does not exist")
        graphs = sorted(folder.glob("*.onnx"))
        if not graphs:
            raise ModelNotFoundError(f"{folder}: no *.onnx graphs found")
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        self._text_sess = self._image_sess = None
        for g in graphs:
            sess = ort.InferenceSession(str(g), opts, providers=providers)
            names = {i.name for i in sess.get_inputs()}
            if "input_ids" in names:
                self._text_sess = sess
            if "pixel_values" in names:
                self._image_sess = sess
        if self._text_sess is None or self._image_sess is None:
            raise ModelNotFoundError(f"{folder}: need graphs taking input_ids and pixel_values")
        self.weight_files = graphs
        self.tokenizer = CLIPTokenizer.from_pretrained(str(folder))
        self.context_length = self._context_length(folder)
        self.eot_id = self.tokenizer.eos_token_id
        pp = json.loads((folder / "preprocessor_config.json").read_text())
        crop = pp.get("crop_size", 224)
        self.image_size = (crop["height"], crop["width"]) if isinstance(crop, dict) else (crop, crop)
        size = pp.get("size", {"shortest_edge": self.image_size[0]})
        self._shortest = size["shortest_edge"] if isinstance(size, dict) else int(size)
        self._resample = _RESAMPLE.get(pp.get("resample", 3), Image.BICUBIC)
        self.image_mean = tuple(pp.get("image_mean", self.image_mean))
        self.image_std = tuple(pp.get("image_std", self.image_std))
        io_path = folder / "onnx_io.json"
        if io_path.is_file():
            self.logit_scale = float(json.loads(io_path.read_text()).get("logit_scale", 100.0))
        self.embed_dim = int(self.encode_token_tensor(self.tokenize(["x"])).shape[-1])

    def _context_length(self, folder: Path) -> int:
        """Token window of the text graph: `onnx_io.json`'s context_length, else the tokenizer's."""
        io_path = folder / "onnx_io.json"
        if io_path.is_file():
            ctx = json.loads(io_path.read_text()).get("context_length")
            if ctx:
                return int(ctx)
        ctx = int(getattr(self.tokenizer, "model_max_length", 0) or 0)
        if not 2 < ctx < 100_000:  # transformers' "no limit" sentinel is ~1e30
            raise ModelNotFoundError(f"{folder}: cannot tell the text graph's token window; add "
                                     '"context_length" to onnx_io.json or model_max_length to tokenizer_config.json')
        return ctx

    def _run(self, sess, feed: dict[str, np.ndarray], want: str) -> np.ndarray:
        inputs = {i.name: i for i in sess.get_inputs()}
        for name in inputs:  # a combined graph also wants the other modality: give it one dummy item
            if name not in feed:
                feed[name] = (np.zeros((1, 3, *self.image_size), np.float32) if name == "pixel_values"
                              else np.array([[49406, 49407]], np.int64))
        outs = sess.run(None, feed)
        names = [o.name for o in sess.get_outputs()]
        return outs[names.index(want)] if want in names else outs[0]

    def encode_token_tensor(self, ids: torch.Tensor) -> torch.Tensor:
        arr = self._run(self._text_sess, {"input_ids": ids.cpu().numpy().astype(np.int64)}, "text_embeds")
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        h, w = self.image_size
        mean = np.asarray(self.image_mean, np.float32)[:, None, None]
        std = np.asarray(self.image_std, np.float32)[:, None, None]
        out = []
        for im in images:
            scale = self._shortest / min(im.size)
            new = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
            im = im.resize(new, self._resample)
            left, top = (new[0] - w) // 2, (new[1] - h) // 2
            im = im.crop((left, top, left + w, top + h))
            arr = np.asarray(im, np.float32).transpose(2, 0, 1) / 255.0
            out.append((arr - mean) / std)
        return torch.from_numpy(np.stack(out))

    def describe_preprocess(self) -> PreprocessSpec | None:
        """Pillow resize of the short edge (long edge rounded), floor-offset centre crop, mean/std."""
        interp = {Image.BICUBIC: "bicubic", Image.BILINEAR: "bilinear", Image.NEAREST: "nearest",
                  Image.LANCZOS: "lanczos"}.get(self._resample)
        if interp is None:
            return None
        return PreprocessSpec(tuple(self.image_size), "shortest", int(self._shortest), interp, "round", True, "floor",
                              tuple(self.image_mean), tuple(self.image_std), "pil")

    def encode_pixel_tensor(self, pixels: torch.Tensor) -> torch.Tensor:
        arr = self._run(self._image_sess, {"pixel_values": pixels.detach().cpu().float().numpy()}, "image_embeds")
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
