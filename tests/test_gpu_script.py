"""benchmarks/gpu.py: the one prepared GPU run must be known to work before GPU time is spent on it.

`--smoke` runs every stage on the CPU with tiny sizes through the same code (stage processes,
time limits, partial JSON, the final line); without CUDA the real run stops at once with one line.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def test_without_cuda_it_stops_at_once_with_one_line():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the real run would start")
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "CUDA" in lines[0] and "--smoke" in lines[0]


@pytest.mark.slow
def test_smoke_run_writes_every_stage(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(out)], capture_output=True,
                          text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads(proc.stdout.strip().splitlines()[-1])
    saved = json.loads(out.read_text())
    assert saved == final
    assert final["stages_failed"] == [], {k: final[k].get("log_tail") for k in final["stages_failed"]}
    assert final["embed"]["images_per_s"] > 0 and final["embed"]["e2e_images_per_s"] > 0
    assert final["embed"]["phrases_per_s"] > 0
    assert final["interrogate"]["fast_ms_ours"] > 0 and "best_speedup" in final["interrogate"]
    assert "table_prep_speedup" in final["interrogate"]
    assert final["guide"]["steps_per_s"] > 0


def test_a_failing_stage_is_reported_and_the_rest_still_run(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import gpu
    finally:
        sys.path.pop(0)
    bad = gpu.run_stage("broken", [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"], 30)
    assert bad["ok"] is False and "exit code 3" in bad["reason"] and "boom" in bad["log_tail"]
    slow = gpu.run_stage("slow", [sys.executable, "-c", "import time; time.sleep(5)"], 1)
    assert slow["ok"] is False and "limit" in slow["reason"]
    good = gpu.run_stage("good", [sys.executable, "-c", "print('noise'); print('{\"x\": 1}')"], 30)
    assert good["ok"] is True and good["x"] == 1
