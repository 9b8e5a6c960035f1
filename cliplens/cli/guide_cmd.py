"""`cliplens guide`: generate an image from text by CLIP guidance (parses, calls `cliplens.guide.generate`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, PrecisionOpt, QuietOpt, console, get_encoder, print_json

ParamChoice = Literal[defaults.GUIDE_PARAM_CHOICES]  # type: ignore[valid-type]
ModeChoice = Literal[defaults.GUIDE_MODE_CHOICES]  # type: ignore[valid-type]


@app.command("guide")
def guide_cmd(
    prompt: Annotated[str, typer.Argument(
        help="What to draw. Weights in A1111 form: 'a lighthouse, (fog:0.5), (blurry:-0.5)'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .png (prompt and settings stored in its metadata).")]
    = Path("guide.png"),
    size: Annotated[str, typer.Option("--size", help="N or WIDTHxHEIGHT, e.g. 128 or 192x128.")]
    = str(defaults.GUIDE_SIZE),
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimisation steps.")] = defaults.GUIDE_STEPS,
    model: Annotated[Optional[list[str]], typer.Option(
        "--model", "-m", help="Guiding model (repeat to guide with several at once); needs a differentiable image "
        "path (open_clip / transformers, not onnx).")] = None,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    seed: Annotated[int, typer.Option("--seed", min=0, max=defaults.GUIDE_MAX_SEED,
                                      help="Random seed (same seed + settings = same image).")] = defaults.GUIDE_SEED,
    mode: Annotated[ModeChoice, typer.Option("--mode", help="full (cutouts, priors) | naive (the plain loop).")]
    = defaults.GUIDE_MODE,
    param: Annotated[ParamChoice, typer.Option(
        "--param", help="Image parametrisation: shapes (flat vector shapes) | pyramid | fourier | pixels.")]
    = defaults.GUIDE_PARAM,
    shapes: Annotated[int, typer.Option("--shapes", min=0, help="Most figures the shapes picture may hold (--param shapes; groups up to 4).")]
    = defaults.GUIDE_SHAPES,
    strokes: Annotated[int, typer.Option("--strokes", min=0, help="Strokes (--param shapes).")]
    = defaults.GUIDE_STROKES,
    search_rounds: Annotated[int, typer.Option(
        "--search-rounds", min=0, help="Rounds of the shapes design search before the gradient steps; 0 starts "
        "from a random picture (much faster, much worse) (--param shapes).")] = defaults.GUIDE_SEARCH_ROUNDS,
    search_prior: Annotated[float, typer.Option(
        "--search-prior", min=0.0, help="How much the shapes search prefers figures the prompt names ('three "
        "circles'): 0 lets the pictures alone decide (--param shapes).")] = defaults.GUIDE_SEARCH_PRIOR,
    svg: Annotated[Optional[Path], typer.Option("--svg", help="Also write the picture as SVG (--param shapes).")]
    = None,
    cutouts: Annotated[int, typer.Option("--cutouts", min=1, help="Augmented views per step (full mode).")]
    = defaults.GUIDE_CUTOUTS,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate (default: the parametrisation's).")] = None,
    tv: Annotated[Optional[float], typer.Option("--tv", help="Total-variation (smoothness) weight.")] = None,
    init_image: Annotated[Optional[Path], typer.Option("--init-image", help="Start from this image.")] = None,
    init_strength: Annotated[float, typer.Option(
        "--init-strength", help="How far to move from the init image: 0 keeps it, 1 ignores it.")] = 0.5,
    snapshot_every: Annotated[int, typer.Option(
        "--snapshot-every", min=0, help="Save an in-progress PNG every N steps (0: none).")] = 0,
    snapshot_dir: Annotated[Optional[Path], typer.Option(
        "--snapshot-dir", help="Folder for snapshots (default: next to --out).")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Generate an image from text by gradient ascent on CLIP similarity.

    Example: [bold]cliplens guide "a large red circle on a white background, flat" --model toyclip
    --out circle.png --svg circle.svg[/bold]
    """
    from ..guide import GuideConfig, StepInfo, generate, parse_prompts, parse_size, save_png, save_svg
    from .common import show_progress

    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out must end in .png (the prompt and settings go into its metadata), got {out}")
    if svg is not None and svg.suffix.lower() != ".svg":
        raise InvalidInputError(f"--svg must end in .svg, got {svg}")
    if svg is not None and (param != "shapes" or mode != "full"):
        raise InvalidInputError("--svg needs --param shapes (the only vector parametrisation) and --mode full")
    parse_prompts(prompt)  # bad prompts fail before any model loads
    cfg = GuideConfig(size=parse_size(size), steps=steps, mode=mode, param=param, cutouts=cutouts, lr=lr,
                      init_strength=init_strength, seed=seed, shapes=shapes, strokes=strokes, tv_weight=tv,
                      search_rounds=search_rounds, search_prior=search_prior)
    cfg.validate()
    encoders = [get_encoder(m, device, precision) for m in (model or [DEFAULT_MODEL_NAME])]
    snaps: list[str] = []
    snap_dir = snapshot_dir or out.parent

    def on_step(info: StepInfo) -> None:
        if snapshot_every and info.step % snapshot_every == 0 and info.step < info.steps:
            path = snap_dir / f"{out.stem}.step{info.step:05d}.png"
            save_png(info.image(), path, {"prompt": prompt, "step": info.step, "steps": info.steps})
            snaps.append(str(path))

    res = generate(encoders, prompt, cfg, init_image=init_image, callback=on_step, progress=show_progress(quiet))
    extra = {"init_image": str(init_image)} if init_image else {}
    save_png(res, out, extra)
    if svg is not None:
        save_svg(res, svg)
    if json_out:
        print_json({**res.to_dict(), "out": str(out), "svg_out": None if svg is None else str(svg),
                    "snapshots": snaps, **extra})
        return
    console.print(f"[green]wrote[/green] {out}{f' and {svg}' if svg else ''} ({res.image.size[0]}x{res.image.size[1]}, "
                  f"{res.steps_done} steps in {res.seconds:.1f}s, {cfg.mode}, {cfg.param})")
    for row in res.scores:
        cos = ", ".join(f"{t!r} {c:+.3f}" for t, c in row["cosines"].items())
        console.print(f"  {row['model']}: score {row['score']:+.3f}  ({cos})", highlight=False)
    if snaps:
        console.print(f"  {len(snaps)} snapshots in {snap_dir}")
