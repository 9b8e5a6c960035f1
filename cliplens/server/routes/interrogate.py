"""Interrogate endpoints: uploaded image(s) -> prompt(s), through `cliplens.interrogate.interrogate`.

The interrogator (label tables, captioner) is built once per served model, on the served encoder,
and shared. Clients choose the mode and may supply their own caption; the caption model and
vocabularies are the server's choice (a client never names files or models to load). Defaults
come from `cliplens.defaults`, so a request without options gets what the CLI and Python give.
Bounds live in the form fields (a bad value is a 4xx, never a 500); a caption is capped at
`defaults.INTERROGATE_MAX_CAPTION_CHARS` characters so no request can hold the model.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ... import defaults as D
from ...errors import CliplensError, InvalidInputError
from ...results import ItemError
from ..deps import get_state
from ..inputs import decode_images, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["interrogate"])

_MODES = " | ".join(D.INTERROGATE_MODES)
ModeField = Annotated[str, Form(description=f"{_MODES} (default {D.INTERROGATE_MODE})",
                                pattern="^(" + "|".join(D.INTERROGATE_MODES) + ")$")]
CaptionField = Annotated[Optional[str], Form(description="Your own caption (skips the caption model)",
                                             max_length=D.INTERROGATE_MAX_CAPTION_CHARS)]
MinFlavorsField = Annotated[int, Form(ge=0, le=64)]
MaxFlavorsField = Annotated[Optional[int], Form(ge=1, le=64, description="default: the mode's own")]
MinConfField = Annotated[Optional[float], Form(ge=-100, le=100, description="leave out parts less confident than this")]
TopKField = Annotated[int, Form(ge=1, le=100, description="analyze: rows per table")]


def interrogator(st: ServerState, spec: str, enc):
    """The shared interrogator of a served model (built on first use, on the served encoder)."""
    from ...interrogate import Interrogator

    cap = st.config.caption_model or "auto"
    return st.extra(("interrogator", spec, cap), lambda: Interrogator(
        enc, caption_model=cap, device=st.config.device, precision=st.config.precision))


@router.get("/interrogate/modes", summary="Interrogation modes and the default one")
async def modes() -> dict[str, Any]:
    return {"modes": list(D.INTERROGATE_MODES), "default": D.INTERROGATE_MODE,
            "weak_confidence": D.INTERROGATE_WEAK_CONFIDENCE}


def _check(min_flavors: int, max_flavors: int | None) -> None:
    if max_flavors is not None and min_flavors > max_flavors:
        raise InvalidInputError("min_flavors must be <= max_flavors")


@router.post("/interrogate", summary="Image -> prompt (best, classic, fast, negative, style, caption, analyze)")
async def interrogate(
    st: Annotated[ServerState, Depends(get_state)],
    image: Annotated[UploadFile | None, File(description="The image")] = None,
    path: Annotated[str | None, Form(description="Or its path inside the served folders")] = None,
    mode: ModeField = D.INTERROGATE_MODE,
    caption: CaptionField = None,
    min_flavors: MinFlavorsField = D.INTERROGATE_MIN_FLAVORS,
    max_flavors: MaxFlavorsField = None,
    min_confidence: MinConfField = D.INTERROGATE_MIN_CONFIDENCE,
    top_k: TopKField = D.TOP_K,
    model: Annotated[str | None, Form(description="Served model name")] = None,
) -> dict[str, Any]:
    """Returns `prompt`, its `similarity` to the image, the scored `parts` (each with `confidence`,
    `weak`, `guess`), the caption, token count and, for `analyze`, the top phrases of every table.

    Example: `curl -F image=@photo.png -F mode=fast http://127.0.0.1:8000/api/interrogate`
    """
    from ...interrogate import interrogate as run

    _check(min_flavors, max_flavors)
    lim = st.config.limits
    uploads = await read_uploads([image] if image else [], lim)
    sm = st.served(model)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, [path] if path else [], st.roots, lim)
        if len(imgs) != 1:
            raise InvalidInputError("give one image: upload it as 'image' or name its 'path'")
        r = run(interrogator(st, sm.spec, enc), imgs[0], mode=mode, caption=caption, min_flavors=min_flavors,
                max_flavors=max_flavors, min_confidence=min_confidence, top_k=top_k)
        r.image = names[0]
        r.model = sm.spec
        return r.to_dict()

    return await st.run_locked(sm.spec, work)


@router.post("/interrogate/batch", summary="Several images -> one prompt each (bad images reported, not fatal)")
async def interrogate_batch(
    st: Annotated[ServerState, Depends(get_state)],
    images: Annotated[list[UploadFile] | None, File(description="The images")] = None,
    paths: Annotated[list[str] | None, Form(description="Or paths inside the served folders")] = None,
    mode: ModeField = D.INTERROGATE_MODE,
    caption: CaptionField = None,
    min_flavors: MinFlavorsField = D.INTERROGATE_MIN_FLAVORS,
    max_flavors: MaxFlavorsField = None,
    min_confidence: MinConfField = D.INTERROGATE_MIN_CONFIDENCE,
    top_k: TopKField = D.TOP_K,
    model: Annotated[str | None, Form(description="Served model name")] = None,
    on_error: Annotated[Literal["skip", "raise"], Form(description="A bad image: 'skip' (an item of `errors`, the "
                                                       "rest go on) or 'raise' (a 4xx naming it)")] = D.ON_ERROR,
) -> dict[str, Any]:
    """Returns `{mode, results: [{index, prompt, similarity, parts, ...}], errors: [{index, source,
    reason}], prepare_seconds, seconds}`: uploads first (in order), then `paths`; a file that does not
    decode is an error of its index and the others still get their prompt.

    Example: `curl -F images=@a.png -F images=@b.png -F mode=fast http://127.0.0.1:8000/api/interrogate/batch`
    """
    from ...interrogate import InterrogateResults
    from ...interrogate import interrogate as run

    _check(min_flavors, max_flavors)
    lim = st.config.limits
    uploads = await read_uploads(images or [], lim)
    paths = paths or []
    if not uploads and not paths:
        raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
    if len(uploads) + len(paths) > lim.max_images:
        raise InvalidInputError(f"{len(uploads) + len(paths)} images in one request; the limit is {lim.max_images}")
    sm = st.served(model)

    def work(enc) -> dict[str, Any]:
        names: list[str] = []
        good: list[tuple[int, Any]] = []
        errors: list[ItemError] = []
        items = [(n, d, None) for n, d in uploads] + [(p, None, p) for p in paths]
        for i, (name, data, p) in enumerate(items):
            names.append(name)
            try:  # one item at a time, so one bad file is that item's error, not the request's
                _, imgs = decode_images([(name, data)] if p is None else [], [p] if p is not None else [], st.roots, lim)
                good.append((i, imgs[0]))
            except CliplensError as exc:
                errors.append(ItemError(i, name, getattr(exc, "reason", None) or str(exc)))
        if errors and on_error == "raise":
            raise InvalidInputError(f"cannot read image {errors[0].source}: {errors[0].reason}")
        out = InterrogateResults(mode=mode)
        if good:
            out = run(interrogator(st, sm.spec, enc), [im for _, im in good], mode=mode, caption=caption,
                      min_flavors=min_flavors, max_flavors=max_flavors, min_confidence=min_confidence, top_k=top_k)
            out.indices = [good[k][0] for k in out.indices]
            for r, i in zip(out.results, out.indices):
                r.image = names[i]
                r.model = sm.spec
            errors += [ItemError(good[e.index][0], names[good[e.index][0]], e.reason) for e in out.errors]
        out.errors = sorted(errors, key=lambda e: e.index)
        return out.to_dict()

    return await st.run_locked(sm.spec, work)
