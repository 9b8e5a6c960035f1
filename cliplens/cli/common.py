"""Options and output helpers shared by every CLI verb (so they all behave the same)."""
from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console

from ..models.spec import DEFAULT_MODEL

console = Console()
err_console = Console(stderr=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model preset or spec: sd15 | sd2 | sdxl | toyclip | "
                                       "openclip:ARCH/TAG | hf:ID | onnx:DIR | a local folder.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (cuda > mps > cpu) | cpu | cuda | cuda:N | mps.")]
PrecisionOpt = Annotated[str, typer.Option("--precision", help="auto (fp16 on CUDA) | fp32 | fp16 | bf16.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]

DEFAULT_MODEL_NAME = DEFAULT_MODEL


def _default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if hasattr(o, "__fspath__"):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def print_json(data: Any) -> None:
    """One JSON document on stdout (numpy values converted)."""
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def get_encoder(model: str, device: str = "auto", precision: str = "auto"):
    """Load the encoder a verb asked for (errors become the CLI's one-line message)."""
    from ..models import load_encoder

    return load_encoder(model, device=device, precision=precision)
