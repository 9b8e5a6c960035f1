"""Query expressions: texts, images and arithmetic on their embeddings, like rclip's.

``"2:golden retriever" + ./pool.jpg - "fruit"`` means: 2 x the text's unit vector, plus the
image's, minus the text "fruit"'s, renormalised. A term naming an existing image file (or an
http(s) URL) is an image; anything else is text. A leading ``N:`` is a weight.

Given as separate shell arguments, consecutive words join into one text (``cliplens search a
red circle`` is one text) and ``+``/``-`` separate terms. Given as one string, the string is
one text unless it contains standalone ``+``/``-`` tokens (quotes group words, as in a shell).

    >>> [(t.kind, t.value, t.weight) for t in parse_query(['2:golden retriever', '+', 'sunny', '-', 'fruit'])]
    [('text', 'golden retriever', 2.0), ('text', 'sunny', 1.0), ('text', 'fruit', -1.0)]
    >>> [t.value for t in parse_query('a red circle, pixel art')]
    ['a red circle, pixel art']
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..images import looks_like_image

_WEIGHT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+):(.*)$", re.S)
_OPS = {"+": 1.0, "-": -1.0}


@dataclass
class Term:
    """One term of a query: a text or an image (path/URL) with a signed weight."""

    kind: str  # "text" | "image"
    value: str
    weight: float = 1.0


def _is_image(token: str) -> bool:
    if token.startswith(("http://", "https://")):
        return True
    p = Path(token).expanduser()
    return p.is_file() and looks_like_image(p)


def _split_weight(token: str) -> tuple[float, str]:
    m = _WEIGHT.match(token)
    if m and m.group(2).strip():
        return float(m.group(1)), m.group(2).strip()
    return 1.0, token


def _tokens(query: str | Sequence[str]) -> list[str]:
    if isinstance(query, str):
        try:
            toks = shlex.split(query)
        except ValueError:  # e.g. an apostrophe: "a dog's toy" is one text
            return [query]
        if not any(t in _OPS for t in toks):
            return [query]
        return toks
    toks = [str(t) for t in query]
    if len(toks) == 1:
        return _tokens(toks[0])
    return toks


def parse_query(query: str | Sequence[str]) -> list[Term]:
    """Split a query into weighted text/image terms (see the module docstring for the grammar)."""
    terms: list[Term] = []
    words: list[str] = []
    sign = 1.0  # sign of the next term to start
    word_sign = 1.0
    after_op = False

    def flush_words() -> None:
        nonlocal words
        if words:
            weight, text = _split_weight(" ".join(words))
            terms.append(Term("text", text, word_sign * weight))
            words = []

    for tok in _tokens(query):
        if tok in _OPS:
            flush_words()
            if after_op:
                raise InvalidInputError(f"query has two operators in a row near {tok!r}")
            sign, after_op = _OPS[tok], True
            continue
        weight, body = _split_weight(tok)
        if _is_image(body):
            flush_words()
            terms.append(Term("image", body, sign * weight))
        elif tok.strip():
            if not words:
                word_sign = sign
            words.append(tok.strip())
        else:
            continue
        sign, after_op = 1.0, False
    flush_words()
    if after_op:
        raise InvalidInputError("query ends with an operator; add a term after + or -")
    if not terms:
        raise InvalidInputError("empty query: give a text, an image file, or an expression like "
                                "'\"a dog\" + beach.jpg - \"people\"'")
    return terms


def query_vector(encoder, terms: Sequence[Term]) -> np.ndarray:
    """Sum of the terms' unit vectors times their weights, renormalised to a unit vector."""
    texts = [t for t in terms if t.kind == "text"]
    images = [t for t in terms if t.kind == "image"]
    total = np.zeros(int(encoder.embed_dim), np.float64)
    if texts:
        tv = encoder.encode_texts([t.value for t in texts])
        total += (np.asarray([t.weight for t in texts])[:, None] * tv).sum(0)
    if images:
        from ..images import load_image

        iv = encoder.encode_images([load_image(t.value) for t in images])
        total += (np.asarray([t.weight for t in images])[:, None] * iv).sum(0)
    norm = float(np.linalg.norm(total))
    if norm < 1e-6:
        raise InvalidInputError("the query's terms cancel out (their weighted sum is zero); change a weight")
    return (total / norm).astype(np.float32)
