"""`cliplens score | rank | feedback | classify | tag | similarity`: JSON output, plots, sidecars, clear errors."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image
from typer.testing import CliRunner

from cliplens.io import xmp_keywords
from cliplens.cli import app
from cliplens.errors import CliplensError

runner = CliRunner()
M = ["--model", "toyclip", "-q"]


def ok(args: list[str]) -> dict:
    res = runner.invoke(app, [*args, *M, "--json"])
    assert res.exit_code == 0, (res.output, res.exception)
    return json.loads(res.stdout)


def fails(args: list[str], match: str) -> None:
    """Bad input -> a CliplensError whose message says what is wrong (main() prints it, exit 2)."""
    res = runner.invoke(app, [*args, *M])
    assert res.exit_code != 0
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        assert isinstance(res.exception, CliplensError), repr(res.exception)
        assert match in str(res.exception), str(res.exception)
    else:  # typer's own usage errors
        assert match in res.output, res.output


def _decodes(path) -> None:
    im = Image.open(path)
    im.load()
    assert im.format == "PNG" and im.size[0] > 50


@pytest.fixture()
def folder(tmp_path, fixture_labels):
    d = tmp_path / "imgs"
    d.mkdir()
    for r in fixture_labels[:12]:
        shutil.copy(r["path"], d / r["file"])
    return d, fixture_labels[:12]


def test_score_json_plot_out_and_sidecar_prompts(folder, tmp_path):
    d, rows = folder
    out = ok(["score", str(d), "--prompt", "a red circle", "--plot", str(tmp_path / "h.png"),
              "--out", str(tmp_path / "s.csv")])
    assert out["summary"]["pairs"] == 12 and len(out["pairs"]) == 12 and out["errors"] == []
    r0 = out["pairs"][0]
    assert r0["clip_s"] == pytest.approx(2.5 * max(r0["cosine"], 0), abs=1e-6)
    assert out["summary"]["clipscore_torchmetrics"] == pytest.approx(max(100 * out["summary"]["cosine_mean"], 0), abs=1e-3)
    _decodes(tmp_path / "h.png")
    assert (tmp_path / "s.csv").read_text().startswith("index,image,prompt,cosine")
    for r in rows:
        (d / r["file"]).with_suffix(".txt").write_text(r["caption"])
    out = ok(["score", str(d), "--ref", "a picture of shapes"])
    assert {x["prompt"] for x in out["pairs"]} == {r["caption"] for r in rows}
    assert "refclip_s_mean" in out["summary"]
    man = tmp_path / "m.jsonl"
    man.write_text("".join(json.dumps({"image": str(d / r["file"]), "prompt": r["caption"]}) + "\n" for r in rows[:3]))
    assert ok(["score", "--manifest", str(man), "--paper-prefix"])["summary"]["prefix"] == "A photo depicts"


def test_score_long_prompt_reported(folder):
    d, rows = folder
    long = ", ".join(["a small red star on the left"] * 15)
    out = ok(["score", str(d / rows[0]["file"]), "--prompt", long])
    assert out["pairs"][0]["truncated"]["tokens"] > 75
    out = ok(["score", str(d / rows[0]["file"]), "--prompt", long, "--long", "chunks"])
    assert out["pairs"][0]["truncated"]["chunks"] >= 2
    fails(["score", str(d / rows[0]["file"]), "--prompt", long, "--long", "error"], "75")


def test_rank_copy_plot(folder, tmp_path):
    d, rows = folder
    out = ok(["rank", str(d), "--prompt", rows[3]["caption"], "--top", "3", "--copy-to", str(tmp_path / "best"),
              "--plot", str(tmp_path / "sheet.png")])
    assert out["results"][0]["item"].endswith(rows[3]["file"]) and len(out["results"]) == 3
    assert sorted(p.name for p in (tmp_path / "best").iterdir())[0] == f"001_{rows[3]['file']}"
    _decodes(tmp_path / "sheet.png")
    out = ok(["rank", str(d / rows[3]["file"]), "--candidate", "a blue square", "--candidate", rows[3]["caption"]])
    assert out["results"][0]["item"] == rows[3]["caption"] and out["ranked"] == "prompts"


def test_feedback_json_plot(tw, tmp_path):
    img = tmp_path / "red.png"
    tw.render(tw.sample_scene(4, shape="circle", colour="red", style="pixel art"), 64).save(img)
    out = ok(["feedback", str(img), "red, blue, circle, pixel art", "--plot", str(tmp_path / "fb.png"),
              "--vocab", "colour"])
    by = {k["phrase"]: k for k in out["keywords"]}
    assert by["red"]["presence"] > by["blue"]["presence"] and by["blue"]["verdict"] == "absent"
    assert isinstance(out["unrequested"], list)
    _decodes(tmp_path / "fb.png")


def test_classify_and_tag_with_sidecars(folder, tmp_path, tw):
    d, rows = folder
    out = ok(["classify", str(d), "--labels", ",".join(tw.WORLD["shapes"]), "--top", "2", "--templates", "short",
              "--plot", str(tmp_path / "c.png"), "--out", str(tmp_path / "c.jsonl")])
    assert len(out["results"]) == 12 and len(out["results"][0]["top"]) == 2
    _decodes(tmp_path / "c.png")
    assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 12
    vocab = tmp_path / "tags.txt"
    vocab.write_text("\n".join(tw.WORLD["shapes"] + list(tw.WORLD["colours"]) + list(tw.WORLD["styles"])))
    out = ok(["tag", str(d), "--vocab", str(vocab), "--sidecar", "xmp", "--max-tags", "4",
              "--plot", str(tmp_path / "t.png")])
    first = out["results"][0]
    side = d / (rows[0]["file"] + ".xmp")  # named from the full file name
    assert xmp_keywords(side.read_bytes()) == [t["tag"] for t in first["tags"]]
    _decodes(tmp_path / "t.png")
    ok(["tag", str(d), "--vocab", str(vocab), "--sidecar", "txt", "--max-tags", "2"])
    assert (d / (rows[0]["file"] + ".txt")).read_text().count(",") <= 1


def test_bad_inputs_every_verb(folder, tmp_path):
    d, rows = folder
    img = str(d / rows[0]["file"])
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"junk")
    fails(["score"], "no images given")
    fails(["score", str(tmp_path / "nope.png"), "--prompt", "x"], "nothing could be scored")
    fails(["score", img, "--prompt", "  "], "empty")
    fails(["score", img, img, "--prompt", "a", "--prompt", "b", "--prompt", "c"], "--prompt values")
    fails(["score", img, "--prompt", "x", "--plot", str(tmp_path / "x.jpg")], ".png")
    fails(["score", "--manifest", str(tmp_path / "none.csv")], "not found")
    fails(["rank", str(d)], "--prompt")
    fails(["rank", str(d), "--prompt", "x", "--top", "0"], "top")
    fails(["rank", str(d), "--candidate", "x"], "exactly one image")
    fails(["feedback", img, ", ;"], "no words")
    fails(["feedback", str(junk), "red"], "not an image")
    fails(["classify", str(d)], "--labels")
    fails(["classify", str(d), "--labels", "a,a"], "twice")
    fails(["classify", str(junk), "--labels", "a,b"], "nothing could be classified")
    fails(["classify", str(d), "--labels", "a,b", "--templates", "nonsense"], "unknown templates")
    fails(["tag", str(d), "--vocab", "no_such_vocab"], "unknown vocabulary")
    fails(["tag", str(d), "--vocab", "colour", "--sidecar", "docx"], "docx")
    fails(["tag", str(d), "--vocab", "colour", "--score", "nope"], "score")
    fails(["tag", str(tmp_path / "empty_dir_none")], "vocab")


def test_main_prints_one_line_error(tmp_path):
    res = subprocess.run([sys.executable, "-m", "cliplens", "classify", str(tmp_path), "--labels", "a,b",
                          "--model", "toyclip"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "error:" in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------- issue 14 regressions
def test_sidecars_never_overwrite_inputs_or_foreign_files(folder, tmp_path, tw):
    """Item 1: an image named like a sidecar, a.png/a.jpg sharing a.txt, and `classify --sidecar txt`."""
    d, rows = folder
    src = d / rows[0]["file"]
    shutil.copy(src, d / "a.png")
    shutil.copy(src, d / "a.jpg")
    shutil.copy(src, d / "shot.txt")  # a PNG whose name ends in .txt
    labels = ",".join(tw.WORLD["shapes"])
    before = (d / "shot.txt").read_bytes()
    out = ok(["classify", str(d), "--labels", labels, "--sidecar", "txt"])
    assert out["sidecars"]["errors"] == [] and len(out["sidecars"]["written"]) == 15
    assert (d / "a.png.txt").is_file() and (d / "a.jpg.txt").is_file() and (d / "shot.txt.txt").is_file()
    assert (d / "shot.txt").read_bytes() == before
    # kohya's stem naming: a.png and a.jpg would share a.txt -> refused as a whole, nothing written
    fails(["classify", str(d), "--labels", labels, "--sidecar", "txt", "--naming", "stem"], "would both write")
    assert not (d / "a.txt").exists() and (d / "shot.txt").read_bytes() == before
    # overwrite only replaces sidecars cliplens wrote and nobody edited
    (d / "a.png.txt").write_text("my caption\n")
    out = ok(["tag", str(d / "a.png"), str(d / "a.jpg"), "--vocab", "colour", "--sidecar", "txt",
              "--sidecar-mode", "overwrite"])
    assert [e["index"] for e in out["sidecars"]["errors"]] == [0]
    assert (d / "a.png.txt").read_text() == "my caption\n"


def test_classify_json_is_strict(folder, tmp_path, tw):
    """Item 8: a broken image made `classify --json` print NaN."""
    d, rows = folder
    junk = d / "junk.png"
    junk.write_bytes(b"junk")
    res = runner.invoke(app, ["classify", str(d / rows[0]["file"]), str(junk), "--labels", "a,b", *M, "--json"])
    assert res.exit_code == 0 and "NaN" not in res.stdout
    out = json.loads(res.stdout)
    assert out["results"][1]["cosine"] is None and [e["index"] for e in out["errors"]] == [1]


def test_similarity_terms(folder, tmp_path):
    """Item 3: a 256+-byte text, a missing image file, a broken image, a folder: no crash, one rule."""
    d, rows = folder
    img = str(d / rows[0]["file"])
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"junk")
    long = "a very long stable diffusion prompt, " * 12
    assert len(long.encode()) > 256
    out = ok(["similarity", img, "a red circle", long, "missing_shot.png", str(junk), str(tmp_path), f"@{img}"])
    kinds = [b["kind"] for b in out["b"]]
    assert out["a"][0]["kind"] == "image" and kinds == ["text", "text", "image", "image", "image", "image"]
    assert [e["index"] for e in out["errors"]] == [3, 4, 5]
    assert "no such file" in out["errors"][0]["reason"]
    row = out["cosine"][0]
    assert row[0] is not None and row[1] is not None and row[2:5] == [None, None, None]
    assert row[5] == pytest.approx(1.0, abs=1e-5)
    assert ok(["similarity", "@@handle", "handle"])["a"][0] == {"source": "@handle", "kind": "text"}
    fails(["similarity", "missing_a.png", "x"], "nothing could be compared")
