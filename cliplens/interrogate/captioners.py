"""Caption models (image -> one sentence) through transformers: GIT, BLIP, BLIP-2, Florence-2.

A captioner is named by a short name (``blip-large``, ``git-large-coco``, ``toycaption``...),
a hub id or a local folder; its family is read from the folder's ``config.json`` (model_type),
so any GIT/BLIP/BLIP-2/Florence-2 checkpoint loads through the same code. ``none`` means no
captioner (the interrogator ranks a subject vocabulary instead).

    >>> cap = load_captioner("toycaption", device="cpu")
    >>> cap.caption([load_image("example.png")])    # doctest: +SKIP
    ['a large red star on the left on a white background']
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from ..assets import toy_model_dir
from ..errors import InvalidInputError, ModelNotFoundError
from ..models.device import resolve_device
from ..models.encoder import file_signature
from ..settings import is_offline

#: short names -> hub ids (or bundled folders); any other hub id or folder also works
CAPTION_MODELS: dict[str, str] = {
    "toycaption": "<bundled>",
    "blip-base": "Salesforce/blip-image-captioning-base",
    "blip-large": "Salesforce/blip-image-captioning-large",
    "blip2-2.7b": "Salesforce/blip2-opt-2.7b",
    "blip2-flan-t5-xl": "Salesforce/blip2-flan-t5-xl",
    "git-base-coco": "microsoft/git-base-coco",
    "git-large-coco": "microsoft/git-large-coco",
    "florence-2-base": "florence-community/Florence-2-base",
    "florence-2-large": "florence-community/Florence-2-large",
}

#: what a real (non-toy) run captions with when nothing is named
DEFAULT_CAPTION_MODEL = "blip-large"

# BLIP trained on LAION alt-texts sometimes opens with these non-words
_BLIP_JUNK = re.compile(r"^(?:arafed|araffe|arafe|arrafed|araf)\s+", re.IGNORECASE)


def resolve_caption_model(name: str | Path) -> str:
    """Short name, hub id or folder -> what `from_pretrained` should load (a folder path or hub id)."""
    raw = str(name).strip()
    if not raw:
        raise InvalidInputError("empty caption model name; use e.g. blip-large, toycaption, a folder, or none")
    if raw == "toycaption":
        return str(toy_model_dir("toycaption") / "hf")
    if raw in CAPTION_MODELS:
        return CAPTION_MODELS[raw]
    path = Path(raw).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"caption model folder {path} has no config.json (expected a transformers folder)")
        return str(path)
    if "/" in raw and not raw.startswith((".", "/", "~")):
        return raw
    raise InvalidInputError(f"unknown caption model {raw!r}: use one of {', '.join(CAPTION_MODELS)}, "
                            "a hub id (org/name), a local folder, or none")


class Captioner:
    """A loaded caption model: `caption(images) -> list[str]`, batched, greedy by default."""

    def __init__(self, name: str | Path, device: str | torch.device | None = "auto", dtype: torch.dtype | None = None,
                 max_new_tokens: int = 32, num_beams: int = 1, task: str = "<CAPTION>"):
        from transformers import AutoConfig, AutoProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.name = str(name)
        self.source = resolve_caption_model(name)
        self.device = resolve_device(device) if not isinstance(device, torch.device) else device
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.task = task
        local = Path(self.source).exists()
        lfo = local or is_offline()
        try:
            cfg = AutoConfig.from_pretrained(self.source, local_files_only=lfo)
            self.family = cfg.model_type
            model_cls = self._model_class(self.family)
            if dtype is None:
                dtype = torch.float16 if self.device.type == "cuda" and self.family != "git" else torch.float32
            self.dtype = dtype
            self.model = model_cls.from_pretrained(self.source, local_files_only=lfo, dtype=dtype).eval()
            self.processor = AutoProcessor.from_pretrained(self.source, local_files_only=lfo)
        except (OSError, ValueError) as exc:
            if isinstance(exc, ValueError) and "Unrecognized" not in str(exc) and "model_type" not in str(exc):
                raise
            where = self.source if local else "the Hugging Face cache (offline)" if lfo else self.source
            raise ModelNotFoundError(
                f"caption model {self.name!r} could not be loaded from {where}: {str(exc).splitlines()[0]}. "
                "Run once with network access, pass a local folder, use caption_model='toycaption' with the toy "
                "models, caption_model='none' (CLIP only), or give the caption yourself (caption=TEXT)."
            ) from None
        self.model.to(self.device)
        self._fingerprint: str | None = None

    @staticmethod
    def _model_class(family: str):
        import transformers as tf

        table = {"git": "GitForCausalLM", "blip": "BlipForConditionalGeneration",
                 "blip-2": "Blip2ForConditionalGeneration", "florence2": "Florence2ForConditionalGeneration"}
        if family not in table:
            raise InvalidInputError(f"caption model family {family!r} is not supported; use GIT, BLIP, BLIP-2 or Florence-2")
        cls = getattr(tf, table[family], None)
        if cls is None:
            raise InvalidInputError(f"the installed transformers has no {table[family]}; upgrade transformers")
        return cls

    @property
    def fingerprint(self) -> str:
        """Identity of the weights + generation settings (the caption cache key)."""
        if self._fingerprint is None:
            h = hashlib.sha256(f"{self.source}|{self.family}|{self.max_new_tokens}|{self.num_beams}|{self.task}".encode())
            path = Path(self.source)
            if path.is_dir():
                for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
                    h.update(file_signature(f).encode())
                if (path / "config.json").is_file():
                    h.update((path / "config.json").read_bytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def to(self, device: str | torch.device) -> "Captioner":
        """Move the model (used by low-VRAM runs to park it on the CPU)."""
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    def _inputs(self, images: Sequence[Image.Image]) -> dict:
        if self.family == "florence2":
            inp = self.processor(images=list(images), text=[self.task] * len(images), return_tensors="pt")
        else:
            inp = self.processor(images=list(images), return_tensors="pt")
        out = {}
        for k, v in inp.items():
            if isinstance(v, torch.Tensor):
                v = v.to(self.device)
                if v.is_floating_point():
                    v = v.to(self.dtype)
                out[k] = v
        return out

    @torch.inference_mode()
    def caption(self, images: Sequence[Image.Image], batch_size: int = 8) -> list[str]:
        """One caption per image (RGB PIL images), cleaned of special tokens and known junk words."""
        out: list[str] = []
        for s in range(0, len(images), batch_size):
            chunk = list(images[s : s + batch_size])
            inp = self._inputs(chunk)
            gen = self.model.generate(**inp, max_new_tokens=self.max_new_tokens, num_beams=self.num_beams,
                                      do_sample=False)
            if self.family in ("blip-2", "florence2") and "input_ids" in inp and gen.shape[1] > inp["input_ids"].shape[1] \
                    and torch.equal(gen[:, : inp["input_ids"].shape[1]], inp["input_ids"]):
                gen = gen[:, inp["input_ids"].shape[1]:]  # decoder-only LMs echo the prompt
            texts = self.processor.batch_decode(gen, skip_special_tokens=True)
            out.extend(clean_caption(t) for t in texts)
        return out


def clean_caption(text: str) -> str:
    """Tidy a generated caption: trim, drop BLIP's 'arafed'-style openers, collapse spaces, no final period.

    >>> clean_caption("  arafed man riding a horse . ")
    'man riding a horse'
    """
    t = " ".join(text.replace("</s>", " ").replace("<pad>", " ").split())
    t = _BLIP_JUNK.sub("", t).strip()
    return t.rstrip(" .")


def load_captioner(name: str | Path | None, device: str | torch.device | None = "auto", **kwargs) -> Captioner | None:
    """A `Captioner`, or None for ``none``/empty (CLIP-only interrogation)."""
    if name is None or str(name).strip().lower() in ("none", ""):
        return None
    return Captioner(name, device=device, **kwargs)


def captioner_info(c: Captioner | None) -> dict:
    """JSON-able description for reports."""
    if c is None:
        return {"name": "none"}
    return {"name": c.name, "family": c.family, "source": c.source, "fingerprint": c.fingerprint}
