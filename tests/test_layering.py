"""Architecture rules of issues 12 and 13, checked on the source (fast, no models).

- the import-linter contracts in pyproject.toml (layers, server never imports cli, no import circles);
- nothing outside cliplens/models/ switches on `encoder.backend` or touches a backend's privates;
- library errors name parameters, never CLI flags;
- no token-window size literal (75/77) outside cliplens/text/window.py;
- fast start: the CLI package and package `__init__`s import no heavy library at import time, and the
  prompt tools never import torch.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "cliplens"
HEAVY = ("torch", "transformers", "open_clip", "faiss", "fastapi", "pandas", "matplotlib", "onnxruntime", "ray",
         "pymilvus", "usearch", "pyarrow")


def _sources(exclude: tuple[str, ...] = ()) -> list[Path]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if "_bundled" in p.parts or "__pycache__" in p.parts or rel.startswith(exclude):
            continue
        out.append(p)
    return out


def _lint_imports() -> str | None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    return exe


@pytest.mark.skipif(_lint_imports() is None, reason="import-linter not installed (pip install -e '.[test]')")
def test_import_contracts():
    res = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]


def test_no_backend_knowledge_outside_models():
    import re

    rules = [(re.compile(r"\benc\w*\.backend\s*[!=]="), "switches on encoder.backend"),
             (re.compile(r"\.\_tokenizer\b"), "reads a backend's private tokenizer"),
             (re.compile(r"\.\_preprocess\b"), "reads a backend's private preprocess")]
    hits = []
    for p in _sources(exclude=("cliplens/models/",)):
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for rx, why in rules:
                if rx.search(code) and "self._" not in code:
                    hits.append(f"{p.relative_to(ROOT)}:{n}: {why}: {line.strip()[:90]}")
    assert not hits, "\n".join(hits)


def _raise_strings(tree: ast.AST):
    """(lineno, text) of every string literal inside `raise X(...)` statements."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    yield node.lineno, sub.value


def test_library_errors_name_parameters_not_cli_flags():
    import re

    flag = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
    hits = []
    for p in _sources(exclude=("cliplens/cli/", "cliplens/server/")):   # the faces may name their own flags
        for lineno, text in _raise_strings(ast.parse(p.read_text(encoding="utf-8"))):
            if flag.search(text):
                hits.append(f"{p.relative_to(ROOT)}:{lineno}: {text.strip()[:100]}")
    assert not hits, "library errors that name CLI flags (name the parameter; the CLI translates):\n" + "\n".join(hits)


def test_no_window_size_literal_outside_the_text_window_module():
    hits = []
    for p in _sources(exclude=("cliplens/text/window.py",)):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and type(node.value) is int and node.value in (75, 77):
                hits.append(f"{p.relative_to(ROOT)}:{node.lineno}: literal {node.value}")
    assert not hits, "window sizes belong to cliplens/text/window.py:\n" + "\n".join(hits)


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={"CLIPLENS_OFFLINE": "1", "PATH": "", "HOME": str(Path.home())})
    assert res.returncode == 0, res.stderr[-3000:]
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


def test_cli_and_import_cliplens_import_nothing_heavy():
    for code in ("import cliplens", "import cliplens.cli", "from cliplens.cli import app"):
        loaded = _modules_after(code)
        heavy = sorted(h for h in (*HEAVY, "numpy", "PIL") if h in loaded)
        assert not heavy, f"`{code}` imports {heavy}: import them inside the function that needs them"


def test_package_inits_import_nothing_heavy():
    offenders = {}
    for init in sorted(PKG.glob("*/__init__.py")):
        name = init.parent.name
        if name in ("models", "server", "_bundled"):   # models/server ARE the torch/fastapi layers
            continue
        loaded = _modules_after(f"import cliplens.{name}")
        heavy = sorted(h for h in HEAVY if h in loaded)
        if heavy:
            offenders[f"cliplens.{name}"] = heavy
    assert not offenders, f"package __init__s that import heavy libraries (make them lazy): {offenders}"


def test_prompt_tools_never_import_torch():
    loaded = _modules_after(
        "from typer.testing import CliRunner\nfrom cliplens.cli import app\n"
        "r1 = CliRunner().invoke(app, ['prompt', 'lint', 'a red circle, a red circle'])\n"
        "r2 = CliRunner().invoke(app, ['prompt', 'compose', '{\"subject\": \"a cat\"}', '--target', 'flux'])\n"
        "assert r1.exit_code in (0, 1) and r2.exit_code == 0, (r1.output, r2.output)")
    heavy = sorted(h for h in ("torch", "transformers", "open_clip") if h in loaded)
    assert not heavy, f"`cliplens prompt lint/compose` import {heavy}"
