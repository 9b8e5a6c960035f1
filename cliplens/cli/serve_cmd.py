"""`cliplens serve`: the HTTP API and web page on one local port."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidInputError
from .app import app
from ..models.spec import DEFAULT_MODEL
from .common import DeviceOpt, PrecisionOpt, console


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).")] = 8000,
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Model(s) to serve (repeatable; the first is the default). Clients choose only among these.")] = None,
    index: Annotated[Optional[list[Path]], typer.Option("--index", help="Search index folder to serve (repeatable).")] = None,
    root: Annotated[Optional[list[Path]], typer.Option("--root", help="Extra image folder clients may name by path (repeatable).")] = None,
    token: Annotated[Optional[str], typer.Option("--token", envvar="CLIPLENS_TOKEN", help="Secret every request must carry (X-Cliplens-Token header). 'auto' makes one up and prints it.")] = None,
    caption_model: Annotated[Optional[str], typer.Option("--caption-model", help="Captioner for interrogate (name, folder, or none).")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest request body in MiB.")] = 32.0,
    max_pixels: Annotated[int, typer.Option("--max-pixels", help="Largest decoded image, in pixels.")] = 40_000_000,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    preload: Annotated[bool, typer.Option("--preload/--lazy", help="Load the default model before accepting requests.")] = True,
) -> None:
    """Serve every capability over HTTP with a web page (FastAPI + uvicorn).

    Examples:
      [bold]cliplens serve --model toyclip[/bold]                      (then open http://127.0.0.1:8000)
      [bold]cliplens serve --model toyclip --index ./my-index[/bold]
      [bold]cliplens serve --host 0.0.0.0 --token auto[/bold]          (LAN access; every request needs the token)
    """
    import uvicorn

    from ..server import Limits, create_app

    if token == "auto":
        token = secrets.token_urlsafe(24)
        console.print(f"token: [bold]{token}[/bold]  (send it as the X-Cliplens-Token header)", highlight=False)
    if not 0 <= port <= 65535:
        raise InvalidInputError(f"--port must be between 0 and 65535, got {port}")
    limits = Limits(max_request_bytes=int(max_upload_mb * 1024 * 1024), max_image_pixels=max_pixels)
    application = create_app(models=model or [DEFAULT_MODEL], index_dirs=index or [], roots=root or [], token=token,
                             host=host, device=device, precision=precision, limits=limits,
                             caption_model=caption_model, preload=preload)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    console.print(f"cliplens serving {', '.join(application.state.cl.models)} on {url}  (API docs: /docs)", highlight=False)
    if token:
        console.print(f"every request needs the token; in a browser open {url}?token=YOUR_TOKEN once", highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
