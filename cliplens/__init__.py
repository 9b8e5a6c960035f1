"""cliplens: CLIP as a judge, classifier, search engine, interrogator, prompt composer and guide.

    >>> import cliplens
    >>> enc = cliplens.load_encoder("toyclip")
    >>> sims = enc.encode_images(["red.png"]) @ enc.encode_texts(["a red circle"]).T   # doctest: +SKIP

`import cliplens` stays fast (no torch, PIL or numpy): the public names below are resolved on
first use (PEP 562 module `__getattr__`), so `cliplens --help` and the prompt tools start quickly.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> submodule that defines it (imported on first attribute access)
_LAZY = {
    "CliplensError": ".errors",
    "ImageLoadError": ".errors",
    "InvalidInputError": ".errors",
    "ModelNotFoundError": ".errors",
    "load_image": ".images",
    "load_images": ".images",
    "Encoder": ".models",
    "load_encoder": ".models",
    "parse_spec": ".models",
}

__all__ = [*_LAZY, "__version__"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .errors import CliplensError, ImageLoadError, InvalidInputError, ModelNotFoundError  # noqa: F401
    from .images import load_image, load_images  # noqa: F401
    from .models import Encoder, load_encoder, parse_spec  # noqa: F401


#: subpackages reachable as attributes (`cliplens.judge.clip_score(...)`) without an explicit import
_SUBMODULES = {"assets", "classify", "compose", "defaults", "embed", "errors", "guide", "images", "interrogate",
               "io", "judge", "models", "progress", "results", "search", "settings", "text", "vocab"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cliplens' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
