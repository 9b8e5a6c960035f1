"""The node classes: each parses ComfyUI inputs, makes ONE cliplens library call, renders outputs.

ComfyUI's contract: a class with `INPUT_TYPES()` (a classmethod returning {"required": {...},
"optional": {...}}), `RETURN_TYPES`, `RETURN_NAMES`, `FUNCTION` (the method to call, with the
inputs as keyword arguments, returning a tuple) and `CATEGORY`. IMAGE values are float tensors
[batch, height, width, channels] in 0..1.

Models come from `cliplens.load_encoder`, which keeps one copy per process, so every node that
names the same model shares it. With `keep_loaded` off a node gives the model back after its run
(useful on small GPUs, where ComfyUI needs the memory for the diffusion model). On a GPU, before
a first load, ComfyUI is asked to free memory through `comfy.model_management` when it is there.
A `CliplensError` becomes a `CliplensNodeError` carrying just its one-line message, which ComfyUI
shows on the node.
"""
from __future__ import annotations

import functools
from typing import Any

from ... import defaults as D
from ...errors import CliplensError, InvalidInputError

CATEGORY = "cliplens"
#: the encoder fields a composed prompt can fill, in output order (stock nodes' input names)
COMPOSE_OUTPUTS = ("clip_l", "clip_g", "t5xxl", "text_l", "text_g", "text", "negative")
#: bytes asked of ComfyUI before a first model load on a GPU (a ViT-L/14 in fp16 with room to run)
_FREE_BYTES = 2 * 1024**3


class CliplensNodeError(RuntimeError):
    """What a node shows when cliplens refuses an input: one line, no traceback of ours."""


