"""`cliplens similarity`: cosine between texts and images, straight from the shell (calls `judge.similarity`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import (DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, ModelOpt, PrecisionOpt, QuietOpt, console, get_encoder,
                     print_json, show_progress)
from .items import print_item_errors, require_some, term


@app.command("similarity")
def similarity_cmd(
    a: Annotated[str, typer.Argument(help="A text, or an image: @path (or a path to an existing file).")],
    b: Annotated[list[str], typer.Argument(help="One or more texts and/or images (@path) to compare with A.")],
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Cosine similarity between A and each B (text-image, image-image or text-text).

    Example: [bold]cliplens similarity @red.png "a red circle" "a blue square" --model toyclip[/bold]

    @path is always an image; a bare argument is an image when it names an existing file (or
    looks like an image file name, so a missing one is reported); anything else is text.
    A term that fails (unreadable image, empty text) is reported and the others still compare.
    """
    from ..judge import similarity

    enc = get_encoder(model, device, precision)
    result = similarity(enc, [term(a)], [term(x) for x in b], progress=show_progress(quiet))
    row = result.cosine[0]
    require_some(result, sum(c is not None for c in row), "compared")
    if json_out:
        print_json(result.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    a0 = result.a[0]
    shown = Path(a0["source"]).name if a0["kind"] == "image" else repr(a0["source"][:80])
    table = Table(title=escape(f"similarity to {shown} ({a0['kind']}, {enc.name})"))
    table.add_column("B", overflow="fold")
    table.add_column("kind")
    table.add_column("cosine", justify="right")
    for info, c in zip(result.b, row):
        if c is not None:
            table.add_row(escape(info["source"]), info["kind"], f"{c:.4f}")
    console.print(table)
    print_item_errors(result.errors)
