"""cliplens custom nodes for ComfyUI. Copy or link this folder into ComfyUI's `custom_nodes/`
(or run `cliplens comfyui install /path/to/ComfyUI`), with cliplens installed in ComfyUI's Python.
The nodes themselves live in `cliplens.integrations.comfyui`, versioned with the library."""
from cliplens.integrations.comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
