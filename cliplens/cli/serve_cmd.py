"""`cliplens serve`: the HTTP API and web page on one local port.

The port is bound *before* the model loads and before any URL is printed: a busy port is one clear
line and exit code 2, never a "serving on http://..." line followed by a traceback from uvicorn.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import DeviceOpt, PrecisionOpt, console

if TYPE_CHECKING:
    import socket


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), or InvalidInputError saying why it cannot be had.

    >>> s = bind_socket("127.0.0.1", 0); s.getsockname()[1] > 0
    True
    """
    import errno
    import socket
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInputError(f"cannot serve on host {host!r}: {exc.strerror or exc}") from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if sys.platform != "win32":   # on Windows SO_REUSEADDR would let two servers share a port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)   # listening now: a second server on the same port fails at its bind, not later
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise InvalidInputError(f"port {port} on {host} is already in use: stop the other server or choose "
                                    "another --port (--port 0 picks a free one)") from None
        raise InvalidInputError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return sock


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free port).")] = 8000,
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Model(s) to serve (repeatable; the first is the default). Clients choose only among these.")] = None,
    index: Annotated[Optional[list[Path]], typer.Option("--index", help="Search index folder to serve (repeatable).")] = None,
    root: Annotated[Optional[list[Path]], typer.Option("--root", help="Extra image folder clients may name by path (repeatable).")] = None,
    token: Annotated[Optional[str], typer.Option("--token", envvar="CLIPLENS_TOKEN", help="Secret every request must carry (X-Cliplens-Token header). 'auto' makes one up and prints it.")] = None,
    caption_model: Annotated[Optional[str], typer.Option("--caption-model", help="Captioner for interrogate (name, folder, or none).")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=0.001, help="Largest request body in MiB.")] = 32.0,
    max_pixels: Annotated[int, typer.Option("--max-pixels", min=1, help="Largest decoded image, in pixels.")] = 40_000_000,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    preload: Annotated[bool, typer.Option("--preload/--lazy", help="Load the default model before accepting requests.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No access log (one line per request on stderr: "
                                        "method, path, status, duration; never the token).")] = False,
) -> None:
    """Serve every capability over HTTP with a web page (FastAPI + uvicorn).

    Examples:
      [bold]cliplens serve --model toyclip[/bold]                      (then open http://127.0.0.1:8000)
      [bold]cliplens serve --model toyclip --index ./my-index[/bold]
      [bold]cliplens serve --host 0.0.0.0 --token auto[/bold]          (LAN access; every request needs the token)
    """
    auto_token = token == "auto"
    if auto_token:
        import secrets

        token = secrets.token_urlsafe(24)
    try:
        import uvicorn

        from ..server import Limits, create_app
    except ImportError as exc:   # the core install has no web stack: say which extra brings it
        raise InvalidInputError(f"cliplens serve needs the server extra ({exc.name or exc} is not installed): "
                                "pip install \"cliplens[server]\"") from None

    limits = Limits(max_request_bytes=int(max_upload_mb * 1024 * 1024), max_image_pixels=max_pixels)
    # checks the bind/token rules without loading a model; the model loads after the port is ours
    application = create_app(models=model or [defaults.MODEL], index_dirs=index or [], roots=root or [],
                             token=token, host=host, device=device, precision=precision, limits=limits,
                             caption_model=caption_model, preload=False, access_log=not quiet)
    sock = bind_socket(host, port)   # a busy port fails here: one line, exit 2, no URL printed
    try:
        if preload:
            application.state.cl.encoder()
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}/"
        if auto_token:
            console.print(f"token: [bold]{token}[/bold]  (send it as the X-Cliplens-Token header)", highlight=False)
        console.print(f"cliplens serving {', '.join(application.state.cl.models)} on {url}  (API docs: /docs)",
                      highlight=False)
        if token:
            console.print(f"every request needs the token; in a browser open {url}?token=YOUR_TOKEN once", highlight=False)
        uvicorn.Server(uvicorn.Config(application, log_level="warning", access_log=False)).run(sockets=[sock])
    finally:
        sock.close()
