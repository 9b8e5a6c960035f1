"""Judge endpoints: CLIPScore of (image, prompt) pairs, best-of-N, per-keyword feedback.

Each route parses its form (bounds live in the pydantic form models), calls exactly one library
function (`judge.clip_score`, `judge.rank`, `judge.keyword_feedback`) with the library's defaults,
and returns `result.to_dict()`. Uploads go to the library as bytes, so a broken upload becomes
one `ItemError` in `errors` like a broken file on the CLI, instead of failing the request.
"""
from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ... import defaults
from ...errors import ImageLoadError, InvalidInputError
from ...results import ItemError
from ...vocab import list_vocabularies
from ..config import Limits
from ..deps import get_state
from ..inputs import check_texts, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["judge"])

_LIM = Limits()
#: one text of a request (prompt, label, template, reference); the server's limit, as a bound
Text = Annotated[str, Field(min_length=1, max_length=_LIM.max_text_chars)]
Images = Annotated[list[UploadFile] | None, File(description="Images (repeat the field)")]
LongPrompts = Annotated[str, Field(pattern="^(warn|truncate|chunks|error)$", description="warn | truncate | chunks | error")]


def split_form_list(v: Any) -> Any:
    """Form lists arrive as repeated fields, one JSON array, or newline-separated text: -> a list."""
    if v is None:
        return v
    vals = v if isinstance(v, list) else [v]
    out: list[Any] = []
    for x in vals:
        s = x.strip() if isinstance(x, str) else x
        if isinstance(s, str) and s.startswith("[") and s.endswith("]"):
            try:
                arr = json.loads(s)
            except json.JSONDecodeError:
                arr = None
            if isinstance(arr, list):
                out.extend(arr)
                continue
        if isinstance(s, str) and "\n" in s:
            out.extend(line.strip() for line in s.splitlines() if line.strip())
        else:
            out.append(s)
    return out


class FormModel(BaseModel):
    """Base of the judge/classify form models (the upload fields arrive in the same form, so extra
    fields are ignored rather than refused)."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = Field(None, max_length=200, description="Served model name (default: the first)")
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list, max_length=_LIM.max_images, description="Image paths inside the served folders")
    on_error: Literal["skip", "raise"] = Field(
        defaults.ON_ERROR, description="A bad image: 'skip' (it becomes an item of `errors`, the rest go on) or 'raise' "
        "(the request fails with a 4xx naming it)")


def image_items(st: ServerState, uploads: list[tuple[str, bytes]], paths: list[str]) -> tuple[list[str], list]:
    """(names, inputs): uploads as bytes (decoded by the library, per-item errors), then served paths.

    A path outside the served folders refuses the request (nothing about the disk leaks); an
    upload over the pixel limit too (decompression bombs are not "a bad item").
    """
    from PIL import Image

    lim = st.config.limits
    if len(uploads) + len(paths) > lim.max_images:
        raise InvalidInputError(f"{len(uploads) + len(paths)} images in one request; the limit is {lim.max_images}")
    names, items = [], []
    for name, data in uploads:
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
        except Exception:  # noqa: BLE001  not an image: the library reports it as this item's error
            w = h = 0
        if w * h > lim.max_image_pixels:
            raise InvalidInputError(f"{name}: {w}x{h} is more than the {lim.max_image_pixels}-pixel limit")
        names.append(name)
        items.append(data)
    for p in paths:
        items.append(st.roots.resolve(p))
        names.append(p)
    return names, items


def within_limits(st: ServerState, texts: list[str] | None, what: str) -> None:
    """The served instance's own text limits (`create_app(limits=...)`), which may be stricter than the
    static bounds of the form models (those use the default `Limits()`)."""
    lim = st.config.limits
    texts = texts or []
    if len(texts) > lim.max_texts:
        raise InvalidInputError(f"{len(texts)} {what}; the limit is {lim.max_texts}")
    for t in texts:
        if len(t) > lim.max_text_chars:
            raise InvalidInputError(f"one of the {what} has {len(t)} characters; the limit is {lim.max_text_chars}")


def renamed(errors: list[ItemError], names: list[str], offset: int = 0, on_error: str = "skip") -> list[ItemError]:
    """The same errors with the client's names for its images (not the server's paths or '<bytes>').

    With ``on_error="raise"`` the first one fails the request instead (a 4xx naming the image): the
    library runs with "skip" so that the error can name the client's file, not '<12 bytes>'.
    """
    out = [replace(e, source=names[e.index - offset]) if 0 <= e.index - offset < len(names) else e for e in errors]
    if out and on_error == "raise":
        raise ImageLoadError(out[0].source, out[0].reason)
    return out


def vocabulary_arg(value: str | None, limits) -> list[str] | str | None:
    """A client's vocabulary: a built-in name or an inline JSON list of phrases; never a file path."""
    if not value:
        return None
    v = value.strip()
    if v.startswith("["):
        try:
            phrases = json.loads(v)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"vocabulary is not a JSON list of phrases ({exc.msg})") from None
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise InvalidInputError("vocabulary must be a JSON list of strings")
        return check_texts(phrases, limits, "vocabulary phrases")
    names = list_vocabularies()
    if v not in names:
        raise InvalidInputError(f"unknown vocabulary {v!r}: use a built-in name ({', '.join(names)}) or a JSON list "
                                "(files on the server cannot be named)")
    return v


