"""Compose endpoints: structured prompt -> per-encoder texts with real token counts; prompt lint."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...compose import TARGETS, compose, lint_prompt
from ...errors import InvalidInputError
from ..deps import get_state
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["compose"])


class ComposeRequest(BaseModel):
    text: str = Field(..., description="JSON, Python dict literal, YAML or plain text",
                      examples=['{"subject": "a large red circle", "style": "pixel art", "background": "black"}'])
    target: str = Field("flux", description="flux | flux-schnell | sd3 | sdxl | sd15")
    input_format: str = Field("auto", description="auto | json | python | yaml | text")
    emphasis: dict[str, float] | None = Field(None, description="{slot or keyword: weight} written as (kw:1.2)")
    syntax: Literal["a1111", "comfyui"] = Field("a1111", description="Emphasis/BREAK syntax")
    chunk: bool = Field(False, description="BREAK chunks instead of dropping keywords past 75 tokens")


class LintRequest(BaseModel):
    text: str = Field(..., description="A prompt as it would be sent to CLIP")


def _check_len(st: ServerState, text: str) -> None:
    lim = st.config.limits
    if len(text) > lim.max_text_chars * 4:
        raise InvalidInputError(f"prompt has {len(text)} characters; the limit is {lim.max_text_chars * 4}")


@router.get("/compose/targets", summary="Targets the composer knows")
async def targets() -> dict[str, Any]:
    return {"targets": {k: v.description for k, v in TARGETS.items()}}


@router.post("/compose", summary="Structured prompt -> a sentence for T5 and keywords for each CLIP, with token counts")
async def compose_endpoint(req: ComposeRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """Counts use the real CLIP BPE (bundled); T5 counts are exact when a T5 tokenizer is on the
    server, else an estimate marked `exact: false`. No LLM rewrite from the server (no outbound calls).
    `outputs` lists each encoder's text with its count, for pages; `comfyui` holds ready node inputs.
    """
    _check_len(st, req.text)

    def work() -> dict[str, Any]:
        r = compose(req.text, req.target, input_format=req.input_format, emphasis=req.emphasis,
                    syntax=req.syntax, chunk=req.chunk)
        out = r.to_dict()
        outputs = []
        for name, text in r.fields.items():
            tk = r.tokens.get(name, {})
            outputs.append({"name": name, "text": text, "tokens": tk.get("tokens"), "budget": tk.get("limit"),
                            "tokenizer": tk.get("tokenizer"), "estimated": not tk.get("exact", True)})
        if r.negative:
            tk = r.tokens.get("negative", {})
            outputs.append({"name": "negative", "text": r.negative, "tokens": tk.get("tokens"),
                            "budget": tk.get("limit"), "tokenizer": tk.get("tokenizer"),
                            "estimated": not tk.get("exact", True)})
        for name, dropped in r.dropped.items():
            if dropped:
                out["warnings"] = out["warnings"] + [f"dropped from {name} (past 75 tokens): {', '.join(dropped)}"]
        out["outputs"] = outputs
        out["comfyui"] = r.to_comfyui()
        return out

    return await run_in_threadpool(work)


@router.post("/lint", summary="Lint a CLIP prompt: code syntax, over-long text, duplicates, sentences")
async def lint_endpoint(req: LintRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    _check_len(st, req.text)
    if not req.text.strip():
        raise InvalidInputError("empty prompt")
    return (await run_in_threadpool(lint_prompt, req.text)).to_dict()
