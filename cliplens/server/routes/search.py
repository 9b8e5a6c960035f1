"""Search endpoints over the served indexes: queries, image queries, near-duplicates, thumbnails.

Every route parses its input, calls the library (`cliplens.search.search` / `dedupe`) and returns
`result.to_dict()` plus what only a web page needs (the index's name, thumbnail/file URLs, ms).

Query strings use the library's grammar (``"(red circle:2)" + @photos/cat.png - blue``). A term
is an image only when the client says so (``@path``, or an upload on /api/search/image); words
are never looked up on disk. An ``@path`` must lie inside the served folders: it is checked on
the path's text first, so a path outside them is never touched on disk, and the answer for it
(an item in `errors`, or 403 with `on_error="raise"`) is the same whether it exists or not.
"""
from __future__ import annotations

import io
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from PIL import Image
from pydantic import BaseModel, Field

from ... import defaults
from ...errors import CliplensError, InvalidInputError
from ...images import load_image
from ...models import load_encoder
from ...search import Filters, Index, Term, dedupe, open_index, search
from ...search.query import text_term
from ..deps import get_state
from ..disconnect import check_gone, run_abandonable
from ..files import PathForbiddenError
from ..inputs import check_texts, decode_images, parse_texts, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["search"])

THUMB_MAX = 512
#: largest id an index hands out (SQLite's INTEGER): bigger ids are refused by the request model
MAX_ID = 2**63 - 1
_NO_NUL = r"^[^\x00]*$"

FolderStr = Annotated[str, Field(min_length=1, max_length=4096, pattern=_NO_NUL)]
IndexName = Annotated[str, Field(min_length=1, max_length=256, pattern=_NO_NUL)]


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
    enc = idx.bound_encoder
    if enc is not None:
        return enc
    with st.extras_lock:
        return idx.bind_encoder([sm.encoder for sm in st.models.values()],
                                load=lambda m: load_encoder(m, device=st.config.device,
                                                            precision=st.config.precision))


async def _run_on_index(st: ServerState, idx: Index, fn) -> Any:
    """Run `fn(enc)` on a worker thread holding the index model's lock, via the state's `run_with`.

    Like the other routes' `st.run_locked`, work whose client disconnected before it started is
    dropped: binding (maybe loading) the model and waiting for its lock both give up on a disconnect.
    """
    enc = idx.bound_encoder
    if enc is None:
        def bind(gone) -> Any:
            check_gone(gone)
            return _bind_encoder(st, idx)

        enc = await run_abandonable(bind)
    return await st.run_with(enc, lambda: fn(enc))


def _lexical(st: ServerState, requested: str) -> list[str]:
    """Normalised absolute candidates for a client's path that lie inside a served root, by text alone."""
    if not requested or "\x00" in requested or requested.startswith("~"):
        return []
    out = []
    for r in st.roots.roots:
        root = str(r)
        cand = os.path.normpath(requested if os.path.isabs(requested) else os.path.join(root, requested))
        if cand == root or cand.startswith(root.rstrip(os.sep) + os.sep):
            out.append(cand)
    return out


def served_path(st: ServerState, requested: str) -> Path:
    """A client's path -> the real file inside the served folders, or `PathForbiddenError`.

    Outside paths fail on their text, before any disk access; inside ones are then resolved
    with every symlink followed (`RootSet.resolve`), so a link pointing out fails the same way.
    """
    for cand in _lexical(st, requested):
        try:
            return st.roots.resolve(cand)
        except PathForbiddenError:
            continue
    raise PathForbiddenError(f"{requested[:200]!r} is not a file inside the served folders")


def _opener(st: ServerState):
    """`open_image` for the library: @paths only inside the served folders, decoded within the pixel limit."""
    limit = st.config.limits.max_image_pixels

    def open_image(src: Any) -> Any:
        if isinstance(src, (str, os.PathLike)):
            return load_image(served_path(st, str(src)), max_pixels=limit)
        return src  # an upload, already decoded within the limit

    return open_image


