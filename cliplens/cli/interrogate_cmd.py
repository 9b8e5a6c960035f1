"""`cliplens interrogate`: image -> prompt (one image printed, a folder written as sidecars/CSV/JSONL)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InvalidInputError
from .app import app
from .common import DeviceOpt, JsonOpt, PrecisionOpt, QuietOpt, console, err_console, print_json

_MODES = "best | classic | fast | negative | style | caption | analyze"


@app.command("interrogate")
def interrogate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="An image, several images, or folders (batch mode).")],
    mode: Annotated[str, typer.Option("--mode", help=f"{_MODES}.")] = "best",
    model: Annotated[str, typer.Option("--model", "-m", help="sd15 | sd2 | sdxl (scores with both SDXL encoders) | "
                                       "toyclip | any model spec.")] = "sd15",
    caption_model: Annotated[str, typer.Option("--caption-model", help="auto | blip-base | blip-large | blip2-2.7b | "
                                               "git-large-coco | florence-2-base | toycaption | a hub id | a folder | "
                                               "none (CLIP ranks a subject list instead).")] = "auto",
    caption: Annotated[str | None, typer.Option("--caption", help="Use this caption instead of a caption model.")] = None,
    vocab: Annotated[list[str] | None, typer.Option("--vocab", help="Phrase list file (one a line), a built-in list "
                                                    "name, or ci:<name>; repeatable; replaces the built-in lists. "
                                                    "'--vocab ci' uses clip-interrogator's whole vocabulary.")] = None,
    min_flavors: Annotated[int, typer.Option("--min-flavors", help="Chains add at least this many phrases.")] = 8,
    max_flavors: Annotated[int, typer.Option("--max-flavors", help="At most this many phrases.")] = 32,
    top_k: Annotated[int, typer.Option("--top-k", help="analyze mode: phrases shown per table.")] = 10,
    fmt: Annotated[str, typer.Option("--format", help="Batch output: txt (sidecars) | jsonl | csv.")] = "txt",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Batch output: folder for sidecars, or the "
                                             ".jsonl/.csv file.")] = None,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="Batch: redo images that already have output.")] = False,
    low_vram: Annotated[bool, typer.Option("--low-vram", help="Small batches and pools; one model on the GPU at a time.")] = False,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Turn an image into a prompt: caption + the vocabulary phrases CLIP finds in it.

    Example: [bold]cliplens interrogate assets/examples/toyworld.png --model toyclip --mode best[/bold]

    A folder writes one prompt per image (resumable): [bold]cliplens interrogate shots/ --model toyclip --format jsonl[/bold]
    """
    from ..interrogate import MODES, Interrogator
    from ..interrogate.batch import interrogate_folder

    if mode not in MODES:
        raise InvalidInputError(f"unknown --mode {mode!r}; use one of: {_MODES}")
    vocab_arg: object = None
    if vocab:
        vocab_arg = vocab[0] if vocab in (["ci"], ["builtin"]) else list(vocab)
    it = Interrogator(model, caption_model=caption_model, vocab=vocab_arg, device=device, precision=precision,
                      low_vram=low_vram, progress=not quiet)
    batch = len(paths) > 1 or any(p.is_dir() for p in paths) or out is not None
    if batch:
        summary = interrogate_folder(it, paths, mode, fmt=fmt, out=out, resume=not no_resume, caption=caption,
                                     min_flavors=min_flavors, max_flavors=max_flavors, progress=not quiet)
        if json_out:
            print_json(summary.to_dict())
            return
        console.print(f"[green]{summary.done} prompts written[/green] to {summary.out} "
                      f"({summary.skipped} already done, {summary.captioned} captioned, "
                      f"{summary.captions_cached} captions from cache)")
        for e in summary.errors:
            err_console.print(f"[yellow]skipped[/yellow] {e['file']}: {e['reason']}")
        return
    r = it.interrogate(paths[0], mode=mode, caption=caption, min_flavors=min_flavors, max_flavors=max_flavors, top_k=top_k)
    if json_out:
        d = r.to_dict()
        d["model"] = str(model)
        d["caption_model"] = "(given)" if caption else it.caption_model_name
        print_json(d)
        return
    console.print(r.prompt, highlight=False, soft_wrap=True)
    if not quiet:
        err_console.print(f"[dim]mode {mode} · similarity {r.similarity:.4f} · {r.tokens} tokens · {r.seconds:.2f}s[/dim]")
    if r.candidates and not quiet:
        err_console.print("[dim]candidates: " + ", ".join(f"{k} {v:.4f}" for k, v in r.candidates.items()) + "[/dim]")
    if r.analysis:
        for name, rows in r.analysis.items():
            t = Table(title=name, show_header=False)
            t.add_column("phrase")
            t.add_column("cosine", justify="right")
            for p, s in rows:
                t.add_row(p, f"{s:.4f}")
            console.print(t)
