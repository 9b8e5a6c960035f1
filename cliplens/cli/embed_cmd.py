"""`cliplens embed`: the image encoder, straight from the shell (`similarity` lives in similarity_cmd.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CliplensError
from .app import app
from .common import DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, ModelOpt, PrecisionOpt, QuietOpt, console, err_console, get_encoder, print_json


@app.command("embed")
def embed_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Image files and/or folders (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .npy (+ .paths.txt), .npz, .parquet or .jsonl.")],
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Images per forward pass (default 256 on CUDA, 64 elsewhere).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not fill the embedding cache.")] = False,
    workers: Annotated[Optional[int], typer.Option("--workers", help="File reading/decoding threads (default: one per core).")] = None,
    decode: Annotated[str, typer.Option("--decode", help="JPEG decoding: auto (nvjpeg on CUDA) | cpu | gpu.")] = "auto",
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile the image tower for a fixed batch shape (CUDA graphs on GPU); pays off on large folders.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Embed images into unit vectors and save them, skipping (and reporting) unreadable files.

    Example: [bold]cliplens embed photos/ --out photos.parquet --model toyclip[/bold]

    Re-running is nearly free: vectors are cached by (model, file content). With --device cuda,
    files are decoded in parallel (nvjpeg for JPEGs), resized on the GPU and batched 256 at a time;
    the progress bar shows images/s.
    """
    from ..embed import embed_images
    from ..io import save_embeddings

    if decode not in ("auto", "cpu", "gpu"):
        raise CliplensError(f"--decode {decode}: use auto, cpu or gpu")
    if workers is not None and workers < 1:
        raise CliplensError(f"--workers {workers}: give at least 1 thread (or leave it out: one per core)")
    if batch_size is not None and batch_size < 1:
        raise CliplensError(f"--batch-size {batch_size}: give at least 1")
    enc = get_encoder(model, device, precision)
    result = embed_images(enc, paths, batch_size=batch_size, use_cache=not no_cache, progress=not quiet,
                          workers=workers, decode=decode, compile=compile_)
    save_embeddings(result, out, model=enc.name)
    summary = {"out": str(out), "model": enc.name, "fingerprint": enc.fingerprint, "images": len(result.paths),
               "dim": enc.embed_dim, "cached": result.cached, "computed": result.computed,
               "errors": [e.to_dict() for e in result.errors]}
    if json_out:
        print_json(summary)
    else:
        console.print(f"[green]wrote[/green] {out}: {len(result.paths)} x {enc.embed_dim} "
                      f"({result.computed} computed, {result.cached} from cache)")
        for e in result.errors:
            err_console.print(f"[yellow]skipped[/yellow] {e.source}: {e.reason}")
