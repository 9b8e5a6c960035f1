"""Zero-shot classification and multi-label tagging. One call each, returning a `Result`:

    classify(enc, images, labels)        -> ClassifyResult   (`cliplens classify`, /api/classify)
    tag(enc, images, vocabulary)         -> TagsResult       (`cliplens tag`, /api/tag)

Writing results where they are used (CSV/JSONL, .txt/.xmp sidecars) is `cliplens.io`'s job.

    >>> from cliplens import load_encoder
    >>> from cliplens.classify import classify
    >>> enc = load_encoder("toyclip")                                           # doctest: +SKIP
    >>> classify(enc, ["shape.png"], ["circle", "square", "star"]).results[0].label   # doctest: +SKIP
    'circle'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (issue 13): `import cliplens.classify` is cheap; each name imports its submodule on first use.
#: public name -> submodule that defines it
_WHERE = {
    "SCORE_KINDS": ".tags", "Tagger": ".tags", "TagResult": ".tags", "TagsResult": ".tags",
    "calibrate_thresholds": ".tags", "read_thresholds": ".tags", "tag": ".tags", "IMAGENET7": ".templates",
    "SHORT": ".templates", "TEMPLATE_SETS": ".templates", "imagenet_templates": ".templates",
    "load_templates": ".templates", "NONE_LABEL": ".zeroshot", "ClassifyResult": ".zeroshot",
    "Prediction": ".zeroshot", "ZeroShotClassifier": ".zeroshot", "calibrate_none_margin": ".zeroshot",
    "check_labels": ".zeroshot", "classifier": ".zeroshot", "classify": ".zeroshot",
}

__all__ = ["SCORE_KINDS", "Tagger", "TagResult", "TagsResult", "calibrate_thresholds", "read_thresholds", "tag",
           "IMAGENET7", "SHORT", "TEMPLATE_SETS", "imagenet_templates", "load_templates", "NONE_LABEL",
           "ClassifyResult", "Prediction", "ZeroShotClassifier", "calibrate_none_margin", "check_labels",
           "classifier", "classify"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .tags import SCORE_KINDS, Tagger, TagResult, TagsResult, calibrate_thresholds, read_thresholds, tag  # noqa: F401
    from .templates import IMAGENET7, SHORT, TEMPLATE_SETS, imagenet_templates, load_templates  # noqa: F401
    from .zeroshot import (NONE_LABEL, ClassifyResult, Prediction, ZeroShotClassifier, calibrate_none_margin,
                           check_labels, classifier, classify)


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
