"""Interrogate endpoint: an uploaded image -> a prompt, in any mode of the interrogator.

The interrogator (label tables, captioner) is built once per served model and shared. Clients
choose the mode and may supply their own caption; the caption model and vocabularies are the
server's choice (a client never names files or models to load).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ...errors import InvalidInputError
from ...interrogate import MODES, Interrogator
from ..deps import get_state
from ..inputs import check_texts, decode_images, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["interrogate"])


def interrogator(st: ServerState, spec: str) -> Interrogator:
    """The shared interrogator of a served model (built on first use)."""
    cap = st.config.caption_model or "auto"
    return st.extra(("interrogator", spec, cap), lambda: Interrogator(
        spec, caption_model=cap, device=st.config.device, precision=st.config.precision))


@router.get("/interrogate/modes", summary="Interrogation modes")
async def modes() -> dict[str, Any]:
    return {"modes": list(MODES)}


@router.post("/interrogate", summary="Image -> prompt (best, classic, fast, negative, style, caption, analyze)")
async def interrogate(
    st: Annotated[ServerState, Depends(get_state)],
    image: Annotated[UploadFile | None, File(description="The image")] = None,
    path: Annotated[str | None, Form(description="Or its path inside the served folders")] = None,
    mode: Annotated[str, Form(description=" | ".join(MODES))] = "fast",
    caption: Annotated[str | None, Form(description="Your own caption (skips the caption model)")] = None,
    min_flavors: Annotated[int, Form()] = 8,
    max_flavors: Annotated[int, Form()] = 32,
    top_k: Annotated[int, Form(description="analyze: rows per table")] = 10,
    model: Annotated[str | None, Form(description="Served model name")] = None,
) -> dict[str, Any]:
    """Returns `prompt`, its `similarity` to the image, the scored `parts`, the caption, token
    count and, for `analyze`, the top phrases of every table.

    Example: `curl -F image=@photo.png -F mode=fast http://127.0.0.1:8000/api/interrogate`
    """
    lim = st.config.limits
    if mode not in MODES:
        raise InvalidInputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    if caption is not None:
        check_texts([caption], lim, "caption")
    if not (0 <= min_flavors <= max_flavors <= 64 and 1 <= top_k <= 100):
        raise InvalidInputError("need 0 <= min_flavors <= max_flavors <= 64 and 1 <= top_k <= 100")
    uploads = await read_uploads([image] if image else [], lim)
    sm = st.served(model)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, [path] if path else [], st.roots, lim)
        if len(imgs) != 1:
            raise InvalidInputError("give one image: upload it as 'image' or name its 'path'")
        it = interrogator(st, sm.spec)
        r = it.interrogate(imgs[0], mode=mode, caption=caption, min_flavors=min_flavors, max_flavors=max_flavors,
                           top_k=top_k)
        out = r.to_dict()
        out["image"] = names[0]
        out["model"] = sm.spec
        out["caption_model"] = it.caption_model_name
        return out

    return await st.run_locked(sm.spec, work)
