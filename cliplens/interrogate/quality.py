"""What makes a prompt worth keeping: no repeated words, no near-duplicate phrases, parts with a confidence.

Three small rules every mode follows:

* **content words** (`content_words`): the words of a phrase that carry meaning, lower-cased, a
  plural ``s`` dropped; two parts of one prompt never share one (the caption counts as a part),
  so "on a white background" is not followed by "white background" and fast mode cannot stack
  fifteen "red ..." phrases.
* **near duplicates** (`PhraseGuard`): two phrases whose embeddings, centred on their table's mean
  (CLIP text vectors share a large common direction), are closer than a threshold never both
  appear ("a watercolor painting" / "watercolor wash").
* **confidence** (`confidence`): how far a phrase stands out from its own table for this image,
  ``z / sqrt(2 ln n)``, where ``z`` is its score's distance from the table's median score in robust
  standard deviations and ``sqrt(2 ln n)`` is how far the best of ``n`` unrelated phrases stands
  out by chance. Around 1 or more: the phrase stands out more than chance would make it; well
  below: a guess.

    >>> sorted(content_words("a large red star on the left, white backgrounds"))
    ['large', 'red', 'star', 'white']
    >>> g = PhraseGuard(blocked=content_words("a red heart"))
    >>> g.admits("red glow"), g.admits("neon glow")
    (False, True)
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

#: words that say nothing about the subject (two parts may share them)
STOP_WORDS = frozenset(
    "a an the of on in at to and or with by for from into onto over under near is are its it this that there "
    "side some two three four left right top bottom center centre background backgrounds".split())


def _stem(w: str) -> str:
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def content_words(text: str) -> set[str]:
    """Lower-cased meaningful words of `text`, plural ``s`` dropped (for "same word" checks).

    >>> sorted(content_words("two red stars by the river"))
    ['red', 'river', 'star']
    """
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS and len(w) > 1}


def repeated_words(parts: Iterable[str]) -> list[str]:
    """Content words that occur in more than one part (a prompt's repetitions), sorted.

    >>> repeated_words(["a red star", "red glow", "pixel art"])
    ['red']
    """
    seen: dict[str, int] = {}
    for p in parts:
        for w in content_words(p):
            seen[w] = seen.get(w, 0) + 1
    return sorted(w for w, n in seen.items() if n > 1)


def confidence(z: float, n: int) -> float:
    """A part's confidence from its robust z-score within a table of `n` phrases (see module doc).

    >>> round(confidence(3.0, 100), 3)
    0.988
    """
    return float(z) / math.sqrt(2.0 * math.log(max(int(n), 3)))


def robust_stats(scores: np.ndarray) -> tuple[float, float]:
    """(median, robust standard deviation = 1.4826 * MAD) of one table's scores for one image."""
    s = np.asarray(scores, dtype=np.float64)
    med = float(np.median(s))
    mad = float(np.median(np.abs(s - med))) * 1.4826
    if not mad > 1e-9:
        mad = float(s.std()) or 1e-9
    return med, mad


class PhraseGuard:
    """Admits a phrase into a prompt only if it repeats no content word and is no near duplicate.

    `blocked`: content words already used (the caption's). `threshold`: the centred-embedding
    cosine above which two phrases count as the same (None: word rule only). `add` records a
    chosen phrase (and its centred unit vector, if the embedding rule is on).
    """

    def __init__(self, blocked: Iterable[str] = (), threshold: float | None = None):
        self.used: set[str] = set(blocked)
        self.threshold = threshold
        self._vecs: list[np.ndarray] = []

    def admits(self, phrase: str, vec: np.ndarray | None = None) -> bool:
        words = content_words(phrase)
        if not words or words & self.used:
            return False
        if vec is not None and self.threshold is not None and self._vecs:
            if float(np.max(np.stack(self._vecs) @ vec)) > self.threshold:
                return False
        return True

    def add(self, phrase: str, vec: np.ndarray | None = None) -> None:
        self.used |= content_words(phrase)
        if vec is not None:
            self._vecs.append(np.asarray(vec, dtype=np.float32))
