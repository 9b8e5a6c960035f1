"""Compose endpoints: structured prompt -> per-encoder texts with real token counts; prompt lint.

Each route parses its request, calls the one library function (`compose.compose`,
`compose.lint_prompt`) with the defaults of `cliplens.defaults`, and returns `result.to_dict()`:
the same document `cliplens prompt compose --json` / `cliplens prompt lint --json` print.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ... import defaults
from ...compose import TARGETS, compose, lint_prompt
from ...errors import InvalidInputError
from ..deps import get_state
from ..disconnect import check_gone, run_abandonable
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["compose"])

class ComposeRequest(BaseModel):
    text: str = Field(..., min_length=1, description="JSON, Python dict literal, YAML or plain text",
                      examples=['{"subject": "a large red circle", "style": "pixel art", "background": "black"}'])
    # plain strings, checked by the library, so a wrong value gets the same message as from Python (400)
    target: str = Field(defaults.COMPOSE_TARGET, description=" | ".join(defaults.COMPOSE_TARGET_CHOICES))
    input_format: str = Field(defaults.COMPOSE_INPUT_FORMAT,
                              description="how `text` is read: " + " | ".join(defaults.COMPOSE_INPUT_FORMAT_CHOICES))
    emphasis: dict[str, float] | None = Field(None, description="{slot or keyword: weight} written as (kw:1.2)")
    syntax: Literal["a1111", "comfyui"] = Field(defaults.COMPOSE_SYNTAX, description="Emphasis/BREAK syntax")
    chunk: bool = Field(False, description="BREAK chunks instead of dropping keywords past the CLIP window")


class LintRequest(BaseModel):
    text: str = Field(..., min_length=1, description="A prompt as it would be sent to CLIP")


def _check_len(st: ServerState, text: str) -> None:
    lim = st.config.limits
    if len(text) > lim.max_text_chars * 4:
        raise InvalidInputError(f"text has {len(text)} characters; the limit is {lim.max_text_chars * 4}")


@router.get("/compose/targets", summary="Targets the composer knows")
async def targets() -> dict[str, Any]:
    return {"targets": {k: v.description for k, v in TARGETS.items()}}


@router.post("/compose", summary="Structured prompt -> a sentence for T5 and keywords for each CLIP, with token counts")
async def compose_endpoint(req: ComposeRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """`compose.compose(...)` as JSON. Counts use the real CLIP BPE (bundled); T5 counts are exact when a
    T5 tokenizer is on the server, else an estimate marked `exact: false`. No LLM rewrite from the
    server (no outbound calls). `outputs` lists each encoder's text with its count, for pages;
    `comfyui` holds ready API-format node inputs.
    """
    _check_len(st, req.text)
    def work(gone):
        check_gone(gone)  # no model lock to wait for (tokenizers only): dropped if the client already left
        return compose(req.text, req.target, input_format=req.input_format,
                       emphasis=req.emphasis, syntax=req.syntax, chunk=req.chunk)

    return (await run_abandonable(work)).to_dict()


@router.post("/lint", summary="Lint a CLIP prompt: code syntax, over-long text, duplicates, sentences")
async def lint_endpoint(req: LintRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """`compose.lint_prompt(text)` as JSON (what `cliplens prompt lint --json` prints)."""
    _check_len(st, req.text)
    def work(gone):
        check_gone(gone)
        return lint_prompt(req.text)

    return (await run_abandonable(work)).to_dict()
