"""Small text helpers shared by the sentence writer, the keyword extractor and the linter.

Everything here is pure string work: cleaning values that came out of JSON/YAML, detecting
CJK text, splitting phrases on ASCII and full-width separators, articles and list joining.

    >>> clean_phrase('  "black  ponytail hair." ')
    'black ponytail hair'
    >>> join_list(["a", "b", "c"])
    'a, b and c'
"""
from __future__ import annotations

import re
import unicodedata

#: characters that are JSON / code syntax and never belong in a prompt sent to an encoder
SYNTAX_CHARS = set('{}[]"`<>|\\=')
#: full-width punctuation that separates phrases in Chinese/Japanese/Korean text
CJK_SEPARATORS = "，、；。！？：,;.!?:\n"
_CJK_BRACKETS = "（）「」『』【】《》〈〉〔〕［］｛｝“”‘’"
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u3130-\u318f]")
_WEIGHT_RE = re.compile(r"\(([^():]+):\s*([0-9]*\.?[0-9]+)\s*\)")


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


def extract_weights(text: str) -> tuple[str, dict[str, float]]:
    """Pull A1111/ComfyUI ``(word:1.2)`` weights out of `text`; returns (plain text, {phrase: weight}).

    >>> extract_weights("a (red:1.3) circle")
    ('a red circle', {'red': 1.3})
    """
    weights: dict[str, float] = {}

    def repl(m: re.Match) -> str:
        phrase = m.group(1).strip()
        weights[phrase.lower()] = float(m.group(2))
        return phrase

    return _WEIGHT_RE.sub(repl, text), weights


def clean_phrase(text: str) -> str:
    """Strip syntax characters, quotes, brackets and stray punctuation; collapse whitespace.

    Keeps apostrophes inside words ("20's") and hyphens; removes leading/trailing separators.

    >>> clean_phrase("{'hair': black}")
    'hair, black'
    """
    text = unicodedata.normalize("NFC", str(text))
    text, _ = extract_weights(text)
    out = []
    for i, ch in enumerate(text):
        if ch in SYNTAX_CHARS or ch in _CJK_BRACKETS or ch in "()":
            out.append(" ")
        elif ch == "'":
            # keep apostrophes between/after word characters (20's, girls'), drop quoting ones
            prev = text[i - 1] if i else " "
            nxt = text[i + 1] if i + 1 < len(text) else " "
            out.append("'" if prev.isalnum() and (nxt.isalnum() or nxt.isspace() or nxt in ",.;") else " ")
        elif ch == ":":
            out.append(",")
        elif ch in "\t\r\n":
            out.append(", " if ch == "\n" else " ")
        elif unicodedata.category(ch).startswith("C"):
            out.append(" ")
        else:
            out.append(ch)
    s = "".join(out)
    s = re.sub(r"\bBREAK\b", " ", s)        # A1111 chunk keyword: syntax, not content
    s = re.sub(r"\bAND\b", "and", s)        # A1111 composable-prompt keyword
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r"\s+([,.;!?])", r"\1", s)
    s = re.sub(r"([,;])(?:\s*[,;])+", r"\1", s)       # ", ," -> ","
    s = re.sub(r"\.{2,}", ".", s)
    s = re.sub(r"([,;])\s*\.", ".", s)
    s = s.strip(" ,;.!?:-_*#~&^%$@+/")
    s = s.strip("，、；。！？：")
    s = re.sub(r"\s+", " ", s).strip()
    return s


def split_phrases(text: str) -> list[str]:
    """Split on commas, semicolons, sentence ends, newlines and full-width punctuation.

    >>> split_phrases("red, blue；緑。 big")
    ['red', 'blue', '緑', 'big']
    """
    parts = re.split(r"[,;\n，、；。！？]|(?<![0-9])\.(?![0-9])|[!?](?=\s|$)", str(text))
    return [p for p in (clean_phrase(x) for x in parts) if p]


def article_for(phrase: str) -> str:
    """'a' or 'an' for an English noun phrase (by sound, roughly: vowels, 'hour', 'honest', 8/11/18).

    >>> article_for("apple"), article_for("young woman"), article_for("hour")
    ('an', 'a', 'an')
    """
    w = phrase.strip().lower()
    if not w:
        return "a"
    if re.match(r"(hour|honest|honou?r|heir)", w) or re.match(r"(8|11|18)\b", w):
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
