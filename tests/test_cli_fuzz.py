"""Bad input never produces a traceback: a few hundred generated bad invocations across every verb.

For each leaf command of `cliplens` (discovered from the typer app, so new verbs are covered), cases
are: no arguments, an unknown option, each positional argument replaced by a bad value, and each
option given a bad value (text for numbers, negative numbers, NaN, empty strings, missing paths, a
non-image file, an empty folder, emoji). Each runs in-process (CliRunner) in a scratch directory and
must end with exit code 0, 1 or 2 and no traceback. Work is bounded: the toy model, 1 guide step
without the design search, and a per-case alarm. `serve` only gets cases its parser or its bind checks reject (it must never
start listening here).
"""
from __future__ import annotations

import random
import signal

import pytest
from typer.testing import CliRunner

import typer.main
from cliplens.cli import app

BAD_VALUES = ["abc", "-1", "0", "nan", "", "/nonexistent/none.png", "{garbage}", "{emptydir}", "\U0001f4a5"]
PER_VERB_CAP = 12           # option cases sampled per verb (deterministic), plus the structural cases
CASE_TIMEOUT_S = 300          # a hang guard only (the first case of a verb may import torch on a busy machine)

#: extra arguments that keep a verb's real work tiny when a case gets past validation
BOUNDS = {
    "guide": ["--steps", "1", "--size", "8", "--cutouts", "1", "--search-rounds", "0", "--out", "g.png"],
}
#: values for required positionals that let a verb reach its option handling
POSITIONAL = {"guide": "a red circle", "prompt compose": "a red circle", "prompt lint": "a red circle"}

SERVE_CASES = [["--port", "abc"], ["--port", "-1"], ["--port", "70000"], ["--max-pixels", "0"],
               ["--max-upload-mb", "-1"], ["--precision", "fp64"], ["--no-such-flag"],
               ["--host", "0.0.0.0", "--lazy"], ["--host", "0.0.0.0", "--token", "short", "--lazy"]]


def _leaves():
    root = typer.main.get_command(app)

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    return list(walk(root, []))


LEAVES = _leaves()


def _cases(path: list[str], cmd) -> list[list[str]]:
    verb = " ".join(path)
    if verb == "serve":
        return [[*path, *c] for c in SERVE_CASES]
    args = [p for p in cmd.params if p.param_type_name == "argument"]
    opts = [p for p in cmd.params if p.param_type_name == "option" and not getattr(p, "is_flag", False)
            and p.name not in ("help",)]
    base_pos = [POSITIONAL.get(verb, "{garbage}") for a in args if a.required]
    extra = list(BOUNDS.get(verb, []))
    if any("--model" in o.opts for o in opts):
        extra += ["--model", "toyclip"]
    if any("--device" in o.opts for o in opts):
        extra += ["--device", "cpu"]
    cases = [[*path], [*path, "--no-such-flag"], [*path, *base_pos, *extra, "--json"] if any(
        o.name == "json_out" for o in cmd.params) else [*path, *base_pos, *extra]]
    for i, _ in enumerate(base_pos):
        for bad in BAD_VALUES:
            pos = list(base_pos)
            pos[i] = bad
            cases.append([*path, *pos, *extra])
    option_cases = []
    for o in opts:
        flag = next((s for s in o.opts if s.startswith("--")), o.opts[0])
        for bad in BAD_VALUES:
            kept = [x for j, x in enumerate(extra) if not (x == flag or (j and extra[j - 1] == flag))]
            option_cases.append([*path, *base_pos, *kept, flag, bad])
    random.Random(verb).shuffle(option_cases)
    return cases + option_cases[:PER_VERB_CAP]


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only when a case hangs
    raise _Timeout()


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    (tmp_path / "garbage.png").write_bytes(b"this is not an image")
    (tmp_path / "emptydir").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("verb", [" ".join(p) for p, _ in LEAVES])
def test_bad_input_never_tracebacks(verb, scratch):
    path, cmd = next((p, c) for p, c in LEAVES if " ".join(p) == verb)
    runner = CliRunner()
    failures = []
    cases = _cases(path, cmd)
    for case in cases:
        argv = [a.replace("{garbage}", str(scratch / "garbage.png")).replace("{emptydir}", str(scratch / "emptydir"))
                for a in case]
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(CASE_TIMEOUT_S)
        try:
            res = runner.invoke(app, argv, catch_exceptions=True)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        exc = res.exception
        crashed = exc is not None and not isinstance(exc, SystemExit)
        if crashed or res.exit_code not in (0, 1, 2) or "Traceback" in res.output:
            what = f"{type(exc).__name__}: {str(exc)[:160]}" if crashed else f"exit {res.exit_code}"
            failures.append(f"cliplens {' '.join(argv[len(path):])!s:.140} -> {what}")
    assert len(cases) >= 3
    assert not failures, f"{verb}: {len(failures)}/{len(cases)} bad inputs crashed:\n" + "\n".join(failures)


def test_the_table_covers_every_verb_with_hundreds_of_cases():
    total = sum(len(_cases(p, c)) for p, c in LEAVES)
    verbs = {" ".join(p) for p, _ in LEAVES}
    assert {"score", "rank", "classify", "interrogate", "prompt compose", "search", "guide", "serve"} <= verbs
    assert total >= 300, total
