"""The typer application every `cliplens <verb>` module registers on, with `--version` and shell completion.

Importing this module must stay cheap (typer + rich only): `cliplens --help` and `--version`
should start about as fast as `python -c "import typer, rich"` (benchmarks/startup.py).
"""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from ..errors import CliplensError


def report_error(exc: BaseException) -> None:
    """One line on stderr for an error the user can act on (markup in the message is printed as is)."""
    from rich.markup import escape

    from .common import err_console

    err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)


class CliplensGroup(TyperGroup):
    """The root command: any `CliplensError` from a verb becomes one line and exit code 2.

    Done here (not only in `main()`) so the same happens in-process, e.g. under typer's CliRunner.
    """

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CliplensError as exc:
            report_error(exc)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=CliplensGroup,
    name="cliplens",
    help="CLIP for people who make images: judge, classify, search, interrogate, compose and guide.\n\n"
    "Every verb takes --model (a preset like sd15/sd2/sdxl, a spec like openclip:ViT-B-32/laion2b_s34b_b79k, "
    "hf:ID, onnx:DIR or a folder; --model toyclip runs the bundled toy model offline) and --json.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"cliplens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", "-V", callback=_print_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """CLIP for people who make images: judge, classify, search, interrogate, compose and guide.

    Every verb takes --model (a preset like sd15/sd2/sdxl, a spec like openclip:ViT-B-32/laion2b_s34b_b79k,
    hf:ID, onnx:DIR or a folder; --model toyclip runs the bundled toy model offline) and --json.
    """
