"""Options and output helpers shared by every CLI verb (so they all behave the same).

Kept light on purpose (issue 13, fast start): importing this module must not import torch, numpy,
PIL or any capability; every verb module imports this one, and `cliplens <verb>` loads that verb's module.
The library is imported inside the command functions (e.g. `get_encoder`).

Options with a fixed set of values are typed `Literal[...]`, so the parser validates them (exit 2)
and `--help` lists the choices.
"""
from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any, Literal

import typer

from .. import defaults


class _LazyConsole:
    """A rich Console created on first use: importing rich.console costs about as much as typer itself,
    and `cliplens --version` (or a verb that only prints JSON) should not pay for it."""

    def __init__(self, **kwargs: Any):
        self._kwargs = kwargs
        self._console: Any = None

    def _get(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._kwargs)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)


console: Any = _LazyConsole()
err_console: Any = _LazyConsole(stderr=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model preset or spec: sd15 | sd2 | sdxl | toyclip | "
                                       "openclip:ARCH/TAG | hf:ID | onnx:DIR | a local folder.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (cuda > mps > cpu) | cpu | cuda | cuda:N | mps.")]
PrecisionOpt = Annotated[Literal["auto", "fp32", "fp16", "bf16"],
                         typer.Option("--precision", help="auto = fp16 on CUDA, fp32 elsewhere.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars (they only show on a terminal anyway).")]
TopKOpt = Annotated[int, typer.Option("--top-k", "--top", "-k", min=1, help="How many results to keep.")]
OnErrorOpt = Annotated[Literal["skip", "raise"],
                       typer.Option("--on-error", help="A bad item: skip (report it, go on) or raise (stop).")]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Items per model call.")]

#: the model used when a verb is not given --model (one home: cliplens/defaults.py)
DEFAULT_MODEL_NAME = defaults.MODEL


def show_progress(quiet: bool = False) -> bool:
    """Whether a verb should draw progress bars: not --quiet, and stderr is a terminal (no bar spam in logs).

    >>> show_progress(quiet=True)
    False
    """
    from ..progress import progress_enabled

    return progress_enabled(not quiet)


def _default(o: Any) -> Any:
    """JSON for the values results carry, without importing numpy: arrays/scalars via tolist()/item()."""
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):   # numpy arrays and scalars, torch tensors
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "__fspath__"):
        return str(o)
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite(o: Any) -> Any:
    """Replace NaN/inf floats with None so the output is strict JSON (parsers reject NaN)."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def print_json(data: Any) -> None:
    """One strict-JSON document on stdout (numpy values converted, NaN -> null).

    >>> print_json({"score": 0.5})
    {
      "score": 0.5
    }
    """
    text = json.dumps(data, default=_default, ensure_ascii=False, indent=2)
    if "NaN" in text or "Infinity" in text:   # rare: re-encode through the plain structure
        text = json.dumps(_finite(json.loads(text)), ensure_ascii=False, indent=2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def get_encoder(model: str, device: str = "auto", precision: str = "auto"):
    """Load the encoder a verb asked for (errors become the CLI's one-line message)."""
    from ..models import load_encoder

    return load_encoder(model, device=device, precision=precision)
