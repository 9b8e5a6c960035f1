"""Small text helpers shared by the sentence writer, the keyword extractor and the linter.

Pure string work: detecting CJK text, articles, list joining, tidying realised sentences.
Cleaning and splitting phrases, and weights, live in `cliplens.text.phrases` (one home).

    >>> join_list(["a", "b", "c"])
    'a, b and c'
"""
from __future__ import annotations

import re

#: full-width punctuation that separates phrases in Chinese/Japanese/Korean text
CJK_SEPARATORS = "，、；。！？：,;.!?:\n"
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u3130-\u318f]")


def has_cjk(text: str) -> bool:
    """True when `text` contains Chinese, Japanese or Korean characters.

    >>> has_cjk("日本の女性"), has_cjk("woman")
    (True, False)
    """
    return bool(_CJK_RE.search(text))


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK (0..1)."""
    chars = [c for c in text if not c.isspace()]
    return sum(1 for c in chars if _CJK_RE.match(c)) / len(chars) if chars else 0.0


def article_for(phrase: str) -> str:
    """'a' or 'an' for an English noun phrase (by sound, roughly: vowels, 'hour', 'honest', 8/11/18).

    >>> article_for("apple"), article_for("young woman"), article_for("hour")
    ('an', 'a', 'an')
    """
    w = phrase.strip().lower()
    if not w:
        return "a"
    if re.match(r"(hour|honest|honou?r|heir)", w) or re.match(r"8|(11|18)(?!\d)", w):
        return "an"
    if re.match(r"(uni[^nmd]|use|usu|eu|one\b|once|ukr|uran|ure|uti)", w):
        return "a"
    if re.match(r"[aeiou]", w):
        return "an"
    if re.match(r"[fhlmnrsx]\b", w) or re.match(r"(fbi|hdr|lcd|led|mri|nft|rgb|sfw|xl)\b", w):
        return "an"
    return "a"


def join_list(items: list[str], conj: str = "and") -> str:
    """English list join: 'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def dedupe_words(text: str) -> str:
    """Collapse immediately repeated words ('red red circle' -> 'red circle'), case-insensitively."""
    words = text.split(" ")
    out: list[str] = []
    for w in words:
        if out and w.lower().strip(",.") == out[-1].lower().strip(",.") and w.strip(",."):
            continue
        out.append(w)
    return " ".join(out)


def tidy_sentence(text: str) -> str:
    """Final clean-up of realised text: single spaces, no doubled punctuation or words."""
    s = re.sub(r"\s+", " ", text).strip()
    s = re.sub(r"\s+([,.;!?])", r"\1", s)
    s = re.sub(r",\s*,+", ",", s)
    s = re.sub(r"\.\s*\.+", ".", s)
    s = re.sub(r",\s*\.", ".", s)
    s = re.sub(r"([,.])(?=[^\s\d,.'])", r"\1 ", s)
    return dedupe_words(s).strip()


def capitalise(text: str) -> str:
    """Upper-case the first letter only ('iPhone' stays if it starts a word later)."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text
