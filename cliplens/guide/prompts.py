"""Weighted multi-prompt syntax: ``"a lighthouse:1 | fog:0.5 | blurry:-0.5"`` -> texts and weights.

Prompts are separated by ``|``; each may end in ``:weight`` (a number, default 1). A negative
weight pushes the image *away* from that text. Colons inside a prompt are kept ("poster, ratio
16:9" stays whole): the last ``:number`` is the weight, except a lone ``digit:number`` (a ratio);
write ``"level 3 :0.5"`` to weight a text that ends in a number.

    >>> parse_prompts("a lighthouse:1 | fog:0.5 | blurry:-0.5")
    [WeightedPrompt(text='a lighthouse', weight=1.0), WeightedPrompt(text='fog', weight=0.5), WeightedPrompt(text='blurry', weight=-0.5)]
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInputError

_WEIGHT = re.compile(r"^(?P<text>.*):\s*(?P<w>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$", re.S)


@dataclass(frozen=True)
class WeightedPrompt:
    """One text target and how strongly (and in which direction) it pulls the image."""

    text: str
    weight: float = 1.0


def _parse_one(part: str, source: str) -> WeightedPrompt:
    m = _WEIGHT.match(part)
    if m and m.group("text")[-1:].isdigit() and ":" not in m.group("text"):
        m = None  # "16:9" is a ratio, not text "16" with weight 9 ("16:9:0.5" is weighted)
    text, weight = (m.group("text"), float(m.group("w"))) if m else (part, 1.0)
    return _checked(text, weight, source)


def _checked(text: str, weight: float, source: str) -> WeightedPrompt:
    text = text.strip()
    if not text:
        raise InvalidInputError(f"empty prompt in {source!r}: write 'text:weight' parts separated by '|'")
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
        items: list[WeightedPrompt] = [_parse_one(p, prompts) for p in prompts.split("|")]
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

    >>> format_prompts(parse_prompts("fog | blurry:-0.5"))
    'fog:1 | blurry:-0.5'
    """
    return " | ".join(f"{p.text}:{p.weight:g}" for p in prompts)
