"""CLI conventions users expect (issue 13, item 5): --version, completion, one-line errors with exit 2,
parser-validated choices, progress bars only on a terminal, `serve` on a busy port."""
from __future__ import annotations

import io
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cliplens import __version__
from cliplens.cli import app

runner = CliRunner()


def test_version_in_process_and_console_entry():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"cliplens {__version__}"
    out = subprocess.run([sys.executable, "-m", "cliplens", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"cliplens {__version__}"


def test_shell_completion_is_offered():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "--install-completion" in res.stdout and "--show-completion" in res.stdout


def test_library_error_is_one_line_and_exit_2_in_process():
    res = runner.invoke(app, ["prompt", "compose", "{", "--input-format", "json"])   # InvalidInputError
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.output


def test_fixed_choices_are_validated_by_the_parser():
    res = runner.invoke(app, ["serve", "--precision", "fp64", "--lazy"])
    assert res.exit_code == 2
    assert "fp64" in res.output and "Traceback" not in res.output
    help_text = runner.invoke(app, ["serve", "--help"]).stdout
    assert "fp32" in help_text and "bf16" in help_text


def test_serve_on_a_busy_port_is_one_line_exit_2_and_prints_no_url():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        res = runner.invoke(app, ["serve", "--port", str(port), "--model", "toyclip", "--lazy", "--device", "cpu"])
    assert res.exit_code == 2, res.output
    assert "already in use" in res.stderr and str(port) in res.stderr
    assert "http://" not in res.output and "Traceback" not in res.output


def test_serve_rejects_an_impossible_port_in_the_parser():
    res = runner.invoke(app, ["serve", "--port", "70000", "--lazy"])
    assert res.exit_code == 2 and "http://" not in res.output


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(("tty", "env", "expected"), [
    (False, {}, False),                              # a log file / CI transcript: no bar spam
    (True, {}, True),                                # a terminal
    (True, {"CLIPLENS_QUIET": "1"}, False),          # silenced
    (False, {"CLIPLENS_PROGRESS": "1"}, True),       # forced on
])
def test_progress_bars_only_on_a_terminal(monkeypatch, tty, env, expected):
    from cliplens import progress

    monkeypatch.delenv("CLIPLENS_QUIET", raising=False)
    monkeypatch.delenv("CLIPLENS_PROGRESS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    stream = _Stream(tty)
    monkeypatch.setattr(sys, "stderr", stream)
    assert progress.progress_enabled(True) is expected
    assert progress.progress_enabled(False) is False
    with progress.progress_bar(5, "images") as bar:
        bar.update(5)
    assert bool(stream.getvalue()) is expected   # nothing at all is written when disabled
