"""`cliplens --help`: the root help page, drawn without typer's rich renderer.

Why not typer's: `typer.rich_utils` imports rich's markdown, traceback, columns and align modules at
module top (~0.15 s CPU), more than the whole budget for `cliplens --help` (issue 13: <= 1.5x the
cost of `python -c "import typer, rich"`). The root page is only a usage line, a description, four
options and a table of verbs, so it is drawn here with `textwrap` and box-drawing characters in the
same panel layout as every verb's own (rich) help, verbs grouped by what a user wants to do.

Styles are ANSI codes; click's `echo` strips them when the output is not a terminal, and NO_COLOR
turns them off. Each verb's own `--help` is still typer's, so it keeps rich markup and option tables.
"""
from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

_MAX_WIDTH = 100


def _style(text: str, code: str) -> str:
    if os.environ.get("NO_COLOR"):
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def _width(ctx: Any) -> int:
    width = getattr(ctx, "terminal_width", None) or 0
    if not width:
        try:
            width = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            width = 0
    if not width:
        width = shutil.get_terminal_size((80, 24)).columns
    return max(50, min(width, _MAX_WIDTH))


def _panel(title: str, rows: Sequence[tuple[str, str]], width: int) -> list[str]:
    """A rounded panel (like rich's) of two columns: a name (styled) and its wrapped help."""
    inner = width - 4                                   # "│ " + text + " │"
    left = max(len(name) for name, _ in rows) + 2
    right = max(10, inner - left)
    border = lambda s: _style(s, "2")   # noqa: E731  (dim, as rich draws panel borders)
    head = f"╭─ {title} "
    lines = [border(head + "─" * (width - len(head) - 1) + "╮")]
    for name, help_text in rows:
        wrapped = textwrap.wrap(help_text, right) or [""]
        for i, chunk in enumerate(wrapped):
            cell = name if i == 0 else ""
            pad = " " * (left - len(cell))
            text = _style(cell, "1;36") + pad + chunk + " " * (right - len(chunk))
            lines.append(border("│") + " " + text + " " + border("│"))
    lines.append(border("╰" + "─" * (width - 2) + "╯"))
    return lines


def render(ctx: Any, command: Any, verbs: Mapping[str, tuple[str, str]],
           sections: Mapping[str, Sequence[str]]) -> str:
    """The root help page: usage, the root command's description, its options, the verbs by section."""
    width = _width(ctx)
    wrap = lambda s: textwrap.wrap(s, width - 2)   # noqa: E731
    out = [""]
    pieces = " ".join(command.collect_usage_pieces(ctx))
    out.append(" " + _style("Usage:", "1;33") + " " + _style(f"{ctx.command_path} {pieces}", "1"))
    out.append("")
    for para in (command.help or "").strip().split("\n\n"):
        out += [" " + line for line in wrap(" ".join(para.split()))]
        out.append("")
    options = []
    for param in command.get_params(ctx):
        names = [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
        if names and not getattr(param, "hidden", False):
            options.append((", ".join(names), " ".join((getattr(param, "help", None) or "").split())))
    if options:
        out += _panel("Options", options, width)
    for title, names in sections.items():
        out += _panel(title, [(name, verbs[name][1]) for name in names], width)
    return "\n".join(out) + "\n"
