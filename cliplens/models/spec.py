"""Model specs: one string names any CLIP, parsed into a `ModelSpec`.

    openclip:ViT-L-14/openai        open_clip architecture + pretrained tag
    openclip:ViT-B-32/random        same architecture, randomly initialised (benchmarks, tests)
    hf-hub:laion/CLIP-ViT-H-14-laion2B-s32B-b79K   an open_clip model on the Hugging Face hub
    hf:openai/clip-vit-large-patch14 a transformers CLIP/SigLIP (hub id or local folder)
    onnx:path/to/dir                 ONNX image/text graphs + tokenizer/preprocessor files
    sd15 | sd2 | sdxl                the CLIP each Stable Diffusion generation was trained with
    toyclip | toyclip-hf | toyclip-onnx   the bundled toy model through each backend
    ./some/folder                    recognised by its contents
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..assets import toy_model_dir
from ..errors import ModelSpecError

BACKENDS = ("openclip", "hf", "onnx")


@dataclass(frozen=True)
class Preset:
    """A named model choice with the reason it exists (shown by `cliplens models`)."""

    name: str
    spec: str
    description: str
    #: further encoders of the same family (SDXL conditions on two CLIPs)
    secondary: tuple[str, ...] = ()


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset("sd15", "openclip:ViT-L-14/openai", "Stable Diffusion 1.x text encoder (OpenAI ViT-L/14)"),
        Preset("sd2", "openclip:ViT-H-14/laion2b_s32b_b79k", "Stable Diffusion 2.x text encoder (OpenCLIP ViT-H/14)"),
        Preset(
            "sdxl",
            "openclip:ViT-bigG-14/laion2b_s39b_b160k",
            "SDXL's main text encoder (OpenCLIP ViT-bigG/14); its second encoder is ViT-L/14",
            secondary=("openclip:ViT-L-14/openai",),
        ),
        Preset("toyclip", f"openclip:{toy_model_dir('toyclip') / 'openclip'}", "bundled toy CLIP (toy world only), open_clip format"),
        Preset("toyclip-hf", f"hf:{toy_model_dir('toyclip') / 'hf'}", "bundled toy CLIP, transformers format"),
        Preset("toyclip-onnx", f"onnx:{toy_model_dir('toyclip') / 'onnx'}", "bundled toy CLIP, ONNX format"),
    ]
}

#: the default model: what a user with a network gets
DEFAULT_MODEL = "sd15"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec. `name` is an architecture, hub id or path depending on `backend`."""

    backend: str
    name: str
    pretrained: str | None = None
    raw: str = ""
    preset: str | None = None
    secondary: tuple[str, ...] = field(default=())

    @property
    def is_local(self) -> bool:
        return Path(self.name).exists()

    def __str__(self) -> str:
        return self.raw or f"{self.backend}:{self.name}" + (f"/{self.pretrained}" if self.pretrained else "")


def detect_backend(path: Path) -> str:
    """Tell a model folder's format from its files (transformers, open_clip or ONNX)."""
    if path.is_file():
        if path.suffix == ".onnx":
            return "onnx"
        raise ModelSpecError(f"{path} is a file; give the folder that holds the model files")
    files = {p.name for p in path.iterdir()}
    if any(f.endswith(".onnx") for f in files):
        return "onnx"
    if "open_clip_config.json" in files:
        return "openclip"
    if "config.json" in files:
        return "hf"
    for f in files:
        if f.endswith(".json"):
            try:
                cfg = json.loads((path / f).read_text())
            except (OSError, ValueError):
                continue
            if isinstance(cfg, dict) and "vision_cfg" in cfg and "text_cfg" in cfg:
                return "openclip"
    raise ModelSpecError(
        f"{path} holds no model cliplens recognises: expected a transformers folder (config.json), "
        "an open_clip config + checkpoint, or ONNX graphs (*.onnx)"
    )


def parse_spec(spec: str | ModelSpec) -> ModelSpec:
    """Parse a model spec string (see the module docstring for the forms).

    >>> parse_spec("openclip:ViT-L-14/openai")
    ModelSpec(backend='openclip', name='ViT-L-14', pretrained='openai', raw='openclip:ViT-L-14/openai', preset=None, secondary=())
    >>> parse_spec("sd15").preset
    'sd15'
    """
    if isinstance(spec, ModelSpec):
        return spec
    raw = (spec or "").strip()
    if not raw:
        raise ModelSpecError("empty model spec; try the model 'sd15', or 'toyclip' to run offline")
    if raw in PRESETS:
        p = PRESETS[raw]
        inner = parse_spec(p.spec)
        return ModelSpec(inner.backend, inner.name, inner.pretrained, raw=raw, preset=raw, secondary=p.secondary)
    if raw.startswith("hf-hub:"):
        return ModelSpec("openclip", raw, None, raw=raw)
    backend, sep, rest = raw.partition(":")
    if sep and backend in BACKENDS and not (len(backend) == 1 and os.name == "nt"):
        if not rest:
            raise ModelSpecError(f"model spec {raw!r} names the backend but no model")
        if backend == "openclip":
            if rest.startswith("hf-hub:") or Path(rest).expanduser().exists():
                return ModelSpec("openclip", str(Path(rest).expanduser()) if not rest.startswith("hf-hub:") else rest, None, raw=raw)
            arch, _, tag = rest.partition("/")
            return ModelSpec("openclip", arch, tag or None, raw=raw)
        if backend == "hf":
            local = Path(rest).expanduser()
            return ModelSpec("hf", str(local) if local.exists() else rest, None, raw=raw)
        return ModelSpec("onnx", str(Path(rest).expanduser()), None, raw=raw)
    local = Path(raw).expanduser()
    if local.exists():
        return ModelSpec(detect_backend(local), str(local), None, raw=raw)
    if sep and backend not in BACKENDS and "/" not in backend:
        raise ModelSpecError(f"unknown backend {backend!r} in {raw!r}; use one of {', '.join(BACKENDS)} or a preset")
    if "/" in raw and not raw.startswith((".", "/", "~")):
        # "openai/clip-vit-base-patch32": a hub id, which transformers serves
        return ModelSpec("hf", raw, None, raw=raw)
    raise ModelSpecError(
        f"unknown model {raw!r}: not a preset ({', '.join(PRESETS)}), a backend spec "
        "(openclip:ARCH/TAG, hf:ID, onnx:DIR) or an existing folder"
    )


def availability(spec: str | ModelSpec) -> str:
    """Whether a model can be used without a download: 'bundled', 'local', 'cached' or 'download'.

    'cached' means its weights are already in the Hugging Face cache (open_clip tags that live on
    the hub); 'download' means the first use needs the network.

    >>> availability("toyclip")
    'bundled'
    """
    from ..assets import assets_dir

    parsed = parse_spec(spec)
    if Path(parsed.name).exists():
        bundled = assets_dir().resolve()
        return "bundled" if Path(parsed.name).resolve().is_relative_to(bundled) else "local"
    if parsed.backend == "openclip" and parsed.pretrained:
        import open_clip

        cfg = open_clip.get_pretrained_cfg(parsed.name, parsed.pretrained) or {}
        repo = (cfg.get("hf_hub") or "").rstrip("/")
        if repo:
            from huggingface_hub import try_to_load_from_cache

            for fname in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
                if isinstance(try_to_load_from_cache(repo, fname), str):
                    return "cached"
    return "download"
