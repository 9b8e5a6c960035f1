"""Prompt phrases: splitting, cleaning, and ONE weight syntax, A1111's ``(term:1.3)``.

Two different jobs used to share the names `split_phrases`/`clean_phrase`; each now has its own:

- `split_keywords` / `strip_emphasis`: a Stable Diffusion prompt -> its keyword phrases, as a
  user wrote them (split at commas, ``|``, sentence ends, "and", "with", BREAK; emphasis syntax
  removed; duplicates dropped). Used to check which words of a prompt an image shows.
- `split_phrases` / `clean_phrase`: messy text (values out of JSON/YAML, CJK punctuation, code
  syntax) -> clean phrases safe to send to a text encoder. Used by the prompt composer.

Weights: `parse_weights` reads A1111/ComfyUI emphasis: ``(term:1.3)`` is 1.3, ``(term)`` is 1.1,
``[term]`` is 1/1.1, nesting multiplies, ``\\(`` is a literal bracket. The older forms, ``2:term``
(search) and ``term:0.5`` (guide), are still read when a caller asks with ``legacy=``, with a
`DeprecationWarning` that shows the new spelling.

    >>> parse_weights("a (red:1.3) circle")
    [WeightedTerm(text='a ', weight=1.0), WeightedTerm(text='red', weight=1.3), WeightedTerm(text=' circle', weight=1.0)]
    >>> parse_term("(golden retriever:2)")
    WeightedTerm(text='golden retriever', weight=2.0)
    >>> split_keywords("a woman with glasses, (white carpet:1.2), red and blue")
    ['a woman', 'glasses', 'white carpet', 'red', 'blue']
"""
from __future__ import annotations

import math
import re
import unicodedata
import warnings
from dataclasses import dataclass

from ..errors import InvalidInputError

#: weight of ``(term)`` per bracket level; ``[term]`` is its inverse (A1111)
ROUND_BRACKET = 1.1
SQUARE_BRACKET = 1 / 1.1
LEGACY_FORMS = ("search", "guide")


@dataclass(frozen=True)
class WeightedTerm:
    """A piece of prompt text and its emphasis weight (1.0 = plain)."""

    text: str
    weight: float = 1.0


# ------------------------------------------------------------------------------------- weights
# A1111's attention grammar (modules/prompt_parser.py): escapes, brackets, ":number)" closers, text
_ATTENTION = re.compile(r"""
\\\(|\\\)|\\\[|\\]|\\\\|\\|
\(|\[|
:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*\)|
\)|]|
[^\\()\[\]:]+|
:
""", re.X)
_LEGACY_LEADING = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+):(.*)$", re.S)
_LEGACY_TRAILING = re.compile(r"^(?P<text>.*):\s*(?P<w>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$", re.S)


def _attention(text: str) -> list[WeightedTerm]:
    res: list[list] = []
    round_open: list[int] = []
    square_open: list[int] = []

    def multiply(start: int, factor: float) -> None:
        for p in range(start, len(res)):
            res[p][1] *= factor

    for m in _ATTENTION.finditer(text):
        tok, weight = m.group(0), m.group(1)
        if tok.startswith("\\") and len(tok) > 1:
            res.append([tok[1:], 1.0])
        elif tok == "(":
            round_open.append(len(res))
        elif tok == "[":
            square_open.append(len(res))
        elif weight is not None and round_open:
            multiply(round_open.pop(), float(weight))
        elif tok == ")" and round_open:
            multiply(round_open.pop(), ROUND_BRACKET)
        elif tok == "]" and square_open:
            multiply(square_open.pop(), SQUARE_BRACKET)
        else:
            res.append([tok, 1.0])
    for pos in round_open:  # unclosed brackets still emphasise what follows them (as A1111 does)
        multiply(pos, ROUND_BRACKET)
    for pos in square_open:
        multiply(pos, SQUARE_BRACKET)
    merged: list[list] = []
    for t, w in res:
        if merged and math.isclose(merged[-1][1], w, rel_tol=0, abs_tol=1e-12):
            merged[-1][0] += t
        else:
            merged.append([t, w])
    return [WeightedTerm(t, round(w, 10)) for t, w in merged if t]


def _legacy(text: str, legacy: str | None) -> tuple[str, float] | None:
    """(body, weight) when `text` is in the legacy form named by `legacy`, else None."""
    if legacy is None:
        return None
    if legacy not in LEGACY_FORMS:
        raise ValueError(f"legacy must be one of {', '.join(LEGACY_FORMS)} or None, got {legacy!r}")
    if legacy == "search":
        m = _LEGACY_LEADING.match(text)
        if m and m.group(2).strip():
            return m.group(2).strip(), float(m.group(1))
        return None
    m = _LEGACY_TRAILING.match(text)
    if not m or not m.group("text").strip():
        return None
    body = m.group("text")
    if body[-1:].isdigit() and ":" not in body:
        return None  # "16:9" is a ratio, not "16" weighted 9
    if body.rstrip().endswith(")") and "(" in body:
        return None  # "(x:1.3)" style already
    return body.strip(), float(m.group("w"))


def _warn_legacy(body: str, weight: float, original: str) -> None:
    warnings.warn(
        f"the weight syntax {original.strip()!r} is deprecated; write ({body}:{weight:g}) instead",
        DeprecationWarning, stacklevel=4)


