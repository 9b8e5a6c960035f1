"""Image -> prompt: captioners, label tables and the modes of the CLIP Interrogator, made fast.

    >>> from cliplens.interrogate import Interrogator
    >>> it = Interrogator("toyclip", caption_model="toycaption")
    >>> it.interrogate("assets/examples/toyworld.png", mode="fast").prompt    # doctest: +SKIP
"""
from __future__ import annotations

from .captioners import CAPTION_MODELS, DEFAULT_CAPTION_MODEL, Captioner, load_captioner, resolve_caption_model
from .interrogator import MODES, InterrogateResult, Interrogator, Part, content_words
from .prefix import PrefixScorer
from .scoring import MultiTable, Scorer
from .vocabsets import VocabSet, builtin_vocab, ci_vocab, resolve_vocab, user_vocab

__all__ = ["CAPTION_MODELS", "DEFAULT_CAPTION_MODEL", "Captioner", "InterrogateResult", "Interrogator", "MODES",
           "MultiTable", "Part", "PrefixScorer", "Scorer", "VocabSet", "builtin_vocab", "ci_vocab", "content_words",
           "load_captioner", "resolve_caption_model", "resolve_vocab", "user_vocab"]
