"""cliplens nodes for ComfyUI: compose, interrogate, score / best-of-N, keyword feedback, lint.

ComfyUI loads a custom node pack by importing a folder under `custom_nodes/` and reading its
`NODE_CLASS_MAPPINGS` / `NODE_DISPLAY_NAME_MAPPINGS`. The folder `integrations/comfyui/` of the
repository (or the one `cliplens comfyui install DIR` writes) only re-exports these two names, so
the nodes live here, versioned and tested with the library they call.

    >>> from cliplens.integrations.comfyui import NODE_CLASS_MAPPINGS
    >>> sorted(NODE_CLASS_MAPPINGS)[:2]
    ['CliplensComposePrompt', 'CliplensInterrogate']
"""
from __future__ import annotations

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
