"""Regenerate requirements.lock (runtime) and requirements-dev.lock (tests, benchmarks, lint) from pyproject.toml.

Why a script: one pip resolution (`pip install --dry-run --report`) of `cliplens[dev]` on this machine
gives exact versions; walking the resolved dependency graph from each entry point splits them into
what users run (core + every runtime extra) and what only developers need. Each pin carries the
environment marker under which it is needed at all, derived from the Requires-Dist markers along
the way (e.g. nvidia-* and triton only where torch asks for them: Linux x86_64), so the same files
are valid constraints on Linux, macOS and Windows.

Use the locks as *constraints*, so each install takes only what it needs, at the locked version:
    pip install -c requirements.lock -e .                                   # core (make demo)
    pip install -c requirements.lock "cliplens[server]"                     # an extra
    pip install -c requirements.lock -c requirements-dev.lock -e ".[dev]"   # everything (make test)

    python scripts/lock.py            # keep current pins where still valid (existing locks as constraints)
    python scripts/lock.py --upgrade  # newest versions the indexes offer
    python scripts/lock.py --sizes    # also print installed sizes per extra (from this venv's RECORD files)
"""
from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"

#: the environments a pin's marker is computed over (platform, machine) x python version
PLATFORMS = [("linux", "x86_64", "Linux"), ("linux", "aarch64", "Linux"), ("darwin", "arm64", "Darwin"),
             ("darwin", "x86_64", "Darwin"), ("win32", "AMD64", "Windows")]
PYTHONS = ["3.11", "3.12", "3.13"]
ENVS = [(p, v) for p in PLATFORMS for v in PYTHONS]

#: what each entry point installs (cliplens extras); "runtime" = what users may install
#: packages needed only on platforms other than the resolving one: not pinned, pip resolves them there
ELSEWHERE: dict[str, frozenset] = {}

GROUPS = {"core": [], "server": ["server"], "search": ["search"], "scale": ["scale"], "all": ["all"],
          "dev": ["dev"]}


def _env(platform: tuple[str, str, str], py: str, extra: str = "") -> dict[str, str]:
    sys_platform, machine, system = platform
    return {"sys_platform": sys_platform, "platform_machine": machine, "platform_system": system,
            "os_name": "nt" if sys_platform == "win32" else "posix", "python_version": py,
            "python_full_version": py + ".0", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "extra": extra}


def resolve(constraints: list[Path]) -> dict:
    """pip's resolution of cliplens[dev] (includes every runtime extra) as a JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(report), f"{ROOT}[dev]"]
        for c in constraints:
            cmd[4:4] = ["-c", str(c)]
        subprocess.run(cmd, check=True)
        return json.loads(report.read_text())


def graph(report: dict) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """name -> version, name -> Requires-Dist strings, and the root's own requirements."""
    versions, requires, root_reqs = {}, {}, []
    for item in report["install"]:
        meta = item["metadata"]
        name = canonicalize_name(meta["name"])
        if name == "cliplens":
            root_reqs = meta.get("requires_dist", [])
            continue
        versions[name] = meta["version"]
        requires[name] = meta.get("requires_dist", [])
    return versions, requires, root_reqs


def needed(extras: list[str], versions, requires, root_reqs) -> dict[str, frozenset]:
    """Packages an install of cliplens[extras] needs, each with the set of ENVS where it is needed."""
    where: dict[str, frozenset] = {}
    # a work list of (requirement string, extras active on the requiring side, envs of the requirer)
    todo = [(r, set(extras), frozenset(ENVS)) for r in root_reqs]
    seen_extras: dict[str, set] = {}
    while todo:
        text, active, envs = todo.pop()
        req = Requirement(text)
        name = canonicalize_name(req.name)
        ok = frozenset(e for e in envs if req.marker is None
                       or any(req.marker.evaluate(_env(*e, x)) for x in (active or {""})))
        if not ok:
            continue
        if name == "cliplens":   # self-references such as cliplens[server,...]
            for r in root_reqs:
                todo.append((r, set(req.extras), ok))
            continue
        if name not in versions:   # needed only on a platform this resolution did not cover
            ELSEWHERE[name] = ELSEWHERE.get(name, frozenset()) | ok
            continue
        new_envs = where.get(name, frozenset()) | ok
        new_extras = seen_extras.get(name, set()) | set(req.extras)
        if new_envs == where.get(name) and new_extras == seen_extras.get(name):
            continue
        where[name], seen_extras[name] = new_envs, new_extras
        for r in requires[name]:
            todo.append((r, new_extras, new_envs))
    return where


