"""Image -> prompt: captioners, label tables and the modes of the CLIP Interrogator, made fast.

One library call, used by the CLI, the HTTP API and folder runs:

    >>> from cliplens.interrogate import interrogate
    >>> r = interrogate("toyclip", "example.png", mode="fast")    # doctest: +SKIP
    >>> r.prompt, r.similarity                                                    # doctest: +SKIP

Names load lazily (this package imports torch only when something from it is used).
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "interrogate": ".api", "InterrogateResults": ".api", "get_interrogator": ".api",
    "CAPTION_MODELS": ".captioners", "DEFAULT_CAPTION_MODEL": ".captioners", "Captioner": ".captioners",
    "load_captioner": ".captioners", "resolve_caption_model": ".captioners",
    "MODES": ".interrogator", "InterrogateResult": ".interrogator", "Interrogator": ".interrogator",
    "Part": ".interrogator",
    "content_words": ".quality", "repeated_words": ".quality", "PhraseGuard": ".quality",
    "PrefixScorer": ".prefix",
    "MultiTable": ".scoring", "Scorer": ".scoring",
    "VocabSet": ".vocabsets", "builtin_vocab": ".vocabsets", "ci_vocab": ".vocabsets", "resolve_vocab": ".vocabsets",
    "user_vocab": ".vocabsets", "default_vocab": ".vocabsets",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value
