"""CLIP guidance: make an image from text by gradient ascent on CLIP similarity.

    >>> from cliplens import load_encoder
    >>> from cliplens.guide import generate, save_png, save_svg
    >>> res = generate(load_encoder("toyclip"), "a large red circle on a white background, flat",
    ...                seed=0)                                           # doctest: +SKIP
    >>> save_png(res, "circle.png"); save_svg(res, "circle.svg")         # doctest: +SKIP

`generate` is the one call (CLI and HTTP route use it). See `loop` for the two modes (``full``
and the ``naive`` baseline), `params` and `shapes` for the image parametrisations (``pixels``,
``fourier``, ``pyramid``, ``shapes``), `augment` for cutouts, `losses` for the priors, `prompts`
for the weight syntax ``(term:1.3)``.
"""
from __future__ import annotations

from .augment import CutoutConfig, make_cutouts
from .loop import MODES, GuideConfig, GuideResult, StepInfo, generate, image_to_tensor, parse_size, to_pil
from .output import png_bytes, read_png_metadata, save_png, save_svg
from .params import PARAMS, canonical_param, make_param
from .prompts import WeightedPrompt, format_prompts, parse_prompts

__all__ = ["generate", "GuideConfig", "GuideResult", "StepInfo", "MODES", "PARAMS", "canonical_param",
           "parse_prompts", "format_prompts", "WeightedPrompt", "parse_size", "save_png", "save_svg",
           "read_png_metadata", "png_bytes", "make_param", "make_cutouts", "CutoutConfig", "to_pil",
           "image_to_tensor"]
