"""Text helpers every capability shares: token windows and prompt phrases (no model, no torch).

    window.py   count / fit / cut / split a text to any encoder's (or tokenizer's) token window
    phrases.py  split and clean phrases; one weight syntax, A1111's ``(term:1.3)``
"""
from __future__ import annotations

from .phrases import (WeightedTerm, clean_phrase, extract_weights, format_weight, parse_term, parse_weights,
                      plain_text, split_keywords, split_phrases, strip_emphasis)
from .window import Fit, TokenWindow, count_tokens, cut_text, fit_text, split_windows, text_budget, window

__all__ = ["Fit", "TokenWindow", "WeightedTerm", "clean_phrase", "count_tokens", "cut_text", "extract_weights",
           "fit_text", "format_weight", "parse_term", "parse_weights", "plain_text", "split_keywords",
           "split_phrases", "split_windows", "strip_emphasis", "text_budget", "window"]
