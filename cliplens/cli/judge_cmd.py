"""`cliplens score | rank | feedback`: CLIP as a judge (calls `judge.clip_score`, `judge.rank`, `judge.keyword_feedback`).

classify/tag live in classify_cmd.py, similarity in similarity_cmd.py.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import (DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, ModelOpt, OnErrorOpt, PrecisionOpt, QuietOpt, console,
                     err_console, get_encoder, print_json, show_progress)
from .items import expand, print_item_errors, require_some

PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Also render a PNG picture of the result here.")]
LongOpt = Annotated[Literal["warn", "truncate", "chunks", "error"], typer.Option(
    "--long", help="Prompts longer than the model's window: warn (truncate + report) | truncate | "
    "chunks (score every window) | error.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one row per image to a .csv or .jsonl file.")]


def _warn_lines(caught: list[warnings.WarningMessage]) -> None:
    from rich.markup import escape

    for w in caught:
        err_console.print(f"[yellow]warning:[/yellow] {escape(str(w.message))}", highlight=False, soft_wrap=True)


# ------------------------------------------------------------------------------------------ score
@app.command("score")
def score_cmd(
    images: Annotated[Optional[list[Path]], typer.Argument(help="Image files and/or folders.")] = None,
    prompt: Annotated[Optional[list[str]], typer.Option("--prompt", "-p", help="The prompt (one for all images, or "
                      "repeat once per image). Without it, each image's .txt sidecar (a.png.txt, or a.txt) is its "
                      "prompt.")] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="CSV/JSONL with image, prompt[, refs] columns.")] = None,
    ref: Annotated[Optional[list[str]], typer.Option("--ref", help="Reference caption(s) for RefCLIPScore (repeatable).")] = None,
    paper_prefix: Annotated[bool, typer.Option("--paper-prefix", help="Prefix prompts with 'A photo depicts' as the "
                            "CLIPScore paper does.")] = False,
    long: LongOpt = defaults.LONG_PROMPTS,
    out: OutOpt = None,
    plot: PlotOpt = None,
    on_error: OnErrorOpt = defaults.ON_ERROR,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the image embedding cache.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score images against prompts: cosine, clip_s (paper, 0..2.5) and clipscore_100 (torchmetrics, 0..100).

    Example: [bold]cliplens score renders/ --prompt "a red circle" --model toyclip[/bold]

    clip_s is 2.5*max(cos, 0) per image, averaged; torchmetrics' CLIPScore is max(mean(100*cos), 0):
    they differ whenever some cosine is negative. With --ref, RefCLIP-S is reported too. An image
    that cannot be read, or has no prompt, is reported and the others are still scored.
    """
    from ..judge import clip_score, read_manifest, sidecar_prompts

    refs = None
    if manifest is not None:
        if images or prompt:
            raise InvalidInputError("give either --manifest or images with --prompt, not both")
        m = read_manifest(manifest)
        files, prompts, refs = m.images, m.prompts, m.references
    else:
        files = expand(images or [])
        if prompt:
            prompts = list(prompt)
            if len(prompts) not in (1, len(files)):
                raise InvalidInputError(f"{len(files)} images but {len(prompts)} --prompt values: give one prompt, "
                                        "or one per image")
        else:
            prompts = sidecar_prompts(files)
    if ref:
        refs = [list(ref)] * len(files)
    enc = get_encoder(model, device, precision)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = clip_score(enc, files, prompts, references=refs, paper_prefix=paper_prefix, long_prompts=long,
                       on_error=on_error, use_cache=not no_cache, progress=show_progress(quiet))
    d = s.to_dict()
    summary = d["summary"]
    require_some(s, summary["pairs"], "scored")
    if out is not None:
        from ..io import write_table

        write_table(d["pairs"], out)
    plot_path = str(_score_plot(enc, s, plot)) if plot is not None else None
    if json_out:
        d["plot"] = plot_path
        d["out"] = str(out) if out else None
        print_json(d)
        return
    _warn_lines(caught)
    from rich.markup import escape
    from rich.table import Table

    rows = d["pairs"]
    table = Table(title=f"scores ({enc.name})")
    for col in ("image", "prompt", "cosine", "clip_s", "clipscore_100"):
        table.add_column(col, overflow="fold", justify="left" if col in ("image", "prompt") else "right")
    if refs is not None:
        table.add_column("refclip_s", justify="right")
    shown = [r for r in rows if r.get("cosine") is not None][:200]
    for r in shown:
        cells = [escape(Path(r["image"]).name), escape(r["prompt"][:120]), f"{r['cosine']:.4f}", f"{r['clip_s']:.4f}",
                 f"{r['clipscore_100']:.2f}"]
        if refs is not None:
            cells.append(f"{r['refclip_s']:.4f}")
        table.add_row(*cells)
    console.print(table)
    if summary["pairs"] > len(shown):
        console.print(f"... {summary['pairs'] - len(shown)} more rows (use --out or --json)")
    line = (f"{summary['pairs']} pairs: mean cosine {summary['cosine_mean']:.4f}, clip_s (paper, 0..2.5, per-sample "
            f"clamp) {summary['clip_s_mean']:.4f}, CLIPScore (torchmetrics, 0..100, clamp after mean) "
            f"{summary['clipscore_torchmetrics']:.2f}")
    if "refclip_s_mean" in summary:
        line += f", refclip_s {summary['refclip_s_mean']:.4f}"
    console.print(line)
    print_item_errors(s.errors)
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


