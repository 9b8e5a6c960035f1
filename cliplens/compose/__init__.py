"""Prompt composer: structured prompts -> a sentence for T5 and keywords for CLIP, with real token counts.

    >>> from cliplens.compose import compose, lint_prompt
    >>> r = compose('{"Character": "young woman", "style": "film photo"}', target="flux")
    >>> r.fields["clip_l"], r.fields["t5xxl"]
    ('young woman, film photo', 'There is a young woman. This is a film photo.')

Modules: `parse` (JSON / dict literal / YAML / text), `slots` (keys -> canonical slots),
`sentence` (T5 text), `keywords` (CLIP text), `tokens` (real tokenizers), `compose` (targets and
output formats), `lint`, `rewrite` (optional local LLM polish).
"""
from __future__ import annotations

from .compose import TARGETS, ComposeResult, Target, compose, compose_json
from .keywords import KeywordResult, extract_keywords, phrase_keywords
from .lint import LintIssue, LintReport, lint_prompt
from .parse import parse_prompt
from .rewrite import rewrite_sentences
from .sentence import realise
from .slots import SLOTS, Structured, structure
from .tokens import ClipTokens, clip_tokens, t5_tokens

__all__ = ["compose", "compose_json", "ComposeResult", "Target", "TARGETS", "extract_keywords", "phrase_keywords",
           "KeywordResult", "lint_prompt", "LintReport", "LintIssue", "parse_prompt", "rewrite_sentences", "realise",
           "structure", "Structured", "SLOTS", "clip_tokens", "t5_tokens", "ClipTokens"]
