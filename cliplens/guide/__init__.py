"""CLIP guidance: make an image from text by gradient ascent on CLIP similarity.

    >>> from cliplens import load_encoder
    >>> from cliplens.guide import generate, save_png
    >>> res = generate("a large red circle on a white background, flat", load_encoder("toyclip"),
    ...                size=256, steps=200, seed=0)                       # doctest: +SKIP
    >>> save_png(res, "circle.png")                                      # doctest: +SKIP

See `loop` for the two modes (``full`` and the ``naive`` baseline), `params` for the image
parametrisations, `augment` for cutouts, `losses` for the priors, `prompts` for the syntax.
"""
from __future__ import annotations

from .augment import CutoutConfig, make_cutouts
from .loop import MODES, GuideConfig, GuideResult, StepInfo, generate, image_to_tensor, parse_size, to_pil
from .output import png_bytes, read_png_metadata, save_png
from .params import PARAMS, make_param
from .prompts import WeightedPrompt, format_prompts, parse_prompts

__all__ = ["generate", "GuideConfig", "GuideResult", "StepInfo", "MODES", "PARAMS", "parse_prompts",
           "format_prompts", "WeightedPrompt", "parse_size", "save_png", "read_png_metadata", "png_bytes",
           "make_param", "make_cutouts", "CutoutConfig", "to_pil", "image_to_tensor"]
