"""Shared helpers for the parity tests (issue 12): one request through three surfaces.

Each capability's `tests/test_parity_<capability>.py` sends the same input through
1. the Python call (the one library function of that capability),
2. the CLI, in-process: `cli_json(["score", ..., "--json"])` -> the parsed JSON document,
3. the HTTP route: the `api` fixture (a TestClient on `create_app(models=["toyclip"], roots=[FIXTURES])`),
and asserts the same numbers, the same defaults and the same error shape for a bad item.

    from parity import api, cli_json, assert_close, assert_item_errors   # noqa: F401  (api is a fixture)
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from cliplens.assets import fixtures_dir

#: the folder the `api` server is allowed to read (its only served root)
FIXTURES: Path = fixtures_dir(64)


def cli_run(args: list[str], input: str | None = None):
    """Run `cliplens ARGS` in-process (no subprocess, the models stay cached); returns click's Result.

    Goes through `cliplens.cli.main`'s error handling, so a `CliplensError` becomes one line on
    stderr and exit code 2, exactly as on a terminal.
    """
    from typer.testing import CliRunner

    from cliplens.cli import app

    runner = CliRunner()
    result = runner.invoke(app, args, input=input, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        from cliplens.errors import CliplensError

        if isinstance(result.exception, CliplensError):  # what main() does
            result.exit_code = 2
        else:
            raise result.exception
    return result


def cli_json(args: list[str], input: str | None = None, expect_code: int = 0) -> Any:
    """`cliplens ARGS --json` in-process, parsed. Asserts the exit code (0 by default)."""
    if "--json" not in args:
        args = [*args, "--json"]
    res = cli_run(args, input=input)
    assert res.exit_code == expect_code, f"exit {res.exit_code}: {res.output[-2000:]}"
    out = res.stdout if hasattr(res, "stdout") else res.output
    start = min((i for i in (out.find("{"), out.find("[")) if i >= 0), default=-1)
    assert start >= 0, f"no JSON in output: {out[-2000:]}"
    return json.loads(out[start:])


@pytest.fixture(scope="module")
def api(toyclip):
    """A TestClient on a server with toyclip that serves the 64-px fixtures folder."""
    from fastapi.testclient import TestClient

    from cliplens.server import create_app

    app = create_app(models=["toyclip"], roots=[FIXTURES], device="cpu")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def assert_close(a: Any, b: Any, tol: float = 1e-4, path: str = "$") -> None:
    """Deep equality of two JSON-like values, floats within `tol` (absolute)."""
    if isinstance(a, bool) or isinstance(b, bool):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and math.isnan(a):
            assert isinstance(b, float) and math.isnan(b), f"{path}: {a!r} != {b!r}"
        else:
            assert abs(a - b) <= tol, f"{path}: {a!r} != {b!r} (tol {tol})"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys differ: {sorted(set(a) ^ set(b))}"
        for k in a:
            assert_close(a[k], b[k], tol, f"{path}.{k}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, tol, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def assert_item_errors(errors: Any, expected_indices: list[int]) -> None:
    """`errors` is the one per-item shape: a list of {index, source, reason} at these indices."""
    assert isinstance(errors, list), errors
    assert [e["index"] for e in errors] == expected_indices, errors
    for e in errors:
        assert set(e) == {"index", "source", "reason"}, e
        assert isinstance(e["source"], str) and e["reason"], e


def without(d: dict, *keys: str) -> dict:
    """`d` less keys that legitimately differ between surfaces (timings, absolute paths)."""
    return {k: v for k, v in d.items() if k not in keys}
