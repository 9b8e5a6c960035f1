"""Crash safety and concurrent readers: `cliplens index add` is killed with SIGKILL at random
moments (several runs), while this process keeps reading and searching the index. After every
kill the index must open and be consistent; a final run must complete with exactly one entry
per file, each holding the vector of that file's content."""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cliplens.assets import fixtures_dir
from cliplens.images import content_hash
from cliplens.search import open_index, search_vectors
from cliplens.search.index import MANIFEST

N_IMAGES = 60


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "imgs"
    src = sorted(fixtures_dir(64).glob("*.png"))[:N_IMAGES]
    for i, p in enumerate(src):
        sub = root / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, sub / p.name)
    return root


def _start(folder: Path, index: Path, ann: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CLIPLENS_QUIET": "1"}
    cmd = [sys.executable, "-m", "cliplens", "index", "add", str(folder), "--index", str(index), "--model",
           "toyclip", "--batch-size", "2", "--ann", ann, "-q"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _check_consistent(index: Path, files_on_disk: set[str], rng: np.random.Generator, full: bool = True) -> int:
    """What a reader may rely on at any moment: every row has its vector and matches its file."""
    if not (index / MANIFEST).exists():
        return 0
    for db in ("meta.sqlite", "vectors.sqlite"):
        if full and (index / db).exists():
            con = sqlite3.connect(index / db)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            con.close()
    idx = open_index(index)
    try:
        entries = idx.entries()
        paths = [e.path for e in entries]
        assert len(paths) == len(set(paths)), "a file is indexed twice"
        assert set(paths) <= files_on_disk
        missing = np.setdiff1d(idx.file_ids(), idx.store.ids())
        assert len(missing) == 0, f"rows without vectors: {missing[:5]}"
        for e in entries[:: max(1, len(entries) // (10 if full else 2))]:
            assert content_hash(Path(e.path).read_bytes()) == e.hash
        q = rng.normal(size=(2, idx.dim)).astype(np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        for hits in search_vectors(idx, q, top_k=5):
            assert {h.path for h in hits} <= set(paths) or all(h.path in files_on_disk for h in hits)
        return len(entries)
    finally:
        idx.close()


def _rows(index: Path) -> int:
    """Cheap count of committed rows (a raw read-only SQLite query, as fast polling needs)."""
    try:
        con = sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _holds_lock(index: Path, pid: int) -> bool:
    try:
        return (index / "write.pid").read_text().strip() == str(pid)  # written by the lock holder
    except OSError:
        return False


def _run_until_killed(folder: Path, index: Path, ann: str, files: set[str], mode: str,
                      rng: random.Random, nrng: np.random.Generator) -> bool:
    """Start a writer and SIGKILL it; returns True if it finished before being killed.

    "time": a random moment after the writer took the index's lock (scan, reconcile, embed, commit,
    saving the ANN file); "count": right after a random number of rows got committed. Meanwhile this
    process reads and searches the index like any other reader.
    """
    proc = _start(folder, index, ann)
    try:
        while proc.poll() is None and not _holds_lock(index, proc.pid):
            time.sleep(0.005)
        polls = 0
        if mode == "count" and _rows(index) + 1 > N_IMAGES - 1:
            mode = "time"  # too few rows left to aim at
        if mode == "time":
            deadline = time.monotonic() + rng.uniform(0.0, 0.6)
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.002)
        else:
            target = rng.randint(_rows(index) + 1, N_IMAGES - 1)
            while proc.poll() is None and _rows(index) < target:
                polls += 1
                if polls % 20 == 0:  # a concurrent reader: open, check, search while the writer commits
                    _check_consistent(index, files, nrng, full=False)
                time.sleep(0.002)
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if finished:
            assert proc.returncode == 0, proc.stderr.read().decode()
        return finished
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("ann,kills", [("exact", ["time", "count", "count"]), ("ivf", ["count", "count"])])
def test_kill_9_during_index_add_then_resume(folder, toyclip, tmp_path, ann, kills):
    index = tmp_path / "idx"
    files = {str(p) for p in folder.rglob("*.png")}
    seed = int(os.environ.get("CLIPLENS_CRASH_SEED", time.time_ns() % 100000))
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    killed = attempts = 0
    while killed < len(kills) and attempts < 2 * len(kills):
        mode = kills[attempts % len(kills)]
        attempts += 1
        if not _run_until_killed(folder, index, ann, files, mode, rng, nrng):
            killed += 1
        _check_consistent(index, files, nrng)
        if _rows(index) >= N_IMAGES:
            break  # nothing left to interrupt
    print(f"[{ann}] seed {seed}: killed {killed} of {attempts} runs; {_rows(index)}/{N_IMAGES} rows before resuming")
    assert killed >= 1, f"no run was killed mid-way (seed {seed})"
    proc = _start(folder, index, ann)  # resume to completion
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()

    idx = open_index(index, encoder=toyclip, ann=ann)
    entries = idx.entries()
    assert sorted(e.path for e in entries) == sorted(files), f"seed {seed}"
    ids = idx.file_ids()
    assert np.array_equal(idx.store.ids(), ids), "orphan vectors were not cleaned up"
    vecs = idx.vectors(np.array([e.id for e in entries]))
    fresh = toyclip.encode_images([e.path for e in entries])
    np.testing.assert_allclose(vecs, fresh, atol=1e-4)
    hits = search_vectors(idx, fresh[:10], top_k=1)
    assert sum(h[0].path == e.path for h, e in zip(hits, entries[:10])) >= 9
    if ann == "ivf":
        assert (index / "ann.ivf").exists()
