"""Lint a prompt meant for CLIP: code syntax, text past the CLIP window, duplicates, sentence style.

    >>> [i.code for i in lint_prompt('{"subject": "cat"}').issues]
    ['json-syntax']
    >>> lint_prompt("red circle, pixel art").ok
    True
"""
from __future__ import annotations

import re
import ast
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from ..results import Result
from ..text.phrases import plain_text
from .text import has_cjk
from .tokens import ClipTokens, clip_tokens

_STOPWORDS = {"a", "an", "the", "is", "are", "was", "were", "of", "in", "on", "at", "to", "and", "with", "her", "his",
              "their", "she", "he", "they", "it", "its", "this", "that", "there", "while", "who", "which", "be",
              "has", "have", "for", "from", "by", "as", "into"}


@dataclass
class LintIssue:
    """One finding: a stable `code`, a severity, a message a user can act on, and the evidence."""

    code: str
    severity: str
    message: str
    detail: str = ""


@dataclass
class LintReport(Result):
    """All findings for one prompt, with its CLIP token count per BREAK chunk and the window (`limit`)."""

    text: str
    tokens: list[int]
    limit: int
    issues: list[LintIssue] = field(default_factory=list)
    tokenizer: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing was found (info findings included)."""
        return not self.issues

    @property
    def failed(self) -> bool:
        """True when a warning or error was found (what makes `cliplens prompt lint` exit 1)."""
        return any(i.severity in ("error", "warning") for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["ok"] = self.ok
        return d


def _parses_as_code(text: str) -> str:
    """'JSON' / 'Python dict' when `text` is a JSON document or a Python literal, else ''.

    YAML is not tried: ``[blue]`` is a YAML list but, in a prompt, A1111 de-emphasis.
    """
    t = text.strip()
    if t[:1] not in "{[":
        return ""
    try:
        data = json.loads(t)
        return "JSON " if isinstance(data, (dict, list)) else ""
    except ValueError:
        pass
    try:
        data = ast.literal_eval(t)
        return "Python literal " if isinstance(data, (dict, list, tuple)) else ""
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        pass
    return "broken JSON/dict " if t[:1] == "{" else ""


def _syntax_issue(text: str) -> LintIssue | None:
    # A1111/ComfyUI emphasis, (term:1.2), (term) and [term], is prompt syntax, not code: look past it
    rest = plain_text(text)
    found = sorted({c for c in rest if c in '{}[]"`=<>|\\'})
    keyish = re.search(r"""["'][\w ]{1,40}["']\s*:\s*["'{\[]|^\s*\{?\s*[\w ]{1,40}:\s*["'{\[]""", text)
    what = _parses_as_code(text)
    if not found and not keyish and not what:
        return None
    return LintIssue("json-syntax", "error",
                     f"prompt contains {what}code syntax ({''.join(found) or 'key: value pairs'}); encoders read braces, "
                     "quotes and key names as noise. Run `cliplens prompt compose` to turn it into keywords and sentences",
                     "".join(found))


def _duplicates(text: str) -> list[str]:
    terms = [re.sub(r"\s+", " ", t.strip().lower()) for t in re.split(r"[,;\n，、；]|\bBREAK\b", text)]
    seen: dict[str, int] = {}
    for t in terms:
        t = t.strip(" .()")
        t = re.sub(r":\s*[0-9.]+$", "", t)
        if t:
            seen[t] = seen.get(t, 0) + 1
    dups = [t for t, n in seen.items() if n > 1]
    for m in re.finditer(r"\b(\w+)(\s+\1\b)+", text, re.I):
        if m.group(1).lower() not in dups:
            dups.append(m.group(1).lower())
    return dups


def _sentence_style(text: str) -> str | None:
    """Evidence that `text` is prose (long pieces full of function words) rather than keywords."""
    if has_cjk(text):
        return None
    prose = []
    for piece in re.split(r"[,;\n]|(?<=[.!?])\s", text):
        words = re.findall(r"[A-Za-z']+", piece)
        stop = sum(1 for w in words if w.lower() in _STOPWORDS)
        if len(words) >= 8 and stop / len(words) >= 0.3:
            prose.append(" ".join(words[:8]) + ("..." if len(words) > 8 else ""))
    if not prose:
        return None
    return f"{len(prose)} sentence-like piece(s): " + " | ".join(repr(p) for p in prose[:3])


def lint_prompt(text: str, clip: Any = None) -> LintReport:
    """Check a CLIP prompt. `clip`: None (bundled OpenAI CLIP BPE), an `Encoder` or a tokenizer folder.

    Emphasis syntax, ``(term:1.2)``, ``(term)``, ``[term]``, is read as A1111 does and is not counted.

    >>> r = lint_prompt("a cat, [blue], (glasses:1.2)")
    >>> r.ok, r.tokens
    (True, [6])
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("text is empty: give the prompt to lint")
    counter: ClipTokens = clip_tokens(clip)
    budget = counter.budget
    plain = plain_text(text)
    chunks = [c.strip() for c in re.split(r"\bBREAK\b", plain)] if "BREAK" in plain else [plain.strip()]
    tokens = [counter.count(c) for c in chunks]
    report = LintReport(text=text, tokens=tokens, limit=budget, tokenizer=counter.name)
    syn = _syntax_issue(text)
    if syn:
        report.issues.append(syn)
    for n, (chunk, count) in enumerate(zip(chunks, tokens)):
        if count > budget:
            kept, over = counter.cut(chunk, budget)
            where = f" in BREAK chunk {n + 1}" if len(chunks) > 1 else ""
            report.issues.append(LintIssue(
                "clip-too-long", "warning",
                f"{count} CLIP tokens{where}; one window reads {budget}: everything after "
                f"{kept[-40:]!r} is ignored (or starts a new {budget}-token chunk that CLIP encodes separately)", over))
    dups = _duplicates(plain)
    if dups:
        report.issues.append(LintIssue("duplicate-terms", "warning",
                                       f"duplicated terms waste tokens: {', '.join(dups)}", ", ".join(dups)))
    prose = _sentence_style(plain)
    if prose:
        report.issues.append(LintIssue(
            "sentence-style", "info",
            "this reads like sentences; CLIP matches comma-separated visual keywords best. Send sentences to T5 "
            "(flux/sd3 t5xxl) and keywords to CLIP: `cliplens prompt compose`", prose))
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        report.issues.append(LintIssue("unbalanced-brackets", "warning",
                                       "unbalanced brackets: the UI reads everything after an unclosed ( or [ as "
                                       "emphasised text", f"{text.count('(')} '(' vs {text.count(')')} ')', "
                                       f"{text.count('[')} '[' vs {text.count(']')} ']'"))
    return report