def parse_weights(text: str, *, legacy: str | None = None) -> list[WeightedTerm]:
    """Split `text` into consecutive pieces with their A1111 emphasis weights.

    `legacy="search"` also reads a leading ``2:term``; `legacy="guide"` a trailing ``term:0.5``
    (each warns with `DeprecationWarning`); the weight multiplies the whole text.

    >>> parse_weights("((sharp)) [blurry]")
    [WeightedTerm(text='sharp', weight=1.21), WeightedTerm(text=' ', weight=1.0), WeightedTerm(text='blurry', weight=0.9090909091)]
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"expected text, got {type(text).__name__}")
    old = _legacy(text, legacy)
    if old is not None:
        body, w = old
        _warn_legacy(body, w, text)
        return [WeightedTerm(t.text, round(t.weight * w, 10)) for t in _attention(body)]
    return _attention(text)


def parse_term(text: str, *, legacy: str | None = None) -> WeightedTerm:
    """One term with one weight: ``(golden retriever:2)`` -> ('golden retriever', 2.0).

    Plain text has weight 1. A term that mixes weights (``a (red:1.3) dog``) cannot carry one
    weight and raises `InvalidInputError` saying how to write it.

    >>> parse_term("sunny"), parse_term("[fruit]").weight
    (WeightedTerm(text='sunny', weight=1.0), 0.9090909091)
    """
    parts = parse_weights(text, legacy=legacy)
    words = [p for p in parts if p.text.strip()]
    plain = "".join(p.text for p in parts).strip()
    if not words:
        return WeightedTerm(plain, 1.0)
    weights = {p.weight for p in words}
    if len(weights) > 1:
        raise InvalidInputError(
            f"term {text!r} mixes weights; a term takes one weight: write it as ({plain}:1.3)")
    w = weights.pop()
    if not math.isfinite(w):
        raise InvalidInputError(f"weight of {plain!r} is not a finite number")
    return WeightedTerm(plain, w)


def plain_text(text: str) -> str:
    """`text` without emphasis syntax (weights dropped): ``"a (red:1.3) circle"`` -> ``"a red circle"``."""
    return "".join(p.text for p in _attention(text))


def extract_weights(text: str) -> tuple[str, dict[str, float]]:
    """(plain text, {lower-cased phrase: weight}) for the emphasised phrases of `text`.

    >>> extract_weights("a (red:1.3) circle")
    ('a red circle', {'red': 1.3})
    """
    parts = _attention(text)
    weights = {p.text.strip().lower(): p.weight for p in parts if p.weight != 1.0 and p.text.strip()}
    return "".join(p.text for p in parts), weights


def format_weight(text: str, weight: float) -> str:
    """A1111 spelling of one weighted term: ``format_weight("fog", 0.5)`` -> ``"(fog:0.5)"``.

    >>> format_weight("fog", 0.5), format_weight("sky", 1.0)
    ('(fog:0.5)', 'sky')
    """
    if weight == 1.0:
        return text
    return f"({text}:{weight:g})"


# ------------------------------------------------------------------- keywords of an SD prompt
_KEYWORD_SPLIT = re.compile(r"\s*(?:[,;|\n]|\.(?:\s+|$)|\s+and\s+|\s+with\s+|\s+BREAK\s+)\s*", re.IGNORECASE)
_TRAILING_WEIGHT = re.compile(r":\s*-?\d+(?:\.\d+)?\s*$")


def strip_emphasis(phrase: str) -> str:
    """Strip Stable Diffusion emphasis syntax from one phrase: ``(glasses:1.3)``/``((x))``/``[x]`` -> words.

    >>> strip_emphasis("((masterpiece:1.2))"), strip_emphasis("[white carpet]")
    ('masterpiece', 'white carpet')
    """
    p = phrase.strip()
    p = p.strip("()[]{}").strip()
    p = _TRAILING_WEIGHT.sub("", p).strip("()[]{} ").strip()
    return re.sub(r"\s+", " ", p)


def split_keywords(prompt: str) -> list[str]:
    """A prompt's keyword phrases: split at commas, semicolons, pipes, sentence ends, "and", "with".

    Emphasis syntax is removed and duplicates dropped (first kept). An empty prompt, or one
    with no words, raises `InvalidInputError`.

    >>> split_keywords("red, (blue:1.2); red")
    ['red', 'blue']
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("empty prompt: give the prompt whose keywords should be checked")
    out: dict[str, None] = {}
    for part in _KEYWORD_SPLIT.split(prompt):
        c = strip_emphasis(part)
        if c and re.search(r"\w", c):
            out.setdefault(c, None)
    if not out:
        raise InvalidInputError(f"no words found in prompt {prompt!r}")
    return list(out)


# -------------------------------------------------------------- clean phrases out of messy text
#: characters that are JSON / code syntax and never belong in a prompt sent to an encoder
SYNTAX_CHARS = set('{}[]"`<>|\\=')
_CJK_BRACKETS = "（）「」『』【】《》〈〉〔〕［］｛｝“”‘’"
_PHRASE_SPLIT = re.compile(r"[,;\n，、；。！？]|(?<![0-9])\.(?![0-9])|[!?](?=\s|$)")


def clean_phrase(text: str) -> str:
    """Clean one phrase of messy text: syntax characters, quotes, brackets, weights and stray
    punctuation out; whitespace collapsed. Apostrophes inside words ("20's") and hyphens stay.

    >>> clean_phrase("{'hair': black}"), clean_phrase('  "black  ponytail hair." ')
    ('hair, black', 'black ponytail hair')
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
    return re.sub(r"\s+", " ", s).strip()


def split_phrases(text: str) -> list[str]:
    """Split messy text into clean phrases at commas, semicolons, sentence ends, newlines and
    full-width punctuation (each cleaned with `clean_phrase`; empty ones dropped).

    >>> split_phrases("red, blue；緑。 big")
    ['red', 'blue', '緑', 'big']
    """
    return [p for p in (clean_phrase(x) for x in _PHRASE_SPLIT.split(str(text))) if p]
