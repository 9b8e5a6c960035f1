"""Weighted multi-prompt syntax: A1111's ``(term:1.3)``, as everywhere in cliplens.

A prompt is text; each ``(text:weight)`` group in it becomes its own target with that weight,
and the rest of the text is one target of weight 1. A negative weight pushes the image *away*
from that text. ``|`` also separates targets. So these are the same request:

    "a lighthouse, (fog:0.5), (blurry:-0.5)"
    "a lighthouse | (fog:0.5) | (blurry:-0.5)"

Each target is embedded on its own (CLIP guidance scores the image against each text), which
is why a weighted group is split out rather than re-weighted inside one embedding. The older
guide form ``text:weight`` at the end of a ``|`` part is still read, with a DeprecationWarning.
Colons inside a text are kept ("poster, ratio 16:9" stays whole).

    >>> parse_prompts("a lighthouse, (fog:0.5), (blurry:-0.5)")
    [WeightedPrompt(text='a lighthouse', weight=1.0), WeightedPrompt(text='fog', weight=0.5), WeightedPrompt(text='blurry', weight=-0.5)]
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInputError
from ..text.phrases import format_weight, parse_weights

@dataclass(frozen=True)
class WeightedPrompt:
    """One text target and how strongly (and in which direction) it pulls the image."""

    text: str
    weight: float = 1.0


def _clean(text: str) -> str:
    """Trim spaces and the commas left behind when weighted groups are taken out."""
    text = re.sub(r"\s*,\s*(,\s*)+", ", ", text)
    return text.strip().strip(",").strip()


def _parse_part(part: str, source: str) -> list[WeightedPrompt]:
    """One ``|`` part: its unweighted text is one target, each weighted group another."""
    pieces = parse_weights(part, legacy="guide")  # the one weight syntax (cliplens.text.phrases)
    base = _clean("".join(p.text if p.weight == 1.0 else "," for p in pieces))
    out = [_checked(base, 1.0, source)] if base else []
    out += [_checked(p.text, p.weight, source) for p in pieces if p.weight != 1.0 and p.text.strip()]
    if not out:
        _checked("", 1.0, source)  # raises: an empty part
    return out


def _checked(text: str, weight: float, source: str) -> WeightedPrompt:
    text = text.strip()
    if not text:
        raise InvalidInputError(f"empty prompt in {source!r}: write text, '(text:weight)' groups, or parts "
                                "separated by '|'")
    if not math.isfinite(weight):
        raise InvalidInputError(f"weight of {text!r} is not a finite number")
    return WeightedPrompt(text, weight)


def parse_prompts(prompts: str | Sequence[str | WeightedPrompt | tuple[str, float]]) -> list[WeightedPrompt]:
    """Parse a prompt string (or a list of strings / ``(text, weight)`` pairs) into weighted prompts.

    Raises `InvalidInputError` for an empty prompt, an empty ``|`` part, or when no prompt has a
    positive weight (there would be nothing to move towards).

    >>> [p.weight for p in parse_prompts(["a red star", ("noise", -1)])]
    [1.0, -1.0]
    """
    if isinstance(prompts, str):
        if not prompts.strip():
            raise InvalidInputError("empty prompt: say what the image should show, e.g. 'a red circle'")
        items: list[WeightedPrompt] = [w for p in prompts.split("|") for w in _parse_part(p, prompts)]
    else:
        items = []
        for p in prompts:
            if isinstance(p, WeightedPrompt):
                items.append(_checked(p.text, float(p.weight), p.text))
            elif isinstance(p, tuple) and len(p) == 2:
                try:
                    weight = float(p[1])
                except (TypeError, ValueError):
                    raise InvalidInputError(f"weight of {p[0]!r} must be a number, got {p[1]!r}") from None
                items.append(_checked(str(p[0]), weight, str(p[0])))
            elif isinstance(p, str):
                items.extend(parse_prompts(p))
            else:
                raise InvalidInputError(f"a prompt must be a string or (text, weight), got {type(p).__name__}")
        if not items:
            raise InvalidInputError("no prompts given: say what the image should show, e.g. 'a red circle'")
    items = [p for p in items if p.weight != 0.0]
    if not any(p.weight > 0 for p in items):
        raise InvalidInputError("at least one prompt needs a positive weight (negative prompts only say what to avoid)")
    return items


def format_prompts(prompts: Sequence[WeightedPrompt]) -> str:
    """The canonical string form, so a result's metadata can be parsed back by `parse_prompts`.

    >>> format_prompts(parse_prompts("fog, (blurry:-0.5)"))
    'fog | (blurry:-0.5)'
    """
    parts = []
    for p in prompts:
        plain = p.weight == 1.0 and not any(c in p.text for c in "():|[]\\")
        parts.append(p.text if plain else f"({p.text}:{p.weight:g})" if p.weight == 1.0 else format_weight(p.text, p.weight))
    return " | ".join(parts)