def _folders(st: ServerState, folders: list[str] | None) -> list[str]:
    """Filter folders as normalised absolute paths, by text only (a folder outside the roots matches nothing)."""
    out: list[str] = []
    for f in folders or []:
        cands = _lexical(st, f)
        out += cands if cands else [os.path.normpath(f) if os.path.isabs(f) else "/\x01nowhere"]
    return out


def _filters(st: ServerState, folders: list[str] | None, min_width: int | None,
             min_height: int | None) -> Filters | None:
    if not folders and min_width is None and min_height is None:
        return None
    return Filters(folders=_folders(st, folders), min_width=min_width, min_height=min_height, resolve=False)


def _urls(name: str, row: dict[str, Any], id_key: str = "id") -> dict[str, Any]:
    row["thumb_url"] = f"/api/thumb?index={name}&id={row[id_key]}"
    row["file_url"] = f"/api/file?index={name}&id={row[id_key]}"
    return row


def _response(name: str, result, t0: float, **extra: Any) -> dict[str, Any]:
    out = result.to_dict()
    out["hits"] = [_urls(name, h) for h in out["hits"]]
    return {**out, "index": name, "ms": round((time.perf_counter() - t0) * 1000, 2), **extra}


class SearchRequest(BaseModel):
    query: str = Field(..., max_length=20_000,
                       description="Text, or arithmetic: '(red circle:2) + @photos/cat.png - blue' "
                                   "(@path: an image inside the served folders)",
                       examples=["a red circle, pixel art"])
    index: IndexName | None = Field(None, description="Served index name (default: the first)")
    top_k: int = Field(defaults.SEARCH_TOP_K, ge=1, le=defaults.MAX_SEARCH_TOP_K, description="How many hits")
    threshold: float | None = Field(None, ge=-1, le=1, description="Drop hits below this cosine")
    folders: list[FolderStr] | None = Field(None, max_length=defaults.MAX_SEARCH_FOLDERS,
                                            description="Only files under these folders")
    min_width: int | None = Field(None, ge=1, le=defaults.MAX_PIXEL_FILTER)
    min_height: int | None = Field(None, ge=1, le=defaults.MAX_PIXEL_FILTER)
    on_error: Literal["skip", "raise"] = Field(defaults.ON_ERROR, description="An @image term that cannot be "
                                               "used: skip it (listed in errors) or fail the request")


class DedupeRequest(BaseModel):
    index: IndexName | None = Field(None, description="Served index name (default: the first)")
    threshold: float = Field(defaults.DEDUPE_THRESHOLD, ge=-1, le=1,
                             description="Cosine similarity above which two images are near-duplicates")
    folders: list[FolderStr] | None = Field(None, max_length=defaults.MAX_SEARCH_FOLDERS,
                                            description="Only files under these folders")


def _check_top_k(st: ServerState, top_k: int) -> None:
    if top_k > st.config.limits.max_top_k:
        raise InvalidInputError(f"top_k {top_k} is over this server's limit of {st.config.limits.max_top_k}")


