"""Prompt embeddings for judging, with an explicit policy for prompts longer than CLIP's window.

A CLIP text tower reads one window of tokens (see `cliplens.text.window`, the one place its size
is written). Anything past the window's budget is silently dropped by every CLIP tokenizer, so a
long SD prompt is judged on its first part only. Here the policy is explicit:

- ``"warn"`` (default): truncate like CLIP does, but emit a `LongPromptWarning` and report the
  truncation point (how many tokens, which words were cut) in `TextEncoding.truncations`.
- ``"truncate"``: the same, without the warning (still reported).
- ``"chunks"``: split the prompt at word boundaries into full windows, encode each,
  and use the token-count-weighted mean of the chunk vectors (re-normalised) as the prompt's
  vector. Every word is seen; word order across chunk borders is not.
- ``"error"``: raise `InvalidInputError`.

    >>> enc = load_encoder("toyclip")                                          # doctest: +SKIP
    >>> te = encode_prompts(enc, ["a red circle", "word " * 100], long_prompts="truncate")  # doctest: +SKIP
    >>> te.truncations[0].dropped_text[:9]                                      # doctest: +SKIP
    'word word'
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InvalidInputError
from ..models.encoder import Encoder
from ..text.window import window

LONG_PROMPT_POLICIES = ("warn", "truncate", "chunks", "error")
#: the prefix the CLIPScore paper (Hessel et al. 2021) puts before every caption
PAPER_PREFIX = "A photo depicts"


class LongPromptWarning(UserWarning):
    """A prompt is longer than the text encoder's window; the tail is not seen by the model."""


@dataclass
class Truncation:
    """Where a long prompt was cut: `kept_text` is what the model sees, `dropped_text` what it does not."""

    index: int
    tokens: int
    kept_tokens: int
    kept_text: str
    dropped_text: str
    chunks: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TextEncoding:
    """Unit vectors for `texts` (row i <-> text i) and the long-prompt reports."""

    texts: list[str]
    vectors: np.ndarray
    truncations: list[Truncation] = field(default_factory=list)


def split_into_windows(encoder: Encoder, text: str, limit: int | None = None) -> list[str]:
    """Split `text` at word boundaries into consecutive pieces of at most `limit` tokens
    (default: the encoder's window), via `cliplens.text.window`.

    >>> split_into_windows(enc, "word " * 100)          # doctest: +SKIP
    ['word word ...', 'word ...']
    """
    return window(encoder).split(text, limit)


def truncation_point(encoder: Encoder, text: str, index: int = 0) -> Truncation | None:
    """None if `text` fits the window, else where CLIP's truncation cuts it (at word precision).

    >>> truncation_point(enc, "a red circle") is None   # doctest: +SKIP
    True
    """
    f = window(encoder).fit(text)
    if f.fits:
        return None
    return Truncation(index=index, tokens=f.tokens, kept_tokens=f.kept_tokens, kept_text=f.text, dropped_text=f.dropped)


def check_prompts(texts: Sequence[str], what: str = "prompt") -> list[str]:
    """Validate a list of prompts (non-empty strings) and return it as a list."""
    if isinstance(texts, str):
        raise InvalidInputError(f"give a list of {what}s, not one string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InvalidInputError(f"{what} {i} is a {type(t).__name__}, not text")
        if not t.strip():
            raise InvalidInputError(f"{what} {i} is empty: give some words to score the image against")
    return out


def encode_prompts(
    encoder: Encoder,
    texts: Sequence[str],
    *,
    long_prompts: str = "warn",
    prefix: str | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> TextEncoding:
    """Encode prompts once each (duplicates share one forward pass) under a long-prompt policy.

    `prefix` (e.g. `PAPER_PREFIX`) is prepended with a space, as the CLIPScore paper does.
    """
    if long_prompts not in LONG_PROMPT_POLICIES:
        raise InvalidInputError(f"long_prompts={long_prompts!r}: use one of {', '.join(LONG_PROMPT_POLICIES)}")
    texts = check_prompts(texts)
    full = [f"{prefix.rstrip()} {t.strip()}" if prefix else t for t in texts]
    uniq = list(dict.fromkeys(full))
    pos = {t: i for i, t in enumerate(uniq)}
    truncs: dict[str, Truncation] = {}
    for t in uniq:
        tr = truncation_point(encoder, t)
        if tr is not None:
            truncs[t] = tr
    if truncs and long_prompts == "error":
        t, tr = next(iter(truncs.items()))
        raise InvalidInputError(
            f"prompt has {tr.tokens} tokens, more than the {window(encoder).budget} the model reads; "
            f"it would be cut before {tr.dropped_text[:60]!r}. Shorten it, or use long_prompts='chunks' "
            "to score it window by window")
    if long_prompts == "chunks" and truncs:
        pieces: list[str] = []
        owners: list[tuple[int, int]] = []  # (unique index, token count)
        for i, t in enumerate(uniq):
            ws = split_into_windows(encoder, t) if t in truncs else [t]
            if t in truncs:
                truncs[t].chunks = len(ws)
                truncs[t].kept_tokens = truncs[t].tokens
                truncs[t].kept_text, truncs[t].dropped_text = t, ""
            for w in ws:
                pieces.append(w)
                owners.append((i, max(1, window(encoder).count(w))))
        pv = encoder.encode_texts(pieces, batch_size=batch_size, progress=progress)
        uv = np.zeros((len(uniq), encoder.embed_dim), np.float32)
        for (i, w), v in zip(owners, pv):
            uv[i] += w * v
        uv /= np.maximum(np.linalg.norm(uv, axis=1, keepdims=True), 1e-12)
    else:
        uv = encoder.encode_texts(uniq, batch_size=batch_size, progress=progress)
    reports: list[Truncation] = []
    for i, t in enumerate(full):
        tr = truncs.get(t)
        if tr is not None:
            reports.append(Truncation(i, tr.tokens, tr.kept_tokens, tr.kept_text, tr.dropped_text, tr.chunks))
    if reports and long_prompts == "warn":
        r = reports[0]
        more = f" (and {len(reports) - 1} more)" if len(reports) > 1 else ""
        warnings.warn(
            f"prompt {r.index} has {r.tokens} tokens; the model reads {window(encoder).budget}, so it is judged "
            f"without {r.dropped_text[:80]!r}{more}. Use long_prompts='chunks' to score every word",
            LongPromptWarning, stacklevel=2)
    vectors = uv[[pos[t] for t in full]] if full else np.empty((0, encoder.embed_dim), np.float32)
    return TextEncoding(texts=full, vectors=vectors, truncations=reports)
