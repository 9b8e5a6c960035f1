"""Batch interrogation: sidecars/JSONL/CSV, two passes with a caption cache, resume after an interruption."""
from __future__ import annotations

import csv
import json
import shutil

import pytest
from typer.testing import CliRunner

from cliplens.assets import fixtures_dir
from cliplens.cli import app
from cliplens.errors import InvalidInputError
from cliplens.interrogate import Interrogator
from cliplens.interrogate.batch import interrogate_folder

runner = CliRunner()


class Stop(Exception):
    pass


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    files = sorted(fixtures_dir(64).glob("*.png"))[:7]
    for i, f in enumerate(files):
        shutil.copy(f, (d / "sub" if i % 3 == 0 else d) / f.name)
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    (d / "notes.md").write_text("not an image")
    return d


@pytest.fixture(scope="module")
def it(toyclip):
    # short chains: negative mode builds best's candidates first; the exact 2048-wide chain is not under test here
    return Interrogator(toyclip, caption_model="toycaption", device="cpu", batch_size=2, shortlist=64, flavor_pool=256)


def test_sidecars_resume_after_interruption(it, folder):
    seen = []

    def stop_after_three(path, result):
        seen.append(path)
        if len(seen) == 3:
            raise Stop

    with pytest.raises(Stop):
        interrogate_folder(it, [folder], "fast", max_flavors=4, on_result=stop_after_three)
    written = sorted(folder.rglob("*.txt"))
    assert len(written) == 3 and all(p.name.endswith(".png.txt") for p in written)  # named from the full name
    before = {p: p.read_text() for p in written}
    s = interrogate_folder(it, [folder], "fast", max_flavors=4)
    assert s.total == 8 and s.skipped == 3 and s.done == 4
    assert [e.source.endswith("broken.png") for e in s.errors] == [True]
    assert s.captions_cached >= 3  # pass 1 of the first run was kept in the caption cache
    outs = sorted(folder.rglob("*.txt"))
    assert len(outs) == 7 and all(p.read_text().strip() for p in outs)
    assert all(before[p] == p.read_text() for p in before)  # finished work was not redone
    # an uninterrupted run gives the same prompts
    single = {p.with_suffix(""): it.interrogate(p.with_suffix(""), mode="fast", max_flavors=4).prompt for p in outs}
    assert all(p.read_text().strip() == single[p.with_suffix("")] for p in outs)


def test_jsonl_resume_with_torn_last_line(it, folder, tmp_path):
    out = tmp_path / "out.jsonl"
    n = 0

    def stop(path, result):
        nonlocal n
        n += 1
        if n == 2:
            raise Stop

    with pytest.raises(Stop):
        interrogate_folder(it, [folder], "caption", fmt="jsonl", out=out, on_result=stop)
    with open(out, "a") as fh:
        fh.write('{"file": "half-written')  # a crash mid-row
    s = interrogate_folder(it, [folder], "caption", fmt="jsonl", out=out)
    assert s.skipped == 2 and s.done == 5
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 7 and len({r["file"] for r in rows}) == 7
    assert all(r["prompt"] == r["caption"] and r["mode"] == "caption" for r in rows)
    # another mode into the same file is new work, not "already done"
    s2 = interrogate_folder(it, [folder], "negative", fmt="jsonl", out=out, max_flavors=3)
    assert s2.done == 7 and s2.captioned == 0 and s2.captions_cached == 7  # captions come from the cache


def test_csv_and_out_folder(it, folder, tmp_path):
    out = tmp_path / "p.csv"
    s = interrogate_folder(it, [folder], "classic", fmt="csv", out=out)
    rows = list(csv.DictReader(out.open()))
    assert s.done == 7 and len(rows) == 7 and all(r["prompt"].startswith(r["caption"]) for r in rows)
    side = tmp_path / "side"
    s = interrogate_folder(it, [folder], "caption", out=side)
    assert len(list(side.rglob("*.txt"))) == 7 and (side / "sub").is_dir()
    with pytest.raises(InvalidInputError, match="format"):
        interrogate_folder(it, [folder], "fast", fmt="xml")
    with pytest.raises(InvalidInputError, match="folder"):
        interrogate_folder(it, [folder], "fast", fmt="jsonl", out=side)


def test_user_caption_for_whole_folder_skips_captioner(toyclip, folder, tmp_path):
    it = Interrogator(toyclip, caption_model="/no/such/model", device="cpu")
    out = tmp_path / "o.jsonl"
    s = interrogate_folder(it, [folder], "fast", fmt="jsonl", out=out, caption="a toy scene", max_flavors=3)
    assert s.done == 7 and s.captioned == 0
    assert all(json.loads(x)["caption"] == "a toy scene" for x in out.read_text().splitlines())


def test_cli_folder_jsonl(folder, tmp_path):
    out = tmp_path / "cli.jsonl"
    res = runner.invoke(app, ["interrogate", str(folder), "--model", "toyclip", "--mode", "caption", "--format", "jsonl",
                              "--out", str(out), "--json", "-q", "--low-vram"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{"):])
    assert summary["done"] == 7 and summary["errors"][0]["source"].endswith("broken.png")
    assert set(summary["errors"][0]) == {"index", "source", "reason"}
    res = runner.invoke(app, ["interrogate", str(folder), "--model", "toyclip", "--mode", "caption", "--format", "jsonl",
                              "--out", str(out), "--json", "-q"])
    assert json.loads(res.output[res.output.index("{"):])["skipped"] == 7


def test_never_overwrites_an_input_or_a_users_file(it, tmp_path):
    """Issue 14.1: an image named x.txt, and a.png/a.jpg pairs, lose nothing; a user's own a.png.txt stays."""
    from PIL import Image

    d = tmp_path / "clash"
    d.mkdir()
    src = sorted(fixtures_dir(64).glob("*.png"))
    shutil.copy(src[0], d / "x.txt")  # an image with a .txt name
    shutil.copy(src[1], d / "a.png")
    Image.open(src[2]).convert("RGB").save(d / "a.jpg")
    (d / "b.png").write_bytes((d / "a.png").read_bytes())
    (d / "b.png.txt").write_text("my own caption\n")  # the user's file, not cliplens'
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    s = interrogate_folder(it, [d], "caption", resume=False, caption="a toy")
    assert (d / "x.txt").read_bytes() == before["x.txt"]
    assert (d / "b.png.txt").read_text() == "my own caption\n"
    assert (d / "a.png.txt").is_file() and (d / "a.jpg.txt").is_file()
    assert [e.source.endswith("b.png") for e in s.errors] == [True] and "not written by cliplens" in s.errors[0].reason
    # a second --no-resume run replaces only what cliplens wrote
    s2 = interrogate_folder(it, [d], "caption", resume=False, caption="another toy")
    assert (d / "a.png.txt").read_text().strip() == "another toy" and (d / "x.txt").read_bytes() == before["x.txt"]
    assert len(s2.errors) == 1


def test_format_is_honoured_for_a_single_image(tmp_path):
    img = tmp_path / "one.png"
    shutil.copy(sorted(fixtures_dir(64).glob("*.png"))[0], img)
    res = runner.invoke(app, ["interrogate", str(img), "--model", "toyclip", "--mode", "caption", "--format", "txt",
                              "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "one.png.txt").read_text().strip()
    res = runner.invoke(app, ["interrogate", str(img), "--model", "toyclip", "--mode", "caption", "--format", "jsonl",
                              "-q"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "interrogate-caption.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["file"] == str(img)
