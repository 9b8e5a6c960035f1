"""`cliplens guide`: generate an image from text by CLIP guidance (see `cliplens.guide`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidInputError
from .app import app
from .common import DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, PrecisionOpt, QuietOpt, console, get_encoder, print_json


@app.command("guide")
def guide_cmd(
    prompt: Annotated[str, typer.Argument(help="Text, or weighted prompts: 'a lighthouse:1 | fog:0.5 | blurry:-0.5'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .png (prompt and settings stored in its metadata).")]
    = Path("guide.png"),
    size: Annotated[str, typer.Option("--size", help="N or WIDTHxHEIGHT, e.g. 512 or 768x512.")] = "256",
    steps: Annotated[int, typer.Option("--steps", help="Optimisation steps.")] = 200,
    model: Annotated[Optional[list[str]], typer.Option(
        "--model", "-m", help="Guiding model (repeat to guide with several at once); needs a differentiable image "
        "path (open_clip / transformers, not onnx).")] = None,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed + settings = same image).")] = 0,
    mode: Annotated[str, typer.Option("--mode", help="full (cutouts, priors, Fourier image) | naive (the plain loop).")]
    = "full",
    param: Annotated[str, typer.Option("--param", help="Image parametrisation: fourier | pixel | multiscale.")]
    = "fourier",
    cutouts: Annotated[int, typer.Option("--cutouts", help="Augmented views per step (full mode).")] = 16,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate (default: the parametrisation's).")] = None,
    tv: Annotated[Optional[float], typer.Option("--tv", help="Total-variation (smoothness) weight.")] = None,
    init_image: Annotated[Optional[Path], typer.Option("--init-image", help="Start from this image.")] = None,
    init_strength: Annotated[float, typer.Option(
        "--init-strength", help="How far to move from the init image: 0 keeps it, 1 ignores it.")] = 0.5,
    snapshot_every: Annotated[int, typer.Option(
        "--snapshot-every", help="Save an in-progress PNG every N steps (0: none).")] = 0,
    snapshot_dir: Annotated[Optional[Path], typer.Option(
        "--snapshot-dir", help="Folder for snapshots (default: next to --out).")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Generate an image from text by gradient ascent on CLIP similarity.

    Example: [bold]cliplens guide "a large red circle on a white background, flat" --model toyclip --size 256
    --steps 150 --out circle.png[/bold]
    """
    from ..guide import GuideConfig, StepInfo, generate, parse_prompts, parse_size, save_png

    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out must end in .png (the prompt and settings go into its metadata), got {out}")
    if snapshot_every < 0:
        raise InvalidInputError("--snapshot-every must be 0 (off) or a positive number of steps")
    parse_prompts(prompt)  # bad prompts fail before any model loads
    cfg = GuideConfig(size=parse_size(size), steps=steps, mode=mode, param=param, cutouts=cutouts, lr=lr,
                      init_strength=init_strength, seed=seed)
    if tv is not None:
        cfg.tv_weight = tv
    cfg.validate()
    encoders = [get_encoder(m, device, precision) for m in (model or [DEFAULT_MODEL_NAME])]
    snaps: list[str] = []
    snap_dir = snapshot_dir or out.parent

    def on_step(info: StepInfo) -> None:
        if snapshot_every and info.step % snapshot_every == 0 and info.step < info.steps:
            path = snap_dir / f"{out.stem}.step{info.step:05d}.png"
            save_png(info.image(), path, {"prompt": prompt, "step": info.step, "steps": info.steps})
            snaps.append(str(path))

    res = generate(prompt, encoders, cfg, init_image=init_image, callback=on_step,
                   progress=not quiet)
    extra = {"init_image": str(init_image)} if init_image else {}
    save_png(res, out, extra)
    summary = {"out": str(out), "width": res.image.size[0], "height": res.image.size[1], **res.metadata(),
               "history": res.history, "snapshots": snaps, **extra}
    if json_out:
        print_json(summary)
        return
    console.print(f"[green]wrote[/green] {out} ({res.image.size[0]}x{res.image.size[1]}, {res.steps_done} steps "
                  f"in {res.seconds:.1f}s, mode {cfg.mode})")
    for row in res.scores:
        cos = ", ".join(f"{t!r} {c:+.3f}" for t, c in row["cosines"].items())
        console.print(f"  {row['model']}: score {row['score']:+.3f}  ({cos})", highlight=False)
    if snaps:
        console.print(f"  {len(snaps)} snapshots in {snap_dir}")