def marker_text(envs: frozenset) -> str:
    """A PEP 508 marker true exactly on `envs` (as a platform x python product when it is one)."""
    if envs == frozenset(ENVS):
        return ""
    plats = sorted({p for p, _ in envs})
    pys = sorted({v for _, v in envs})
    if frozenset(itertools.product(plats, pys)) != envs:   # not a product: list each combination
        return " or ".join(f"({_plat_text([p])} and python_version == '{v}')" for p, v in sorted(envs))
    parts = []
    if set(plats) != {p for p, _, _ in [(*x, None)[:3] for x in PLATFORMS]} and plats != sorted(PLATFORMS):
        parts.append(_plat_text(plats))
    if pys != PYTHONS:
        parts.append(f"python_version >= '{pys[0]}'" if pys == PYTHONS[PYTHONS.index(pys[0]):]
                     else "(" + " or ".join(f"python_version == '{v}'" for v in pys) + ")")
    text = " and ".join(parts)
    assert all(Marker(text).evaluate(_env(*e)) == (e in envs) for e in ENVS), text
    return text


def _plat_text(plats: list) -> str:
    by_os: dict[str, list[str]] = {}
    for sys_platform, machine, _ in plats:
        by_os.setdefault(sys_platform, []).append(machine)
    clauses = []
    for sys_platform, machines in sorted(by_os.items()):
        every = [m for s, m, _ in PLATFORMS if s == sys_platform]
        if sorted(machines) == sorted(every):
            clauses.append(f"sys_platform == '{sys_platform}'")
        else:
            clauses.extend(f"(sys_platform == '{sys_platform}' and platform_machine == '{m}')" for m in machines)
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


def write_lock(path: Path, title: str, pins: dict[str, tuple[str, str]], elsewhere: dict[str, frozenset]) -> None:
    lines = [f"# {title}", "# Generated by scripts/lock.py from pyproject.toml; edit pyproject.toml, then re-run it.",
             "# Use as constraints:  pip install -c requirements.lock [-c requirements-dev.lock] -e \".[EXTRAS]\"",
             f"# Resolved on {sys.platform}/{__import__('platform').machine()}; markers say where each pin applies."]
    if elsewhere:
        lines.append("# Not pinned (needed only elsewhere, resolved by pip there): "
                     + ", ".join(f"{n} ({marker_text(e)})" for n, e in sorted(elsewhere.items())))
    lines.append("")
    for name in sorted(pins):
        version, marker = pins[name]
        lines.append(f"{name}=={version}" + (f" ; {marker}" if marker else ""))
    path.write_text("\n".join(lines) + "\n")


def installed_sizes() -> dict[str, int]:
    """Bytes on disk of each distribution installed in this environment (from its RECORD)."""
    from importlib import metadata

    sizes = {}
    for dist in metadata.distributions():
        total = 0
        for f in dist.files or []:
            p = Path(dist.locate_file(f))
            try:
                total += p.stat().st_size
            except OSError:
                pass
        sizes[canonicalize_name(dist.metadata["Name"])] = total
    return sizes


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upgrade", action="store_true", help="ignore the current pins")
    ap.add_argument("--sizes", action="store_true", help="print installed MB per entry point (this venv)")
    ap.add_argument("--report", type=Path, help="use a saved `pip install --dry-run --report` JSON instead")
    args = ap.parse_args(argv)

    if args.report:
        report = json.loads(args.report.read_text())
    else:
        report = resolve([] if args.upgrade else [p for p in (RUNTIME_LOCK, DEV_LOCK) if p.exists()])
    versions, requires, root_reqs = graph(report)
    runtime = needed(["all"], versions, requires, root_reqs)
    runtime_elsewhere = dict(ELSEWHERE)
    dev = needed(["dev"], versions, requires, root_reqs)
    dev_elsewhere = {n: e for n, e in ELSEWHERE.items() if n not in runtime_elsewhere}
    write_lock(RUNTIME_LOCK, "Runtime pins: cliplens core and every user extra ([server], [search], [scale], [onnx], "
               "[interrogate]).", {n: (versions[n], marker_text(e)) for n, e in runtime.items()}, runtime_elsewhere)
    write_lock(DEV_LOCK, "Development pins: tests, benchmarks' peers, lint (on top of requirements.lock).",
               {n: (versions[n], marker_text(e)) for n, e in dev.items() if n not in runtime}, dev_elsewhere)
    print(f"{RUNTIME_LOCK.name}: {len(runtime)} pins; {DEV_LOCK.name}: {len(set(dev) - set(runtime))} pins")

    if args.sizes:
        here = next(p for p in PLATFORMS if p[0] == sys.platform and p[1] == __import__("platform").machine())
        env = (here, f"{sys.version_info.major}.{sys.version_info.minor}")
        sizes = installed_sizes()
        out = {}
        for group, extras in GROUPS.items():
            names = [n for n, e in needed(extras, versions, requires, root_reqs).items() if env in e]
            missing = [n for n in names if n not in sizes]
            out[group] = {"packages": len(names), "mib": round(sum(sizes.get(n, 0) for n in names) / 2**20),
                          "not_installed_here": missing}
        print(json.dumps({"installed_mb_by_entry_point": out}))


if __name__ == "__main__":
    main()
