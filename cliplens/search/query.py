"""Query expressions: texts, images and arithmetic on their embeddings, like rclip's.

``"(golden retriever:2)" + @pool.jpg - fruit`` means: 2 x the text's unit vector, plus the
image's, minus the text "fruit"'s, renormalised. Weights use the one syntax of cliplens,
A1111's ``(term:1.3)`` (``(term)`` = 1.1, ``[term]`` = 1/1.1); the old leading ``2:term`` still
works with a `DeprecationWarning`.

A term is an image only when the caller says so, never because some file happens to exist:

- ``@path`` (or ``(@path:0.5)`` with a weight) names an image file;
- `Term.image(...)` holds a path, bytes, a PIL image or an array (an upload, an in-memory image);
- the CLI (`detect_files=True`) also reads a bare word as an image when it is an existing file
  whose first bytes are an image's. The library and the server never look at the disk to parse.

Given as separate shell arguments, consecutive words join into one text (``cliplens search a
red circle`` is one text) and ``+``/``-`` separate terms. Given as one string, the string is
one text unless it contains standalone ``+``/``-`` tokens or ``@image`` terms (quotes group
words, as in a shell).

    >>> [(t.kind, t.value, t.weight) for t in parse_query(['(golden retriever:2)', '+', 'sunny', '-', 'fruit'])]
    [('text', 'golden retriever', 2.0), ('text', 'sunny', 1.0), ('text', 'fruit', -1.0)]
    >>> [(t.kind, t.value) for t in parse_query('a red circle, pixel art + @pool.jpg')]
    [('text', 'a red circle, pixel art'), ('image', 'pool.jpg')]
"""
from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CliplensError, ImageLoadError, InvalidInputError
from ..results import ItemError

_OPS = {"+": 1.0, "-": -1.0}
_NUM = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_IMAGE_WEIGHTED = re.compile(rf"^\(\s*@(?P<path>.+?)\s*:\s*(?P<w>{_NUM})\s*\)$", re.S)
_LEGACY_IMAGE = re.compile(r"^\s*(?P<w>[0-9]+(?:\.[0-9]*)?|\.[0-9]+):(?P<path>.+)$", re.S)


@dataclass
class Term:
    """One term of a query: a text or an image, with a signed weight.

    For an image, `value` is its path (or a name, for in-memory images) and `source` what to
    load: the path, bytes, a PIL image or an array.

    >>> Term.text("a dog", 2).weight, Term.image(b"...png bytes...", name="upload.png").value
    (2.0, 'upload.png')
    """

    kind: str  # "text" | "image"
    value: str
    weight: float = 1.0
    source: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def text(cls, value: str, weight: float = 1.0) -> "Term":
        return cls("text", str(value), float(weight))

    @classmethod
    def image(cls, source: Any, weight: float = 1.0, name: str | None = None) -> "Term":
        """An image term from a path, bytes, a PIL image or an array (`name` labels in-memory ones)."""
        if isinstance(source, (str, os.PathLike)):
            value = name or str(source)
        else:
            value = name or "<image>"
        return cls("image", value, float(weight), source)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "weight": self.weight}


def looks_like_image_file(token: str) -> bool:
    """Is `token` an existing file whose first bytes are an image's? Never raises (long names, NUL...)."""
    from ..images import looks_like_image

    try:
        p = Path(token).expanduser()
        return p.is_file() and looks_like_image(p)
    except (OSError, ValueError):
        return False


def _tokens(query: str | Sequence[str]) -> list[str]:
    if isinstance(query, str):
        try:
            toks = shlex.split(query)
        except ValueError:  # e.g. an apostrophe: "a dog's toy" is one text
            return [query]
        if not any(t in _OPS or t.startswith(("@", "(@")) for t in toks):
            return [query]
        return toks
    toks = [str(t) for t in query]
    if len(toks) == 1:
        return _tokens(toks[0])
    return toks


def _image_token(tok: str, detect_files: bool) -> tuple[str, float] | None:
    """(path, weight) when `tok` is an image term, else None."""
    s = tok.strip()
    if s.startswith("@") and len(s) > 1:
        return s[1:], 1.0
    m = _IMAGE_WEIGHTED.match(s)
    if m:
        return m.group("path"), float(m.group("w"))
    m = _LEGACY_IMAGE.match(s)
    if m and m.group("path").startswith("@") and len(m.group("path")) > 1:
        _deprecated(f"{m.group('w')}:{m.group('path')}", f"({m.group('path')}:{float(m.group('w')):g})")
        return m.group("path")[1:], float(m.group("w"))
    if detect_files:
        if looks_like_image_file(s):
            return s, 1.0
        m = _IMAGE_WEIGHTED.match("(@" + s[1:]) if s.startswith("(") else None
        if m and looks_like_image_file(m.group("path")):
            return m.group("path"), float(m.group("w"))
        m = _LEGACY_IMAGE.match(s)
        if m and looks_like_image_file(m.group("path")):
            _deprecated(s, f"(@{m.group('path')}:{float(m.group('w')):g})")
            return m.group("path"), float(m.group("w"))
    return None


