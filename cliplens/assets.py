"""Where the bundled toy models and the toy-world renderer live.

The repository ships small *trained* toy models (toyclip, toycaption) and the toy-world
renderer + labelled fixtures, so cliplens can be tried and tested with no downloads.
`CLIPLENS_ASSETS` points elsewhere (e.g. an installed copy).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType


def assets_dir() -> Path:
    """The folder holding `models/` and `toyworld/` (repository root's `assets/` by default)."""
    env = os.environ.get("CLIPLENS_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets"


def toy_model_dir(name: str) -> Path:
    """Folder of a bundled toy model, e.g. ``toy_model_dir("toyclip") / "hf"``."""
    return assets_dir() / "models" / name


def fixtures_dir(size: int = 64) -> Path:
    """Labelled toy-world fixture images (`64` or `224` px), with `labels.jsonl`."""
    return assets_dir() / "toyworld" / "fixtures" / str(size)


@lru_cache(maxsize=1)
def toyworld() -> ModuleType:
    """Import the bundled toy-world renderer (`assets/toyworld/toyworld.py`) as a module.

    >>> tw = toyworld(); img, caption, scene = tw.make_example(seed=1, size=64)
    """
    path = assets_dir() / "toyworld" / "toyworld.py"
    spec = importlib.util.spec_from_file_location("toyworld", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("toyworld", module)
    spec.loader.exec_module(module)
    return module
