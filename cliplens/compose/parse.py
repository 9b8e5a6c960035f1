"""Read a structured prompt: JSON, a Python dict literal, YAML, or plain text.

Python literals go through `ast.literal_eval` (never `eval`), YAML through `yaml.safe_load`,
so nothing in a prompt file can run code.

    >>> parse_prompt('{"subject": "a red circle", "style": "pixel art"}')
    ({'subject': 'a red circle', 'style': 'pixel art'}, 'json')
    >>> parse_prompt("{'subject': 'cat', 'tags': ('cute', 'fluffy')}")[1]
    'python'
    >>> parse_prompt("subject: cat\\nstyle: watercolor")[1]
    'yaml'
    >>> parse_prompt("a cat on a sofa")
    ('a cat on a sofa', 'text')
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any

from ..errors import InvalidInputError

#: refuse inputs larger than this (a prompt is text, not a data set)
MAX_INPUT_CHARS = 1_000_000
_YAML_KEY_LINE = re.compile(r"^\s*(-\s+)?[^\s:#{}\[\]\"'][^:#{}\[\]]{0,60}:(\s|$)", re.M)
FORMATS = ("auto", "json", "python", "yaml", "text")


def _json(text: str) -> Any:
    return json.loads(text)


def _python(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (RecursionError, MemoryError) as exc:  # absurdly deep literals
        raise ValueError(f"too deeply nested ({type(exc).__name__})") from exc


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except RecursionError as exc:
        raise ValueError("too deeply nested") from exc


_PARSERS = {"json": _json, "python": _python, "yaml": _yaml}


def parse_prompt(text: str | bytes, fmt: str = "auto") -> tuple[Any, str]:
    """Parse `text` into a Python structure; returns (data, format that worked).

    `fmt='auto'` tries JSON, then a Python literal, then YAML for text that looks structured
    (starts with a brace/bracket, or has `key: value` lines); anything else is plain text.
    Raises `InvalidInputError` for empty input, or text that looks structured but parses as nothing.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"prompt is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown input format {fmt!r}: use one of {', '.join(FORMATS)}")
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidInputError(f"prompt is {len(text)} characters; the limit is {MAX_INPUT_CHARS}")
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise InvalidInputError("prompt is empty: give a JSON/YAML/dict prompt or plain text")
    if fmt == "text":
        return stripped, "text"
    if fmt != "auto":
        try:
            return _PARSERS[fmt](stripped), fmt
        except Exception as exc:  # noqa: BLE001 - every parser error becomes one message
            raise InvalidInputError(f"cannot parse the prompt as {fmt}: {exc}") from exc

    errors: list[str] = []
    if stripped[0] in "{[":
        for name in ("json", "python", "yaml"):
            try:
                data = _PARSERS[name](stripped)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                continue
            if isinstance(data, (dict, list, tuple, set)):
                return data, name
        raise InvalidInputError("the prompt starts like JSON/a dict but cannot be parsed ("
                                + "; ".join(errors) + "); fix the syntax or read it as plain text (input_format='text')")
    if _YAML_KEY_LINE.search(stripped) and ("\n" in stripped or stripped.count(":") == 1):
        try:
            data = _yaml(stripped)
        except Exception:  # noqa: BLE001 - not YAML after all: treat as text
            data = None
        if isinstance(data, (dict, list)) and data:
            return data, "yaml"
    return stripped, "text"
