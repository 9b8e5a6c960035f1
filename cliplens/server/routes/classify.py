"""Classify endpoints: zero-shot labels (`classify.classify`) and multi-label tags (`classify.tag`).

Bounds on work that multiplies are in the form models: label count, template count, and
labels x templates (the texts encoded per request), so one request cannot hold the model for
a minute (issue 14). Label sets a client sends are embedded in memory only (the library's LRU,
``label_cache="memory"``), never written to the disk cache; built-in vocabularies use the disk cache.
"""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from pydantic import Field, field_validator, model_validator

from ... import defaults
from ...errors import InvalidInputError
from ..deps import get_state
from ..state import ServerState
from .judge import FormModel, Images, Text, image_items, renamed, split_form_list, vocabulary_arg, within_limits

router = APIRouter(prefix="/api", tags=["classify"])

TEMPLATE_SET_NAMES = ("imagenet80", "imagenet7", "short", "photo", "none")


def _templates(v: Any) -> str | list[str]:
    """A template set name, or templates with '{}' (repeated fields or one JSON list); never a file."""
    items = split_form_list(v)
    if isinstance(items, list) and len(items) == 1 and items[0] in TEMPLATE_SET_NAMES:
        return items[0]
    if isinstance(items, list) and items and all(isinstance(t, str) and t.count("{}") == 1 for t in items):
        return items
    raise ValueError(f"use one of {', '.join(TEMPLATE_SET_NAMES)}, a template with {{}}, or a JSON list of them")


def _template_count(t: str | list[str]) -> int:
    if isinstance(t, list):
        return len(t)
    from ...classify import load_templates

    return len(load_templates(t))


class ClassifyForm(FormModel):
    labels: list[Text] = Field(min_length=1, max_length=defaults.MAX_LABELS,
                               description="Class names (repeat, JSON array, or one per line)")
    templates: list[Text] | str = Field(defaults.CLASSIFY_TEMPLATES, description="imagenet7 (default) | imagenet80 | "
                                        "short | photo | none | templates with {} (repeat or a JSON list)")
    top_k: int = Field(defaults.CLASSIFY_TOP_K, ge=1, le=100)
    min_prob: float | None = Field(None, ge=0.0, le=1.0, description="'none of these' below this top probability")
    none_margin: float | None = Field(None, ge=-2.0, le=2.0, description="'none of these' below this margin over a "
                                      "neutral text")

    _split = field_validator("labels", "paths", mode="before")(classmethod(lambda cls, v: split_form_list(v)))

    @field_validator("templates", mode="before")
    @classmethod
    def _tmpl(cls, v: Any) -> str | list[str]:
        t = _templates(v)
        if isinstance(t, list) and len(t) > defaults.MAX_TEMPLATES:
            raise ValueError(f"at most {defaults.MAX_TEMPLATES} templates")
        return t

    @model_validator(mode="after")
    def _work(self) -> ClassifyForm:
        n = len(self.labels) * _template_count(self.templates)
        if n > defaults.MAX_LABEL_TEXTS:
            raise ValueError(f"labels x templates is {n} texts; the limit is {defaults.MAX_LABEL_TEXTS} "
                             "(use fewer labels or a smaller template set)")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("a label appears twice")
        return self


@router.post("/classify", summary="Zero-shot classification: labels with prompt-template ensembles")
async def classify(st: Annotated[ServerState, Depends(get_state)], form: Annotated[ClassifyForm, Form()],
                   images: Images = None) -> dict[str, Any]:
    """Softmax over the labels at the model's logit scale; per image the top-k with probabilities.
    Same document as `cliplens classify --json` (`classify.classify(...).to_dict()`).

    Example: `curl -F images=@a.png -F labels=circle -F labels=square http://127.0.0.1:8000/api/classify`
    """
    from ...classify import classify as classify_fn
    from ..inputs import read_uploads

    within_limits(st, form.labels, "labels")
    uploads = await read_uploads(images, st.config.limits)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, form.paths)
        if not items:
            raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
        r = classify_fn(enc, items, form.labels, templates=form.templates, top_k=form.top_k, min_prob=form.min_prob,
                        none_margin=form.none_margin, label_cache="memory")
        for p, name in zip(r.results, names):
            p.image = name
        r.errors = renamed(r.errors, names, on_error=form.on_error)
        return r.to_dict()

    return await st.run_locked(form.model, work)


class TagForm(FormModel):
    vocabulary: str = Field(defaults.TAG_VOCABULARY, min_length=1, max_length=defaults.MAX_LABELS * 100,
                            description="Built-in vocabulary name or a JSON list of tags")
    score: str = Field(defaults.TAG_SCORE, pattern="^(margin|cosine|z)$", description="margin | cosine | z")
    threshold: float | None = Field(None, ge=-100.0, le=100.0, description="Default threshold for every tag")
    thresholds: str | None = Field(None, max_length=defaults.MAX_LABELS * 100, description='JSON {"tag": threshold} overrides')
    template: Text = Field(defaults.TAG_TEMPLATE, description="How a tag is written for CLIP, with {}")
    top_k: int = Field(defaults.TAG_TOP_K, ge=1, le=defaults.MAX_TAG_TOP_K, description="At most this many tags per image")

    _split = field_validator("paths", mode="before")(classmethod(lambda cls, v: split_form_list(v)))

    @field_validator("template")
    @classmethod
    def _one_slot(cls, v: str) -> str:
        if v.count("{}") != 1:
            raise ValueError("the template must contain {} exactly once")
        return v


@router.post("/tag", summary="Multi-label tags from a vocabulary, with per-tag thresholds")
async def tag(st: Annotated[ServerState, Depends(get_state)], form: Annotated[TagForm, Form()],
              images: Images = None) -> dict[str, Any]:
    """Every tag whose score reaches its threshold, best first (score `margin`: cosine minus a neutral
    text's). Same document as `cliplens tag --json` (`classify.tag(...).to_dict()`)."""
    from ...classify import tag as tag_fn
    from ..inputs import read_uploads

    lim = st.config.limits
    vocab = vocabulary_arg(form.vocabulary, lim)
    if isinstance(vocab, list) and len(vocab) > defaults.MAX_LABELS:
        raise InvalidInputError(f"{len(vocab)} tags; the limit is {defaults.MAX_LABELS}")
    per: dict[str, float] = {}
    if form.thresholds:
        try:
            per = json.loads(form.thresholds)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"thresholds must be a JSON object ({exc.msg})") from None
        if not isinstance(per, dict) or not all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in per.items()):
            raise InvalidInputError('thresholds must look like {"tag": 0.02}')
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, form.paths)
        if not items:
            raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
        r = tag_fn(enc, items, vocab, threshold=form.threshold, thresholds=per, score=form.score,
                   template=form.template, top_k=form.top_k,
                   label_cache="disk" if isinstance(vocab, str) else "memory")
        for x, name in zip(r.results, names):
            x.image = name
        r.errors = renamed(r.errors, names, on_error=form.on_error)
        return r.to_dict()

    return await st.run_locked(form.model, work)
