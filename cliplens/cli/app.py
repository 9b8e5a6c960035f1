"""The typer application every `cliplens <verb>` module registers on."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="cliplens",
    help="CLIP for people who make images: judge, classify, search, interrogate, compose and guide.\n\n"
    "Every verb takes --model (a preset like sd15/sd2/sdxl, a spec like openclip:ViT-B-32/laion2b_s34b_b79k, "
    "hf:ID, onnx:DIR or a folder; --model toyclip runs the bundled toy model offline) and --json.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
