"""Lint a prompt meant for CLIP: code syntax, text past token 75, duplicates, sentence style.

    >>> [i.code for i in lint_prompt('{"subject": "cat"}').issues]
    ['json-syntax']
    >>> lint_prompt("red circle, pixel art").ok
    True
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .parse import parse_prompt
from .text import extract_weights, has_cjk
from .tokens import CLIP_WINDOW, ClipTokens, clip_tokens

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
class LintReport:
    """All findings for one prompt, with its CLIP token count (per BREAK chunk)."""

    text: str
    tokens: list[int]
    issues: list[LintIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": self.tokens, "limit": CLIP_WINDOW, "ok": self.ok,
                "issues": [asdict(i) for i in self.issues]}


def _syntax_issue(text: str) -> LintIssue | None:
    found = sorted({c for c in text if c in '{}[]"`=<>|\\'})
    keyish = re.search(r"""["']?[\w ]{1,40}["']\s*:\s*["'{\[]""", text)
    fmt = ""
    if text.lstrip()[:1] in "{[":
        try:
            _, fmt = parse_prompt(text)
        except Exception:  # noqa: BLE001 - broken JSON is still JSON syntax
            fmt = "broken JSON/dict"
    if not found and not keyish and not fmt:
        return None
    what = f"{fmt} " if fmt and fmt != "text" else ""
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
    """Check a CLIP prompt. `clip`: None (bundled OpenAI CLIP BPE), an `Encoder` or a tokenizer folder."""
    counter: ClipTokens = clip_tokens(clip)
    plain, _ = extract_weights(text)
    chunks = [c.strip() for c in re.split(r"\bBREAK\b", plain)] if "BREAK" in plain else [plain.strip()]
    tokens = [counter.count(c) for c in chunks]
    report = LintReport(text=text, tokens=tokens)
    syn = _syntax_issue(text)
    if syn:
        report.issues.append(syn)
    for n, (chunk, count) in enumerate(zip(chunks, tokens)):
        if count > CLIP_WINDOW:
            kept, over = counter.cut(chunk, CLIP_WINDOW)
            where = f" in BREAK chunk {n + 1}" if len(chunks) > 1 else ""
            report.issues.append(LintIssue(
                "clip-too-long", "warning",
                f"{count} CLIP tokens{where}; one window reads {CLIP_WINDOW}: everything after "
                f"{kept[-40:]!r} is ignored (or starts a new 75-token chunk that CLIP encodes separately)", over))
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
    if plain.count("(") != plain.count(")") or text.count("(") != text.count(")"):
        report.issues.append(LintIssue("unbalanced-brackets", "warning",
                                       "unbalanced ( ) : the UI reads everything after it as emphasised text",
                                       f"{text.count('(')} '(' vs {text.count(')')} ')'"))
    return report
