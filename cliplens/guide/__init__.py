"""CLIP guidance: make an image from text by gradient ascent on CLIP similarity.

    >>> from cliplens import load_encoder
    >>> from cliplens.guide import generate, save_png, save_svg
    >>> res = generate(load_encoder("toyclip"), "a large red circle on a white background, flat",
    ...                seed=0)                                           # doctest: +SKIP
    >>> save_png(res, "circle.png"); save_svg(res, "circle.svg")         # doctest: +SKIP

`generate` is the one call (CLI and HTTP route use it). See `loop` for the two modes (``full``
and the ``naive`` baseline), `params` and `shapes` for the image parametrisations (``pixels``,
``fourier``, ``pyramid``, ``shapes``), `vector` for the shapes' primitives and SVG, `search` for
the scored design search that picks the shapes' picture, `augment` for cutouts, `losses` for the
priors, `prompts` for the weight syntax ``(term:1.3)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (issue 13): `import cliplens.guide` is cheap; each name imports its submodule on first use.
#: public name -> submodule that defines it
_WHERE = {
    "CutoutConfig": ".augment", "make_cutouts": ".augment", "MODES": ".loop", "GuideConfig": ".loop",
    "GuideResult": ".loop", "StepInfo": ".loop", "generate": ".loop", "image_to_tensor": ".loop",
    "parse_size": ".loop", "to_pil": ".loop", "png_bytes": ".output", "read_png_metadata": ".output",
    "save_png": ".output", "save_svg": ".output", "PARAMS": ".params", "canonical_param": ".params",
    "make_param": ".params", "WeightedPrompt": ".prompts", "format_prompts": ".prompts",
    "parse_prompts": ".prompts",
}

__all__ = ["generate", "GuideConfig", "GuideResult", "StepInfo", "MODES", "PARAMS", "canonical_param",
           "parse_prompts", "format_prompts", "WeightedPrompt", "parse_size", "save_png", "save_svg",
           "read_png_metadata", "png_bytes", "make_param", "make_cutouts", "CutoutConfig", "to_pil",
           "image_to_tensor"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .augment import CutoutConfig, make_cutouts  # noqa: F401
    from .loop import MODES, GuideConfig, GuideResult, StepInfo, generate, image_to_tensor, parse_size, to_pil  # noqa: F401
    from .output import png_bytes, read_png_metadata, save_png, save_svg  # noqa: F401
    from .params import PARAMS, canonical_param, make_param  # noqa: F401
    from .prompts import WeightedPrompt, format_prompts, parse_prompts  # noqa: F401


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
