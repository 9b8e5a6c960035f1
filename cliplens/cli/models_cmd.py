"""`cliplens models`: the presets, and which models are available without downloading."""
from __future__ import annotations

from ..assets import assets_dir
from .app import app
from .common import JsonOpt, console, print_json


@app.command("models")
def models_cmd(json_out: JsonOpt = False) -> None:
    """List model presets and whether each is available offline.

    Example: [bold]cliplens models --json[/bold]
    """
    from rich.table import Table

    from ..models.spec import PRESETS, availability

    rows = []
    for p in PRESETS.values():
        rows.append({"name": p.name, "spec": p.spec, "description": p.description, "status": availability(p.spec),
                     "secondary": list(p.secondary)})
    if json_out:
        print_json(rows)
        return
    table = Table(title="cliplens model presets")
    for col in ("name", "status", "description", "spec"):
        table.add_column(col, overflow="fold")
    bundled = str(assets_dir())
    for r in rows:   # bundled paths shown short (the folder is printed below); --json keeps them absolute
        table.add_row(r["name"], r["status"], r["description"], r["spec"].replace(bundled, "<bundled>"))
    console.print(table)
    console.print("Any open_clip tag (openclip:ARCH/TAG), transformers id (hf:ID), ONNX folder or local folder works too.")
    console.print(f"<bundled> = {bundled} (toy models, example image, toy-world fixtures)", highlight=False,
                  soft_wrap=True)
