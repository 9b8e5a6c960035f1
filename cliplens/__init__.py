"""cliplens: CLIP as a judge, classifier, search engine, interrogator, prompt composer and guide.

    >>> import cliplens
    >>> enc = cliplens.load_encoder("toyclip")
    >>> sims = enc.encode_images(["red.png"]) @ enc.encode_texts(["a red circle"]).T   # doctest: +SKIP
"""
from __future__ import annotations

from .errors import CliplensError, ImageLoadError, InvalidInputError, ModelNotFoundError
from .images import load_image, load_images
from .models import Encoder, load_encoder, parse_spec

__version__ = "0.1.0"
__all__ = ["CliplensError", "ImageLoadError", "InvalidInputError", "ModelNotFoundError", "Encoder",
           "load_encoder", "parse_spec", "load_image", "load_images", "__version__"]
