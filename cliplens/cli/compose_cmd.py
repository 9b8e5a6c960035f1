"""`cliplens prompt compose` and `cliplens prompt lint`: the prompt composer from the shell.

Parse the arguments, call `compose.compose` / `compose.lint_prompt`, render the result. Without
--model nothing heavier than the `tokenizers` library is imported (no torch): these verbs start fast.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import JsonOpt, console, print_json

prompt_app = typer.Typer(help="Compose prompts for multi-encoder models (Flux, SD3, SDXL, SD1.5) and lint CLIP "
                              "prompts. No model weights are loaded: tokenizers only.",
                         no_args_is_help=True, rich_markup_mode="rich")
TargetName = Literal["flux", "flux-dev", "flux-schnell", "sd3", "sdxl", "sd15"]
app.add_typer(prompt_app, name="prompt")

_PATHLIKE = (".json", ".yaml", ".yml", ".txt", ".py", ".toml", ".prompt")


def _read_source(source: str) -> str:
    """'-' -> stdin; an existing file -> its text; anything else that is not path-like -> the text itself."""
    if source == "-":
        return sys.stdin.read()
    try:
        path = Path(source).expanduser()
        is_file = path.is_file()
    except (OSError, ValueError):  # a long prompt is no file name ("File name too long", NUL bytes)
        return source
    try:
        if is_file:
            return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{source} is not UTF-8 text") from exc
    if source.lower().endswith(_PATHLIKE) and " " not in source and "{" not in source:
        raise InvalidInputError(f"prompt file {source} not found (pass '-' to read stdin, or the text itself)")
    return source


def _weights(items: list[str]) -> dict[str, float]:
    out = {}
    for it in items:
        key, sep, val = it.rpartition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(val)
        except ValueError:
            raise InvalidInputError(f"--weight expects SLOT_OR_KEYWORD=NUMBER (e.g. subject=1.2), got {it!r}") from None
    return out


def _clip_source(model: Optional[str]):
    if not model:
        return None
    from .common import get_encoder

    return get_encoder(model, "cpu")


@prompt_app.command("compose")
def compose_cmd(
    source: Annotated[str, typer.Argument(help="Prompt FILE (JSON, Python dict, YAML or text), '-' for stdin, "
                                               "or the prompt itself.")],
    target: Annotated[TargetName, typer.Option(
        "--target", "-t", help="Model family. flux/flux-schnell: clip_l keywords + t5xxl sentences; sd3: clip_l + "
                               "clip_g keywords + t5xxl; sdxl: text_g (OpenCLIP bigG) and text_l (CLIP-L) both get "
                               "every keyword in the same order, each within its own CLIP token window; sd15: one "
                               "CLIP-L text.")] = defaults.COMPOSE_TARGET,
    fmt: Annotated[Literal["text", "json", "comfyui"], typer.Option(
        "--format", "-f", help="text | json (same as --json) | comfyui (API-format node inputs).")
    ] = defaults.COMPOSE_FORMAT,
    json_out: JsonOpt = False,
    input_format: Annotated[Literal["auto", "json", "python", "yaml", "text"], typer.Option(
        "--input-format", help="How SOURCE is read (auto tries JSON, a Python literal, YAML, then text).")
    ] = defaults.COMPOSE_INPUT_FORMAT,
    t5_tokenizer: Annotated[Optional[str], typer.Option(
        "--t5-tokenizer", help="T5 tokenizer folder / spiece.model / tokenizer.json for exact T5 counts "
                               "(else CLIPLENS_T5_TOKENIZER, the HF cache, or an estimate).")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Count CLIP tokens with this model's tokenizer (loads it); default: the bundled "
                              "OpenAI CLIP BPE, no model loaded.")] = None,
    weight: Annotated[Optional[list[str]], typer.Option(
        "--weight", "-w", help="Emphasis SLOT_OR_KEYWORD=WEIGHT, e.g. subject=1.2 (repeatable). Weights written in "
                               "the prompt, (term:1.2) and [term], are kept in the CLIP texts.")] = None,
    chunk: Annotated[bool, typer.Option("--chunk", help="Keep every keyword in window-sized BREAK chunks instead "
                                                        "of dropping what does not fit one window.")] = False,
    syntax: Annotated[Literal["a1111", "comfyui"], typer.Option(
        "--syntax", help="Weight/BREAK syntax of the CLIP texts.")] = defaults.COMPOSE_SYNTAX,
    rewrite: Annotated[Optional[str], typer.Option(
        "--rewrite", help="OpenAI-compatible endpoint to polish the T5 sentences, e.g. http://localhost:11434/v1 "
                          "(falls back to the deterministic text).")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", help="Model name for --rewrite.")] = None,
    clip_node: Annotated[str, typer.Option("--clip-node", help="comfyui: id of the node whose CLIP output the "
                                                               "text encoders use.")] = "4",
) -> None:
    """Turn a structured prompt into what each text encoder wants: keywords for CLIP, sentences for T5.

    Example: [bold]cliplens prompt compose prompt.json --target flux --format comfyui[/bold]
    """
    from ..compose import compose

    result = compose(_read_source(source), target, input_format=input_format, clip=_clip_source(model),
                     t5_tokenizer=t5_tokenizer, emphasis=_weights(weight or []), syntax=syntax, chunk=chunk,
                     rewrite_url=rewrite, rewrite_model=llm_model)
    if fmt == "comfyui" and not json_out:
        print_json(result.to_comfyui(clip_node))
        for w in result.warnings:
            sys.stderr.write(f"warning: {w}\n")
    elif json_out or fmt == "json":
        print_json(result.to_dict())
    else:
        sys.stdout.write(result.to_text())


@prompt_app.command("lint")
def lint_cmd(
    source: Annotated[str, typer.Argument(help="Prompt TEXT, a FILE holding it, or '-' for stdin.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Count with this model's tokenizer (loads it); default: bundled OpenAI CLIP BPE.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a CLIP prompt: JSON/code syntax, words past the token window, duplicates, sentence-style text.

    A1111 emphasis, (term:1.2), (term) and [term], is prompt syntax and is read, not flagged.
    Exit code 1 when a warning or error is found (info findings do not fail).

    Example: [bold]cliplens prompt lint "a photo of a cat, cat, {style: 'pixel art'}"[/bold]
    """
    from ..compose import lint_prompt

    report = lint_prompt(_read_source(source), clip=_clip_source(model))
    if json_out:
        print_json(report.to_dict())
    else:
        console.print(f"CLIP tokens: {' + '.join(map(str, report.tokens))} (window {report.limit})", highlight=False)
        if report.ok:
            console.print("[green]ok[/green]: no issues")
        for i in report.issues:
            colour = {"error": "red", "warning": "yellow"}.get(i.severity, "cyan")
            console.print(f"[{colour}]{i.severity}[/{colour}] {i.code}: {i.message}", highlight=False, soft_wrap=True)
            if i.detail and i.code == "clip-too-long":
                console.print(f"  ignored: {i.detail}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)
