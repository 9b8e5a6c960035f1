"""Zero-shot classification and multi-label tagging, with writers for where results are used.

    >>> from cliplens import load_encoder
    >>> from cliplens.classify import ZeroShotClassifier, Tagger
    >>> enc = load_encoder("toyclip")
    >>> clf = ZeroShotClassifier(enc, ["circle", "square", "star"], templates="imagenet80")
    >>> clf.predict(["shape.png"])[0].label                                   # doctest: +SKIP
    'circle'
"""
from __future__ import annotations

from .tags import SCORE_KINDS, Tagger, TagResult, calibrate_thresholds, read_thresholds
from .templates import IMAGENET7, SHORT, TEMPLATE_SETS, imagenet_templates, load_templates
from .writers import (build_xmp, write_csv, write_jsonl, write_table, write_txt_sidecars, write_xmp_sidecars,
                      xmp_keywords, xmp_path)
from .zeroshot import NONE_LABEL, Prediction, ZeroShotClassifier, calibrate_none_margin, check_labels

__all__ = ["SCORE_KINDS", "Tagger", "TagResult", "calibrate_thresholds", "read_thresholds", "IMAGENET7", "SHORT",
           "TEMPLATE_SETS", "imagenet_templates", "load_templates", "build_xmp", "write_csv", "write_jsonl",
           "write_table", "write_txt_sidecars", "write_xmp_sidecars", "xmp_keywords", "xmp_path", "NONE_LABEL",
           "Prediction", "ZeroShotClassifier", "calibrate_none_margin", "check_labels"]
