"""Zero-shot classification: labels -> template-ensemble text vectors -> softmax over images.

Each label's vector is the mean of its unit template embeddings, re-normalised (CLIP's recipe);
the templated texts go through a `LabelTable`, so they are encoded once per (model, label set,
template set) and cached on disk. Probabilities are ``softmax(logit_scale * cos)`` with the
model's own learned logit scale (100 for OpenAI CLIP).

"None of these": softmax always sums to 1 over the labels you gave, so a picture of a cat
classified among {dog, car} still gets a confident answer. Two guards, both optional:
``min_prob`` (the top label's probability) and ``none_margin``, which compares the top label's
cosine with the image's cosine to neutral texts ("a picture", "an image", "a photo"): a real
match beats a text that says nothing. `calibrate_none_margin` picks that margin from images
known to belong to the labels and images known not to.

    >>> clf = ZeroShotClassifier(enc, ["circle", "square", "star"], templates="short")   # doctest: +SKIP
    >>> clf.predict(["red_circle.png"], top_k=2)[0].top                                  # doctest: +SKIP
    [('circle', 0.93), ('star', 0.05)]
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..defaults import CLASSIFY_TEMPLATES, CLASSIFY_TOP_K, ON_ERROR, ON_ERROR_CHOICES
from ..errors import InvalidInputError
from ..images import ImageInput
from ..judge.scores import _names, image_vectors
from ..models.encoder import Encoder
from ..results import ItemError, Result, jsonable
from .lru import cached
from .templates import TEMPLATE_SETS, load_templates

NONE_LABEL = "none of these"
NEUTRAL_TEXTS = ("a picture", "an image", "a photo")


@dataclass
class Prediction:
    """Top-k labels of one image; `label` is the winner or ``"none of these"``; NaN-free."""

    image: str
    label: str
    top: list[tuple[str, float]]
    cosine: float
    margin: float
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Strict JSON: a failed image has null label/cosine/margin and its reason in `error`."""
        d = {"image": self.image, "label": self.label or None,
             "top": [{"label": lab, "prob": p} for lab, p in self.top], "cosine": self.cosine, "margin": self.margin}
        if self.error:
            d["error"] = self.error
        return jsonable(d)


def check_labels(labels: Sequence[str]) -> list[str]:
    """Validate labels: non-empty, unique strings, at least one."""
    if isinstance(labels, str):
        raise InvalidInputError("labels must be a list of strings (e.g. [\"cat\", \"dog\"]), not one string")
    out = [str(x).strip() for x in labels]
    if not out:
        raise InvalidInputError("no labels: give at least one label (two or more for a real choice)")
    if any(not x for x in out):
        raise InvalidInputError("empty label in the list; remove it")
    dup = [x for x in set(out) if out.count(x) > 1]
    if dup:
        raise InvalidInputError(f"label {dup[0]!r} appears twice")
    return out


