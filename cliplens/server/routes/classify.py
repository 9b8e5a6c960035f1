"""Classify endpoints: zero-shot labels with template ensembles, and multi-label tags from a vocabulary.

Label sets a client sends are embedded in memory only (a small LRU), never written to the disk
cache, so no client can fill the server's disk; built-in vocabularies use the disk cache.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ...classify import SCORE_KINDS, TEMPLATE_SETS, Tagger, ZeroShotClassifier
from ...errors import InvalidInputError
from ..deps import get_state
from ..inputs import check_texts, decode_images, parse_texts, read_uploads
from ..state import ServerState
from .judge import vocabulary_arg

router = APIRouter(prefix="/api", tags=["classify"])

T = TypeVar("T")
_LRU: OrderedDict[tuple, Any] = OrderedDict()
_LRU_LOCK = threading.Lock()
_LRU_MAX = 16


def _cached(key: tuple, build: Callable[[], T]) -> T:
    with _LRU_LOCK:
        if key in _LRU:
            _LRU.move_to_end(key)
            return _LRU[key]
    obj = build()
    with _LRU_LOCK:
        _LRU[key] = obj
        while len(_LRU) > _LRU_MAX:
            _LRU.popitem(last=False)
    return obj


def templates_arg(value: str) -> str | list[str]:
    """A template set name or a JSON list of templates with '{}'; never a file on the server."""
    v = (value or "").strip()
    if v in TEMPLATE_SETS:
        return v
    if v.startswith("["):
        try:
            items = json.loads(v)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"templates is not a JSON list ({exc.msg})") from None
        if isinstance(items, list) and items and all(isinstance(t, str) and t.count("{}") == 1 for t in items):
            return items
    if v.count("{}") == 1 and not v.startswith(("/", ".", "~")):
        return [v]
    raise InvalidInputError(f"templates: use one of {', '.join(TEMPLATE_SETS)}, a template with {{}}, or a JSON list of them")


Images = Annotated[list[UploadFile] | None, File(description="Images (repeat the field)")]
Paths = Annotated[list[str] | None, Form(description="Image paths inside the served folders")]
Model = Annotated[str | None, Form(description="Served model name")]


@router.post("/classify", summary="Zero-shot classification: labels with prompt-template ensembles")
async def classify(
    st: Annotated[ServerState, Depends(get_state)],
    images: Images = None,
    paths: Paths = None,
    labels: Annotated[list[str] | None, Form(description="Class names (repeat, JSON array, or one per line)")] = None,
    templates: Annotated[str, Form(description="imagenet80 | imagenet7 | short | photo | none | a JSON list")] = "short",
    top_k: Annotated[int, Form()] = 5,
    min_prob: Annotated[float | None, Form(description="'none of these' below this top probability")] = None,
    none_margin: Annotated[float | None, Form(description="'none of these' below this margin over a neutral text")] = None,
    model: Model = None,
) -> dict[str, Any]:
    """Softmax over the labels at the model's logit scale; per image the top-k with probabilities.

    Example: `curl -F images=@a.png -F labels=circle -F labels=square http://127.0.0.1:8000/api/classify`
    """
    lim = st.config.limits
    labs = parse_texts(labels, lim, "labels")
    tmpl = templates_arg(templates)
    if not 1 <= top_k <= 100:
        raise InvalidInputError("top_k must be between 1 and 100")
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, list(paths or []), st.roots, lim, decode_paths=False, required=True)
        key = ("zs", enc.fingerprint, tuple(labs), tmpl if isinstance(tmpl, str) else tuple(tmpl))
        clf = _cached(key, lambda: ZeroShotClassifier(enc, labs, tmpl, cache=False))
        preds = clf.predict(imgs, top_k=min(top_k, len(labs)), min_prob=min_prob, none_margin=none_margin,
                            on_error="skip")
        rows = []
        for p, name in zip(preds, names):
            d = p.to_dict()
            d["image"] = name
            rows.append(d)
        return {"model": enc.name, "labels": labs, "templates": len(clf.templates), "results": rows}

    return await st.run_locked(model, work)


@router.post("/tag", summary="Multi-label tags from a vocabulary, with per-tag thresholds")
async def tag(
    st: Annotated[ServerState, Depends(get_state)],
    images: Images = None,
    paths: Paths = None,
    vocabulary: Annotated[str, Form(description="Built-in vocabulary name or a JSON list of tags")] = "mediums",
    score: Annotated[str, Form(description=" | ".join(SCORE_KINDS))] = "margin",
    threshold: Annotated[float | None, Form(description="Default threshold for every tag")] = None,
    thresholds: Annotated[str | None, Form(description='JSON {"tag": threshold} overrides')] = None,
    template: Annotated[str, Form(description="How a tag is written for CLIP, with {}")] = "{}",
    max_tags: Annotated[int | None, Form()] = 10,
    model: Model = None,
) -> dict[str, Any]:
    """Every tag whose score reaches its threshold, best first (score `margin`: cosine minus a neutral text's)."""
    lim = st.config.limits
    vocab = vocabulary_arg(vocabulary, lim)
    if vocab is None:
        raise InvalidInputError("give a vocabulary")
    if score not in SCORE_KINDS:
        raise InvalidInputError(f"score={score!r}: use one of {', '.join(SCORE_KINDS)}")
    check_texts([template], lim, "template")
    per: dict[str, float] = {}
    if thresholds:
        try:
            per = json.loads(thresholds)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"thresholds must be a JSON object ({exc.msg})") from None
        if not isinstance(per, dict) or not all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in per.items()):
            raise InvalidInputError('thresholds must look like {"tag": 0.02}')
    if max_tags is not None and not 1 <= max_tags <= 200:
        raise InvalidInputError("max_tags must be between 1 and 200")
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, list(paths or []), st.roots, lim, decode_paths=False, required=True)
        builtin = isinstance(vocab, str)
        key = ("tag", enc.fingerprint, vocab if builtin else tuple(vocab), score, threshold,
               tuple(sorted(per.items())), template)
        tagger = _cached(key, lambda: Tagger(enc, vocab, threshold=threshold, thresholds=per, score=score,
                                             template=template, cache=builtin))
        rows = []
        for r, name in zip(tagger.tag(imgs, max_tags=max_tags), names):
            d = r.to_dict()
            d["image"] = name
            rows.append(d)
        return {"model": enc.name, "vocabulary": vocab if builtin else f"{len(vocab)} tags", "score": score,
                "results": rows}

    return await st.run_locked(model, work)
