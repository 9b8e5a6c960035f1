"""The typer application every `cliplens <verb>` module registers on, with `--version` and shell completion.

Importing this module must stay cheap (typer + rich only): `cliplens --help` and `--version`
should start about as fast as `python -c "import typer, rich"` (benchmarks/startup.py).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from ..errors import CliplensError


def report_error(exc: BaseException) -> None:
    """One line on stderr for an error the user can act on (markup in the message is printed as is)."""
    from rich.markup import escape

    from .common import err_console

    err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)


#: Every top-level verb: name -> (module under cliplens/cli/ that registers it, its one-line help).
#: The root group lists these names and helps without importing the modules (issue 13: `cliplens --help`
#: and `cliplens prompt lint` must not pay for building all 20 verbs' parsers); a verb's module is
#: imported only when that verb runs or its own help is asked for. The help is the first paragraph of
#: the verb's real help; tests/test_cli_lazy.py checks both stay equal. A new verb: add a row here.
VERBS: dict[str, tuple[str, str]] = {
    "models": ("models_cmd", "List model presets and whether each is available offline."),
    "embed": ("embed_cmd", "Embed images into unit vectors and save them, skipping (and reporting) unreadable files."),
    "serve": ("serve_cmd", "Serve every capability over HTTP with a web page (FastAPI + uvicorn)."),
    "guide": ("guide_cmd", "Generate an image from text by gradient ascent on CLIP similarity."),
    "search": ("search_cmd", "Search an index by text, image, or both combined with + and -."),
    "dedupe": ("search_cmd", "Find groups of near-duplicate images; optionally move or delete all but the best of each."),
    "interrogate": ("interrogate_cmd", "Turn an image into a prompt: caption + the vocabulary phrases CLIP finds in it."),
    "score": ("judge_cmd", "Score images against prompts: cosine, clip_s (paper, 0..2.5) and clipscore_100 "
                           "(torchmetrics, 0..100)."),
    "rank": ("judge_cmd", "Best-of-N: rank N images for a prompt (or N prompts for an image), keep the top K."),
    "feedback": ("judge_cmd", "Which words of the prompt show in the image (and what shows that was not asked for)."),
    "classify": ("classify_cmd", "Zero-shot classification: the most likely of your labels for each image "
                                 "(template ensembles)."),
    "tag": ("classify_cmd", "Multi-label tags from a vocabulary, with per-tag thresholds; CSV/JSONL, .txt or XMP "
                            "sidecars."),
    "similarity": ("similarity_cmd", "Cosine similarity between A and each B (text-image, image-image or text-text)."),
    "prompt": ("compose_cmd", "Compose prompts for multi-encoder models (Flux, SD3, SDXL, SD1.5) and lint CLIP prompts. "
                              "No model weights are loaded: tokenizers only."),
    "index": ("search_cmd", "Build and maintain a search index (a folder bound to one model)."),
    "comfyui": ("comfyui_cmd", "ComfyUI: install the cliplens custom nodes."),
}


#: How `cliplens --help` groups the verbs (by what a user sets out to do); every verb in VERBS exactly once
#: (tests/test_cli_lazy.py checks).
SECTIONS: dict[str, tuple[str, ...]] = {
    "Judge": ("score", "rank", "feedback", "similarity"),
    "Classify and tag": ("classify", "tag"),
    "Search": ("index", "search", "dedupe", "embed"),
    "Prompts": ("interrogate", "prompt"),
    "Generate": ("guide",),
    "Set up and serve": ("models", "serve", "comfyui"),
}


def _build_verb(name: str) -> Any:
    """Import the module that registers `name` on `app` and build just that verb's click command (or group)."""
    import importlib

    import typer.main as typer_main

    importlib.import_module(f"{__package__}.{VERBS[name][0]}")
    for info in app.registered_commands:
        if (info.name or typer_main.get_command_name(info.callback.__name__)) == name:
            return typer_main.get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                    rich_markup_mode=app.rich_markup_mode)
    for group in app.registered_groups:
        if (group.name or typer_main.solve_typer_info_defaults(group).name) == name:
            return typer_main.get_group_from_info(group, pretty_exceptions_short=app.pretty_exceptions_short,
                                                  rich_markup_mode=app.rich_markup_mode,
                                                  suggest_commands=app.suggest_commands)
    raise LookupError(f"cliplens.cli.{VERBS[name][0]} does not register a command named {name!r}")


