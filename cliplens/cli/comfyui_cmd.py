"""`cliplens comfyui install DIR`: make ComfyUI load the cliplens nodes (a one-file shim + the example workflow)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app

comfyui_app = typer.Typer(help="ComfyUI: install the cliplens custom nodes.", no_args_is_help=True)
app.add_typer(comfyui_app, name="comfyui")

#: what ComfyUI imports from custom_nodes/cliplens/: the nodes stay in the installed library
SHIM = '''"""cliplens custom nodes for ComfyUI. Copy or link this folder into ComfyUI's `custom_nodes/`
(or run `cliplens comfyui install /path/to/ComfyUI`), with cliplens installed in ComfyUI's Python.
The nodes themselves live in `cliplens.integrations.comfyui`, versioned with the library."""
from cliplens.integrations.comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
'''


@comfyui_app.command("install")
def install_cmd(
    comfyui_dir: Annotated[Path, typer.Argument(help="ComfyUI's folder (the one holding custom_nodes/), or its "
                                                "custom_nodes/ folder itself.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing custom_nodes/cliplens/ folder's files.")] = False,
) -> None:
    """Write custom_nodes/cliplens/ (an __init__.py that imports the nodes from this cliplens, and the
    example Flux workflow). Run it with the Python ComfyUI uses, so that ComfyUI imports this cliplens.

    Example: `cliplens comfyui install ~/ComfyUI`, then restart ComfyUI: the nodes are under "cliplens".
    """
    from importlib import resources

    from ..errors import InvalidInputError

    base = comfyui_dir.expanduser()
    nodes_dir = base if base.name == "custom_nodes" else base / "custom_nodes"
    if not nodes_dir.is_dir():
        raise InvalidInputError(f"{base} has no custom_nodes/ folder: pass ComfyUI's folder or its custom_nodes/")
    target = nodes_dir / "cliplens"
    init = target / "__init__.py"
    if init.exists() and init.read_text(encoding="utf-8", errors="replace") != SHIM and not force:
        raise InvalidInputError(f"{init} exists and was not written by cliplens: move it away, or pass --force")
    target.mkdir(exist_ok=True)
    init.write_text(SHIM, encoding="utf-8")
    workflow = resources.files("cliplens.integrations.comfyui") / "workflows" / "flux_compose_best_of_n_api.json"
    (target / "example_workflow_flux_api.json").write_text(workflow.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(f"installed the cliplens nodes in {target}; restart ComfyUI (nodes under 'cliplens')")
