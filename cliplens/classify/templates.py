"""Prompt templates for zero-shot classification: named sets, or a user's own.

A bare label ("dog") is a poor text for CLIP, which was trained on captions. Averaging the
label's embedding over many caption-like templates ("a photo of a {}.", "a sketch of the {}.")
is what made CLIP's zero-shot ImageNet accuracy: an ensemble of templates.

Named sets:
- ``imagenet80``: the 80 templates OpenAI used for ImageNet (stored as data in
  ``cliplens/classify/data/imagenet_templates.txt``).
- ``imagenet7``: the 7-template subset OpenAI selected from those 80.
- ``short``: 4 plain caption templates (fast, domain-neutral).
- ``photo``: "a photo of a {}." only. ``none``: the label as it is.
- a path to a text file (one template a line, ``{}`` for the label), or a list of strings.

    >>> len(load_templates("imagenet80")), load_templates("photo")
    (80, ['a photo of a {}.'])
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import InvalidInputError

_DATA = Path(__file__).resolve().parent / "data"

IMAGENET7 = ["itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
             "a {} in a video game.", "art of the {}.", "a photo of the small {}."]
SHORT = ["a photo of a {}.", "a picture of a {}.", "an image of a {}.", "a drawing of a {}."]
TEMPLATE_SETS = ("imagenet80", "imagenet7", "short", "photo", "none")


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def imagenet_templates() -> tuple[str, ...]:
    """OpenAI's 80 ImageNet templates, in their published order."""
    return tuple(_lines((_DATA / "imagenet_templates.txt").read_text(encoding="utf-8")))


def _check(templates: list[str], where: str) -> list[str]:
    if not templates:
        raise InvalidInputError(f"templates {where}: no templates found")
    for t in templates:
        if t.count("{}") != 1:
            raise InvalidInputError(f"template {t!r} ({where}) must contain the label placeholder {{}} exactly once")
    return list(dict.fromkeys(templates))


def load_templates(spec: str | os.PathLike | Sequence[str] = "imagenet80") -> list[str]:
    """A template set by name, from a file, or a list; every template holds ``{}`` exactly once."""
    if isinstance(spec, (list, tuple)):
        return _check([str(t) for t in spec], "list")
    s = str(spec)
    if s == "imagenet80":
        return list(imagenet_templates())
    if s == "imagenet7":
        return list(IMAGENET7)
    if s == "short":
        return list(SHORT)
    if s == "photo":
        return ["a photo of a {}."]
    if s == "none":
        return ["{}"]
    p = Path(s).expanduser()
    if p.is_file():
        return _check(_lines(p.read_text(encoding="utf-8")), str(p))
    if "{}" in s:
        return _check([s], "argument")
    raise InvalidInputError(f"unknown templates {s!r}: use {', '.join(TEMPLATE_SETS)}, a file with one template a "
                            "line, or a template containing {}")