def _deprecated(old: str, new: str) -> None:
    import warnings

    warnings.warn(f"the weight syntax {old!r} is deprecated; write {new} instead", DeprecationWarning, stacklevel=4)


def text_term(text: str, sign: float = 1.0) -> Term:
    """A text term with its weight read from ``(text:w)`` (or the legacy ``w:text``), times `sign`."""
    from ..text.phrases import parse_term, plain_text

    try:
        t = parse_term(text, legacy="search")
        body, weight = t.text, t.weight
    except InvalidInputError:  # emphasis inside one term ("a (red:1.3) dog"): the words count, weights do not
        body, weight = plain_text(text).strip(), 1.0
    return Term.text(body or text.strip(), sign * weight)


def parse_query(query: str | Sequence[str], *, detect_files: bool = False) -> list[Term]:
    """Split a query into weighted text/image terms (see the module docstring for the grammar).

    Pure string work unless `detect_files` (the CLI's rule): then a bare word naming an existing
    image file is an image too.
    """
    terms: list[Term] = []
    words: list[str] = []
    sign = 1.0  # sign of the next term to start
    word_sign = 1.0
    after_op = False

    def flush_words() -> None:
        nonlocal words
        if words:
            terms.append(text_term(" ".join(words), word_sign))
            words = []

    for tok in _tokens(query):
        if tok in _OPS:
            flush_words()
            if after_op:
                raise InvalidInputError(f"query has two operators in a row near {tok!r}")
            sign, after_op = _OPS[tok], True
            continue
        img = _image_token(tok, detect_files)
        if img is not None:
            flush_words()
            terms.append(Term.image(img[0], sign * img[1]))
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
        raise InvalidInputError("empty query: give a text, an @image, or an expression like "
                                "'\"a dog\" + @beach.jpg - people'")
    return terms


#: turns an image term's source into something `load_image` reads (the server's restricts paths to its roots)
ImageOpener = Callable[[Any], Any]


def _load(term: Term, open_image: ImageOpener | None, max_pixels: int | None):
    from ..images import load_image

    src = term.source if term.source is not None else term.value
    try:
        if open_image is not None:
            src = open_image(src)
        return load_image(src, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise ImageLoadError(term.value, exc.reason) from None
    except OSError as exc:  # e.g. a name too long for the filesystem
        raise ImageLoadError(term.value, f"cannot read file ({exc.strerror or exc})") from None


def query_vector(encoder, terms: Sequence[Term], *, on_error: str = "raise", open_image: ImageOpener | None = None,
                 max_pixels: int | None = None) -> tuple[np.ndarray, list[ItemError]]:
    """Sum of the terms' unit vectors times their weights, renormalised to a unit vector.

    An image term that cannot be loaded raises `ImageLoadError` (`on_error="raise"`) or becomes an
    `ItemError` at its position and is left out (`"skip"`); a query with no usable term is refused.

    >>> vec, errors = query_vector(enc, parse_query("a dog - @cat.png"))   # doctest: +SKIP
    """
    if on_error not in ("skip", "raise"):
        raise InvalidInputError(f"on_error must be 'skip' or 'raise', not {on_error!r}")
    errors: list[ItemError] = []
    texts = [t for t in terms if t.kind == "text"]
    images, image_weights = [], []
    for i, t in enumerate(terms):
        if t.kind == "image":
            try:
                images.append(_load(t, open_image, max_pixels))
                image_weights.append(t.weight)
            except CliplensError as exc:
                if on_error == "raise":
                    raise
                errors.append(ItemError(i, t.value, getattr(exc, "reason", str(exc))))
        elif t.kind != "text":
            raise InvalidInputError(f"term kind {t.kind!r}: use 'text' or 'image'")
    if not texts and not images:
        raise InvalidInputError("no usable query term: " + "; ".join(f"{e.source}: {e.reason}" for e in errors))
    total = np.zeros(int(encoder.embed_dim), np.float64)
    if texts:
        tv = encoder.encode_texts([t.value for t in texts])
        total += (np.asarray([t.weight for t in texts])[:, None] * tv).sum(0)
    if images:  # the same home that embedded the index's files: a file and its query get the same vector
        from ..embed import image_vectors

        iv = image_vectors(encoder, images, on_error="raise", use_cache=False).vectors
        total += (np.asarray(image_weights)[:, None] * iv).sum(0)
    norm = float(np.linalg.norm(total))
    if norm < 1e-6:
        raise InvalidInputError("the query's terms cancel out (their weighted sum is zero); change a weight")
    return (total / norm).astype(np.float32), errors