@router.get("/indexes", summary="Served indexes with their model, size and image folders")
async def indexes(st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    out = []
    for name, idx in st.indexes.items():
        out.append({"name": name, "model": idx.model, "fingerprint": idx.fingerprint, "dim": idx.dim,
                    "images": len(idx), "roots": idx.roots()})
    return {"indexes": out}


@router.post("/search", summary="Search an index by text, @image paths and query arithmetic")
async def search_text(req: SearchRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """`cliplens.search.search(...).to_dict()`: hits best first with cosine `score`, file metadata,
    the terms the query was read as, and `errors` for @image terms that could not be used.

    Example: `curl -H 'Content-Type: application/json' -d '{"query": "a red circle"}' http://127.0.0.1:8000/api/search`
    """
    check_texts([req.query], st.config.limits, "query")
    _check_top_k(st, req.top_k)
    name, idx = _index(st, req.index)
    flt = _filters(st, req.folders, req.min_width, req.min_height)

    def work(enc) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = search(idx, req.query, top_k=req.top_k, threshold=req.threshold, filters=flt,
                        on_error=req.on_error, open_image=_opener(st))
        return _response(name, result, t0, query=req.query)

    return await _run_on_index(st, idx, work)


@router.post("/search/image", summary="Search an index with an uploaded image (plus or minus texts)")
async def search_image(
    st: Annotated[ServerState, Depends(get_state)],
    image: Annotated[UploadFile | None, File(description="Query image")] = None,
    path: Annotated[str | None, Form(max_length=4096, description="Or a query image inside the served folders")] = None,
    add: Annotated[list[str] | None, Form(description="Texts to add to the image ('(text:2)' weights)")] = None,
    subtract: Annotated[list[str] | None, Form(description="Texts to subtract")] = None,
    index: Annotated[str | None, Form(max_length=256)] = None,
    top_k: Annotated[int, Form(ge=1, le=defaults.MAX_SEARCH_TOP_K)] = defaults.SEARCH_TOP_K,
    threshold: Annotated[float | None, Form(ge=-1, le=1)] = None,
) -> dict[str, Any]:
    """The same `search` call with terms [image, +texts, -texts]: the image's unit vector plus the
    weighted texts, renormalised, against the index."""
    lim = st.config.limits
    _check_top_k(st, top_k)
    plus = parse_texts(add, lim, "texts to add", required=False)
    minus = parse_texts(subtract, lim, "texts to subtract", required=False)
    name, idx = _index(st, index)
    uploads = await read_uploads([image] if image else [], lim)
    if len(uploads) + (1 if path else 0) != 1:
        raise InvalidInputError("give one query image: upload it as 'image' or name its 'path'")

    def work(enc) -> dict[str, Any]:
        if uploads:
            names, imgs = decode_images(uploads, [], st.roots, lim)
            first = Term.image(imgs[0], name=names[0])
        else:
            first = Term.image(str(served_path(st, path)), name=path)
        terms = [first] + [text_term(t, 1.0) for t in plus] + [text_term(t, -1.0) for t in minus]
        t0 = time.perf_counter()
        result = search(idx, terms, top_k=top_k, threshold=threshold, on_error="raise", open_image=_opener(st))
        return _response(name, result, t0, query=first.value)

    return await _run_on_index(st, idx, work)


@router.post("/dedupe", summary="Groups of near-duplicate images in an index")
async def dedupe_route(req: DedupeRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """`cliplens.search.dedupe(...).to_dict()`: groups (largest first), each the file kept (most
    pixels, then largest, then oldest) and its near-copies with their similarity. Nothing is moved.

    Example: `curl -H 'Content-Type: application/json' -d '{"threshold": 0.95}' http://127.0.0.1:8000/api/dedupe`
    """
    name, idx = _index(st, req.index)
    flt = _filters(st, req.folders, None, None)

    def work(gone) -> dict[str, Any]:
        check_gone(gone)  # no model involved (stored vectors only): dropped when the client already left
        t0 = time.perf_counter()
        out = dedupe(idx, threshold=req.threshold, filters=flt).to_dict()
        for g in out["groups"]:
            _urls(name, g, "keep_id")
            g["duplicates"] = [_urls(name, d) for d in g["duplicates"]]
        return {**out, "index": name, "ms": round((time.perf_counter() - t0) * 1000, 2)}

    return await run_abandonable(work)


# ---------------------------------------------------------------- files and thumbnails
_THUMBS: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
_THUMBS_LOCK = threading.Lock()
_THUMBS_MAX = 2048


def _served_file(st: ServerState, index: str | None, id: int | None, path: str | None) -> Path:
    """An indexed file by (index, id), or any file by path; either way it must resolve inside a root."""
    if (id is None) == (path is None):
        raise InvalidInputError("give either 'id' (with 'index') or 'path'")
    if path is not None:
        return served_path(st, path)
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
    index: Annotated[str | None, Query(max_length=256)] = None,
    id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
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
    index: Annotated[str | None, Query(max_length=256)] = None,
    id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
) -> FileResponse:
    real = _served_file(st, index, id, path)
    from ...images import looks_like_image

    if not looks_like_image(real):
        raise PathForbiddenError(f"{real.name} is not an image file")
    return FileResponse(real, headers={"X-Content-Type-Options": "nosniff"})
