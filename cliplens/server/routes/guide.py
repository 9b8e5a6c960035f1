"""Guide endpoints: start a text-to-image run as a background job, poll it, watch it grow, cancel it.

The job calls `cliplens.guide.generate` (the guide's one call) with the same defaults as the CLI
and the library (cliplens/defaults.py); its result is `GuideResult.to_dict()` plus the image URL.
"""
from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ... import defaults
from ...errors import CapabilityError, InvalidInputError
from ...guide import GuideConfig, generate, parse_prompts, parse_size, png_bytes
from ..deps import get_state
from ..jobs import Job
from ..state import ServerState

router = APIRouter(prefix="/api", tags=["guide"])


class GuideRequest(BaseModel):
    prompt: str = Field(..., description="What to draw; weights in A1111 form: 'a lighthouse, (fog:0.5), (blurry:-0.5)'",
                        examples=["a large red circle on a white background, flat"])
    size: int | str = Field(defaults.GUIDE_SIZE, description="Side in pixels, or 'WxH'")
    steps: int = Field(defaults.GUIDE_STEPS, ge=1, description="Optimisation steps")
    seed: int | None = Field(defaults.GUIDE_SEED, ge=0, le=defaults.GUIDE_MAX_SEED,
                             description="Seed, 0..2**63-1 (same seed and settings: same image)")
    mode: Literal[defaults.GUIDE_MODE_CHOICES] = Field(  # type: ignore[valid-type]
        defaults.GUIDE_MODE, description="full (cutouts, priors) | naive (the plain loop)")
    param: Literal[defaults.GUIDE_PARAM_CHOICES] = Field(  # type: ignore[valid-type]
        defaults.GUIDE_PARAM, description="Image parametrisation: shapes | pyramid | fourier | pixels")
    shapes: int = Field(defaults.GUIDE_SHAPES, ge=0, le=64, description="Most figures the shapes picture may hold (param shapes; groups up to 4)")
    strokes: int = Field(defaults.GUIDE_STROKES, ge=0, le=64, description="Strokes (param shapes)")
    search_rounds: int = Field(defaults.GUIDE_SEARCH_ROUNDS, ge=0, le=10,
                               description="Rounds of the shapes design search (0: a random start, much faster)")
    search_prior: float = Field(defaults.GUIDE_SEARCH_PRIOR, ge=0, le=100,
                                description="How much the shapes search prefers figures the prompt names "
                                "('three circles'); 0: the pictures alone decide")
    cutouts: int = Field(defaults.GUIDE_CUTOUTS, ge=1, le=64, description="Augmented views per step")
    snapshots: int = Field(20, ge=1, le=200, description="How many intermediate images the job keeps for pollers")
    init_path: str | None = Field(None, description="Init image path inside the served folders")
    init_strength: float = Field(0.5, ge=0, le=1, description="0 keeps the init image, 1 ignores it")
    model: str | None = Field(None, description="Served model that guides (must be differentiable)")


def _config(req: GuideRequest, st: ServerState) -> GuideConfig:
    lim = st.config.limits
    if isinstance(req.size, int) and req.size > lim.max_guide_size:
        raise InvalidInputError(f"size {req.size} is over this server's limit of {lim.max_guide_size} pixels per side")
    h, w = parse_size(req.size)
    if max(h, w) > lim.max_guide_size:
        raise InvalidInputError(f"size {w}x{h} is over this server's limit of {lim.max_guide_size} pixels per side")
    if req.steps > lim.max_guide_steps:
        raise InvalidInputError(f"{req.steps} steps is over this server's limit of {lim.max_guide_steps}")
    if len(req.prompt) > lim.max_text_chars:
        raise InvalidInputError(f"prompt has {len(req.prompt)} characters; the limit is {lim.max_text_chars}")
    cfg = GuideConfig(size=(h, w), steps=req.steps, seed=req.seed, mode=req.mode, param=req.param,
                      shapes=req.shapes, strokes=req.strokes, cutouts=req.cutouts, init_strength=req.init_strength,
                      search_rounds=req.search_rounds, search_prior=req.search_prior)
    cfg.validate()
    parse_prompts(req.prompt)  # raises on a bad prompt before a job is queued
    return cfg


@router.post("/guide", status_code=202, summary="Start a guide run (background job)")
async def start_guide(req: GuideRequest, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    """Returns the job (`id`, `status`...). Poll `GET /api/jobs/{id}`; the current picture is at
    `GET /api/jobs/{id}/snapshot.png`. One run at a time; a few may queue (429 beyond)."""
    cfg = _config(req, st)
    sm = st.served(req.model)
    init = st.roots.resolve(req.init_path) if req.init_path else None
    every = max(1, cfg.steps // req.snapshots)

    def run(job: Job) -> dict[str, Any]:
        enc = st.encoder(sm.spec)
        if not enc.differentiable:
            raise CapabilityError(f"{enc.name} cannot guide (no gradient path); serve an open_clip or transformers model")
        job.update(0, cfg.steps, "encoding the prompt")

        def on_step(info) -> bool:
            snap = png_bytes(info.image()) if (info.step % every == 0 or info.step == info.steps) else None
            msg = f"{info.elapsed_s / max(info.step, 1):.2f} s/step" + (f", score {info.score:.3f}" if info.score is not None else "")
            # let waiting requests use the model between steps (one step is the longest they wait)
            sm.lock.release()
            try:
                time.sleep(0.001)
            finally:
                sm.lock.acquire()
            job.update(info.step, info.steps, msg, snap)  # raises JobCancelled after DELETE
            return False

        with sm.lock:
            res = generate(enc, req.prompt, cfg, init_image=init, callback=on_step)
        meta = res.metadata()
        job.update(res.steps_done, cfg.steps, f"done in {res.seconds:.1f} s", png_bytes(res.image, meta))
        return {**res.to_dict(), "image_url": f"/api/jobs/{job.id}/snapshot.png"}

    job = st.jobs.submit("guide", run, params={**req.model_dump(), "model": sm.spec})
    return job.public()


@router.get("/jobs", summary="All remembered jobs")
async def list_jobs(st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    return {"jobs": [j.public() for j in st.jobs.list()]}


@router.get("/jobs/{job_id}", summary="Poll a job: status, step/total, progress, message, result")
async def get_job(job_id: str, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    return st.jobs.get(job_id).public()


@router.get("/jobs/{job_id}/snapshot.png", summary="The job's latest picture (the final one when done)",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def job_snapshot(job_id: str, st: Annotated[ServerState, Depends(get_state)],
                       step: Annotated[int | None, Query(description="ignored; lets pages bust caches")] = None) -> Response:
    job = st.jobs.get(job_id)
    if job.snapshot_png is None:
        return Response(status_code=204)
    return Response(job.snapshot_png, media_type="image/png",
                    headers={"Cache-Control": "no-store", "X-Snapshot-Step": str(job.snapshot_step)})


@router.delete("/jobs/{job_id}", summary="Cancel a job (stops after the current step)")
async def cancel_job(job_id: str, st: Annotated[ServerState, Depends(get_state)]) -> dict[str, Any]:
    return st.jobs.cancel(job_id).public()
