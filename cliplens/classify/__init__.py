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

from .tags import SCORE_KINDS, Tagger, TagResult, TagsResult, calibrate_thresholds, read_thresholds, tag
from .templates import IMAGENET7, SHORT, TEMPLATE_SETS, imagenet_templates, load_templates
from .zeroshot import (NONE_LABEL, ClassifyResult, Prediction, ZeroShotClassifier, calibrate_none_margin,
                       check_labels, classifier, classify)

__all__ = ["SCORE_KINDS", "Tagger", "TagResult", "TagsResult", "calibrate_thresholds", "read_thresholds", "tag",
           "IMAGENET7", "SHORT", "TEMPLATE_SETS", "imagenet_templates", "load_templates", "NONE_LABEL",
           "ClassifyResult", "Prediction", "ZeroShotClassifier", "calibrate_none_margin", "check_labels",
           "classifier", "classify"]