class ZeroShotClassifier:
    """Classify images among `labels` with a template ensemble; label vectors are cached.

    Args:
        encoder: the CLIP encoder.
        labels: class names ("red", "pixel art", "golden retriever").
        templates: a set name (imagenet80 | imagenet7 | short | photo | none), a file, or a list.
        cache: keep templated label embeddings on disk (`cliplens.vocab.LabelTable`).
    """

    def __init__(self, encoder: Encoder, labels: Sequence[str],
                 templates: str | os.PathLike | Sequence[str] = CLASSIFY_TEMPLATES,
                 *, cache: bool = True, progress: bool = False):
        from ..vocab import LabelTable

        self.encoder = encoder
        self.labels = check_labels(labels)
        self.templates = load_templates(templates)
        texts = [t.replace("{}", lab) for lab in self.labels for t in self.templates]
        table = LabelTable(encoder, texts, name="zeroshot", cache=cache, progress=progress)
        emb = table.numpy() if hasattr(table, "numpy") else table.embeddings.float().cpu().numpy()
        emb = emb.reshape(len(self.labels), len(self.templates), -1).mean(axis=1)
        self.label_vectors = (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        self.neutral = encoder.encode_texts(list(NEUTRAL_TEXTS)).astype(np.float32)
        self.logit_scale = float(encoder.logit_scale)

    def cosines(self, image_vectors_: np.ndarray) -> np.ndarray:
        """(n, n_labels) cosine of image vectors with each label's ensemble vector."""
        return image_vectors_ @ self.label_vectors.T

    def probabilities(self, image_vectors_: np.ndarray) -> np.ndarray:
        """(n, n_labels) softmax(logit_scale * cos): CLIP's zero-shot probabilities."""
        z = self.logit_scale * self.cosines(image_vectors_).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def margins(self, image_vectors_: np.ndarray) -> np.ndarray:
        """Top label cosine minus the mean cosine with the neutral texts, per image."""
        return self.cosines(image_vectors_).max(axis=1) - (image_vectors_ @ self.neutral.T).mean(axis=1)

    def predict(
        self,
        images: Sequence[ImageInput],
        *,
        top_k: int = CLASSIFY_TOP_K,
        min_prob: float | None = None,
        none_margin: float | None = None,
        on_error: str = ON_ERROR,
        use_cache: bool = True,
        batch_size: int | None = None,
        progress: bool = False,
        errors: list[ItemError] | None = None,
    ) -> list[Prediction]:
        """Top-k labels per image; "none of these" when a guard says no label fits.

        Failed images get a `Prediction` with `error`; pass a list as `errors` to also collect
        them as `ItemError`s.
        """
        if top_k < 1:
            raise InvalidInputError(f"top_k must be >= 1 (got {top_k})")
        if min_prob is not None and not 0.0 <= min_prob <= 1.0:
            raise InvalidInputError(f"min_prob={min_prob}: a probability is between 0 and 1")
        images = list(images) if not isinstance(images, (str, bytes, os.PathLike)) else [images]
        if not images:
            raise InvalidInputError("no images to classify")
        iv, errs = image_vectors(self.encoder, images, on_error=on_error, use_cache=use_cache, batch_size=batch_size,
                                 progress=progress)
        if errors is not None:
            errors.extend(errs)
        bad = {e.index: e.reason for e in errs}
        ok = np.array([i not in bad for i in range(len(images))])
        probs = np.zeros((len(images), len(self.labels)), np.float32)
        cos = np.zeros_like(probs)
        margins = np.zeros(len(images), np.float32)
        if ok.any():
            probs[ok] = self.probabilities(iv[ok])
            cos[ok] = self.cosines(iv[ok])
            margins[ok] = self.margins(iv[ok])
        names = _names(images)
        k = min(top_k, len(self.labels))
        out = []
        for i in range(len(images)):
            if i in bad:
                out.append(Prediction(names[i], "", [], float("nan"), float("nan"), error=bad[i]))
                continue
            order = np.argsort(-probs[i], kind="stable")[:k]
            top = [(self.labels[j], round(float(probs[i, j]), 6)) for j in order]
            label = top[0][0]
            if (min_prob is not None and top[0][1] < min_prob) or (none_margin is not None and margins[i] < none_margin):
                label = NONE_LABEL
            out.append(Prediction(names[i], label, top, round(float(cos[i, order[0]]), 6), round(float(margins[i]), 6),
                                  scores={self.labels[j]: float(probs[i, j]) for j in range(len(self.labels))}))
        return out


@dataclass
class ClassifyResult(Result):
    """Zero-shot labels per image (row i <-> image i; failed images: null label, reason in `errors`).

    `templates` names the template set (or "custom") and `template_count` says how many texts
    each label's vector averages, so a reader can tell two runs' ensembles apart.
    """

    model: str
    labels: list[str]
    templates: str
    template_count: int
    results: list[Prediction]

    def to_dict(self) -> dict:
        rows = []
        for i, p in enumerate(self.results):
            d = p.to_dict()
            d.pop("error", None)
            rows.append({"index": i, **d})
        return jsonable({"model": self.model, "labels": self.labels, "templates": self.templates,
                         "template_count": self.template_count, "results": rows, "errors": self.errors})


LABEL_CACHES = ("disk", "memory", "none")


def classifier(encoder: Encoder, labels: Sequence[str], templates: str | os.PathLike | Sequence[str] = CLASSIFY_TEMPLATES,
               *, label_cache: str = "disk", progress: bool = False) -> ZeroShotClassifier:
    """A `ZeroShotClassifier`, reused from a small in-memory LRU for the same (model, labels, templates).

    `label_cache`: "disk" (label embeddings cached on disk too: the CLI), "memory" (never written to
    disk: what the server uses, so clients cannot fill its disk), "none" (built fresh).
    """
    if label_cache not in LABEL_CACHES:
        raise InvalidInputError(f"label_cache={label_cache!r}: use one of {', '.join(LABEL_CACHES)}")
    labs = check_labels(labels)
    tmpl = load_templates(templates)
    build = lambda: ZeroShotClassifier(encoder, labs, tmpl, cache=label_cache == "disk", progress=progress)  # noqa: E731
    if label_cache == "none":
        return build()
    return cached(("zs", encoder.fingerprint, tuple(labs), tuple(tmpl)), build)


def classify(
    encoder: Encoder,
    images: Sequence[ImageInput],
    labels: Sequence[str],
    *,
    templates: str | os.PathLike | Sequence[str] = CLASSIFY_TEMPLATES,
    top_k: int = CLASSIFY_TOP_K,
    min_prob: float | None = None,
    none_margin: float | None = None,
    on_error: str = ON_ERROR,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
    label_cache: str = "disk",
) -> ClassifyResult:
    """Zero-shot classification, the one call: the most likely of `labels` for each image.

    `templates` defaults to `cliplens.defaults.CLASSIFY_TEMPLATES` (OpenAI's 7-template ensemble)
    on every surface. Unreadable images become `ItemError`s (``on_error="skip"``) and the batch goes on.

    >>> r = classify(enc, ["shape.png"], ["circle", "square"])      # doctest: +SKIP
    >>> r.results[0].label                                         # doctest: +SKIP
    'circle'
    """
    if on_error not in ON_ERROR_CHOICES:
        raise InvalidInputError(f"on_error={on_error!r}: use 'skip' or 'raise'")
    clf = classifier(encoder, labels, templates, label_cache=label_cache, progress=progress)
    errors: list[ItemError] = []
    preds = clf.predict(images, top_k=top_k, min_prob=min_prob, none_margin=none_margin, on_error=on_error,
                        use_cache=use_cache, batch_size=batch_size, progress=progress, errors=errors)
    name = templates if isinstance(templates, str) and templates in TEMPLATE_SETS else "custom"
    return ClassifyResult(model=encoder.name, labels=clf.labels, templates=name, template_count=len(clf.templates),
                          results=preds, errors=errors)


def calibrate_none_margin(classifier: ZeroShotClassifier, known: Sequence[ImageInput],
                          unknown: Sequence[ImageInput]) -> float:
    """The `none_margin` that best separates images of the labels (`known`) from others (`unknown`).

    Chooses the midpoint threshold with the highest balanced accuracy over both sets.

    >>> t = calibrate_none_margin(clf, in_domain_paths, out_of_domain_paths)   # doctest: +SKIP
    """
    if not known or not unknown:
        raise InvalidInputError("calibration needs some images of the labels and some images of none of them")
    mk = classifier.margins(image_vectors(classifier.encoder, list(known))[0])
    mu = classifier.margins(image_vectors(classifier.encoder, list(unknown))[0])
    cands = np.unique(np.concatenate([mk, mu]))
    mids = np.concatenate([[cands[0] - 1e-6], (cands[1:] + cands[:-1]) / 2, [cands[-1] + 1e-6]])
    best, best_acc = float(mids[0]), -1.0
    for t in mids:
        acc = ((mk >= t).mean() + (mu < t).mean()) / 2
        if acc > best_acc:
            best, best_acc = float(t), acc
    return best
