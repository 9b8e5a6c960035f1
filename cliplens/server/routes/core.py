"""Always-available endpoints: health, models, token counts, text-image similarity."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ... import __version__
from ...errors import InvalidInputError
from ...models.spec import PRESETS
from ..config import Limits
from ..deps import get_state
from ..inputs import read_uploads
from ..state import ServerState
from .judge import FormModel, Images, image_items, renamed, split_form_list, within_limits

router = APIRouter(prefix="/api", tags=["core"])


@router.get("/health", summary="Liveness and what is served")
async def health(st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """`{"status": "ok"}` plus version, served models and indexes, and which capabilities are on."""
    return {"status": "ok", "version": __version__, "models": list(st.models), "default_model": st.default_model,
            "indexes": list(st.index_dirs), "capabilities": dict(st.capabilities), "token_required": st.config.requires_token}


@router.get("/models", summary="Served models (clients choose among these) and known presets")
async def models(st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """Each served model with its dimensions once loaded; presets are listed for reference only."""
    return {"served": [m.info() for m in st.models.values()], "default": st.default_model,
            "presets": [{"name": p.name, "description": p.description} for p in PRESETS.values()]}


_LIM = Limits()


class TokensRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[Annotated[str, Field(max_length=_LIM.max_text_chars)]] = Field(
        ..., max_length=_LIM.max_texts, description="Texts to count (empty ones allowed)",
        examples=[["a red circle, pixel art"]])
    model: str | None = Field(None, max_length=200, description="Served model whose tokenizer counts (default: the first)")


@router.post("/tokens", summary="CLIP token counts with the model's real tokenizer")
async def tokens(req: TokensRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """For each text: token count, the window's budget, whether it fits, and the words past the limit
    (`cliplens.text.window`, the one window module). Empty texts are allowed here (a composer counting
    as the user types).
    """
    from ...text.window import window

    def work(enc) -> dict[str, Any]:
        w = window(enc)
        rows = []
        for t in req.texts:
            f = w.fit(t)
            row: dict[str, Any] = {"text": t, "tokens": f.tokens, "budget": f.budget, "fits": f.fits}
            if not f.fits:
                row["overflow_from_char"] = f.cut_char
                row["overflow_text"] = t[f.cut_char:]
            rows.append(row)
        return {"model": enc.name, "context_length": enc.context_length, "counts": rows}

    return await st.run_locked(req.model, work)


class SimilarityForm(FormModel):
    texts: list[Annotated[str, Field(max_length=_LIM.max_text_chars)]] = Field(
        default_factory=list, max_length=_LIM.max_texts, description="Texts (repeat the field, or one JSON array)")

    _split = field_validator("texts", "paths", mode="before")(classmethod(lambda cls, v: split_form_list(v)))


@router.post("/similarity", summary="Cosine similarity of images with texts (or with each other)")
async def similarity(st: Annotated[ServerState, Depends(get_state)], form: Annotated[SimilarityForm, Form()],
                     images: Images = None) -> dict[str, Any]:
    """`judge.similarity(images, texts).to_dict()`, the document `cliplens similarity --json` prints:
    `cosine[i][j]` for image i (uploads first, then paths) and text j, `probs[i]` a softmax over the
    texts at the model's logit scale, `best[i]` the closest text; with no texts, image x image.
    A text is only ever text: nothing a client sends is tried as a path except `paths`.

    Example: `curl -F images=@a.png -F texts="a red circle" -F texts="a blue square" /api/similarity`
    """
    from ...judge import similarity as similarity_fn

    within_limits(st, form.texts, "texts")
    uploads = await read_uploads(images, st.config.limits)

    def work(enc) -> dict[str, Any]:
        names, items = image_items(st, uploads, form.paths)
        if not items:
            raise InvalidInputError("no images given: upload with the 'images' field or name 'paths'")
        r = similarity_fn(enc, items, form.texts or None)
        for info, name in zip(r.a, names):
            info["source"] = name
        if not form.texts:
            r.b = r.a
        r.errors = renamed(r.errors, names, on_error=form.on_error)
        return r.to_dict()

    return await st.run_locked(form.model, work)
