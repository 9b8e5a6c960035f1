"""Hugging Face transformers backend: CLIP and SigLIP, from the hub or a local folder."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from ..errors import ModelNotFoundError
from ..settings import is_offline
from .encoder import Encoder
from .preprocess import PreprocessSpec
from .spec import ModelSpec


def _features(out) -> torch.Tensor:
    """transformers 5 returns an output object from get_*_features; 4.x returned a tensor."""
    return out if isinstance(out, torch.Tensor) else out.pooler_output


class HFTokenizerMixin:
    """Token methods for encoders whose `self.tokenizer` is a transformers tokenizer."""

    tokenizer: object
    context_length: int

    def token_ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        enc = self.tokenizer(list(texts), padding="max_length", truncation=True,
                             max_length=self.context_length, return_tensors="pt")
        return enc["input_ids"].long()


class HFEncoder(HFTokenizerMixin, Encoder):
    """A transformers `CLIPModel`/`SiglipModel` behind the `Encoder` interface."""

    backend = "hf"

    def __init__(self, spec: ModelSpec, device: torch.device, dtype: torch.dtype):
        super().__init__(spec, device, dtype)
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        local = Path(spec.name).exists()
        offline = not local and is_offline()
        if local and not (Path(spec.name) / "config.json").is_file():
            raise ModelNotFoundError(
                f"model {str(spec)!r}: the folder {spec.name} holds no transformers model (no config.json); "
                "give a folder with config.json, weights and tokenizer files, or the model 'toyclip' to run offline")
        try:
            model = AutoModel.from_pretrained(spec.name, local_files_only=local or offline, dtype=torch.float32)
            self.tokenizer = AutoTokenizer.from_pretrained(spec.name, local_files_only=local or offline)
            self.image_processor = AutoImageProcessor.from_pretrained(spec.name, local_files_only=local or offline)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # transformers raises all of these for bad folders
            from huggingface_hub.constants import HF_HUB_CACHE

            where = spec.name if local else f"the Hugging Face cache ({HF_HUB_CACHE})"
            how = ("run once with network access, or download the repository and pass its folder "
                   "(give the folder as the model)") if not local else "check the folder holds config.json, weights and tokenizer files"
            mode = "offline " if offline else ""
            raise ModelNotFoundError(
                f"model {str(spec)!r} could not be loaded {mode}from {where}: {str(exc).splitlines()[0]}. "
                f"To fix: {how}. To try cliplens without downloads use the bundled model 'toyclip'."
            ) from None
        self.model = model.eval().to(device=device, dtype=dtype)
        cfg = model.config
        self.model_type = cfg.model_type
        text_cfg = cfg.text_config
        self.context_length = int(text_cfg.max_position_embeddings)
        vis = cfg.vision_config.image_size
        self.image_size = (vis, vis) if isinstance(vis, int) else tuple(vis)
        ip = self.image_processor
        self.image_mean = tuple(getattr(ip, "image_mean", self.image_mean))
        self.image_std = tuple(getattr(ip, "image_std", self.image_std))
        self.logit_scale = float(model.logit_scale.exp().item())
        # CLIP's text tower is causal and pooled at the end token; SigLIP's is not
        self.trims_padding = self.model_type == "clip"
        self.eot_id = self.tokenizer.eos_token_id if self.model_type == "clip" else None
        with torch.inference_mode():
            self.embed_dim = int(self.encode_token_tensor(self.tokenize(["x"]).to(device)).shape[-1])
        if local:
            self.weight_files = sorted(Path(spec.name).glob("*.safetensors")) or sorted(Path(spec.name).glob("*.bin"))
        else:
            self.weight_files = _hub_weight_files(spec.name)

    def encode_token_tensor(self, ids: torch.Tensor) -> torch.Tensor:
        return _features(self.model.get_text_features(input_ids=ids))

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        return self.image_processor(images=list(images), return_tensors="pt")["pixel_values"].float()

    def encode_pixel_tensor(self, pixels: torch.Tensor) -> torch.Tensor:
        return _features(self.model.get_image_features(pixel_values=pixels))

    def causal_text_tower(self):
        from .text_tower import HFTextTower

        if self.trims_padding and self.eot_id is not None and HFTextTower.supports(self.model):
            return HFTextTower(self.model)
        return None

    def describe_preprocess(self) -> PreprocessSpec | None:
        """The image processor's resize/crop/normalise; torchvision-backed processors resize uint8
        tensors with antialiasing ("torch"), the others with Pillow ("pil")."""
        ip = self.image_processor
        if not getattr(ip, "do_resize", True) or not getattr(ip, "do_rescale", True):
            return None
        if abs(float(getattr(ip, "rescale_factor", 1 / 255)) - 1 / 255) > 1e-9:
            return None
        interp = _PIL_RESAMPLE.get(int(getattr(ip, "resample", 3) or 3))
        if interp is None:
            return None
        resampler = "torch" if _torch_processor(ip) else "pil"
        if resampler == "torch" and interp == "lanczos":
            return None
        size = getattr(ip, "size", None)
        mean = tuple(ip.image_mean) if getattr(ip, "do_normalize", True) else (0.0, 0.0, 0.0)
        std = tuple(ip.image_std) if getattr(ip, "do_normalize", True) else (1.0, 1.0, 1.0)
        short = _field(size, "shortest_edge")
        if short and not _field(size, "longest_edge"):
            if not getattr(ip, "do_center_crop", False):
                return None
            crop = getattr(ip, "crop_size", None)
            ch, cw = _field(crop, "height"), _field(crop, "width")
            if not ch or not cw:
                return None
            return PreprocessSpec((int(ch), int(cw)), "shortest", int(short), interp, "floor", True, "floor", mean, std,
                                  resampler)
        h, w = _field(size, "height"), _field(size, "width")
        if h and w and not getattr(ip, "do_center_crop", False):
            return PreprocessSpec((int(h), int(w)), "squash", 0, interp, "floor", False, "floor", mean, std, resampler)
        return None


def _hub_weight_files(repo: str) -> list[Path]:
    """The weight files of a hub model in the local HF cache (for the fingerprint), if found."""
    try:
        from huggingface_hub import try_to_load_from_cache

        for name in ("model.safetensors", "pytorch_model.bin"):
            p = try_to_load_from_cache(repo, name)
            if isinstance(p, str):
                return [Path(p)]
    except Exception:  # noqa: BLE001 - no cache info: the fingerprint falls back to the spec
        pass
    return []


_PIL_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic"}


def _field(obj, key: str):
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _torch_processor(ip) -> bool:
    """True for transformers image processors that resize torch tensors (torchvision backend / *Fast)."""
    try:
        from transformers.image_processing_backends import TorchvisionBackend

        if isinstance(ip, TorchvisionBackend):
            return True
    except ImportError:
        pass
    return type(ip).__name__.endswith("Fast")
