"""Slotted prompt -> comma-separated visual keywords for CLIP, within one CLIP token window.

CLIP matches keywords, not grammar, and weighs early tokens most: phrases are split at "with",
"wearing", "in her"..., filler words are dropped, duplicates removed, the most visual slots
go first, and when the text passes the budget the least visual keywords are dropped (and
reported). Optional ``(word:1.2)`` weights and ``BREAK`` chunks (A1111 syntax; ComfyUI gets
the chunks as a list, since its core has no BREAK keyword).

    >>> from cliplens.compose.slots import structure
    >>> kw = extract_keywords(structure({"subject": "a young woman in her 20's", "action": "listening to music"}))
    >>> kw.text
    "young woman, 20's, listening music"
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .slots import Item, Structured
from ..text.phrases import clean_phrase
from .text import dedupe_words, has_cjk
from .tokens import ClipTokens, clip_tokens

#: order keywords appear in (subject first: CLIP weighs early tokens most)
KEYWORD_ORDER = ("subject", "objects", "appearance", "outfit", "action", "setting", "background", "colors", "style",
                 "lighting", "camera", "mood", "details", "quality")
#: order keywords are dropped in when over budget (least visual first)
DROP_ORDER = ("quality", "mood", "details", "camera", "lighting", "action", "setting", "colors", "outfit",
              "appearance", "background", "style", "objects", "subject")
_LEADING_FILLER = {"a", "an", "the", "some", "this", "that", "these", "those", "her", "his", "their", "its", "my",
                   "your", "our", "is", "are", "was", "were", "be", "being", "has", "have", "with", "wearing",
                   "and", "while", "also", "there", "it", "she", "he", "they", "we", "i", "you"}
_ANYWHERE_FILLER = {"is", "are", "was", "were", "be", "being", "very", "really", "quite"}
_SPLIT_RE = re.compile(r"\s+(?:with(?:\s+(?:a|an|the|her|his|their|its))?|wearing|who\s+(?:is|are)|which\s+(?:is|are)"
                       r"|that\s+(?:is|are)|in\s+(?:her|his|their|its))\s+", re.I)
SYNTAXES = ("a1111", "comfyui")


@dataclass
class KeywordResult:
    """The CLIP text and how it was made: kept keywords, dropped ones, token count, chunks."""

    text: str
    keywords: list[str]
    dropped: list[str] = field(default_factory=list)
    tokens: int = 0
    chunks: list[str] = field(default_factory=list)


def _strip_filler(words: list[str]) -> list[str]:
    while words and words[0].lower() in _LEADING_FILLER:
        words = words[1:]
    out = []
    for i, w in enumerate(words):
        lw = w.lower()
        if lw in _ANYWHERE_FILLER:
            continue
        if lw == "to" and i and words[i - 1].lower().endswith("ing") and i + 1 < len(words):
            continue  # "listening to music" -> "listening music"
        if out and lw == out[-1].lower():
            continue
        out.append(w)
    while out and out[-1].lower() in {"and", "with", "of", "in", "on", "at", "the", "a", "an", "to"}:
        out = out[:-1]
    return out


def phrase_keywords(text: str) -> list[str]:
    """One phrase -> its keywords.

    >>> phrase_keywords("japanese young woman in her 20's")
    ['japanese young woman', "20's"]
    >>> phrase_keywords("black framed glasses and white wireless headphone")
    ['black framed glasses', 'white wireless headphone']
    """
    text = clean_phrase(text)
    if not text:
        return []
    if has_cjk(text):
        return [dedupe_words(text)]
    pieces = _SPLIT_RE.split(" " + text + " ")
    out: list[str] = []
    for piece in pieces:
        # split at "and" only between two multi-word parts ("black and white photo" stays whole)
        parts = re.split(r"\s+and\s+", piece.strip())
        if len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
            subs = parts
        else:
            subs = [piece]
        for s in subs:
            words = _strip_filler(s.split())
            if words:
                out.append(" ".join(words))
    return out


def _norm(k: str) -> str:
    return " ".join(re.findall(r"[^\W_]+(?:'[a-z]+)?", k.lower())) or k.lower().strip()


def _contained(small: str, big: str) -> bool:
    return f" {small} " in f" {big} "


def _apply_weight(text: str, weight: float | None, inline: dict[str, float]) -> str:
    if weight is not None and abs(weight - 1.0) > 1e-9:
        return f"({text}:{round(weight, 2):g})"
    for phrase in sorted(inline, key=len, reverse=True):
        m = re.search(rf"(?<![\w(]){re.escape(phrase)}(?![\w:])", text, re.I)
        if m and abs(inline[phrase] - 1.0) > 1e-9:
            text = f"{text[:m.start()]}({m.group(0)}:{round(inline[phrase], 2):g}){text[m.end():]}"
    return text


def keyword_list(s: Structured, slots: tuple[str, ...] = KEYWORD_ORDER) -> list[tuple[str, str, float | None]]:
    """(keyword, slot, weight) in display order, deduplicated (exact and contained-in-earlier)."""
    by_slot: dict[str, list[Item]] = {}
    for it in s.items:
        by_slot.setdefault(it.slot, []).append(it)
    out: list[tuple[str, str, float | None]] = []
    seen: list[str] = []
    for slot in slots:
        for it in by_slot.get(slot, []):
            for kw in phrase_keywords(it.text):
                n = _norm(kw)
                if not n or any(n == o or _contained(n, o) for o in seen):
                    continue
                # a later, longer keyword replaces an earlier one it contains ("white" then "white carpet")
                for j, o in enumerate(seen):
                    if _contained(o, n) and out[j][1] == slot:
                        out[j] = (kw, slot, it.weight)
                        seen[j] = n
                        break
                else:
                    out.append((kw, slot, it.weight))
                    seen.append(n)
    # drop entries that became duplicates through replacement
    uniq: list[tuple[str, str, float | None]] = []
    useen: set[str] = set()
    for kw, slot, w in out:
        if _norm(kw) not in useen:
            useen.add(_norm(kw))
            uniq.append((kw, slot, w))
    return uniq


def fit_keywords(entries: list[tuple[str, str, float | None]], counter: ClipTokens,
                 budget: int | None = None) -> tuple[list[tuple[str, str, float | None]], list[str]]:
    """Drop the least visual keywords until ", ".join fits `budget` tokens (default: the counter's
    window); returns (kept, dropped)."""
    budget = budget or counter.budget
    kept = list(entries)
    dropped: list[str] = []
    costs = [counter.count(k) for k, _, _ in kept]

    def total() -> int:
        return sum(costs) + max(0, len(costs) - 1)  # one token per ", " separator

    rank = {s: i for i, s in enumerate(DROP_ORDER)}
    while kept and total() > budget:
        if len(kept) == 1:
            fit, rest = counter.cut(kept[0][0], budget)
            dropped.append(rest)
            kept = [(fit, kept[0][1], kept[0][2])] if fit else []
            costs = [counter.count(fit)] if fit else []
            break
        # the last keyword of the least visual slot goes first
        idx = max(range(len(kept)), key=lambda i: (-rank.get(kept[i][1], 0), i))
        dropped.append(kept[idx][0])
        del kept[idx]
        del costs[idx]
    order = {k: i for i, (k, _, _) in enumerate(entries)}
    # back-fill: a dropped keyword that still fits (a shorter one after a long one went) comes back
    for e in [e for e in entries if e[0] in dropped and e[0] in order]:
        cost = counter.count(e[0])
        if total() + cost + (1 if costs else 0) <= budget:
            at = sum(1 for k, _, _ in kept if order.get(k, -1) < order[e[0]])
            kept.insert(at, e)
            costs.insert(at, cost)
            dropped.remove(e[0])
    # the additive estimate is exact for CLIP BPE; verify with one real count and trim if ever off
    while kept and counter.count(", ".join(k for k, _, _ in kept)) > budget:
        dropped.append(kept.pop()[0])
    dropped.sort(key=lambda k: order.get(k, len(order)))  # report in prompt order
    return kept, dropped


def extract_keywords(s: Structured, counter: ClipTokens | None = None, *, budget: int | None = None,
                     slots: tuple[str, ...] = KEYWORD_ORDER, emphasis: dict[str, float] | None = None,
                     chunk: bool = False, syntax: str = "a1111") -> KeywordResult:
    """Keywords for one CLIP encoder.

    `emphasis` maps a slot name ("subject", "style"...) or a keyword to a weight, written as
    ``(keyword:1.2)``; weights already in the input (``(red:1.3)``) are kept. `chunk=True`
    keeps every keyword, packed into token windows joined with ``BREAK`` (A1111) or returned
    as separate chunks (ComfyUI). Token counts are of the text without weight syntax, as both UIs
    strip it before tokenizing.
    """
    if syntax not in SYNTAXES:
        raise ValueError(f"syntax must be one of {SYNTAXES}")
    counter = counter or clip_tokens()
    budget = budget or counter.budget
    emphasis = {k.lower(): v for k, v in (emphasis or {}).items()}
    entries = keyword_list(s, slots)
    if "subject" in emphasis and "objects" not in emphasis and not s.slot("subject"):
        emphasis["objects"] = emphasis["subject"]  # the objects are the subject of this picture
    entries = [(k, sl, emphasis.get(k.lower(), emphasis.get(sl, w))) for k, sl, w in entries]
    inline = s.weights

    def render(group: list[tuple[str, str, float | None]]) -> str:
        return ", ".join(_apply_weight(k, w, inline) for k, _, w in group)

    if chunk:
        chunks: list[list[tuple[str, str, float | None]]] = [[]]
        used = 0
        for e in entries:
            c = counter.count(e[0])
            if c > budget:  # a single keyword longer than a window: cut it
                fit, _ = counter.cut(e[0], budget)
                e, c = (fit, e[1], e[2]), counter.count(fit)
            add = c + (1 if chunks[-1] else 0)
            if chunks[-1] and used + add > budget:
                chunks.append([])
                used, add = 0, c
            chunks[-1].append(e)
            used += add
        texts = [render(g) for g in chunks if g]
        plain = [", ".join(k for k, _, _ in g) for g in chunks if g]
        joined = " BREAK ".join(texts) if syntax == "a1111" else ", ".join(texts)
        return KeywordResult(joined, [k for k, _, _ in entries], [], sum(counter.count(p) for p in plain), texts)

    kept, dropped = fit_keywords(entries, counter, budget)
    plain = ", ".join(k for k, _, _ in kept)
    return KeywordResult(render(kept), [k for k, _, _ in kept], dropped, counter.count(plain), [render(kept)])
