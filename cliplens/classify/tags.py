"""Multi-label tagging: every vocabulary phrase the image shows, with per-tag thresholds.

Unlike classification (exactly one label wins), tagging asks of each phrase independently
"is this in the picture?". Raw cosines are not comparable across phrases (some texts sit
closer to every image), so the default score is the **margin**: the phrase's cosine minus the
image's cosine to neutral texts ("a picture", "an image", "a photo"). A tag is kept when its
margin reaches its threshold: 0.0 by default (the phrase beats a text that says nothing),
overridable per tag from a dict or a file, or fitted to labelled examples with
`calibrate_thresholds`. Other scores: ``cosine`` (raw) and ``z`` (standardised over the
vocabulary, per image).

    >>> tagger = Tagger(enc, ["red", "blue", "circle", "star", "pixel art"])   # doctest: +SKIP
    >>> tagger.tag(["red_circle.png"])[0].tags                                # doctest: +SKIP
    [('circle', 0.081), ('red', 0.064)]
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..defaults import ON_ERROR, ON_ERROR_CHOICES, TAG_SCORE, TAG_TEMPLATE, TAG_TOP_K
from ..errors import InvalidInputError
from ..images import ImageInput
from ..judge.scores import _names, image_vectors
from ..models.encoder import Encoder
from ..results import ItemError, Result, jsonable
from .lru import cached
from .zeroshot import NEUTRAL_TEXTS

SCORE_KINDS = ("margin", "cosine", "z")


@dataclass
class TagResult:
    """Tags of one image, best first, as (tag, score); `error` when the image could not be read."""

    image: str
    tags: list[tuple[str, float]]
    error: str | None = None

    def to_dict(self) -> dict:
        d = {"image": self.image, "tags": [{"tag": t, "score": s} for t, s in self.tags]}
        if self.error:
            d["error"] = self.error
        return jsonable(d)


def read_thresholds(path: str | os.PathLike) -> dict[str, float]:
    """Per-tag thresholds from JSON (``{"tag": 0.02}``) or lines ``tag<TAB or comma>threshold``.

    The last comma/tab on a line separates the number, so tags may contain commas.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"thresholds file {p} not found")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{p}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"{p}: expected an object mapping tag -> threshold")
        items = list(data.items())
    else:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cut = max(line.rfind("\t"), line.rfind(","))
            if cut <= 0:
                raise InvalidInputError(f"{p}:{n}: expected 'tag,threshold' (or tag<TAB>threshold), got {line!r}")
            items.append((line[:cut].strip(), line[cut + 1:].strip()))
    out: dict[str, float] = {}
    for tag, val in items:
        try:
            out[str(tag)] = float(val)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{p}: threshold for {tag!r} is not a number: {val!r}") from None
    return out


class Tagger:
    """Tag images with the phrases of a vocabulary whose score reaches each tag's threshold.

    Args:
        encoder: the CLIP encoder.
        vocabulary: a list of phrases, or a name/file for `cliplens.vocab.load_vocabulary`.
        threshold: the default threshold (for `score="margin"`: 0.0).
        thresholds: per-tag overrides (dict, or a file read by `read_thresholds`).
        score: ``margin`` (default) | ``cosine`` | ``z``.
        template: how a tag is written for CLIP, e.g. ``"{}"`` (default) or ``"a photo of {}"``.
    """

    def __init__(self, encoder: Encoder, vocabulary: Sequence[str] | str | os.PathLike, *, threshold: float | None = None,
                 thresholds: Mapping[str, float] | str | os.PathLike | None = None, score: str = TAG_SCORE,
                 template: str = TAG_TEMPLATE, cache: bool = True):
        from ..vocab import LabelTable, load_vocabulary

        if score not in SCORE_KINDS:
            raise InvalidInputError(f"score={score!r}: use one of {', '.join(SCORE_KINDS)}")
        if template.count("{}") != 1:
            raise InvalidInputError(f"tag template {template!r} must contain {{}} exactly once")
        if isinstance(vocabulary, (str, os.PathLike)):
            phrases = load_vocabulary(str(vocabulary))
            name = Path(str(vocabulary)).stem or "tags"
        else:
            phrases = [str(p).strip() for p in vocabulary]
            name = "tags"
        phrases = list(dict.fromkeys(p for p in phrases if p))
        if not phrases:
            raise InvalidInputError("the tag vocabulary is empty")
        self.encoder = encoder
        self.tags = phrases
        self.score = score
        self.default_threshold = float(threshold) if threshold is not None else {"margin": 0.0, "cosine": 0.25, "z": 2.0}[score]
        per = read_thresholds(thresholds) if isinstance(thresholds, (str, os.PathLike)) else dict(thresholds or {})
        unknown = [t for t in per if t not in set(phrases)]
        if unknown:
            raise InvalidInputError(f"threshold given for {unknown[0]!r}, which is not in the vocabulary")
        self.thresholds = np.array([per.get(t, self.default_threshold) for t in phrases], np.float32)
        table = LabelTable(encoder, [template.replace("{}", p) for p in phrases], name=f"tags-{name}", cache=cache)
        self.vectors = table.numpy()
        self.neutral = encoder.encode_texts(list(NEUTRAL_TEXTS)).mean(axis=0)
        self.neutral /= np.linalg.norm(self.neutral)

    def scores(self, image_vecs: np.ndarray) -> np.ndarray:
        """(n, n_tags) scores of the chosen kind."""
        c = image_vecs @ self.vectors.T
        if self.score == "cosine":
            return c
        if self.score == "z":
            return (c - c.mean(axis=1, keepdims=True)) / np.maximum(c.std(axis=1, keepdims=True), 1e-8)
        return c - (image_vecs @ self.neutral)[:, None]

    def tag(self, images: Sequence[ImageInput], *, top_k: int | None = TAG_TOP_K, on_error: str = ON_ERROR,
            use_cache: bool = True, batch_size: int | None = None, progress: bool = False,
            errors: list[ItemError] | None = None) -> list[TagResult]:
        """Tags per image (best first), at most `top_k` (None: all that pass); unreadable images get an `error`."""
        if top_k is not None and top_k < 1:
            raise InvalidInputError(f"top_k must be >= 1 (got {top_k})")
        max_tags = top_k
        images = list(images) if not isinstance(images, (str, bytes, os.PathLike)) else [images]
        if not images:
            raise InvalidInputError("no images to tag")
        iv, errs = image_vectors(self.encoder, images, on_error=on_error, use_cache=use_cache, batch_size=batch_size,
                                 progress=progress)
        if errors is not None:
            errors.extend(errs)
        bad = {e.index: e.reason for e in errs}
        names = _names(images)
        ok = [i for i in range(len(images)) if i not in bad]
        s = np.zeros((len(images), len(self.tags)), np.float32)
        if ok:
            s[ok] = self.scores(iv[ok])
        out = []
        for i in range(len(images)):
            if i in bad:
                out.append(TagResult(names[i], [], bad[i]))
                continue
            keep = np.nonzero(s[i] >= self.thresholds)[0]
            keep = keep[np.argsort(-s[i, keep], kind="stable")]
            if max_tags:
                keep = keep[:max_tags]
            out.append(TagResult(names[i], [(self.tags[j], round(float(s[i, j]), 6)) for j in keep]))
        return out


