"""open_clip backend: architectures + pretrained tags, `hf-hub:` ids, local folders.

Weights are resolved here (not inside open_clip) so that offline mode never waits on the
network and a missing file produces one actionable `ModelNotFoundError`.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from ..errors import ModelNotFoundError, ModelSpecError
from ..settings import is_offline
from .encoder import Encoder
from .preprocess import PreprocessSpec
from .spec import ModelSpec

_CHECKPOINT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
_CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def _hub_file(repo: str, filenames: Sequence[str], spec: str) -> str:
    """Path of the first of `filenames` in a hub repo: from the local HF cache, else downloaded.

    Offline (or with the hub unreachable) only the cache is used, and a miss becomes one
    `ModelNotFoundError` naming the spec, the repository, where we looked and what to do.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.constants import HF_HUB_CACHE

    for filename in filenames:
        try:
            return hf_hub_download(repo, filename, local_files_only=True)
        except Exception:  # noqa: BLE001 - not cached
            continue
    if is_offline():
        raise ModelNotFoundError(
            f"model {spec!r} is not available offline: the weights of {repo} ({' or '.join(filenames)}) are not "
            f"in the Hugging Face cache ({HF_HUB_CACHE}). Run once with network access to download them, or "
            "download the files and give their folder as the model. "
            "To try cliplens without downloads use the bundled model 'toyclip'."
        )
    errors = []
    for filename in filenames:
        try:
            return hf_hub_download(repo, filename)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{filename}: {str(exc).splitlines()[0]}")
    raise ModelNotFoundError(f"could not download the weights of {repo} for model {spec!r}: {'; '.join(errors)}")


def _register_config(cfg: dict) -> str:
    """Register a model config dict with open_clip under a name derived from its content."""
    import open_clip

    name = "cliplens-" + hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]
    if name not in open_clip.list_models():
        folder = Path(tempfile.mkdtemp(prefix="cliplens-oc-"))
        (folder / f"{name}.json").write_text(json.dumps(cfg))
        open_clip.add_model_config(folder / f"{name}.json")
    return name


