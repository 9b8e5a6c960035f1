"""`cliplens models | embed | similarity`: JSON output, one-line errors, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from cliplens.cli import app
from cliplens.assets import fixtures_dir

runner = CliRunner()
FIX = fixtures_dir(224)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cliplens", *args], capture_output=True, text=True, timeout=300)


def test_help_has_examples():
    for verb in ("models", "embed", "similarity"):
        res = runner.invoke(app, [verb, "--help"])
        assert res.exit_code == 0 and "Example" in res.output


def test_models_json():
    res = runner.invoke(app, ["models", "--json"])
    rows = json.loads(res.output)
    by = {r["name"]: r for r in rows}
    assert by["toyclip"]["status"] == "bundled" and by["sd15"]["spec"] == "openclip:ViT-L-14/openai"


def test_similarity_text_vs_image(tw, tmp_path):
    img = tmp_path / "red.png"
    tw.render(tw.sample_scene(5, shape="circle", colour="red", kind="single", style="flat", background="white"), 224).save(img)
    res = runner.invoke(app, ["similarity", str(img), "a red circle", "a blue square", "--model", "toyclip", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["a"] == [{"source": str(img), "kind": "image"}] and [b["kind"] for b in out["b"]] == ["text", "text"]
    assert out["cosine"][0][0] > out["cosine"][0][1] and out["best"] == ["a red circle"] and out["errors"] == []
    assert sum(out["probs"][0]) == pytest.approx(1.0, abs=1e-5)


def test_embed_npy_and_parquet_with_bad_file(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for f in sorted(FIX.glob("*.png"))[:5]:
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    out = tmp_path / "emb.npy"
    res = runner.invoke(app, ["embed", str(folder), "--out", str(out), "--model", "toyclip", "--json", "-q"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{"):])
    assert summary["images"] == 5 and summary["errors"][0]["source"].endswith("broken.png")
    vecs = np.load(out)
    assert vecs.shape == (5, 64)
    assert len((tmp_path / "emb.npy.paths.txt").read_text().splitlines()) == 5
    res2 = runner.invoke(app, ["embed", str(folder), "--out", str(tmp_path / "e.parquet"), "--model", "toyclip", "--json", "-q"])
    again = json.loads(res2.output[res2.output.index("{"):])
    assert again["cached"] == 5 and again["computed"] == 0
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "e.parquet")
    np.testing.assert_allclose(np.stack(table.column("embedding").to_pylist()), vecs, atol=1e-6)


def test_errors_are_one_line_with_exit_code_2(tmp_path):
    res = cli("similarity", "a red circle", "x", "--model", "sd15")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "'toyclip'" in res.stderr and "--model" not in res.stderr  # library errors name models and parameters, not flags
    res = cli("embed", str(tmp_path / "missing"), "--out", str(tmp_path / "o.npy"), "--model", "toyclip")
    assert res.returncode == 2 and "no such file" in res.stderr and "Traceback" not in res.stderr
    res = cli("similarity", "", "x", "--model", "toyclip")
    assert res.returncode == 2 and "empty" in res.stderr
    res = cli("embed", str(FIX), "--out", str(tmp_path / "o.txt"), "--model", "toyclip", "-q")
    assert res.returncode == 2 and ".npy" in res.stderr