@router.get("/vocabularies", summary="Built-in vocabulary names (for feedback, tag and interrogate)")
async def vocabularies() -> dict[str, Any]:
    return {"vocabularies": list_vocabularies()}


# ------------------------------------------------------------------------------------------ score
class ScoreForm(FormModel):
    prompts: list[Text] = Field(min_length=1, max_length=_LIM.max_texts,
                                description="One prompt per image, or one for all (repeat, or a JSON array)")
    references: str | None = Field(None, max_length=_LIM.max_texts * 200,
                                   description='JSON: one list of reference captions per image (RefCLIP-S)')
    paper_prefix: bool = Field(False, description="Prepend 'A photo depicts' as the paper does")
    long_prompts: LongPrompts = defaults.LONG_PROMPTS

    _split = field_validator("prompts", "paths", mode="before")(classmethod(lambda cls, v: split_form_list(v)))


@router.post("/score", summary="CLIPScore of (image, prompt) pairs, every scale named apart")
async def score(st: Annotated[ServerState, Depends(get_state)], form: Annotated[ScoreForm, Form()],
                images: Images = None) -> dict[str, Any]:
    """`clip_s` is the paper's 2.5*max(cos,0) per sample (0..2.5); `clipscore_100` is torchmetrics'
    100*cos (0..100). Same document as `cliplens score --json` (`judge.clip_score(...).to_dict()`).

    Example: `curl -F images=@a.png -F prompts="a red circle" http://127.0.0.1:8000/api/score`
    """
    from ...judge import clip_score

    within_limits(st, form.prompts, "prompts")
    refs = None
    if form.references:
        try:
            refs = json.loads(form.references)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"references must be JSON, e.g. [[\"a cat\", \"a kitten\"]] ({exc.msg})") from None
        if not isinstance(refs, list) or not all(isinstance(r, list) and all(isinstance(c, str) for c in r) for r in refs):
            raise InvalidInputError("references must be a list of lists of strings, one list per image")
    uploads = await read_uploads(images, st.config.limits)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, form.paths)
        if not items:
            raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
        s = clip_score(enc, items, form.prompts, references=refs, paper_prefix=form.paper_prefix,
                       long_prompts=form.long_prompts)
        s.images = names
        s.errors = renamed(s.errors, names, on_error=form.on_error)
        return s.to_dict()

    return await st.run_locked(form.model, work)


# ------------------------------------------------------------------------------------------ rank
class RankForm(FormModel):
    prompt: Text | None = Field(None, description="Rank the images for this prompt")
    prompts: list[Text] | None = Field(None, max_length=_LIM.max_texts, description="Or: rank these prompts for the one image")
    top_k: int | None = Field(defaults.RANK_TOP_K, ge=1, le=_LIM.max_top_k, description="Keep the best k (default: all)")
    long_prompts: LongPrompts = defaults.LONG_PROMPTS

    _split = field_validator("prompts", "paths", mode="before")(classmethod(lambda cls, v: split_form_list(v)))


