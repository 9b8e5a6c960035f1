"""The lazy root command (issue 13, fast start): `cliplens --help`, completion of verb names and
`cliplens <verb>` import only what they need, and the static verb table cannot drift from the verbs."""
from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from cliplens.cli import app
from cliplens.cli.app import VERBS

ROOT = Path(__file__).resolve().parents[1]
CLI_DIR = ROOT / "cliplens" / "cli"
runner = CliRunner()


def _probe(code: str) -> dict:
    """Run `code` in a fresh interpreter; it must print one JSON object last (fresh sys.modules)."""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, cwd=ROOT,
                         env={"CLIPLENS_OFFLINE": "1", "PATH": "", "HOME": str(Path.home()), "COLUMNS": "100"})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


_HELP = ("import sys, json\nfrom typer.testing import CliRunner\nfrom cliplens.cli import app\n"
         "r = CliRunner().invoke(app, {args!r}, terminal_width=100)\n"
         "print(json.dumps({{'code': r.exit_code, 'out': r.stdout,\n"
         "  'verbs': sorted(m for m in sys.modules if m.startswith('cliplens.cli.') and m.endswith('_cmd'))}}))")


def _all_verb_modules() -> list[str]:
    return sorted(p.stem for p in CLI_DIR.glob("*_cmd.py"))


def test_root_help_imports_no_verb_module_and_lists_every_verb():
    got = _probe(_HELP.format(args=["--help"]))
    assert got["code"] == 0
    assert got["verbs"] == [], f"`cliplens --help` imported {got['verbs']}"
    for name, (_, summary) in VERBS.items():
        assert name in got["out"] and summary.split()[0] in got["out"]


def test_a_verb_imports_only_its_own_module():
    got = _probe(_HELP.format(args=["prompt", "lint", "a red circle, a red circle"]))
    assert got["code"] in (0, 1), got["out"]
    assert got["verbs"] == ["cliplens.cli.compose_cmd"]


def test_lazy_root_help_is_identical_to_the_eagerly_built_one():
    """The listing from the static table == the listing typer renders from the real commands."""
    code = _HELP.format(args=["--help"]) + (
        f"\nimport importlib\nfor m in {_all_verb_modules()!r}: importlib.import_module('cliplens.cli.' + m)\n"
        "e = CliRunner().invoke(app, ['--help'], terminal_width=100)\n"
        "print(json.dumps({'lazy': r.stdout, 'eager': e.stdout}))")
    got = _probe(code)
    assert got["lazy"] == got["eager"]


def test_verb_table_matches_the_registered_verbs():
    """Every verb a *_cmd module registers is in VERBS with the right module and the first paragraph of its
    real help (so `cliplens --help` can neither miss a verb nor show a stale summary)."""
    for m in _all_verb_modules():
        importlib.import_module(f"cliplens.cli.{m}")
    registered = {}
    for info in app.registered_commands:
        registered[info.name or typer.main.get_command_name(info.callback.__name__)] = info.callback.__module__
    for group in app.registered_groups:
        cb_mod = next(m for m in _all_verb_modules()
                      if any(v is group.typer_instance for v in vars(sys.modules[f"cliplens.cli.{m}"]).values()))
        registered[group.name] = f"cliplens.cli.{cb_mod}"
    assert registered == {n: f"cliplens.cli.{mod}" for n, (mod, _) in VERBS.items()}
    root = typer.main.get_command(app)
    for name, (_, summary) in VERBS.items():
        cmd = root.commands[name]
        real = inspect.cleandoc(cmd.short_help or cmd.help or "").split("\n\n")[0].strip()
        assert summary == real, f"VERBS[{name!r}] help drifted from the command's docstring"


def test_walking_root_commands_still_reaches_every_verb():
    root = typer.main.get_command(app)
    names = [n for n, c in root.commands.items() if c is not None and c.name == n]
    assert names == list(VERBS)
    assert set(root.commands["prompt"].commands) >= {"compose", "lint"}


def test_verb_help_is_the_verbs_own_help():
    res = runner.invoke(app, ["score", "--help"], terminal_width=100)
    assert res.exit_code == 0 and "--prompt" in res.stdout


