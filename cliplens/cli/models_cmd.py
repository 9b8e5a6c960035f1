"""`cliplens models`: the presets, and which models are available without downloading."""
from __future__ import annotations

from pathlib import Path

from ..assets import assets_dir
from .app import app
from .common import JsonOpt, console, print_json


def _local_status(spec: str) -> str:
    """'bundled', 'cached' (in the HF cache) or 'download' (needs network on first use)."""
    from ..models.spec import parse_spec

    parsed = parse_spec(spec)
    if Path(parsed.name).exists():
        bundled = assets_dir().resolve()
        return "bundled" if Path(parsed.name).resolve().is_relative_to(bundled) else "local"
    if parsed.backend == "openclip" and parsed.pretrained:
        import open_clip

        cfg = open_clip.get_pretrained_cfg(parsed.name, parsed.pretrained) or {}
        repo = (cfg.get("hf_hub") or "").rstrip("/")
        if repo:
            from huggingface_hub import try_to_load_from_cache

            for fname in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
                if isinstance(try_to_load_from_cache(repo, fname), str):
                    return "cached"
    return "download"


@app.command("models")
def models_cmd(json_out: JsonOpt = False) -> None:
    """List model presets and whether each is available offline.

    Example: [bold]cliplens models --json[/bold]
    """
    from rich.table import Table

    from ..models.spec import PRESETS

    rows = []
    for p in PRESETS.values():
        rows.append({"name": p.name, "spec": p.spec, "description": p.description, "status": _local_status(p.spec),
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
