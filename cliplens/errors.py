"""One family of errors whose messages a user can act on.

The CLI and the server turn any `CliplensError` into a one-line message (and a non-zero exit
code or a 4xx response) instead of a traceback, so every message here should say what went
wrong *and* what to do about it.
"""
from __future__ import annotations


class CliplensError(Exception):
    """Base class: anything cliplens reports to a user on purpose."""


class ModelNotFoundError(CliplensError):
    """A model spec could not be resolved to weights (offline, missing files, unknown name)."""


class ModelSpecError(CliplensError):
    """A model spec string is malformed or names an unknown backend/preset."""


class ImageLoadError(CliplensError):
    """An image could not be read: missing, corrupt, truncated, too large, not an image."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"cannot read image {source}: {reason}")


class InvalidInputError(CliplensError):
    """Bad user input other than images: empty prompts, malformed JSON, bad sizes..."""


class CapabilityError(CliplensError):
    """The chosen encoder cannot do what was asked (e.g. gradients through an ONNX graph)."""