def test_completion_of_verb_names_and_subcommands():
    env = {"_CLIPLENS_COMPLETE": "complete_bash", "COMP_WORDS": "cliplens s", "COMP_CWORD": "1"}
    res = runner.invoke(app, [], env=env, prog_name="cliplens")
    assert set(res.stdout.split()) == {n for n in VERBS if n.startswith("s")}, res.output
    env = {"_CLIPLENS_COMPLETE": "complete_bash", "COMP_WORDS": "cliplens prompt l", "COMP_CWORD": "2"}
    res = runner.invoke(app, [], env=env, prog_name="cliplens")
    assert res.stdout.split() == ["lint"], res.output


def test_a_mistyped_verb_is_a_usage_error_with_a_suggestion():
    res = runner.invoke(app, ["scroe"])
    assert res.exit_code == 2 and "score" in res.output and "Traceback" not in res.output


def test_prompt_tools_parse_their_options_without_pydantic():
    """typer's pydantic coercion (~0.16 s of import) is skipped for plain string options (cli/app.py)."""
    code = ("import sys, json\nfrom typer.testing import CliRunner\nfrom cliplens.cli import app\n"
            "r1 = CliRunner().invoke(app, ['prompt', 'lint', 'a red circle, a red circle'])\n"
            "r2 = CliRunner().invoke(app, ['prompt', 'compose', '{\"subject\": \"a cat\"}', '--target', 'flux',"
            " '--format', 'json'])\n"
            "print(json.dumps({'codes': [r1.exit_code, r2.exit_code], 'pydantic': 'pydantic' in sys.modules}))")
    got = _probe(code)
    assert got["codes"][0] in (0, 1) and got["codes"][1] == 0
    assert got["pydantic"] is False


def test_fast_string_coercion_answers_as_typer_does():
    """For every parameter of every verb: None, its default and (for choices) each choice coerce to the
    same value through the fast path as through typer's own pydantic coercion; a bad choice keeps typer's
    error message."""
    from typer import _click
    from typer._coercion import build_runtime_param

    root = typer.main.get_command(app)

    def leaves(cmd):
        for sub in getattr(cmd, "commands", {}).values():
            yield from leaves(sub)
        if not getattr(cmd, "commands", None):
            yield cmd

    checked = 0
    for cmd in leaves(root):
        ctx = _click.Context(cmd)
        for p in cmd.params:
            if not hasattr(p, "type_descriptor"):
                continue
            values = [None, p.default]
            choices = p.type_descriptor.choices if p.type_descriptor.is_choice else None
            values += list(choices or [])
            for v in values:
                if isinstance(v, (list, tuple)) or callable(v):
                    continue
                p._runtime_param = None
                fast = p.get_runtime_param().coerce(v, param=p, ctx=ctx)
                real = build_runtime_param(p.type_descriptor).coerce(v, param=p, ctx=ctx)
                assert fast == real and type(fast) is type(real), (cmd.name, p.name, v)
                checked += 1
    assert checked > 100
    res = runner.invoke(app, ["prompt", "compose", "x", "--target", "fluxx"])
    assert res.exit_code == 2 and "'fluxx' is not one of" in res.output


def test_root_help_does_not_import_typers_rich_renderer():
    """typer.rich_utils costs ~0.15 s CPU at import, over the whole `cliplens --help` budget (issue 13)."""
    code = _HELP.format(args=["--help"]).replace(
        "'verbs':", "'rich_utils': 'typer.rich_utils' in sys.modules, 'verbs':")
    got = _probe(code)
    assert got["code"] == 0 and got["rich_utils"] is False


def test_every_verb_is_in_exactly_one_help_section():
    from cliplens.cli.app import SECTIONS

    listed = [name for names in SECTIONS.values() for name in names]
    assert sorted(listed) == sorted(VERBS) and len(listed) == len(set(listed))


def test_root_help_lists_sections_and_options_and_wraps_to_the_width():
    res = runner.invoke(app, ["--help"], terminal_width=60)
    assert res.exit_code == 0
    out = res.stdout
    assert "\x1b[" not in out                       # no colour codes when not a terminal
    from cliplens.cli.app import SECTIONS

    for title in SECTIONS:
        assert f"─ {title} " in out
    for opt in ("--version, -V", "--install-completion", "--show-completion", "--help"):
        assert opt in out
    assert max(len(line) for line in out.splitlines()) <= 60


def test_no_arguments_prints_the_root_help_and_exits_2():
    res = subprocess.run([sys.executable, "-m", "cliplens"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={"PATH": "", "HOME": str(Path.home()), "COLUMNS": "100"})
    assert res.returncode == 2
    assert "Usage: python -m cliplens" in res.stdout and "interrogate" in res.stdout and res.stderr == ""
