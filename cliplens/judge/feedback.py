"""Per-keyword feedback: which words of a prompt show in the image, and what shows that was not asked for.

For each phrase p of a prompt P and image v, two numbers (both in cosine units):

- ``presence = cos(v, p) - cos(v, neutral)``: the phrase alone against a baseline text that says
  nothing ("a picture", "an image", "a photo", averaged). A phrase the image shows beats "a
  picture"; one it does not show loses to it. This decides the verdict (present if >= margin).
- ``contribution = cos(v, P) - cos(v, P without p)``: leave-one-out: how much the whole prompt's
  match relies on this phrase (negative: the image fits better without it).

The reverse question — vocabulary phrases the image shows that the prompt did not ask for — is
answered by ranking a vocabulary against the image, dropping phrases the prompt already says,
and keeping those that raise the prompt's own score when appended: ``cos(v, P + ", " + q) > cos(v, P)``.

    >>> fb = keyword_feedback(enc, "red.png", "red, blue, circle, pixel art")   # doctest: +SKIP
    >>> [(k.phrase, k.verdict) for k in fb.keywords]                            # doctest: +SKIP
    [('red', 'present'), ('blue', 'absent'), ('circle', 'present'), ('pixel art', 'absent')]
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..defaults import FEEDBACK_MARGIN, FEEDBACK_UNREQUESTED_K
from ..errors import InvalidInputError
from ..images import ImageInput
from ..models.encoder import Encoder
from ..results import Result, jsonable
from ..text.phrases import split_keywords, strip_emphasis
from .scores import PAPER_W, _names, image_vectors

NEUTRAL_TEXTS = ("a picture", "an image", "a photo")


@dataclass
class KeywordScore:
    """One phrase's feedback (cosine units) and its verdict."""

    phrase: str
    presence: float
    contribution: float
    own_cosine: float
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Unrequested:
    """A vocabulary phrase the image shows that the prompt did not ask for."""

    phrase: str
    cosine: float
    gain: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Feedback(Result):
    """Per-keyword feedback of one image against one prompt (phrases in prompt order).

    `prompt_cosine` is the whole prompt's cosine; `prompt_clip_s` the same on the paper's
    CLIP-S scale (2.5 * max(cos, 0), 0..2.5), so no surface has to recompute it.
    """

    image: str
    prompt: str
    prompt_cosine: float
    baseline_cosine: float
    keywords: list[KeywordScore]
    unrequested: list[Unrequested] = field(default_factory=list)
    margin: float = 0.0
    model: str = ""

    @property
    def prompt_clip_s(self) -> float:
        return round(PAPER_W * max(self.prompt_cosine, 0.0), 6)

    def ranked(self) -> list[KeywordScore]:
        """Keywords from most to least present."""
        return sorted(self.keywords, key=lambda k: -k.presence)

    def to_dict(self) -> dict:
        return jsonable({"model": self.model, "image": self.image, "prompt": self.prompt,
                         "prompt_cosine": self.prompt_cosine, "prompt_clip_s": self.prompt_clip_s,
                         "baseline_cosine": self.baseline_cosine, "margin": self.margin,
                         "keywords": [k.to_dict() for k in self.keywords],
                         "unrequested": [u.to_dict() for u in self.unrequested], "errors": self.errors})


def _mentions(prompt_lower: str, phrase: str) -> bool:
    words = [w for w in re.findall(r"\w+", phrase.lower()) if len(w) > 2 and w not in {"the", "and", "with"}]
    return bool(words) and all(re.search(rf"\b{re.escape(w)}", prompt_lower) for w in words)


def keyword_feedback(
    encoder: Encoder,
    image: ImageInput,
    prompt: str,
    *,
    phrases: Sequence[str] | None = None,
    vocabulary: Sequence[str] | str | None = None,
    unrequested_k: int = FEEDBACK_UNREQUESTED_K,
    candidates: int = 64,
    margin: float = FEEDBACK_MARGIN,
    neutral: Sequence[str] = NEUTRAL_TEXTS,
) -> Feedback:
    """Per-phrase presence and contribution for one image, and unrequested vocabulary phrases.

    `phrases` overrides the automatic split. `vocabulary` (a list of phrases, or a vocabulary
    name/file for `cliplens.vocab.load_vocabulary`) enables the "shows but not asked for" list.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("empty prompt: give the prompt whose keywords should be checked")
    if unrequested_k < 0:
        raise InvalidInputError(f"unrequested_k must be >= 0 (got {unrequested_k})")
    parts = [strip_emphasis(p) for p in phrases] if phrases else split_keywords(prompt)
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidInputError("no phrases to check: give non-empty phrases")
    if not neutral:
        raise InvalidInputError("need at least one neutral baseline text")
    iv, _ = image_vectors(encoder, [image], on_error="raise")  # one image: nothing to say without it
    v = iv[0].astype(np.float64)
    joined = ", ".join(parts)
    loo = [", ".join(p for j, p in enumerate(parts) if j != i) or " ".join(neutral[:1]) for i in range(len(parts))]
    texts = [joined, *loo, *parts, *neutral]
    sims = encoder.encode_texts(texts).astype(np.float64) @ v
    n = len(parts)
    full = float(sims[0])
    base = float(np.mean(sims[1 + 2 * n:]))
    kws = []
    for i, p in enumerate(parts):
        own = float(sims[1 + n + i])
        pres = own - base
        kws.append(KeywordScore(p, round(pres, 6), round(full - float(sims[1 + i]), 6), round(own, 6),
                                "present" if pres >= margin else "absent"))
    unreq: list[Unrequested] = []
    if vocabulary is not None and unrequested_k > 0:
        unreq = _unrequested(encoder, v, prompt, joined, full, vocabulary, unrequested_k, candidates)
    return Feedback(_names([image])[0], prompt, round(full, 6), round(base, 6), kws, unreq, margin, encoder.name)


def _unrequested(encoder: Encoder, v: np.ndarray, prompt: str, joined: str, full: float,
                 vocabulary: Sequence[str] | str, k: int, candidates: int) -> list[Unrequested]:
    from ..vocab import LabelTable, load_vocabulary

    phrases = load_vocabulary(vocabulary) if isinstance(vocabulary, str) else list(vocabulary)
    if not phrases:
        raise InvalidInputError("the vocabulary is empty")
    table = LabelTable(encoder, phrases, name=vocabulary if isinstance(vocabulary, str) else "feedback-vocab")
    top = table.top_k(v.astype(np.float32), k=min(len(table.phrases), max(candidates, k)))
    low = prompt.lower()
    cands = [(p, float(s)) for p, s in zip(top.phrases[0], top.scores[0]) if not _mentions(low, p)]
    if not cands:
        return []
    sims = encoder.encode_texts([f"{joined}, {p}" for p, _ in cands]).astype(np.float64) @ v
    found = [Unrequested(p, round(c, 6), round(float(s) - full, 6)) for (p, c), s in zip(cands, sims) if s > full]
    found.sort(key=lambda u: -u.gain)
    return found[:k]