@router.post("/rank", summary="Best-of-N: rank images for a prompt, or prompts for an image")
async def rank(st: Annotated[ServerState, Depends(get_state)], form: Annotated[RankForm, Form()],
               images: Images = None) -> dict[str, Any]:
    """Give `prompt` and N images, or one image and N `prompts` (`judge.rank(...).to_dict()`).
    Results are best first with cosine and clip_s; `index` points back into the images (uploads first, then paths)."""
    from ...judge import rank as rank_fn

    if (form.prompt is None) == (not form.prompts):
        raise InvalidInputError("give either 'prompt' (rank images) or 'prompts' (rank prompts for one image)")
    within_limits(st, form.prompts if form.prompts else [form.prompt], "prompts")
    uploads = await read_uploads(images, st.config.limits)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, form.paths)
        if form.prompts:
            if len(items) != 1:
                raise InvalidInputError(f"ranking prompts needs exactly one image, got {len(items)}")
            r = rank_fn(enc, items[0], form.prompts, top_k=form.top_k, long_prompts=form.long_prompts)
            r.query = names[0]
        else:
            if not items:
                raise InvalidInputError("no images to rank: upload with 'images' or name 'paths'")
            r = rank_fn(enc, form.prompt, items, top_k=form.top_k, long_prompts=form.long_prompts)
            r.items = [replace(x, item=names[x.index]) for x in r.items]
            r.errors = renamed(r.errors, names, on_error=form.on_error)
        return r.to_dict()

    return await st.run_locked(form.model, work)


# ------------------------------------------------------------------------------------------ feedback
class FeedbackForm(FormModel):
    path: str | None = Field(None, min_length=1, max_length=4096, description="The image's path inside the served folders")
    prompt: Text = Field(description="The prompt whose phrases are checked")
    phrases: list[Text] | None = Field(None, max_length=_LIM.max_texts, description="Check these phrases instead")
    vocabulary: str | None = Field(None, max_length=_LIM.max_texts * 100, description="Built-in vocabulary name or "
                                   "JSON list: also list phrases the image shows that the prompt did not ask for")
    unrequested_k: int = Field(defaults.FEEDBACK_UNREQUESTED_K, ge=0, le=50, description="How many unrequested phrases")
    margin: float = Field(defaults.FEEDBACK_MARGIN, ge=-2.0, le=2.0, description="Presence margin for the verdict")

    _split = field_validator("phrases", mode="before")(classmethod(lambda cls, v: split_form_list(v)))


@router.post("/feedback", summary="Per-keyword feedback: which phrases of a prompt show in the image")
async def feedback(st: Annotated[ServerState, Depends(get_state)], form: Annotated[FeedbackForm, Form()],
                   image: Annotated[UploadFile | None, File(description="The image")] = None) -> dict[str, Any]:
    """Per phrase: `presence` (its cosine minus a neutral baseline's; decides present/absent) and
    `contribution` (leave-one-out drop of the whole prompt's cosine); the prompt's `prompt_cosine`
    and `prompt_clip_s` (0..2.5). Same document as `cliplens feedback --json`."""
    from ...judge import keyword_feedback

    lim = st.config.limits
    within_limits(st, [form.prompt, *(form.phrases or [])], "prompt and phrases")
    vocab = vocabulary_arg(form.vocabulary, lim)
    uploads = await read_uploads([image] if image else [], lim)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, [form.path] if form.path else [])
        if len(items) != 1:
            raise InvalidInputError("give one image: upload it as 'image' or name its 'path'")
        fb = keyword_feedback(enc, items[0], form.prompt, phrases=form.phrases, vocabulary=vocab,
                              unrequested_k=form.unrequested_k, margin=form.margin)
        fb.image = names[0]
        return fb.to_dict()

    return await st.run_locked(form.model, work)


__all__ = ["router", "FormModel", "image_items", "renamed", "within_limits", "split_form_list", "vocabulary_arg", "Text", "Images"]
