"""`cliplens embed` and `cliplens similarity`: the encoder, straight from the shell."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from ..errors import CliplensError
from ..images import looks_like_image
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
    from ..embed import embed_images, save_embeddings

    enc = get_encoder(model, device, precision)
    if decode not in ("auto", "cpu", "gpu"):
        raise CliplensError(f"--decode {decode}: use auto, cpu or gpu")
    result = embed_images(enc, paths, batch_size=batch_size, use_cache=not no_cache, progress=not quiet,
                          workers=workers, decode=decode, compile=compile_)
    save_embeddings(result, out, model=enc.name)
    summary = {"out": str(out), "model": enc.name, "fingerprint": enc.fingerprint, "images": len(result.paths),
               "dim": enc.embed_dim, "cached": result.cached, "computed": result.computed,
               "errors": [{"file": e.source, "reason": e.reason} for e in result.errors]}
    if json_out:
        print_json(summary)
    else:
        console.print(f"[green]wrote[/green] {out}: {len(result.paths)} x {enc.embed_dim} "
                      f"({result.computed} computed, {result.cached} from cache)")
        for e in result.errors:
            err_console.print(f"[yellow]skipped[/yellow] {e}")


def _is_image_arg(s: str) -> bool:
    p = Path(s)
    return p.is_file() and looks_like_image(p) or s.startswith(("http://", "https://"))


@app.command("similarity")
def similarity_cmd(
    a: Annotated[str, typer.Argument(help="A text, or an image file.")],
    b: Annotated[list[str], typer.Argument(help="One or more texts and/or image files to compare with A.")],
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
) -> None:
    """Cosine similarity between A and each B (text-image, image-image or text-text).

    Example: [bold]cliplens similarity red.png "a red circle" "a blue square" --model toyclip[/bold]

    An argument naming an existing image file is read as an image; anything else is text.
    """
    enc = get_encoder(model, device, precision)
    items = [a, *b]
    kinds = ["image" if _is_image_arg(x) else "text" for x in items]
    for x, k in zip(items, kinds):
        if k == "text" and not x.strip():
            raise CliplensError("empty text: give a non-empty prompt or an image file")
    vecs = np.empty((len(items), enc.embed_dim), np.float32)
    img_idx = [i for i, k in enumerate(kinds) if k == "image"]
    txt_idx = [i for i, k in enumerate(kinds) if k == "text"]
    if img_idx:
        vecs[img_idx] = enc.encode_images([items[i] for i in img_idx])
    if txt_idx:
        vecs[txt_idx] = enc.encode_texts([items[i] for i in txt_idx])
    sims = vecs[1:] @ vecs[0]
    rows = [{"b": x, "kind": k, "cosine": float(s)} for x, k, s in zip(b, kinds[1:], sims)]
    if json_out:
        print_json({"a": a, "a_kind": kinds[0], "model": enc.name, "results": rows})
        return
    table = Table(title=f"similarity to {a!r} ({kinds[0]}, {enc.name})")
    table.add_column("B", overflow="fold")
    table.add_column("kind")
    table.add_column("cosine", justify="right")
    for r in rows:
        table.add_row(r["b"], r["kind"], f"{r['cosine']:.4f}")
    console.print(table)
