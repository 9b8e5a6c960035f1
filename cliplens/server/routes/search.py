"""Search endpoints over the served indexes: text / image / arithmetic queries, thumbnails.

Query strings use the library's grammar (``"2:red circle" + /abs/path.png - "blue"``) with one
server rule: a term counts as an image only if it names a file *inside the served folders*;
any other path or URL is just text, so a query can neither read nor probe the server's disk.
"""
from __future__ import annotations

import io
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from PIL import Image
from pydantic import BaseModel, Field

from ...errors import CliplensError, InvalidInputError
from ...images import load_image
from ...models import load_encoder
from ...search import Filters, Index, Term, open_index, parse_query, search
from ..deps import get_state
from ..files import PathForbiddenError
from ..inputs import check_texts, decode_images, parse_texts, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["search"])

THUMB_MAX = 512


class UnknownIndexError(CliplensError):
    """A client named an index this server does not serve (answered with 404)."""


def setup(state: ServerState) -> None:
    """Open every configured index (read-only use) and make its image folders readable roots."""
    for d in state.config.index_dirs:
        idx = open_index(d)
        name = Path(d).resolve().name or "index"
        base, n = name, 2
        while name in state.index_dirs:
            name, n = f"{base}-{n}", n + 1
        state.indexes[name] = idx
        state.index_dirs[name] = Path(d).resolve()
        for r in idx.roots():
            state.roots.add(r)


def _index(st: ServerState, name: str | None) -> tuple[str, Index]:
    if not st.indexes:
        raise UnknownIndexError("this server serves no index; start it with `cliplens serve --index DIR`")
    key = name or next(iter(st.indexes))
    if key not in st.indexes:
        raise UnknownIndexError(f"index {key!r} is not served here; choose one of {list(st.indexes)}")
    return key, st.indexes[key]


def _bind_encoder(st: ServerState, idx: Index):
    """The index's model: a served model when it is the same weights, else loaded once on the server's device."""
    if idx._encoder is not None:  # noqa: SLF001 - already bound
        return idx._encoder  # noqa: SLF001
    with st.extras_lock:
        if idx._encoder is None:  # noqa: SLF001
            for sm in st.models.values():
                if sm.encoder is not None and sm.encoder.fingerprint == idx.fingerprint:
                    idx.use_encoder(sm.encoder)
                    break
            else:
                idx.use_encoder(load_encoder(idx.model, device=st.config.device, precision=st.config.precision))
    return idx._encoder  # noqa: SLF001


def safe_terms(st: ServerState, query: str) -> list[Term]:
    """Parse with the library grammar, then keep image terms only for files inside the served roots."""
    out: list[Term] = []
    for t in parse_query(query):
        if t.kind == "image":
            try:
                out.append(Term("image", str(st.roots.resolve(t.value)), t.weight))
                continue
            except PathForbiddenError:
                pass
        out.append(Term("text", t.value, t.weight))
    return out


_WEIGHT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+):(.+)$", re.S)


def _weight(text: str) -> tuple[float, str]:
    """'2:red circle' -> (2.0, 'red circle'); no prefix -> weight 1."""
    m = _WEIGHT.match(text)
    return (float(m.group(1)), m.group(2).strip()) if m else (1.0, text)


def _hits(name: str, hits) -> list[dict[str, Any]]:
    rows = []
    for h in hits:
        d = h.to_dict()
        d["thumb_url"] = f"/api/thumb?index={name}&id={h.id}"
        d["file_url"] = f"/api/file?index={name}&id={h.id}"
        rows.append(d)
    return rows


def _filters(folders: list[str] | None, min_width: int | None, min_height: int | None) -> Filters | None:
    if not folders and min_width is None and min_height is None:
        return None
    return Filters(folders=list(folders or []), min_width=min_width, min_height=min_height)


class SearchRequest(BaseModel):
    query: str = Field(..., description="Text, or arithmetic: '\"2:red circle\" + /abs/path/in/index.png - \"blue\"'",
                       examples=["a red circle, pixel art"])
    index: str | None = Field(None, description="Served index name (default: the first)")
    top_k: int = Field(24, ge=1, description="How many hits")
    threshold: float | None = Field(None, ge=-1, le=1, description="Drop hits below this cosine")
    folders: list[str] | None = Field(None, description="Only files under these folders")
    min_width: int | None = Field(None, ge=1)
    min_height: int | None = Field(None, ge=1)