def _node_errors(fn):
    """Turn the library's user-facing errors into one clear node error."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CliplensError as exc:
            raise CliplensNodeError(f"cliplens: {exc}") from None

    return wrapper


# ------------------------------------------------------------------------------ shared plumbing
def to_pil_images(image: Any) -> list:
    """ComfyUI IMAGE [B, H, W, C] floats in 0..1 -> RGB PIL images (255*x rounded, so 8-bit pixels round-trip exactly).

    >>> import torch
    >>> [im.size for im in to_pil_images(torch.zeros(2, 8, 16, 3))]
    [(16, 8), (16, 8)]
    """
    import numpy as np
    from PIL import Image

    arr = image.detach().cpu().float().numpy() if hasattr(image, "detach") else np.asarray(image, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[0] == 0 or arr.shape[-1] not in (1, 3, 4):
        raise InvalidInputError(f"image must be a ComfyUI IMAGE [batch, height, width, channels]; got shape "
                                f"{tuple(arr.shape)}")
    u8 = np.clip(np.rint(255.0 * arr), 0, 255).astype(np.uint8)
    if u8.shape[-1] == 1:
        u8 = np.repeat(u8, 3, axis=-1)
    return [Image.fromarray(np.ascontiguousarray(x[..., :3]), "RGB") for x in u8]


def _ask_comfyui_for_memory() -> None:
    """Inside ComfyUI on a GPU: let it unload what it can before we load a model (best effort)."""
    try:
        import comfy.model_management as mm  # type: ignore[import-not-found]
    except ImportError:
        return
    try:
        mm.free_memory(_FREE_BYTES, mm.get_torch_device())
    except Exception:  # an older/newer ComfyUI without this call: loading still works
        pass


def _encoder(model: str):
    from ...models import load_encoder

    _ask_comfyui_for_memory()
    return load_encoder(model.strip() or D.MODEL)


def _give_back(keep_loaded: bool) -> None:
    """`keep_loaded=False`: forget loaded models so their memory returns to ComfyUI."""
    if keep_loaded:
        return
    from ...models import clear_cache

    clear_cache()
    _INTERROGATORS.clear()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def _model_input(default: str = D.MODEL) -> tuple:
    return ("STRING", {"default": default, "multiline": False,
                       "tooltip": "sd15 | sd2 | sdxl | toyclip | openclip:ARCH/TAG | hf:ID | a local folder"})


_KEEP = ("BOOLEAN", {"default": True, "tooltip": "keep the model in memory for the next run"})


# ------------------------------------------------------------------------------ compose
class ComposePrompt:
    """A structured prompt (JSON / dict / YAML / keywords) -> the text each encoder of `target` wants."""

    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("STRING",) * len(COMPOSE_OUTPUTS) + ("STRING",)
    RETURN_NAMES = COMPOSE_OUTPUTS + ("report",)
    DESCRIPTION = ("Compose a structured prompt into CLIP keywords and a T5 sentence; wire clip_l/t5xxl into "
                   "CLIPTextEncodeFlux, text_g/text_l into CLIPTextEncodeSDXL. Fields a target does not use are ''.")

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {
            "prompt": ("STRING", {"multiline": True, "default": '{"subject": "a red fox", "style": "watercolor"}'}),
            "target": (list(D.COMPOSE_TARGET_CHOICES), {"default": D.COMPOSE_TARGET}),
        }, "optional": {
            "syntax": (list(D.COMPOSE_SYNTAX_CHOICES), {"default": D.COMPOSE_SYNTAX}),
        }}

    @_node_errors
    def run(self, prompt: str, target: str, syntax: str = D.COMPOSE_SYNTAX) -> tuple:
        from ...compose import compose

        result = compose(prompt, target, syntax=syntax)
        fields = dict(result.fields)
        fields["negative"] = result.negative
        return tuple(fields.get(name, "") for name in COMPOSE_OUTPUTS) + (compose_report(result),)


def compose_report(result) -> str:
    """Token counts per encoder, then what was left out and every warning, one per line."""
    lines = []
    for out in result.outputs():
        budget = f"/{out['budget']}" if out.get("budget") else ""
        est = " (estimate)" if out.get("estimated") else ""
        lines.append(f"{out['name']}: {out['tokens']}{budget} tokens{est}")
    for name, words in result.dropped.items():
        if words:
            lines.append(f"left out of {name}: {', '.join(words)}")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ lint
class LintPrompt:
    """A prompt -> what a careful prompt writer would fix (duplicates, syntax, over-long text)."""

    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("STRING", "BOOLEAN")
    RETURN_NAMES = ("findings", "ok")

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"prompt": ("STRING", {"multiline": True, "default": ""})}}

    @_node_errors
    def run(self, prompt: str) -> tuple:
        from ...compose import lint_prompt

        report = lint_prompt(prompt)
        lines = [f"{i.severity}: {i.message}" for i in report.issues]
        return ("\n".join(lines) or "no findings", not report.failed)


# ------------------------------------------------------------------------------ interrogate
_INTERROGATORS: dict[tuple, Any] = {}


def _interrogator(model: str, caption_model: str, low_vram: bool):
    from ...interrogate import Interrogator

    key = (model, caption_model, low_vram)
    it = _INTERROGATORS.get(key)
    if it is None:
        _ask_comfyui_for_memory()
        it = Interrogator(model.strip() or D.MODEL, caption_model=caption_model.strip() or "auto", low_vram=low_vram)
        _INTERROGATORS[key] = it
    return it


class Interrogate:
    """IMAGE -> a prompt per image (a list output: downstream nodes run once per image)."""

    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("prompt", "report")
    OUTPUT_IS_LIST = (True, False)

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {
            "image": ("IMAGE",),
            "mode": (list(D.INTERROGATE_MODES), {"default": D.INTERROGATE_MODE}),
            "model": _model_input(),
        }, "optional": {
            "caption_model": ("STRING", {"default": "auto", "tooltip": "auto | blip-large | git-large-coco | "
                                                                       "toycaption | none | a folder"}),
            "low_vram": ("BOOLEAN", {"default": False}),
            "keep_loaded": _KEEP,
        }}

    @_node_errors
    def run(self, image, mode: str, model: str, caption_model: str = "auto", low_vram: bool = False,
            keep_loaded: bool = True) -> tuple:
        from ...interrogate import interrogate

        batch = interrogate(_interrogator(model, caption_model, low_vram), to_pil_images(image), mode=mode,
                            on_error="raise")
        prompts = [r.prompt for r in batch.results]
        report = "\n".join(f"[{i}] similarity {r.similarity:.4f}: {r.prompt}" for i, r in enumerate(batch.results))
        _give_back(keep_loaded)
        return (prompts, report)


# ------------------------------------------------------------------------------ score / best-of-N
class ScoreBestOfN:
    """A batch of generations + their prompt -> CLIP scores, the best image(s) and the batch best first."""

    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("IMAGE", "IMAGE", "FLOAT", "STRING")
    RETURN_NAMES = ("best", "ranked", "best_clip_s", "scores")

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {
            "images": ("IMAGE",),
            "prompt": ("STRING", {"multiline": True, "default": ""}),
            "model": _model_input(),
            "keep": ("INT", {"default": 1, "min": 1, "max": 4096, "tooltip": "how many best images go to 'best'"}),
        }, "optional": {"keep_loaded": _KEEP}}

    @_node_errors
    def run(self, images, prompt: str, model: str, keep: int = 1, keep_loaded: bool = True) -> tuple:
        import torch

        from ...judge import rank_images

        ranking = rank_images(_encoder(model), prompt, to_pil_images(images), top_k=None)
        order = [r.index for r in ranking.items]
        batch = images if images.ndim == 4 else images[None]
        ranked = batch[torch.as_tensor(order, dtype=torch.long)]
        lines = [f"#{r.rank} image {r.index}: CLIP-S {r.clip_s:.4f} (cosine {r.cosine:.4f})" for r in ranking.items]
        _give_back(keep_loaded)
        return (ranked[: max(1, int(keep))], ranked, float(ranking.items[0].clip_s), "\n".join(lines))


# ------------------------------------------------------------------------------ keyword feedback
class KeywordFeedback:
    """IMAGE + its prompt -> which words of the prompt the image shows (one report per image)."""

    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("report",)

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {
            "image": ("IMAGE",),
            "prompt": ("STRING", {"multiline": True, "default": ""}),
            "model": _model_input(),
        }, "optional": {"keep_loaded": _KEEP}}

    @_node_errors
    def run(self, image, prompt: str, model: str, keep_loaded: bool = True) -> tuple:
        from ...judge import keyword_feedback

        enc = _encoder(model)
        reports = []
        for i, pil in enumerate(to_pil_images(image)):
            fb = keyword_feedback(enc, pil, prompt)
            reports.append(f"image {i}:\n" + feedback_report(fb))
        _give_back(keep_loaded)
        return ("\n\n".join(reports),)


def feedback_report(fb) -> str:
    """The prompt's score, then one line per phrase (its verdict, most present first)."""
    lines = [f"  prompt CLIP-S {fb.prompt_clip_s:.4f} (cosine {fb.prompt_cosine:.4f})"]
    for k in fb.ranked():
        lines.append(f"  {k.verdict}: {k.phrase} (presence {k.presence:+.4f}, contribution {k.contribution:+.4f})")
    for u in fb.unrequested:
        lines.append(f"  shows but not asked for: {u.phrase} (cosine {u.cosine:.4f})")
    return "\n".join(lines)


NODE_CLASS_MAPPINGS = {
    "CliplensComposePrompt": ComposePrompt,
    "CliplensInterrogate": Interrogate,
    "CliplensScoreBestOfN": ScoreBestOfN,
    "CliplensKeywordFeedback": KeywordFeedback,
    "CliplensLintPrompt": LintPrompt,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "CliplensComposePrompt": "cliplens Compose Prompt",
    "CliplensInterrogate": "cliplens Interrogate",
    "CliplensScoreBestOfN": "cliplens Score / Best-of-N",
    "CliplensKeywordFeedback": "cliplens Keyword Feedback",
    "CliplensLintPrompt": "cliplens Lint Prompt",
}
