"""Always-available endpoints: health, models, token counts, text-image similarity."""
from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from ... import __version__
from ...models.spec import PRESETS
from ..deps import get_state
from ..inputs import check_texts, decode_images, parse_texts, read_uploads
from ..state import ServerState

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


class TokensRequest(BaseModel):
    texts: list[str] = Field(..., description="Texts to count", examples=[["a red circle, pixel art"]])
    model: str | None = Field(None, description="Served model whose tokenizer counts (default: the first)")


@router.post("/tokens", summary="CLIP token counts with the model's real tokenizer")
async def tokens(req: TokensRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """For each text: BPE token count, the 75-token budget, whether it fits, and the words past the limit.

    Empty texts are allowed here (a composer counting as the user types).
    """
    lim = st.config.limits
    if len(req.texts) > lim.max_texts or any(len(t) > lim.max_text_chars for t in req.texts):
        check_texts([t or "x" for t in req.texts], lim)

    def work(enc) -> dict[str, Any]:
        rows = []
        for t in req.texts:
            ids = enc.token_ids(t) if t else []
            n, budget = len(ids), enc.max_text_tokens
            row: dict[str, Any] = {"text": t, "tokens": n, "budget": budget, "fits": n <= budget}
            if n > budget:
                row["overflow_from_char"] = _cut_char(enc, t, budget)
                row["overflow_text"] = t[row["overflow_from_char"]:]
            rows.append(row)
        return {"model": enc.name, "context_length": enc.context_length, "counts": rows}

    return await st.run_locked(req.model, work)


def _cut_char(enc, text: str, budget: int) -> int:
    """Index of the first character whose word does not fit the budget (binary search on words)."""
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:  # largest prefix of words that fits
        mid = (lo + hi + 1) // 2
        if len(enc.token_ids(" ".join(words[:mid]))) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return len(" ".join(words[:lo])) + (1 if lo else 0)


@router.post("/similarity", summary="Cosine similarity of uploaded images with texts (or with each other)")
async def similarity(
    st: Annotated[ServerState, Depends(get_state)],
    images: Annotated[list[UploadFile] | None, File(description="Images to compare (repeat the field)")] = None,
    texts: Annotated[list[str] | None, Form(description="Texts (repeat the field, or one JSON array)")] = None,
    paths: Annotated[list[str] | None, Form(description="Image paths inside the served folders")] = None,
    model: Annotated[str | None, Form(description="Served model name")] = None,
) -> dict[str, Any]:
    """Returns `cosine[i][j]` for image i and text j, and per image a softmax over the texts
    at the model's logit scale (zero-shot probabilities). With no texts: image x image cosine.

    Example: `curl -F images=@a.png -F texts="a red circle" -F texts="a blue square" /api/similarity`
    """
    lim = st.config.limits
    txts = parse_texts(texts, lim, required=False)
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, list(paths or []), st.roots, lim, required=True)
        iv = enc.encode_images(imgs)
        if not txts:
            cos = iv @ iv.T
            return {"model": enc.name, "images": names, "texts": [], "cosine": cos.round(6).tolist()}
        tv = enc.encode_texts(txts)
        cos = iv @ tv.T
        logits = cos * enc.logit_scale
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return {"model": enc.name, "images": names, "texts": txts, "cosine": cos.round(6).tolist(),
                "probs": probs.round(6).tolist(), "best": [txts[int(i)] for i in cos.argmax(axis=1)]}

    return await st.run_locked(model, work)
