"""Judge endpoints: CLIPScore for (image, prompt) pairs, best-of-N ranking, per-keyword feedback."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ...errors import InvalidInputError
from ...judge import LONG_PROMPT_POLICIES, clip_score, keyword_feedback, rank_images, rank_prompts
from ...vocab import list_vocabularies
from ..deps import get_state
from ..inputs import check_texts, decode_images, parse_texts, read_uploads
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["judge"])

Images = Annotated[list[UploadFile] | None, File(description="Images (repeat the field)")]
Paths = Annotated[list[str] | None, Form(description="Image paths inside the served folders")]
Model = Annotated[str | None, Form(description="Served model name (default: the first)")]


def _policy(value: str) -> str:
    if value not in LONG_PROMPT_POLICIES:
        raise InvalidInputError(f"long_prompts={value!r}: use one of {', '.join(LONG_PROMPT_POLICIES)}")
    return value


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


@router.post("/score", summary="CLIPScore of (image, prompt) pairs, every scale named apart")
async def score(
    st: Annotated[ServerState, Depends(get_state)],
    images: Images = None,
    paths: Paths = None,
    prompts: Annotated[list[str] | None, Form(description="One prompt per image, or one for all (repeat, or a JSON array)")] = None,
    references: Annotated[str | None, Form(description="JSON: a list of reference-caption lists, one per image (RefCLIP-S)")] = None,
    paper_prefix: Annotated[bool, Form(description="Prepend 'A photo depicts' as the paper does")] = False,
    long_prompts: Annotated[str, Form(description="warn | truncate | chunks | error")] = "warn",
    model: Model = None,
) -> dict[str, Any]:
    """`clip_s` is the paper's 2.5*max(cos,0) per sample; `clipscore_100` is torchmetrics' 100*cos.

    Example: `curl -F images=@a.png -F prompts="a red circle" http://127.0.0.1:8000/api/score`
    """
    lim = st.config.limits
    ps = parse_texts(prompts, lim, "prompts")
    refs = None
    if references:
        try:
            refs = json.loads(references)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"references must be JSON, e.g. [[\"a cat\", \"a kitten\"]] ({exc.msg})") from None
        if not isinstance(refs, list) or not all(isinstance(r, list) and all(isinstance(c, str) for c in r) for r in refs):
            raise InvalidInputError("references must be a list of lists of strings, one list per image")
        check_texts([c for r in refs for c in r], lim, "references", required=False)
    policy = _policy(long_prompts)
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, list(paths or []), st.roots, lim, decode_paths=False, required=True)
        s = clip_score(enc, imgs, ps, references=refs, paper_prefix=paper_prefix, long_prompts=policy)
        rows = s.rows()
        for row, name in zip(rows, names):
            row["image"] = name
        return {"model": enc.name, "summary": s.summary(), "pairs": rows}

    return await st.run_locked(model, work)


@router.post("/rank", summary="Best-of-N: rank images for a prompt, or prompts for an image")
async def rank(
    st: Annotated[ServerState, Depends(get_state)],
    images: Images = None,
    paths: Paths = None,
    prompt: Annotated[str | None, Form(description="Rank the images for this prompt")] = None,
    prompts: Annotated[list[str] | None, Form(description="Or: rank these prompts for the one image")] = None,
    top: Annotated[int | None, Form(description="Keep the best k")] = None,
    model: Model = None,
) -> dict[str, Any]:
    """Give `prompt` and N images, or one image and N `prompts`. Results are best first with
    cosine and CLIP-S; `index` points back into the images (uploads first, then paths)."""
    lim = st.config.limits
    if (prompt is None) == (not prompts):
        raise InvalidInputError("give either 'prompt' (rank images) or 'prompts' (rank prompts for one image)")
    if top is not None and not 1 <= top <= lim.max_top_k:
        raise InvalidInputError(f"top must be between 1 and {lim.max_top_k}")
    cands = parse_texts(prompts, lim, "prompts") if prompts else None
    if prompt is not None:
        check_texts([prompt], lim, "prompt")
    uploads = await read_uploads(images, lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, list(paths or []), st.roots, lim, decode_paths=False)
        if cands is not None:
            if len(imgs) != 1:
                raise InvalidInputError(f"ranking prompts needs exactly one image, got {len(imgs)}")
            r = rank_prompts(enc, imgs[0], cands, top=top)
            out = r.to_dict()
            out["query"] = names[0]
        else:
            if not imgs:
                raise InvalidInputError("no images to rank: upload with 'images' or name 'paths'")
            r = rank_images(enc, prompt, imgs, top=top, use_cache=True)
            out = r.to_dict()
            for row in out["results"]:
                row["item"] = names[row["index"]]
            for e in out["errors"]:
                e["image"] = names[e["index"]]
        out["model"] = enc.name
        return out

    return await st.run_locked(model, work)


@router.post("/feedback", summary="Per-keyword feedback: which phrases of a prompt show in the image")
async def feedback(
    st: Annotated[ServerState, Depends(get_state)],
    image: Annotated[UploadFile | None, File(description="The image")] = None,
    path: Annotated[str | None, Form(description="Or its path inside the served folders")] = None,
    prompt: Annotated[str, Form(description="The prompt whose phrases are checked")] = "",
    vocabulary: Annotated[str | None, Form(description="Built-in vocabulary name or JSON list: also list phrases the image shows that the prompt did not ask for")] = None,
    unrequested_k: Annotated[int, Form(description="How many unrequested phrases")] = 8,
    margin: Annotated[float, Form(description="Presence margin for the verdict")] = 0.0,
    model: Model = None,
) -> dict[str, Any]:
    """Per phrase: `presence` (its cosine minus a neutral baseline's; decides present/absent) and
    `contribution` (leave-one-out drop of the whole prompt's cosine)."""
    lim = st.config.limits
    check_texts([prompt], lim, "prompt")
    vocab = vocabulary_arg(vocabulary, lim)
    if not 0 <= unrequested_k <= 50:
        raise InvalidInputError("unrequested_k must be between 0 and 50")
    uploads = await read_uploads([image] if image else [], lim)

    def work(enc) -> dict[str, Any]:
        names, imgs = decode_images(uploads, [path] if path else [], st.roots, lim)
        if len(imgs) != 1:
            raise InvalidInputError("give one image: upload it as 'image' or name its 'path'")
        fb = keyword_feedback(enc, imgs[0], prompt, vocabulary=vocab, unrequested_k=unrequested_k, margin=margin)
        out = fb.to_dict()
        out["image"] = names[0]
        out["model"] = enc.name
        out["cosine"] = fb.prompt_cosine
        out["clipscore"] = 2.5 * max(fb.prompt_cosine, 0.0)
        out["phrases"] = [{"phrase": k.phrase, "value": k.presence, "present": k.verdict == "present",
                           "contribution": k.contribution} for k in fb.keywords]
        return out

    return await st.run_locked(model, work)