@router.get("/indexes", summary="Served indexes with their model, size and image folders")
async def indexes(st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    out = []
    for name, idx in st.indexes.items():
        out.append({"name": name, "model": idx.model, "fingerprint": idx.fingerprint, "dim": idx.dim,
                    "images": len(idx), "roots": idx.roots()})
    return {"indexes": out}


@router.post("/search", summary="Search an index by text or query arithmetic")
async def search_text(req: SearchRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """Hits best first with cosine `score`, file metadata and a `thumb_url`.

    Example: `curl -H 'Content-Type: application/json' -d '{"query": "a red circle"}' http://127.0.0.1:8000/api/search`
    """
    lim = st.config.limits
    check_texts([req.query], lim, "query")
    if req.top_k > lim.max_top_k:
        raise InvalidInputError(f"top_k {req.top_k} is over the limit of {lim.max_top_k}")
    name, idx = _index(st, req.index)
    flt = _filters(req.folders, req.min_width, req.min_height)

    def work() -> dict[str, Any]:
        enc = _bind_encoder(st, idx)
        terms = safe_terms(st, req.query)
        lock = st.lock_for(enc)
        t0 = time.perf_counter()
        with lock:
            hits = search(idx, terms, top=req.top_k, threshold=req.threshold, filters=flt)
        ms = (time.perf_counter() - t0) * 1000
        return {"index": name, "size": len(idx), "query": req.query,
                "terms": [{"kind": t.kind, "value": t.value, "weight": t.weight} for t in terms],
                "ms": round(ms, 2), "hits": _hits(name, hits)}

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


@router.post("/search/image", summary="Search an index with an uploaded image (plus or minus texts)")
async def search_image(
    st: Annotated[ServerState, Depends(get_state)],
    image: Annotated[UploadFile | None, File(description="Query image")] = None,
    path: Annotated[str | None, Form(description="Or a query image inside the served folders")] = None,
    add: Annotated[list[str] | None, Form(description="Texts to add to the image ('weight:text' allowed)")] = None,
    subtract: Annotated[list[str] | None, Form(description="Texts to subtract")] = None,
    index: Annotated[str | None, Form()] = None,
    top_k: Annotated[int, Form()] = 24,
    threshold: Annotated[float | None, Form()] = None,
) -> dict[str, Any]:
    """The image's unit vector (+ added texts - subtracted texts, renormalised) against the index."""
    lim = st.config.limits
    if not 1 <= top_k <= lim.max_top_k:
        raise InvalidInputError(f"top_k must be between 1 and {lim.max_top_k}")
    plus = parse_texts(add, lim, "texts to add", required=False)
    minus = parse_texts(subtract, lim, "texts to subtract", required=False)
    name, idx = _index(st, index)
    uploads = await read_uploads([image] if image else [], lim)

    def work() -> dict[str, Any]:
        names, imgs = decode_images(uploads, [path] if path else [], st.roots, lim)
        if len(imgs) != 1:
            raise InvalidInputError("give one query image: upload it as 'image' or name its 'path'")
        enc = _bind_encoder(st, idx)
        with st.lock_for(enc):
            t0 = time.perf_counter()
            total = enc.encode_images(imgs)[0].astype(np.float64)
            texts = [(1.0, t) for t in plus] + [(-1.0, t) for t in minus]
            if texts:
                weights = [sign * _weight(t)[0] for sign, t in texts]
                bodies = [_weight(t)[1] for _, t in texts]
                total += (np.asarray(weights)[:, None] * enc.encode_texts(bodies)).sum(0)
            norm = float(np.linalg.norm(total))
            if norm < 1e-6:
                raise InvalidInputError("the image and texts cancel out; change the texts")
            hits = search(idx, (total / norm).astype(np.float32), top=top_k, threshold=threshold)
            ms = (time.perf_counter() - t0) * 1000
        return {"index": name, "size": len(idx), "query": names[0], "ms": round(ms, 2), "hits": _hits(name, hits)}

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


# ---------------------------------------------------------------- files and thumbnails
_THUMBS: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
_THUMBS_LOCK = threading.Lock()
_THUMBS_MAX = 2048


def _served_file(st: ServerState, index: str | None, id: int | None, path: str | None) -> Path:
    """An indexed file by (index, id), or any file by path; either way it must resolve inside a root."""
    if (id is None) == (path is None):
        raise InvalidInputError("give either 'id' (with 'index') or 'path'")
    if path is not None:
        return st.roots.resolve(path)
    _, idx = _index(st, index)
    entry = idx.entries_by_id([id]).get(id)
    if entry is None:
        raise UnknownIndexError(f"no file with id {id} in this index")
    return st.roots.resolve(entry.path)  # the file may have become a symlink out of the root since indexing


def _thumbnail(real: Path, size: int, max_pixels: int) -> tuple[bytes, str]:
    stat = real.stat()
    key = (str(real), stat.st_mtime_ns, stat.st_size, size)
    with _THUMBS_LOCK:
        if key in _THUMBS:
            _THUMBS.move_to_end(key)
            return _THUMBS[key]
    img = load_image(real, max_pixels=max_pixels)
    small = max(img.size) <= size
    if not small:
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if small or max(img.size) <= 128:
        img.save(buf, format="PNG", optimize=False)
        out = (buf.getvalue(), "image/png")
    else:
        img.save(buf, format="JPEG", quality=85)
        out = (buf.getvalue(), "image/jpeg")
    with _THUMBS_LOCK:
        _THUMBS[key] = out
        while len(_THUMBS) > _THUMBS_MAX:
            _THUMBS.popitem(last=False)
    return out


@router.get("/thumb", summary="Thumbnail of an indexed image (by id) or of a file inside the served folders",
            response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
async def thumb(
    st: Annotated[ServerState, Depends(get_state)],
    index: Annotated[str | None, Query()] = None,
    id: Annotated[int | None, Query()] = None,
    path: Annotated[str | None, Query()] = None,
    size: Annotated[int, Query(ge=16, le=THUMB_MAX)] = 256,
) -> Response:
    from starlette.concurrency import run_in_threadpool

    real = _served_file(st, index, id, path)
    data, media = await run_in_threadpool(_thumbnail, real, size, st.config.limits.max_image_pixels)
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=300"})


@router.get("/file", summary="The original image file (indexed id, or a path inside the served folders)",
            response_class=FileResponse)
async def file(
    st: Annotated[ServerState, Depends(get_state)],
    index: Annotated[str | None, Query()] = None,
    id: Annotated[int | None, Query()] = None,
    path: Annotated[str | None, Query()] = None,
) -> FileResponse:
    real = _served_file(st, index, id, path)
    from ...images import looks_like_image

    if not looks_like_image(real):
        raise PathForbiddenError(f"{real.name} is not an image file")
    return FileResponse(real, headers={"X-Content-Type-Options": "nosniff"})