def _local_folder(path: Path) -> tuple[str, dict, Path | None, dict]:
    """(open_clip model name, model cfg, checkpoint, preprocess overrides) for a local folder."""
    preprocess: dict = {}
    if (path / "open_clip_config.json").is_file():
        full = json.loads((path / "open_clip_config.json").read_text())
        cfg = full["model_cfg"]
        pp = full.get("preprocess_cfg", {})
        preprocess = {k: pp[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in pp}
    else:
        cfg = None
        for f in sorted(path.glob("*.json")):
            try:
                data = json.loads(f.read_text())
            except ValueError:
                continue
            if isinstance(data, dict) and "vision_cfg" in data and "text_cfg" in data:
                cfg = data
                break
        if cfg is None:
            raise ModelSpecError(f"{path}: no open_clip model config (*.json with vision_cfg and text_cfg)")
    ckpt = next((path / n for n in _CHECKPOINT_NAMES if (path / n).is_file()), None)
    if ckpt is None:
        ckpt = next((p for p in sorted(path.iterdir()) if p.suffix in _CHECKPOINT_SUFFIXES), None)
    if ckpt is None:
        raise ModelNotFoundError(f"{path}: open_clip config found but no checkpoint (*.safetensors, *.bin, *.pt)")
    return _register_config(cfg), cfg, ckpt, preprocess


def _plain_causal_tower(transformer) -> bool:
    """True when every block is open_clip's standard self-attention block (so `_causal_tower` applies)."""
    blocks = list(getattr(transformer, "resblocks", []))
    return bool(blocks) and getattr(transformer, "batch_first", False) and all(
        type(r).__name__ == "ResidualAttentionBlock" and isinstance(getattr(r, "attn", None), torch.nn.MultiheadAttention)
        and r.attn.batch_first and r.attn._qkv_same_embed_dim and r.attn.bias_k is None and not r.attn.add_zero_attn
        and r.attn.in_proj_bias is not None and not hasattr(r, "ln_1_kv")
        for r in blocks
    )


def _causal_tower(transformer, x: torch.Tensor) -> torch.Tensor:
    """open_clip's text transformer with SDPA `is_causal=True` instead of its additive -inf mask.

    Same maths (the mask *is* the causal mask), but PyTorch can pick its flash kernels, which
    it cannot with an arbitrary float mask.
    """
    import torch.nn.functional as F

    for r in transformer.resblocks:
        attn = r.attn
        b, length, d = x.shape
        heads = attn.num_heads
        qkv = F.linear(r.ln_1(x), attn.in_proj_weight, attn.in_proj_bias)
        q, k, v = qkv.view(b, length, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + r.ls_1(attn.out_proj(o.transpose(1, 2).reshape(b, length, d)))
        x = x + r.ls_2(r.mlp(r.ln_2(x)))
    return x


class OpenClipEncoder(Encoder):
    """An open_clip model behind the `Encoder` interface."""

    backend = "openclip"

    def __init__(self, spec: ModelSpec, device: torch.device, dtype: torch.dtype):
        super().__init__(spec, device, dtype)
        import open_clip

        kwargs: dict = {}
        name = spec.name
        pretrained: str | None = None
        if spec.name.startswith("hf-hub:"):
            repo = spec.name.removeprefix("hf-hub:")
            cfg_path = Path(_hub_file(repo, ["open_clip_config.json"], str(spec)))
            _hub_file(repo, list(_CHECKPOINT_NAMES), str(spec))
            name, _, ckpt, kwargs = _local_folder(cfg_path.parent)
            pretrained = str(ckpt)
        elif Path(spec.name).exists():
            name, _, ckpt, kwargs = _local_folder(Path(spec.name))
            pretrained = str(ckpt)
        else:
            if spec.name not in open_clip.list_models():
                raise ModelSpecError(
                    f"open_clip has no architecture {spec.name!r}; e.g. ViT-B-32, ViT-L-14, ViT-H-14, ViT-bigG-14"
                )
            tag = spec.pretrained
            if tag is None:
                raise ModelSpecError(
                    f"{spec}: name the weights, e.g. openclip:{spec.name}/"
                    f"{(open_clip.list_pretrained_tags_by_model(spec.name) or ['random'])[0]} "
                    "(or /random for an untrained model)"
                )
            if tag != "random":
                pcfg = open_clip.get_pretrained_cfg(spec.name, tag)
                if not pcfg:
                    tags = ", ".join(open_clip.list_pretrained_tags_by_model(spec.name)) or "none"
                    raise ModelSpecError(f"{spec}: unknown pretrained tag {tag!r}; known tags: {tags}")
                pretrained = self._resolve_tag(pcfg, str(spec))
                kwargs = {k: pcfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if pcfg.get(k)}
                if pcfg.get("quick_gelu"):
                    kwargs["force_quick_gelu"] = True
        kwargs = {("image_" + k if k in ("mean", "std", "interpolation", "resize_mode") else k): v for k, v in kwargs.items()}
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, **kwargs)
        model = model.eval().to(device=device, dtype=dtype)
        self.model = model
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(name)
        self.context_length = int(getattr(self._tokenizer, "context_length", None) or model.context_length)
        visual = model.visual
        size = visual.image_size
        self.image_size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        self.image_mean = tuple(getattr(visual, "image_mean", None) or self.image_mean)
        self.image_std = tuple(getattr(visual, "image_std", None) or self.image_std)
        self.logit_scale = float(model.logit_scale.exp().item())
        with torch.inference_mode():
            probe = self.tokenize(["x"])
            self.embed_dim = int(self._text_features(probe.to(device)).shape[-1])
        self.eot_id = getattr(self._tokenizer, "eot_token_id", None)
        self.trims_padding = self._can_trim()
        #: text tower run with SDPA is_causal (flash kernels) instead of a float mask
        self.fused_text = self.trims_padding and _plain_causal_tower(getattr(model, "transformer", None))
        if pretrained:
            self.weight_files = [Path(pretrained)]

    @staticmethod
    def _resolve_tag(pcfg: dict, spec: str) -> str:
        hub = (pcfg.get("hf_hub") or "").rstrip("/")
        if hub:
            filename = pcfg.get("hf_hub_filename")
            return _hub_file(hub, ([filename] if filename else []) + list(_CHECKPOINT_NAMES), spec)
        url = pcfg.get("url") or ""
        local = Path("~/.cache/clip").expanduser() / Path(url).name
        if local.is_file():
            return str(local)
        raise ModelNotFoundError(
            f"model {spec!r} needs {url}, which is not in {local.parent}; download it there or pass a local folder"
        )

    def _can_trim(self) -> bool:
        m = self.model
        return (
            hasattr(m, "token_embedding")
            and getattr(m, "attn_mask", None) is not None
            and getattr(m, "text_pool_type", "argmax") in ("argmax", "eos")
            and self.eot_id is not None
        )

    # ------------------------------------------------------------------ tokens
    def token_ids(self, text: str) -> list[int]:
        tok = self._tokenizer
        if hasattr(tok, "encode"):
            return list(tok.encode(text))
        return list(tok.tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        texts = list(texts)
        if len(texts) >= 32:  # big lists: the same BPE on the Rust tokenizers library (identical ids)
            from .openclip_tokenize import fast_tokenize

            return fast_tokenize(self._tokenizer, texts, self.context_length, self._tokenize_slow)
        return self._tokenize_slow(texts)

    def _tokenize_slow(self, texts: Sequence[str]) -> torch.Tensor:
        """open_clip's own tokenizer (pure Python for OpenAI-style BPE)."""
        return self._tokenizer(list(texts), context_length=self.context_length).long()

    # ------------------------------------------------------------------ forward
    def _text_features(self, ids: torch.Tensor) -> torch.Tensor:
        m = self.model
        fused = getattr(self, "fused_text", False)
        if not fused and (ids.shape[1] == self.context_length or not hasattr(m, "token_embedding")):
            return m.encode_text(ids)
        from open_clip.transformer import text_global_pool

        length = ids.shape[1]
        cast = m.transformer.get_cast_dtype()
        x = m.token_embedding(ids).to(cast) + m.positional_embedding[:length].to(cast)
        if fused:
            x = _causal_tower(m.transformer, x)
        else:
            x = m.transformer(x, attn_mask=m.attn_mask[:length, :length])
        x = m.ln_final(x)
        x = text_global_pool(x, ids, m.text_pool_type, eos_token_id=getattr(m, "text_eos_id", None))
        proj = m.text_projection
        if proj is not None:
            x = proj(x) if isinstance(proj, torch.nn.Linear) else x @ proj
        return x

    def encode_token_tensor(self, ids: torch.Tensor) -> torch.Tensor:
        return self._text_features(ids)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        return torch.stack([self._preprocess(im) for im in images])

    def causal_text_tower(self):
        from .text_tower import OpenClipTextTower

        if self.trims_padding and self.eot_id is not None and OpenClipTextTower.supports(self.model):
            return OpenClipTextTower(self.model)
        return None

    def describe_preprocess(self) -> PreprocessSpec | None:
        """open_clip's torchvision transform on PIL images: Pillow resize, torchvision centre crop."""
        from torchvision import transforms as T

        steps = list(getattr(self._preprocess, "transforms", []))
        resize = crop = None
        mean, std = self.image_mean, self.image_std
        for s in steps:
            name = type(s).__name__
            if isinstance(s, T.Resize):
                resize = s
            elif isinstance(s, T.CenterCrop):
                crop = s
            elif isinstance(s, T.Normalize):
                mean, std = tuple(s.mean), tuple(s.std)
            elif name in ("MaybeConvertMode", "MaybeToTensor", "ToTensor", "function"):
                continue  # RGB conversion and uint8 -> [0, 1]: the fast path does both
            else:
                return None  # e.g. ResizeKeepRatio / CenterCropOrPad ("longest" mode): keep the backend's code
        if resize is None:
            return None
        interp = resize.interpolation.value if hasattr(resize.interpolation, "value") else str(resize.interpolation)
        if interp not in ("bicubic", "bilinear", "nearest", "lanczos") or resize.max_size is not None:
            return None
        size = resize.size
        if isinstance(size, int) or (isinstance(size, (list, tuple)) and len(size) == 1):
            short = size if isinstance(size, int) else size[0]
            if crop is None:
                return None
            ch, cw = crop.size if isinstance(crop.size, (list, tuple)) else (crop.size, crop.size)
            return PreprocessSpec((ch, cw), "shortest", int(short), interp, "floor", True, "round", mean, std, "pil")
        h, w = size
        if crop is not None:
            ch, cw = crop.size if isinstance(crop.size, (list, tuple)) else (crop.size, crop.size)
            if (ch, cw) != (h, w):
                return None
        return PreprocessSpec((h, w), "squash", 0, interp, "floor", False, "round", mean, std, "pil")

    def encode_pixel_tensor(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)