@dataclass
class TagsResult(Result):
    """Tags per image, best first (row i <-> image i; failed images: no tags, reason in `errors`)."""

    model: str
    vocabulary_size: int
    score: str
    results: list[TagResult]

    def to_dict(self) -> dict:
        rows = []
        for i, r in enumerate(self.results):
            d = r.to_dict()
            d.pop("error", None)
            rows.append({"index": i, **d})
        return jsonable({"model": self.model, "vocabulary_size": self.vocabulary_size, "score": self.score,
                         "results": rows, "errors": self.errors})


def tag(
    encoder: Encoder,
    images: Sequence[ImageInput],
    vocabulary: Sequence[str] | str | os.PathLike,
    *,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | str | os.PathLike | None = None,
    score: str = TAG_SCORE,
    template: str = TAG_TEMPLATE,
    top_k: int | None = TAG_TOP_K,
    on_error: str = ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
    label_cache: str = "disk",
) -> TagsResult:
    """Multi-label tagging, the one call: every vocabulary phrase each image shows, best first.

    `label_cache`: "disk" (tag embeddings cached on disk), "memory" (in-process LRU only: the
    server) or "none". Unreadable images become `ItemError`s and the batch goes on.

    >>> tag(enc, ["red_circle.png"], ["red", "blue", "circle"]).results[0].tags   # doctest: +SKIP
    [('circle', 0.081), ('red', 0.064)]
    """
    if on_error not in ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error={on_error!r}: use 'skip' or 'raise'")
    if label_cache not in ("disk", "memory", "none"):
        raise InvalidInputError(f"label_cache={label_cache!r}: use disk, memory or none")
    per = read_thresholds(thresholds) if isinstance(thresholds, (str, os.PathLike)) else dict(thresholds or {})
    vocab_key = str(vocabulary) if isinstance(vocabulary, (str, os.PathLike)) else tuple(vocabulary)
    build = lambda: Tagger(encoder, vocabulary, threshold=threshold, thresholds=per, score=score,  # noqa: E731
                           template=template, cache=label_cache == "disk")
    if label_cache == "none":
        tagger = build()
    else:
        tagger = cached(("tag", encoder.fingerprint, vocab_key, score, threshold, tuple(sorted(per.items())),
                         template, label_cache), build)
    errors: list[ItemError] = []
    results = tagger.tag(images, top_k=top_k, on_error=on_error, use_cache=use_cache, batch_size=batch_size,
                         progress=progress, errors=errors)
    return TagsResult(model=encoder.name, vocabulary_size=len(tagger.tags), score=score, results=results,
                      errors=errors)


def calibrate_thresholds(tagger: Tagger, images: Sequence[ImageInput], truth: Sequence[Sequence[str]]) -> dict[str, float]:
    """Per-tag thresholds that maximise each tag's F1 on labelled images (`truth[i]`: tags of image i).

    Tags never present in `truth` keep the tagger's default. Returns {tag: threshold}; pass it
    back as `Tagger(..., thresholds=...)` or save it as JSON for `--thresholds`.
    """
    if len(images) != len(truth) or not images:
        raise InvalidInputError("calibration needs one list of true tags per image (and some images)")
    iv, _ = image_vectors(tagger.encoder, list(images), on_error="raise")
    s = tagger.scores(iv)
    y = np.array([[t in set(tr) for t in tagger.tags] for tr in truth])
    out: dict[str, float] = {}
    for j, tag in enumerate(tagger.tags):
        if not y[:, j].any():
            continue
        col = s[:, j]
        vals = np.unique(col)
        cands = np.concatenate([(vals[1:] + vals[:-1]) / 2, [vals[0] - 1e-6]]) if vals.size > 1 else vals
        best_t, best_f = float(tagger.default_threshold), -1.0
        for t in cands:
            pred = col >= t
            tp = float((pred & y[:, j]).sum())
            f = 2 * tp / (pred.sum() + y[:, j].sum())
            if f > best_f:
                best_t, best_f = float(t), f
        out[tag] = round(best_t, 6)
    return out
