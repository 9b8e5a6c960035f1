"""Fit a text to a text encoder's token window: count, budget, cut, split.

A CLIP text tower reads `context_length` tokens (77): a start token, a *budget* of content
tokens (75) and an end token. Everything past the budget is silently dropped by the tokenizer,
so judging, composing, interrogating and the server all need the same four answers about a
text: how many tokens it has, whether it fits, where it is cut (kept text, dropped remainder,
character offset of the overflow) and how to split it into consecutive windows. They all come
from here, for any `Encoder` (anything with `token_ids(text)` and `context_length`) or for a
bare tokenizer callable ``text -> content ids`` (so the composer can count without a model).
This module is the only place a window size may be written down.

Cuts fall at word boundaries (a word is a run of non-space characters). Finding the cut costs
O(log n) tokenizer calls on bounded prefixes, never one call per word: a 100k-character caption
is cut as fast as a 100-word one.

    >>> w = window(lambda t: t.split(), context_length=6)   # a toy "tokenizer": one id per word
    >>> w.budget
    4
    >>> f = w.fit("a red circle on a blue square")
    >>> f.text, f.dropped, f.tokens, f.cut_char
    ('a red circle on', 'a blue square', 7, 16)
    >>> w.split("a red circle on a blue square")
    ['a red circle on', 'a blue square']
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

#: tokens of one CLIP text window (start + 75 content + end): the default for bare tokenizers
DEFAULT_CONTEXT_LENGTH = 77
#: start-of-text and end-of-text tokens every window spends besides its content
SPECIAL_TOKENS = 2

_WORD = re.compile(r"\S+")

TokenSource = Union[Any, Callable[[str], Sequence[int]]]


def budget_for(context_length: int) -> int:
    """Content tokens that fit a window of `context_length` tokens (77 -> 75).

    >>> budget_for(77)
    75
    """
    return int(context_length) - SPECIAL_TOKENS


@dataclass(frozen=True)
class Fit:
    """How a text fits one window: what the model reads (`text`) and what it never sees (`dropped`).

    `cut_char` is the character offset in the original text where `dropped` begins (None when
    everything fits); `tokens` counts the whole text, `kept_tokens` the kept part.
    """

    text: str
    dropped: str
    tokens: int
    kept_tokens: int
    budget: int
    cut_char: int | None = None

    @property
    def fits(self) -> bool:
        """True when nothing is dropped."""
        return self.cut_char is None

    def to_dict(self) -> dict:
        return {"text": self.text, "dropped": self.dropped, "tokens": self.tokens, "kept_tokens": self.kept_tokens,
                "budget": self.budget, "cut_char": self.cut_char, "fits": self.fits}


class TokenWindow:
    """The token window of one encoder or tokenizer: `count`, `fits`, `fit`, `cut`, `split`.

    Build it with `window(source)`. `ids(text)` are the content ids (no start/end tokens, no
    truncation) of the source's own tokenizer, so counts are the model's counts.
    """

    def __init__(self, ids: Callable[[str], Sequence[int]], context_length: int, name: str = ""):
        self.ids = ids
        self.context_length = int(context_length)
        self.budget = budget_for(self.context_length)
        self.name = name
        if self.budget < 1:
            raise ValueError(f"context_length={context_length} leaves no room for content tokens")

    def __repr__(self) -> str:
        return f"<TokenWindow {self.name or '?'} budget={self.budget}>"

    # ------------------------------------------------------------------ counting
    def count(self, text: str) -> int:
        """Content tokens of `text` (without start/end tokens), untruncated."""
        return len(self.ids(text)) if text else 0

    def fits(self, text: str, budget: int | None = None) -> bool:
        """True when `text` fits `budget` content tokens (default: the window's budget)."""
        return self.count(text) <= self._budget(budget)

    def _budget(self, budget: int | None) -> int:
        if budget is None:
            return self.budget
        if int(budget) < 1:
            raise ValueError(f"budget must be >= 1, got {budget}")
        return int(budget)

    # ------------------------------------------------------------------ cutting
    def _prefix_end(self, text: str, start: int, limit: int) -> tuple[int, int]:
        """(end char, tokens) of the longest prefix of `text[start:]` within `limit` tokens.

        The prefix ends at a word end when at least one whole word fits, else inside the first
        word (a "word" longer than the window). Binary search over word prefixes: each word
        gives at least one token, so the cut lies within the first `limit + 1` words and only
        those are tokenized (verified; if a tokenizer breaks that rule the search widens).
        """
        words = [m.span() for m in _WORD.finditer(text, start)]
        if not words:
            return len(text), 0

        def cost(k: int) -> int:  # tokens of the first k words
            return self.count(text[start:words[k - 1][1]]) if k else 0

        hi = min(len(words), limit + 1)
        c_hi = cost(hi)
        if c_hi <= limit:
            if hi == len(words):
                return len(text), c_hi
            hi = len(words)  # zero-token "words": search the whole text
            c_hi = cost(hi)
            if c_hi <= limit:
                return len(text), c_hi
        lo, c_lo = 0, 0  # invariant: cost(lo) <= limit < cost(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            c = cost(mid)
            if c <= limit:
                lo, c_lo = mid, c
            else:
                hi = mid
        if lo:
            return words[lo - 1][1], c_lo
        # the first word alone is over the limit: keep its longest fitting character prefix
        ws, we = words[0]
        a, b, c_a = ws, we, 0  # count(text[start:a]) <= limit < count(text[start:b])
        while b - a > 1:
            mid = (a + b) // 2
            c = self.count(text[start:mid])
            if c <= limit:
                a, c_a = mid, c
            else:
                b = mid
        return (a, c_a) if a > ws else (ws + 1, self.count(text[start:ws + 1]))

    def fit(self, text: str, budget: int | None = None) -> Fit:
        """Cut `text` to `budget` content tokens at a word boundary: kept text, remainder, offsets.

        One tokenization of the whole text (for `tokens`) plus O(log n) of bounded prefixes.
        """
        limit = self._budget(budget)
        total = self.count(text)
        if total <= limit:
            return Fit(text, "", total, total, limit, None)
        end, kept = self._prefix_end(text, 0, limit)
        nxt = _WORD.search(text, end)  # the next word, or the rest of a word cut inside
        at = nxt.start() if nxt else len(text)
        return Fit(text[:end].rstrip(), text[at:], total, kept, limit, at)

    def cut(self, text: str, budget: int | None = None) -> tuple[str, str]:
        """(kept, dropped): `fit` without the counts.

        >>> window(lambda t: t.split(), context_length=4).cut("one two three")
        ('one two', 'three')
        """
        f = self.fit(text, budget)
        return f.text, f.dropped

    def cut_char(self, text: str, budget: int | None = None) -> int | None:
        """Character offset where the part the model never reads begins (None: all fits)."""
        return self.fit(text, budget).cut_char

    def split(self, text: str, budget: int | None = None) -> list[str]:
        """Split `text` into consecutive windows of at most `budget` tokens, cut at word boundaries.

        An empty or blank text gives ``[text]``; a word longer than a window is split inside.
        """
        limit = self._budget(budget)
        pieces: list[str] = []
        pos = 0
        while True:
            m = _WORD.search(text, pos)
            if m is None:
                break
            end, _ = self._prefix_end(text, m.start(), limit)
            pieces.append(text[m.start():end].strip())
            pos = end
        return pieces or [text]


def window(source: TokenSource, context_length: int | None = None) -> TokenWindow:
    """The `TokenWindow` of an encoder (`token_ids` + `context_length`) or of a tokenizer callable.

    A callable must return the *content* ids of a text (no start/end tokens, no truncation);
    its context length defaults to CLIP's 77.

    >>> window(lambda t: t.split()).budget
    75
    """
    if isinstance(source, TokenWindow):
        return source
    if hasattr(source, "token_ids"):
        ctx = context_length or getattr(source, "context_length", None) or DEFAULT_CONTEXT_LENGTH
        return TokenWindow(source.token_ids, ctx, str(getattr(source, "name", "")))
    if callable(source):
        return TokenWindow(source, context_length or DEFAULT_CONTEXT_LENGTH, getattr(source, "__name__", ""))
    raise TypeError(f"need an encoder (with token_ids) or a tokenizer callable, got {type(source).__name__}")


# ---------------------------------------------------------------------------------- function forms
def text_budget(source: TokenSource) -> int:
    """Content tokens per window of `source` (context length minus start and end tokens)."""
    return window(source).budget


def count_tokens(source: TokenSource, text: str) -> int:
    """Content tokens of `text` under `source`'s tokenizer."""
    return window(source).count(text)


def fit_text(source: TokenSource, text: str, budget: int | None = None) -> Fit:
    """`TokenWindow.fit` for `source`."""
    return window(source).fit(text, budget)


def cut_text(source: TokenSource, text: str, budget: int | None = None) -> tuple[str, str]:
    """`TokenWindow.cut` for `source`: (kept, dropped)."""
    return window(source).cut(text, budget)


def split_windows(source: TokenSource, text: str, budget: int | None = None) -> list[str]:
    """`TokenWindow.split` for `source`."""
    return window(source).split(text, budget)
