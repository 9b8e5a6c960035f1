"""cliplens works installed the way users install it, not only from inside the clone (issue 13).

`test_wheel_*` (marker `install`, run by `make test` in CI) build the wheel, install it with
`--no-deps` into a fresh virtual environment outside the repository (the already resolved
dependencies of this test environment are made visible through a .pth file), and from an empty
directory run what a new user would: `--version`, `models`, `prompt compose`, `interrogate` on the
bundled example with the toy models, and `serve` answering `/api/health` once.

The other tests are fast source checks: nothing under cliplens/ points into the repository layout,
and everything non-Python under cliplens/ is declared package data.
"""
from __future__ import annotations

import json
import os
import shutil
import re
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "cliplens"

SEED_PROMPT = {
    "Character": "japanese young woman in her 20's.",
    "Appearance": {"hair": "black ponytail hair", "wearing": "black framed glasses, white wireless headphone"},
    "Action": "listening to music, sitting on white carpet",
    "style": "professional real photo",
}

# ------------------------------------------------------------------------------------ source checks
#: text that only makes sense inside the clone: the old top-level assets folder, climbing out of the
#: package to the repository root, repository files, this machine's checkout
REPO_LAYOUT = [
    (re.compile(r"(?<![\w.])assets/"), "the repository's assets/ folder (use cliplens.assets helpers)"),
    (re.compile(r"parents\[[2-9]\]|\.parent\.parent\.parent"), "a path climbing out of the package"),
    (re.compile(r"\b(pyproject\.toml|requirements[\w-]*\.lock)\b"), "a repository file"),
    (re.compile(r"/work/main\b"), "this machine's checkout"),
    (re.compile(r"[\"'](tests|benchmarks|scripts)/"), "a repository folder"),
]


def _package_sources() -> list[Path]:
    return [p for p in PKG.rglob("*") if p.suffix in (".py", ".js", ".html", ".css", ".json", ".txt", ".md")
            and "_bundled" not in p.parts and "__pycache__" not in p.parts and p.is_file()]


def test_nothing_in_the_package_reads_the_repository_layout():
    hits = []
    for path in _package_sources():
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for rx, why in REPO_LAYOUT:
                if rx.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {why}: {line.strip()[:100]}")
    assert not hits, "repository paths inside cliplens/ (they break once installed):\n" + "\n".join(hits)


def _tracked_package_data() -> list[str]:
    """Non-Python files under cliplens/ that git tracks (what the wheel must carry)."""
    try:
        out = subprocess.run(["git", "ls-files", "cliplens"], cwd=ROOT, capture_output=True, text=True, check=True)
        files = out.stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(ROOT)) for p in PKG.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(f for f in files if not f.endswith((".py", ".pyc")) and (ROOT / f).is_file())


#: all wheel checks on one xdist worker (with --dist loadgroup), so the wheel and venv are built once
pytestmark = pytest.mark.xdist_group("install")


# ------------------------------------------------------------------------------------ the wheel
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the tracked files: an in-tree build leaves (and races on) build/."""
    src = tmp_path_factory.mktemp("src")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in tracked.decode().split("\0"):
        if rel and (ROOT / rel).is_file() and not (ROOT / rel).is_symlink():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(src)], check=True, cwd=dist)
    (whl,) = dist.glob("cliplens-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh venv outside the repo with the wheel installed (--no-deps); deps from this environment."""
    root = tmp_path_factory.mktemp("user")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the resolved dependencies of this environment, *after* the venv's own site-packages; a plain path
    # line, so this environment's editable cliplens (a .pth hook) is not activated
    (site / "zz_cliplens_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    empty = root / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(CLIPLENS_OFFLINE="1", HF_HUB_OFFLINE="1", CLIPLENS_CACHE=str(root / "cache"), OMP_NUM_THREADS="1",
               PATH=str(bindir) + os.pathsep + env.get("PATH", ""))
    return {"py": py, "cliplens": bindir / "cliplens", "cwd": empty, "env": env, "venv": venv}


def _run(inst: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(inst["cliplens"]), *args], cwd=inst["cwd"], env=inst["env"], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.install
def test_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in _tracked_package_data() if f not in names]
    assert not missing, f"files under cliplens/ missing from the wheel (declare them as package data): {missing[:20]}"
    for must in ("cliplens/_bundled/models/toyclip/openclip/open_clip_model.safetensors",
                 "cliplens/_bundled/models/toycaption/hf/model.safetensors",
                 "cliplens/_bundled/examples/toyworld.png", "cliplens/_bundled/toyworld/toyworld.py",
                 "cliplens/_bundled/toyworld/fixtures/64/labels.jsonl"):
        assert must in names, must


@pytest.mark.install
def test_wheel_imports_from_the_venv_not_the_clone(installed):
    out = subprocess.run([str(installed["py"]), "-c", "import cliplens, cliplens.assets as a; "
                          "print(cliplens.__file__); print(a.example_image())"],
                         cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True, check=True)
    mod, example = out.stdout.split("\n")[:2]
    assert Path(mod).is_relative_to(installed["venv"]), mod
    assert Path(example).is_relative_to(installed["venv"]) and Path(example).is_file(), example


@pytest.mark.install
def test_wheel_version_and_models(installed):
    from cliplens import __version__

    res = _run(installed, "--version")
    assert res.returncode == 0 and res.stdout.strip() == f"cliplens {__version__}", res.stderr
    res = _run(installed, "models", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["toyclip"]["status"] == "bundled", rows["toyclip"]


@pytest.mark.install
def test_wheel_prompt_compose(installed):
    (installed["cwd"] / "woman.json").write_text(json.dumps(SEED_PROMPT))
    try:
        res = _run(installed, "prompt", "compose", "woman.json", "--target", "flux", "--json")
        assert res.returncode == 0, res.stderr[-2000:]
        doc = json.loads(res.stdout)
        assert "japanese young woman" in json.dumps(doc), doc
        assert "Traceback" not in res.stderr
    finally:
        (installed["cwd"] / "woman.json").unlink()


@pytest.mark.install
def test_wheel_interrogate_bundled_example(installed):
    example = subprocess.run([str(installed["py"]), "-c", "from cliplens.assets import example_image; "
                              "print(example_image())"], cwd=installed["cwd"], env=installed["env"],
                             capture_output=True, text=True, check=True).stdout.strip()
    res = _run(installed, "interrogate", example, "--model", "toyclip", "--caption-model", "toycaption", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "prompt" in res.stdout and "Traceback" not in res.stderr


@pytest.mark.install
def test_wheel_serve_answers_once(installed):
    import httpx

    proc = subprocess.Popen([str(installed["cliplens"]), "serve", "--model", "toyclip", "--port", "0", "--lazy",
                             "--device", "cpu"], cwd=installed["cwd"], env=installed["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, seen, deadline = None, [], time.time() + 120
        while url is None:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(seen)
            seen.append(line)
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            url = m.group(1) if m else None
            assert time.time() < deadline, "".join(seen)
        for _ in range(100):
            try:
                r = httpx.get(url + "/api/health", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(20)
