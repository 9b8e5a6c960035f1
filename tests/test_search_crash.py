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
from cliplens.embed import content_hash
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
           "toyclip", "--batch-size", "4", "--ann", ann, "-q"]
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
        for hits in search_vectors(idx, q, top=5):
            assert {h.path for h in hits} <= set(paths) or all(h.path in files_on_disk for h in hits)
        return len(entries)
    finally:
        idx.close()


def _run_until_killed(folder: Path, index: Path, ann: str, files: set[str], mode: str,
                      rng: random.Random, nrng: np.random.Generator) -> bool:
    """Start a writer and SIGKILL it; returns True if it finished before being killed."""
    proc = _start(folder, index, ann)
    try:
        if mode == "time":
            deadline = time.monotonic() + rng.uniform(0.5, 9.0)
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
        else:
            before = _check_consistent(index, files, nrng)
            target = rng.randint(before + 1, max(before + 1, N_IMAGES - 1))
            while proc.poll() is None:
                # concurrent reader: open, check, search while the writer commits
                if _check_consistent(index, files, nrng, full=False) >= target:
                    time.sleep(rng.uniform(0, 0.05))
                    break
                time.sleep(0.01)
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
@pytest.mark.parametrize("ann,kills", [("exact", ["time", "count", "count"]), ("hnsw", ["count", "count"])])
def test_kill_9_during_index_add_then_resume(folder, toyclip, tmp_path, ann, kills):
    index = tmp_path / "idx"
    files = {str(p) for p in folder.rglob("*.png")}
    seed = int(os.environ.get("CLIPLENS_CRASH_SEED", time.time_ns() % 100000))
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    killed = 0
    for mode in kills:
        if not _run_until_killed(folder, index, ann, files, mode, rng, nrng):
            killed += 1
        _check_consistent(index, files, nrng)
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
    hits = search_vectors(idx, fresh[:10], top=1)
    assert sum(h[0].path == e.path for h, e in zip(hits, entries[:10])) >= 9
    if ann == "hnsw":
        assert (index / "ann.usearch").exists()
