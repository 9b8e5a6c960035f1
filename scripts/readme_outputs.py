"""Regenerate (or check) every command output shown in README.md, so the docs cannot drift from the code.

THE CONVENTION (mark your README blocks this way)
-------------------------------------------------
Put an HTML comment with the command right before a fenced block; the block's content is generated:

    <!-- run: cliplens models -->
    ```text
    $ cliplens models
    ...output, written by this script...
    ```

- `<!-- run: CMD -->`          the block shows `$ CMD` and then CMD's output (stdout and stderr).
- `<!-- run[output]: CMD -->`  the block shows only the output (e.g. when prose above shows the command).
- `<!-- run[slow]: CMD -->`    too slow for the test suite: `--check` skips it unless `--all`.
- `<!-- run[setup]: CMD -->`   (or any marker NOT directly followed by a fence) runs CMD, shows nothing:
                               e.g. build an index that the next blocks search.
- `<!-- run[timeout=300]: CMD -->`  seconds before the command is killed (default 120).
- Flags combine: `<!-- run[slow,output]: CMD -->`. CMD may span several lines (`\\` continuations).
- A session: when CMD's lines start with `$ `, each `$ ` line (with its continuation lines) is one
  command; the block shows each command followed by its own output, in order:
      <!-- run:
      $ cliplens embed assets/toyworld/fixtures/64 --out fx.parquet --model toyclip -q
      $ cliplens embed assets/toyworld/fixtures/64 --out fx.parquet --model toyclip -q
      -->

Commands run with bash, in order, in one scratch directory per run (so `--out x.csv` never litters the
repository) that holds links to `assets/` and `cliplens/`, with `.venv/bin` first on PATH and
CLIPLENS_OFFLINE=1, CLIPLENS_QUIET=1, COLUMNS=100, NO_COLOR=1, and a fresh CLIPLENS_CACHE per block. Paths of the scratch directory and of the
repository are written as `.`. Blocks keep their fence's info string (```text, ```console...).

`--check` compares after normalising what legitimately varies between runs: timings (`1.43s`, `31 ms`),
rates (`120 images/s`), dates, and trailing spaces. Anything else that changed fails the check.

    python scripts/readme_outputs.py              # rewrite every block (slow ones too)
    python scripts/readme_outputs.py --check      # exit 1 and show a diff when a fast block drifted
    python scripts/readme_outputs.py --only "cliplens models" --check
    python scripts/readme_outputs.py --list
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEFAULT_TIMEOUT = 120

MARKER = re.compile(r"^[ \t]*<!--\s*run(?:\[(?P<flags>[^\]]*)\])?\s*:\s*(?P<cmd>.*?)\s*-->", re.S | re.M)   # at a line start
FENCE = re.compile(r"^(?P<fence>```+|~~~+)(?P<info>[^\n`]*)\n", re.M)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

#: what may differ between two honest runs (applied to both sides in --check only)
VOLATILE = [
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|µs|us|s|sec|secs|seconds|min)\b"), "<time>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:[A-Za-z]+)/s\b"), "<rate>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b"), "<date>"),
]


@dataclass
class Block:
    """One marker, and the fenced block it owns (if any), as character offsets into the README."""
    cmd: str
    flags: set[str] = field(default_factory=set)
    timeout: float = DEFAULT_TIMEOUT
    body: tuple[int, int] | None = None     # content of the fenced block (between the fence lines)
    line: int = 0

    @property
    def shown(self) -> bool:
        return self.body is not None and "setup" not in self.flags

    @property
    def commands(self) -> list[str]:
        """One command, or the commands of a `$ ` session, each with its continuation lines."""
        lines = self.cmd.splitlines()
        if not lines or not lines[0].startswith("$ "):
            return [self.cmd]
        cmds: list[str] = []
        for ln in lines:
            if ln.startswith("$ "):
                cmds.append(ln[2:])
            elif cmds:
                cmds[-1] += "\n" + ln
        return cmds

    def render(self, outputs: list[str]) -> str:
        parts = []
        for cmd, output in zip(self.commands, outputs):
            if "output" not in self.flags:
                parts.append("$ " + cmd)
            if output:
                parts.append(output)
        return "\n".join(parts)


def parse(text: str) -> list[Block]:
    """Every `<!-- run... -->` marker in `text`, with the span of the fenced block right after it."""
    blocks = []
    for m in MARKER.finditer(text):
        flags, timeout = set(), DEFAULT_TIMEOUT
        for f in (m.group("flags") or "").split(","):
            f = f.strip()
            if f.startswith("timeout="):
                timeout = float(f.split("=", 1)[1])
            elif f:
                flags.add(f)
        block = Block(cmd=m.group("cmd").strip(), flags=flags, timeout=timeout, line=text.count("\n", 0, m.start()) + 1)
        after = m.end()
        nl = text.find("\n", after)
        start = nl + 1 if nl >= 0 else len(text)
        fence = FENCE.match(text, start)
        if fence and "setup" not in flags:
            close = re.compile(r"^" + re.escape(fence.group("fence")) + r"[ \t]*$", re.M).search(text, fence.end())
            if close:
                block.body = (fence.end(), close.start())
        blocks.append(block)
    return blocks


def normalise(text: str, volatile: bool) -> str:
    text = ANSI.sub("", text)
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    if volatile:
        for rx, repl in VOLATILE:
            text = rx.sub(repl, text)
    return text


class Runner:
    """Runs the commands of one README, in order, in one scratch directory."""

    def __init__(self):
        self.work = Path(tempfile.mkdtemp(prefix="cliplens-readme-"))
        for name in ("assets", "cliplens", "benchmarks", "scripts"):
            if (ROOT / name).exists():
                (self.work / name).symlink_to(ROOT / name)
        venv_bin = ROOT / ".venv" / ("Scripts" if os.name == "nt" else "bin")
        path = os.pathsep.join(p for p in (str(venv_bin) if venv_bin.exists() else "",
                                           str(Path(sys.executable).parent), os.environ.get("PATH", "")) if p)
        self.env = {**os.environ, "PATH": path, "CLIPLENS_OFFLINE": "1", "CLIPLENS_QUIET": "1", "COLUMNS": "100",
                    "NO_COLOR": "1", "TERM": "dumb", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "2",
                    "CLIPLENS_CACHE": str(self.work / ".cache")}
        self.env.pop("FORCE_COLOR", None)

    def run(self, block: Block) -> list[str]:
        # a fresh cache per block: what a block shows ("0 from cache") must not depend on which other
        # blocks ran before it (--check skips the slow ones, --only runs a few)
        self.blocks_run = getattr(self, "blocks_run", 0) + 1
        self.env["CLIPLENS_CACHE"] = str(self.work / f".cache-{self.blocks_run}")
        return [self.run_one(cmd, block.timeout) for cmd in block.commands]

    def run_one(self, cmd: str, timeout: float) -> str:
        try:
            proc = subprocess.run(["bash", "-c", cmd], cwd=self.work, env=self.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout)
            out = proc.stdout.decode("utf-8", errors="replace")
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"timed out after {timeout:.0f} s: {cmd.splitlines()[0][:70]}") from None
        out = ANSI.sub("", out)
        for path in (str(self.work.resolve()), str(self.work), str(ROOT)):
            out = out.replace(path + os.sep, "").replace(path, ".")
        return normalise(out, volatile=False)

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def selected(blocks: list[Block], only: str | list[str] | None, include_slow: bool) -> list[int]:
    """Indexes of the blocks to run: setup blocks always run (later blocks may need what they make)."""
    keep = []
    for i, b in enumerate(blocks):
        if "slow" in b.flags and not include_slow:
            continue
        wanted = [only] if isinstance(only, str) else (only or [])
        if wanted and b.shown and not any(w in b.cmd for w in wanted):
            continue
        keep.append(i)
    return keep


def process(readme: Path, *, check: bool, only: str | list[str] | None = None, include_slow: bool = False,
            log=print) -> list[str]:
    """Regenerate (or with `check`, compare) the blocks; returns a diff text per drifted block."""
    text = readme.read_text(encoding="utf-8")
    blocks = parse(text)
    runner = Runner()
    new_bodies: dict[int, str] = {}
    drift: list[str] = []
    try:
        for i in selected(blocks, only, include_slow or not check):
            b = blocks[i]
            try:
                outs = runner.run(b)
            except TimeoutError as exc:   # never write a timeout into the README; a check fails on it
                log(f"README.md:{b.line}: TIMEOUT {exc}")
                drift.append(f"README.md:{b.line}: {exc} (raise it with run[timeout=N])")
                continue
            if not b.shown:
                log(f"README.md:{b.line}: ran (setup) {b.cmd.splitlines()[0][:70]}")
                continue
            rendered = b.render(outs)
            old = text[b.body[0]:b.body[1]]
            same = normalise(old, volatile=True) == normalise(rendered, volatile=True)
            log(f"README.md:{b.line}: {'ok     ' if same else 'CHANGED'} {b.commands[0].splitlines()[0][:70]}")
            if not same:
                drift.append("".join(difflib.unified_diff(
                    normalise(old, False).splitlines(True), normalise(rendered, False).splitlines(True),
                    f"README.md:{b.line} (in README)", f"$ {b.commands[0].splitlines()[0]} (now)")))
            new_bodies[i] = rendered
    finally:
        runner.close()
    if not check and new_bodies:
        _write(readme, blocks, new_bodies)
    return drift


def _write(readme: Path, old_blocks: list[Block], new_bodies: dict[int, str]) -> None:
    """Replace the regenerated bodies in the README as it is *now* (others may have edited it meanwhile)."""
    text = readme.read_text(encoding="utf-8")
    blocks = parse(text)
    if [b.cmd for b in blocks] != [b.cmd for b in old_blocks]:
        raise SystemExit("README.md's markers changed while the commands ran; run the script again")
    for i in sorted(new_bodies, reverse=True):
        start, end = blocks[i].body
        text = text[:start] + new_bodies[i].rstrip("\n") + "\n" + text[end:]
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, readme)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("readme", nargs="?", type=Path, default=README)
    ap.add_argument("--check", action="store_true", help="compare, do not write; exit 1 on drift")
    ap.add_argument("--all", action="store_true", help="with --check: also the [slow] blocks")
    ap.add_argument("--only", action="append", help="only blocks whose command contains this text (repeatable; "
                    "setup blocks still run)")
    ap.add_argument("--list", action="store_true", help="list the marked blocks and exit")
    args = ap.parse_args(argv)
    if args.list:
        for b in parse(args.readme.read_text(encoding="utf-8")):
            kind = "setup" if not b.shown else ",".join(sorted(b.flags)) or "-"
            print(f"{args.readme.name}:{b.line}\t{kind}\t{b.commands[0].splitlines()[0]}")
        return 0
    drift = process(args.readme, check=args.check, only=args.only, include_slow=args.all)
    if args.check and drift:
        sys.stdout.write("\n".join(drift) + "\n")
        print(f"{len(drift)} README block(s) drifted: run `python scripts/readme_outputs.py` and review the diff")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