def _score_plot(enc, s, plot: Path) -> Path:
    """Heat-map of every scored image against every distinct prompt (images x prompts cosine)."""
    from ..judge import similarity
    from .plots import heatmap

    prompts = list(dict.fromkeys(p for p, c in zip(s.prompts, s.cosine) if p and c == c))[:40]
    imgs = list(dict.fromkeys(im for im, c in zip(s.images, s.cosine) if c == c))[:60]
    if not imgs:
        raise InvalidInputError("nothing to plot: no image could be scored")
    r = similarity(enc, [Path(i) for i in imgs], prompts, long_prompts="truncate")
    m = [[c if c is not None else float("nan") for c in row] for row in r.cosine]
    return heatmap(m, [Path(i).name for i in imgs], prompts, plot, title=f"cosine, images x prompts ({enc.name})")


# ------------------------------------------------------------------------------------------ rank
@app.command("rank")
def rank_cmd(
    images: Annotated[list[Path], typer.Argument(help="Candidate images (files/folders), or ONE image with --candidate.")],
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="Rank the images for this prompt.")] = None,
    candidate: Annotated[Optional[list[str]], typer.Option("--candidate", "-c", help="Rank these prompts for one "
                         "image instead (repeatable).")] = None,
    top_k: Annotated[Optional[int], typer.Option("--top-k", "--top", "-k", min=1, help="Keep the best K (default: all, "
                     "best first).")] = defaults.RANK_TOP_K,
    copy_to: Annotated[Optional[Path], typer.Option("--copy-to", help="Copy the kept images here as 001_name.png...")] = None,
    symlink: Annotated[bool, typer.Option("--symlink", help="With --copy-to: symlink instead of copying.")] = False,
    long: LongOpt = defaults.LONG_PROMPTS,
    plot: PlotOpt = None,
    on_error: OnErrorOpt = defaults.ON_ERROR,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Best-of-N: rank N images for a prompt (or N prompts for an image), keep the top K.

    Example: [bold]cliplens rank renders/ --prompt "a red circle" --top-k 4 --copy-to best/ --model toyclip[/bold]
    """
    from ..judge import keep_winners, rank

    if (prompt is None) == (not candidate):
        raise InvalidInputError("give --prompt (rank images) or --candidate prompts (rank prompts for one image)")
    if candidate is not None and (len(images) != 1 or images[0].is_dir()):
        raise InvalidInputError("with --candidate, give exactly one image file")
    if candidate is not None and copy_to is not None:
        raise InvalidInputError("--copy-to keeps images; it does not apply when ranking prompts")
    enc = get_encoder(model, device, precision)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if prompt is not None:
            ranking = rank(enc, prompt, expand(images), top_k=top_k, long_prompts=long, on_error=on_error,
                           progress=show_progress(quiet))
        else:
            ranking = rank(enc, images[0], list(candidate or []), top_k=top_k, long_prompts=long)
    copied = []
    if copy_to is not None:
        copied = [str(p) for p in keep_winners(ranking, copy_to, mode="symlink" if symlink else "copy")]
    plot_path = None
    if plot is not None:
        from .plots import bar_chart, contact_sheet

        if ranking.kind == "images":
            plot_path = str(contact_sheet([r.item for r in ranking.items],
                                          [f"#{r.rank} {r.cosine:.4f} {Path(r.item).name}" for r in ranking.items],
                                          plot, scores=[r.cosine for r in ranking.items],
                                          title=f"best of {ranking.total} for: {prompt}"))
        else:
            plot_path = str(bar_chart([r.cosine for r in ranking.items], [r.item for r in ranking.items], plot,
                                      title=f"prompts ranked for {images[0].name}", xlabel="cosine"))
    if json_out:
        d = ranking.to_dict()
        d.update({"copied": copied, "plot": plot_path})
        print_json(d)
        return
    _warn_lines(caught)
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{ranking.kind} ranked for {ranking.query[:80]!r}"))
    table.add_column("rank", justify="right")
    table.add_column("image" if ranking.kind == "images" else "prompt", overflow="fold")
    table.add_column("cosine", justify="right")
    table.add_column("clip_s", justify="right")
    for r in ranking.items:
        table.add_row(str(r.rank), escape(Path(r.item).name if ranking.kind == "images" else r.item),
                      f"{r.cosine:.4f}", f"{r.clip_s:.4f}")
    console.print(table)
    print_item_errors(ranking.errors)
    if copied:
        console.print(f"[green]{'linked' if symlink else 'copied'}[/green] {len(copied)} images to {copy_to}")
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


# ------------------------------------------------------------------------------------------ feedback
@app.command("feedback")
def feedback_cmd(
    image: Annotated[Path, typer.Argument(help="The image.")],
    prompt: Annotated[str, typer.Argument(help="The prompt it was made from.")],
    phrase: Annotated[Optional[list[str]], typer.Option("--phrase", help="Check these phrases instead of splitting "
                      "the prompt (repeatable).")] = None,
    vocab: Annotated[Optional[list[str]], typer.Option("--vocab", help="Vocabulary (built-in name or file; repeatable) "
                     "for 'shows but not asked for'.")] = None,
    unrequested_k: Annotated[int, typer.Option("--unrequested-k", "--unrequested", min=0, help="How many unrequested "
                             "phrases to list.")] = defaults.FEEDBACK_UNREQUESTED_K,
    margin: Annotated[float, typer.Option("--margin", help="Presence needed for 'present' (cosine over a neutral "
                      "text).")] = defaults.FEEDBACK_MARGIN,
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Which words of the prompt show in the image (and what shows that was not asked for).

    Example: [bold]cliplens feedback red.png "red, circle, blue, watercolor" --vocab colour --model toyclip[/bold]

    presence = cos(image, phrase) - cos(image, "a picture"): positive means present.
    contribution = how much the whole prompt's score drops without the phrase.
    """
    from ..judge import keyword_feedback

    vocabulary = None
    if vocab:
        from ..vocab import load_vocabulary

        vocabulary = list(dict.fromkeys(p for v in vocab for p in load_vocabulary(v)))
    enc = get_encoder(model, device, precision)
    fb = keyword_feedback(enc, image, prompt, phrases=phrase, vocabulary=vocabulary, unrequested_k=unrequested_k,
                          margin=margin)
    plot_path = None
    if plot is not None:
        from .plots import bar_chart

        plot_path = str(bar_chart([k.presence for k in fb.keywords], [k.phrase for k in fb.keywords], plot,
                                  present=[k.verdict == "present" for k in fb.keywords], threshold=margin,
                                  title=f"{image.name}: which words show", xlabel="presence (cosine over a neutral text)"))
    if json_out:
        d = fb.to_dict()
        d["plot"] = plot_path
        print_json(d)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{image.name} vs {prompt[:80]!r} (cosine {fb.prompt_cosine:.4f}, "
                               f"clip_s {fb.prompt_clip_s:.4f})"))
    for col in ("phrase", "verdict", "presence", "contribution"):
        table.add_column(col, justify="left" if col in ("phrase", "verdict") else "right")
    for k in fb.keywords:
        colour = "green" if k.verdict == "present" else "red"
        table.add_row(escape(k.phrase), f"[{colour}]{k.verdict}[/{colour}]", f"{k.presence:+.4f}",
                      f"{k.contribution:+.4f}")
    console.print(table)
    if fb.unrequested:
        console.print("shows but not asked for: " + escape(", ".join(f"{u.phrase} (+{u.gain:.4f})"
                                                                     for u in fb.unrequested)))
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")
