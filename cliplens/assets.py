"""Where the bundled toy models, the example image and the toy-world renderer live.

They ship inside the package (`cliplens/_bundled/`, package data in the wheel), so cliplens can
be tried and tested offline right after `pip install`, from any directory. Every module and test
reaches them through these helpers, never through a path relative to the repository.
`CLIPLENS_ASSETS` points elsewhere (e.g. a larger or patched copy).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType


def assets_dir() -> Path:
    """The folder holding `models/`, `examples/` and `toyworld/` (the package's `_bundled/` by default).

    >>> (assets_dir() / "models" / "toyclip").is_dir()
    True
    """
    env = os.environ.get("CLIPLENS_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parent / "_bundled"


def toy_model_dir(name: str) -> Path:
    """Folder of a bundled toy model, e.g. ``toy_model_dir("toyclip") / "hf"``."""
    return assets_dir() / "models" / name


def example_image() -> Path:
    """The bundled example picture (a 224-px toy-world scene) used by `make demo` and the docs.

    >>> example_image().name
    'toyworld.png'
    """
    return assets_dir() / "examples" / "toyworld.png"


def fixtures_dir(size: int = 64) -> Path:
    """Labelled toy-world fixture images (`64` or `224` px), with `labels.jsonl`."""
    return assets_dir() / "toyworld" / "fixtures" / str(size)


@lru_cache(maxsize=1)
def toyworld() -> ModuleType:
    """Import the bundled toy-world renderer (`toyworld/toyworld.py` in the bundled data) as a module.

    >>> tw = toyworld(); img, caption, scene = tw.make_example(seed=1, size=64)
    """
    path = assets_dir() / "toyworld" / "toyworld.py"
    spec = importlib.util.spec_from_file_location("toyworld", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("toyworld", module)
    spec.loader.exec_module(module)
    return module
