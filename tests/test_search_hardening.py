"""Issue 14 regressions for search: bad files while indexing (2), long texts (3), paths outside the
served folders (7), out-of-range request fields (6)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cliplens.results import ItemError
from cliplens.search import open_index, search
from parity import FIXTURES, assert_item_errors, cli_json, cli_run

FILES = sorted(FIXTURES.glob("*.png"))[:8]


def _folder(tmp: Path) -> Path:
    d = tmp / "photos"
    d.mkdir()
    for f in FILES:
        shutil.copy(f, d / f.name)
    (d / "broken.png").write_bytes(FILES[0].read_bytes()[:200])  # a PNG header, then nothing: sniffed, not decodable
    return d


def test_index_add_reports_each_bad_file_and_keeps_the_rest(toyclip, tmp_path):
    folder = _folder(tmp_path)
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True)
    rep = idx.add([folder], progress=False)
    assert rep.added == len(FILES) and len(idx) == len(FILES)
    names = sorted(p.name for p in folder.iterdir())
    assert rep.errors == [ItemError(names.index("broken.png"), str((folder / "broken.png").resolve()),
                                    rep.errors[0].reason)]
    d = rep.to_dict()
    json.dumps(d, allow_nan=False)
    assert_item_errors(d["errors"], [names.index("broken.png")])


def test_an_unreadable_file_is_reported_not_skipped(toyclip, tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    victim = (folder / FILES[2].name).resolve()
    real = Path.read_bytes

    def read_bytes(self):
        if self == victim:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    rep = open_index(tmp_path / "idx", encoder=toyclip, create=True).add([folder], progress=False)
    assert rep.added == len(FILES) - 1
    bad = {Path(e.source).name: e.reason for e in rep.errors}
    assert set(bad) == {"broken.png", victim.name} and "Permission denied" in bad[victim.name]


def test_cli_index_add_and_update_with_a_bad_file_exit_0_with_a_summary(tmp_path):
    """Issue 14 item 2: this used to end in a traceback (exit 1) after the rows were saved."""
    folder = _folder(tmp_path)
    idx = str(tmp_path / "idx")
    d = cli_json(["index", "add", str(folder), "--index", idx, "--model", "toyclip", "-q"])
    assert d["added"] == len(FILES) and d["images"] == len(FILES)
    assert [Path(e["source"]).name for e in d["errors"]] == ["broken.png"]
    (folder / "also_broken.png").write_bytes(FILES[1].read_bytes()[:100])
    r = cli_run(["index", "update", "--index", idx, "-q"])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert "also_broken.png" in r.stderr and "broken.png" in r.stderr and "could not be indexed" in r.stderr
    assert f"{len(FILES)} images" in r.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory, toyclip):
    from fastapi.testclient import TestClient

    from cliplens.server import create_app

    tmp = tmp_path_factory.mktemp("hard")
    gallery = tmp / "gallery"
    gallery.mkdir()
    for f in FILES:
        shutil.copy(f, gallery / f.name)
    idx = open_index(tmp / "idx", encoder=toyclip, create=True)
    idx.add([gallery], progress=False)
    outside = tmp / "outside"
    outside.mkdir()
    shutil.copy(FILES[0], outside / "exists.png")
    app = create_app(models=["toyclip"], index_dirs=[tmp / "idx"], device="cpu")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield {"client": c, "idx": idx, "tmp": tmp, "gallery": gallery.resolve(), "outside": outside.resolve()}


@pytest.mark.parametrize("n", [256, 1000, 3999])
def test_long_texts_are_searched_not_looked_up(served, n):
    """Issue 14 item 3: 256+ byte texts crashed the path check (CLI traceback, HTTP 500)."""
    text = ("masterpiece, a red circle on a white background, pixel art, " * 100)[:n]
    r = served["client"].post("/api/search", json={"query": text, "top_k": 3})
    assert r.status_code == 200, r.text
    assert [t["kind"] for t in r.json()["terms"]] == ["text"]
    d = cli_json(["search", text, "--index", str(served["idx"].root), "--top-k", "3"])
    assert len(d["hits"]) == 3 and [t["kind"] for t in d["terms"]] == ["text"]
    assert len(search(served["idx"], text, top_k=3).hits) == 3


def test_search_is_not_an_existence_oracle(served, monkeypatch):
    """Issue 14 item 7: the answer for a path outside the served folders never depends on whether
    it exists, and the server never touches it on disk."""
    c, out = served["client"], served["outside"]
    touched: list[str] = []
    real_stat, real_lstat, real_open = os.stat, os.lstat, os.open

    def spy(fn):
        def wrapped(path, *a, **k):
            if str(out) in os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else False:
                touched.append(os.fsdecode(path))
            return fn(path, *a, **k)
        return wrapped

    monkeypatch.setattr(os, "stat", spy(real_stat))
    monkeypatch.setattr(os, "lstat", spy(real_lstat))
    monkeypatch.setattr(os, "open", spy(real_open))
    answers = []
    for p in (out / "exists.png", out / "missing.png", served["gallery"] / ".." / "outside" / "exists.png",
              "../outside/exists.png"):
        r = c.post("/api/search", json={"query": f"a red circle + @{p}", "top_k": 3})
        assert r.status_code == 200, r.text
        d = r.json()
        assert [t["kind"] for t in d["terms"]] == ["text", "image"]
        assert_item_errors(d["errors"], [1])
        answers.append((d["errors"][0]["reason"].replace(str(p), "P"), [h["id"] for h in d["hits"]]))
        r = c.post("/api/search", json={"query": f"@{p}", "on_error": "raise"})
        assert r.status_code == 403 and str(out) not in r.json()["error"].replace(str(p), "")
    assert len(set(map(str, answers))) == 1, answers
    # plain words that happen to name files are text, on the server as in the library
    r = c.post("/api/search", json={"query": f"{out / 'exists.png'} + {served['gallery'] / FILES[0].name}"}).json()
    assert [t["kind"] for t in r["terms"]] == ["text", "text"]
    assert touched == [], touched


def test_an_at_path_inside_the_served_folders_is_an_image(served):
    f = served["gallery"] / FILES[2].name
    for q in (f"@{f}", f"@{f.name}"):  # absolute, or relative to a served folder
        d = served["client"].post("/api/search", json={"query": q, "top_k": 1}).json()
        assert d["errors"] == [] and d["hits"][0]["path"] == str(f) and d["hits"][0]["score"] > 0.999


@pytest.mark.parametrize("url", ["/api/thumb?index=idx&id=9223372036854775808", "/api/file?index=idx&id=99999999999999999999",
                                 "/api/thumb?index=idx&id=-1", "/api/file?index=idx&id=1e3"])
def test_out_of_range_ids_are_4xx(served, url):
    r = served["client"].get(url)
    assert 400 <= r.status_code < 500, (url, r.status_code, r.text)


@pytest.mark.parametrize("body", [
    {"query": "red", "folders": ["/a\u0000b"]},
    {"query": "red", "folders": ["/x"] * 65},
    {"query": "red", "folders": [""]},
    {"query": "red", "min_width": 10**12},
    {"query": "red", "min_height": 0},
    {"query": "red", "top_k": 0},
    {"query": "red", "top_k": 10**9},
    {"query": "red", "threshold": 2},
    {"query": "red", "on_error": "ignore"},
    {"query": ""},
    {"query": "red", "index": "x" * 300},
])
def test_bad_search_fields_are_4xx(served, body):
    r = served["client"].post("/api/search", json=body)
    assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
    assert r.json().get("error") or r.json().get("detail")


def test_folder_filters_never_resolve_on_disk(served):
    c, g = served["client"], served["gallery"]
    inside = c.post("/api/search", json={"query": "red", "folders": [str(g)], "top_k": 50}).json()
    assert len(inside["hits"]) == len(FILES)
    for f in (str(served["outside"]), "../outside", "/etc"):
        assert c.post("/api/search", json={"query": "red", "folders": [f]}).json()["hits"] == []


def test_dedupe_route_shape_and_bounds(served):
    c = served["client"]
    d = c.post("/api/dedupe", json={"threshold": 0.5}).json()
    assert set(d) >= {"groups", "duplicates", "threshold", "images", "errors", "index", "ms"}
    for g in d["groups"]:
        assert set(g) == {"keep", "keep_id", "thumb_url", "file_url", "duplicates"}
        assert all(set(x) == {"path", "id", "similarity", "thumb_url", "file_url"} for x in g["duplicates"])
    assert d["duplicates"] == sum(len(g["duplicates"]) for g in d["groups"])
    for bad in ({"threshold": 1.5}, {"index": "nope"}, {"folders": ["a\u0000"]}):
        r = c.post("/api/dedupe", json=bad)
        assert 400 <= r.status_code < 500, (bad, r.status_code)