class _LazyCommands(MutableMapping):
    """The root group's `commands`: every name in VERBS is a key; the value is built on first access.

    A mapping (not only `get_command`) so code that walks `group.commands.items()` (tests, docs) still sees
    every verb; commands built before (a verb module imported earlier) are used as they are.
    """

    def __init__(self, built: Mapping[str, Any]):
        self._built = dict(built)

    def loaded(self, name: str) -> bool:
        return name in self._built

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in VERBS:
                raise KeyError(name)
            self._built[name] = _build_verb(name)
        return self._built[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        self._built[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from VERBS
        yield from (n for n in self._built if n not in VERBS)

    def __len__(self) -> int:
        return len(VERBS) + sum(n not in VERBS for n in self._built)

    def __contains__(self, name: object) -> bool:
        return name in VERBS or name in self._built


class CliplensGroup(TyperGroup):
    """The root command: verbs load lazily, and any `CliplensError` from a verb becomes one line and exit 2.

    Lazy: `cliplens --help` and shell completion of verb names read VERBS (no verb module imported);
    `cliplens <verb> ...` imports only that verb's module. The error handling is done here (not only in
    `main()`) so the same happens in-process, e.g. under typer's CliRunner.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)
        self._summaries_only = False

    def _summary(self, name: str) -> Any:
        """A stand-in carrying only the name and one-line help, for listings (help, completion)."""
        from typer.core import TyperCommand

        return TyperCommand(name=name, help=VERBS[name][1])

    def list_commands(self, ctx):  # type: ignore[override]
        return list(self.commands)   # the names only: TyperGroup's version would build every verb

    def get_command(self, ctx, cmd_name):  # type: ignore[override]
        if self._summaries_only and cmd_name in VERBS and not self.commands.loaded(cmd_name):
            return self._summary(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx, formatter):  # type: ignore[override]
        """The root page is drawn by cli/roothelp.py (no typer.rich_utils import: issue 13's start-up budget)."""
        from . import roothelp

        formatter.write(roothelp.render(ctx, self, VERBS, SECTIONS))

    def parse_args(self, ctx, args):  # type: ignore[override]
        # typer's rich error handler prints nothing for "no arguments: show help" (it expects the rich
        # renderer to have printed the page already), so the page is printed here: stdout, exit code 2.
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            typer.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx, incomplete):  # type: ignore[override]
        self._summaries_only = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._summaries_only = False

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CliplensError as exc:
            report_error(exc)
            raise typer.Exit(2) from None


def _install_fast_coercion() -> None:
    """Let plain string parameters skip typer's pydantic coercion (issue 13: `prompt lint` under 0.5 s).

    typer 0.29 coerces every parameter value through a pydantic TypeAdapter it builds on first use;
    importing pydantic for that costs ~0.16 s CPU, a third of a `cliplens prompt lint` run whose options
    are all strings. Here the per-parameter coercion object is wrapped so that the cases where typer's own
    answer is known without pydantic are answered directly, with the same value typer would return:
    a missing value (None -> None, or () for multi-value), a `str` parameter given a str (typer's str
    adapter returns it as is), a Literal-of-strings parameter given exactly one of its choices. Everything
    else (numbers, paths, files, custom parsers, a bad choice with its error message) goes to typer's
    real coercion. If typer's internals differ from what this expects, nothing is patched.
    """
    try:
        from typer import core as typer_core
        from typer._typing import is_literal_type, literal_values
    except ImportError:
        return
    param_cls = getattr(typer_core, "_TyperParameter", None)
    original = getattr(param_cls, "get_runtime_param", None)
    if original is None or getattr(original, "_cliplens_fast", False):
        return

    def fast_kind(param: Any) -> Any:
        """None: no string fast path; () : any str; a frozenset: exactly these string choices."""
        desc = getattr(param, "type_descriptor", None)
        info = getattr(desc, "parameter_info", None)
        if desc is None or info is None or getattr(info, "parser", 1) is not None or desc.file_annotation is not None:
            return None
        ann = desc.annotation
        if ann is str:
            return ()
        if is_literal_type(ann):
            values = literal_values(ann)
            if values and all(isinstance(v, str) for v in values):
                return frozenset(values)
        return None

    class _FastRuntimeParam:
        __slots__ = ("_param", "_kind")

        def __init__(self, param: Any, kind: Any) -> None:
            self._param, self._kind = param, kind

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            multi = param.multiple or param.nargs == -1
            if value is None:
                return () if multi else None
            if (not multi and type(value) is str and self._kind is not None and ctx.token_normalize_func is None
                    and (self._kind == () or value in self._kind)):
                return value
            real = original(self._reset())
            return real.coerce(value, param=param, ctx=ctx)

        def _reset(self) -> Any:
            self._param._runtime_param = None   # let typer build (and keep) its real coercion
            return self._param

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = _FastRuntimeParam(self, fast_kind(self))
        return self._runtime_param

    get_runtime_param._cliplens_fast = True  # type: ignore[attr-defined]
    param_cls.get_runtime_param = get_runtime_param


_install_fast_coercion()


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
