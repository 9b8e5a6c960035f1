"""Lazy package exports: `import cliplens.judge` stays cheap (no torch) until a name is used.

A capability package maps each public name to the submodule that defines it; the first access
imports that submodule. One subtlety is kept from the eager imports these replace: a public
function named like its own submodule (`cliplens.judge.rank`) must stay the function when the
submodule is imported, so the package's module class refuses that one overwrite.

    # in cliplens/judge/__init__.py
    __getattr__, __dir__ = lazy_exports(__name__, {"rank": ".rank", "clip_score": ".scores"})
"""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Make `package` load each name of `where` (name -> relative submodule) on first use.

    Returns the module-level `__getattr__` and `__dir__` to assign in the package's `__init__`.
    """
    module = sys.modules[package]

    class _LazyPackage(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in where and isinstance(value, types.ModuleType) and value.__name__ == f"{package}.{name}":
                return  # importing submodule `rank` must not hide the function `rank`
            super().__setattr__(name, value)

    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(mod, package), name)
        module.__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*module.__dict__, *where})

    return __getattr__, __dir__
