"""`cliplens interrogate`: image -> prompt (one image printed, a folder written as sidecars/CSV/JSONL).

Parses options, calls `cliplens.interrogate.interrogate` (one image) or the folder runner, and
renders the result; the defaults come from `cliplens.defaults`, as for the HTTP API.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .. import defaults as D
from .app import app
from .common import DeviceOpt, JsonOpt, PrecisionOpt, QuietOpt, console, err_console, print_json, show_progress

ModeChoice = Literal[D.INTERROGATE_MODES]  # type: ignore[valid-type]
FormatChoice = Literal["txt", "jsonl", "csv"]


@app.command("interrogate")
def interrogate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="An image, several images, or folders (batch mode).")],
    mode: Annotated[ModeChoice, typer.Option("--mode", help="best: greedy chain, best of all candidates | classic | "
                                             "fast | negative: what the image is not + common defects | style: no "
                                             "subject words | caption | analyze: top phrases of every table.")
                    ] = D.INTERROGATE_MODE,
    model: Annotated[str, typer.Option("--model", "-m", help="sd15 | sd2 | sdxl (scores with both SDXL encoders) | "
                                       "toyclip | any model spec.")] = D.MODEL,
    caption_model: Annotated[str, typer.Option("--caption-model", help="auto | blip-base | blip-large | blip2-2.7b | "
                                               "git-large-coco | florence-2-base | toycaption | a hub id | a folder | "
                                               "none (CLIP ranks a subject list instead).")] = "auto",
    caption: Annotated[Optional[str], typer.Option("--caption", help="Use this caption instead of a caption model "
                                                   "(cut to the model's token window).")] = None,
    vocab: Annotated[Optional[list[str]], typer.Option("--vocab", help="Phrase list file (one a line), a built-in list "
                                                       "name, or ci:<name>; repeatable; replaces the built-in lists. "
                                                       "'--vocab ci': clip-interrogator's whole vocabulary; "
                                                       "'--vocab builtin': cliplens' own ~1.2k phrases. Default: "
                                                       "clip-interrogator's lists for a real CLIP when that package is "
                                                       "installed, else the built-in ones.")] = None,
    min_flavors: Annotated[int, typer.Option("--min-flavors", min=0, help="Chains add at least this many phrases.")
                           ] = D.INTERROGATE_MIN_FLAVORS,
    max_flavors: Annotated[Optional[int], typer.Option("--max-flavors", min=1, help="At most this many phrases "
                                                       f"(default {D.INTERROGATE_MAX_FLAVORS}; classic mode: "
                                                       f"{D.INTERROGATE_CLASSIC_FLAVORS} flavors).")] = None,
    min_confidence: Annotated[Optional[float], typer.Option("--min-confidence", help="Leave out parts less confident "
                                                            "than this (1.0: stands out from its list more than chance; "
                                                            f"parts under {D.INTERROGATE_WEAK_CONFIDENCE} are marked "
                                                            "weak).")] = D.INTERROGATE_MIN_CONFIDENCE,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="analyze mode: phrases shown per table.")] = D.TOP_K,
    fmt: Annotated[Optional[FormatChoice], typer.Option("--format", help="Write output files: txt (sidecar a.png.txt "
                                                        "per image) | jsonl | csv. Given for a single image, it is "
                                                        "written too. Default: print one image, txt for folders.")
                   ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Batch output: folder for sidecars, or the "
                                                ".jsonl/.csv file.")] = None,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="Batch: redo images that already have output "
                                            "(sidecars cliplens wrote are replaced; other files never).")] = False,
    low_vram: Annotated[bool, typer.Option("--low-vram", help="Small batches and pools; the caption model runs and "
                                           "leaves memory before CLIP loads.")] = False,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Turn an image into a prompt: caption + the vocabulary phrases CLIP finds in it.

    Example: [bold]cliplens interrogate photo.png --model toyclip --mode best[/bold]

    A folder writes one prompt per image (resumable): [bold]cliplens interrogate shots/ --model toyclip --format jsonl[/bold]

    Each part has a confidence (how far it stands out from its list for this image); weak parts are
    marked, artists are shown as guesses, --min-confidence leaves weak parts out.
    """
    from ..interrogate import get_interrogator, interrogate
    from ..interrogate.batch import interrogate_folder

    progress = show_progress(quiet) and sys.stderr.isatty()
    vocab_arg: object = None
    if vocab:
        vocab_arg = vocab[0] if vocab in (["ci"], ["builtin"]) else list(vocab)
    it = get_interrogator(model, caption_model=caption_model, vocab=vocab_arg, device=device, precision=precision,
                          low_vram=low_vram, progress=progress)
    batch = len(paths) > 1 or any(p.is_dir() for p in paths) or out is not None or fmt is not None
    if batch:
        summary = interrogate_folder(it, paths, mode, fmt=fmt or "txt", out=out, resume=not no_resume,
                                     caption=caption, min_flavors=min_flavors, max_flavors=max_flavors,
                                     min_confidence=min_confidence, progress=progress)
        if json_out:
            print_json(summary.to_dict())
            return
        console.print(f"[green]{summary.done} prompts written[/green] to {summary.out} "
                      f"({summary.skipped} already done, {summary.captioned} captioned, "
                      f"{summary.captions_cached} captions from cache)")
        for e in summary.errors:
            err_console.print(f"[yellow]skipped[/yellow] {e.source}: {e.reason}")
        return
    r = interrogate(it, paths[0], mode=mode, caption=caption, min_flavors=min_flavors, max_flavors=max_flavors,
                    min_confidence=min_confidence, top_k=top_k, progress=progress)
    if json_out:
        print_json(r.to_dict())
        return
    console.print(r.prompt, highlight=False, soft_wrap=True)
    if quiet:
        return
    err_console.print(f"[dim]mode {mode} · similarity {r.similarity:.4f} · {r.tokens} tokens · "
                      f"{r.seconds:.2f}s for the image · {r.prepare_seconds:.2f}s loading models and tables[/dim]")
    if r.candidates:
        err_console.print("[dim]candidates: " + ", ".join(f"{k} {v:.4f}" for k, v in r.candidates.items()) + "[/dim]")
    _print_parts(r)
    if r.analysis:
        from rich.table import Table

        for name, rows in r.analysis.items():
            t = Table(title=name, show_header=False)
            t.add_column("phrase")
            t.add_column("cosine", justify="right")
            for p, s in rows:
                t.add_row(p, f"{s:.4f}")
            console.print(t)


def _print_parts(r) -> None:
    """Each part with its confidence on stderr; weak parts and artist guesses are marked."""
    flagged = [p for p in r.parts if p.weak or p.guess]
    label = "how surely the image is NOT it" if r.mode == "negative" else "confidence"
    rows = []
    for p in r.parts:
        if p.confidence is None:
            continue
        mark = " [yellow](weak)[/yellow]" if p.weak else ""
        mark += " [magenta](guess: resemblance, not attribution)[/magenta]" if p.guess else ""
        rows.append(f"  {p.text} [dim]{p.table} {label} {p.confidence:.2f}[/dim]{mark}")
    if rows:
        err_console.print("[dim]parts:[/dim]")
        for line in rows:
            err_console.print(line, highlight=False)
    if flagged and r.mode != "negative":
        err_console.print(f"[dim]{sum(p.weak for p in r.parts)} weak part(s); --min-confidence "
                          f"{D.INTERROGATE_WEAK_CONFIDENCE} leaves them out[/dim]")
