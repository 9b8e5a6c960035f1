"""Parity (issue 12): one search request through Python, `cliplens search --json` and the HTTP routes
gives the same hits, scores, defaults and error shape."""
from __future__ import annotations

import shutil

import pytest

from cliplens import defaults
from cliplens.search import Term, open_index, search
from parity import FIXTURES, assert_close, assert_item_errors, cli_json

FILES = sorted(FIXTURES.glob("*.png"))[:24]
#: route-only keys: the served index's name, timing, the raw query text, and per-hit URLs
ROUTE_ONLY = ("index", "ms", "query")


@pytest.fixture(scope="module")
def world(tmp_path_factory, toyclip):
    tmp = tmp_path_factory.mktemp("parity_search")
    gallery = tmp / "gallery"
    gallery.mkdir()
    for f in FILES:
        shutil.copy(f, gallery / f.name)
    idx = open_index(tmp / "idx", encoder=toyclip, create=True)
    idx.add([gallery], progress=False)
    return {"idx": idx, "root": tmp / "idx", "gallery": gallery.resolve()}


@pytest.fixture(scope="module")
def client(world):
    from fastapi.testclient import TestClient

    from cliplens.server import create_app

    app = create_app(models=["toyclip"], index_dirs=[world["root"]], device="cpu")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _route(d: dict) -> dict:
    d = {k: v for k, v in d.items() if k not in ROUTE_ONLY}
    d["hits"] = [{k: v for k, v in h.items() if k not in ("thumb_url", "file_url")} for h in d["hits"]]
    return d


def test_text_search_same_answer_and_defaults_everywhere(world, client):
    q = "a red circle, pixel art"
    py = search(world["idx"], q).to_dict()  # every option at its default
    cli = cli_json(["search", q, "--index", str(world["root"])])
    api = client.post("/api/search", json={"query": q})
    assert api.status_code == 200, api.text
    assert len(py["hits"]) == py["top_k"] == defaults.SEARCH_TOP_K
    assert_close(cli, py)
    assert_close(_route(api.json()), py)


def test_weighted_arithmetic_same_everywhere(world, client):
    q = "(a red circle:2) - (pixel art:0.5) + [a blue square]"
    py = search(world["idx"], q, top_k=7).to_dict()
    assert [t["weight"] for t in py["terms"]] == [2.0, -0.5, pytest.approx(1 / 1.1)]
    assert_close(cli_json(["search", q, "--index", str(world["root"]), "--top-k", "7"]), py)
    assert_close(_route(client.post("/api/search", json={"query": q, "top_k": 7}).json()), py)


def test_image_search_same_hits_and_scores_everywhere(world, client):
    f = world["gallery"] / FILES[3].name
    py = search(world["idx"], Term.image(f), top_k=5).to_dict()
    assert py["hits"][0]["path"] == str(f) and py["hits"][0]["score"] > 0.999
    cli = cli_json(["search", f"@{f}", "--index", str(world["root"]), "--top-k", "5"])
    cli_bare = cli_json(["search", str(f), "--index", str(world["root"]), "--top-k", "5"])  # the CLI's file rule
    by_path = _route(client.post("/api/search", json={"query": f"@{f}", "top_k": 5}).json())
    upload = client.post("/api/search/image", files=[("image", (f.name, f.read_bytes(), "image/png"))],
                         data={"top_k": "5"})
    assert upload.status_code == 200, upload.text
    up = _route(upload.json())
    for other in (cli, cli_bare, by_path):
        assert_close(other, py)
    assert_close(up["hits"], py["hits"])  # the upload's term is named after the upload, not the path
    assert [t["kind"] for t in up["terms"]] == ["image"]


def test_image_plus_text_same_everywhere(world, client):
    f = world["gallery"] / FILES[5].name
    py = search(world["idx"], [Term.image(f), Term.text("pixel art", -0.5)], top_k=5).to_dict()
    cli = cli_json(["search", f"@{f}", "-", "(pixel art:0.5)", "--index", str(world["root"]), "--top-k", "5"])
    api = client.post("/api/search/image", files=[("image", (f.name, f.read_bytes(), "image/png"))],
                      data={"top_k": "5", "subtract": "(pixel art:0.5)"}).json()
    assert_close(cli["hits"], py["hits"])
    assert_close(_route(api)["hits"], py["hits"])
    assert [t["weight"] for t in api["terms"]] == [1.0, -0.5]


def test_a_bad_image_term_has_one_error_shape_everywhere(world, client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    q = "a red circle + @missing.png"
    py = search(world["idx"], q, top_k=3).to_dict()
    cli = cli_json(["search", q, "--index", str(world["root"]), "--top-k", "3"])
    api = client.post("/api/search", json={"query": q, "top_k": 3})
    assert api.status_code == 200, api.text
    for d in (py, cli, api.json()):
        assert_item_errors(d["errors"], [1])
        assert d["errors"][0]["source"] == "missing.png"
        assert len(d["hits"]) == 3  # the rest of the query still answers
    assert_close(cli, py)
    assert_close(_route(api.json())["hits"], py["hits"])  # the text term alone, on every surface


def test_on_error_raise_is_a_clear_failure_everywhere(world, client, tmp_path, monkeypatch):
    from cliplens.errors import ImageLoadError
    from parity import cli_run

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageLoadError, match="missing.png"):
        search(world["idx"], "@missing.png", on_error="raise")
    r = cli_run(["search", "@missing.png", "--index", str(world["root"]), "--on-error", "raise"])
    assert r.exit_code == 2
    api = client.post("/api/search", json={"query": "@missing.png", "on_error": "raise"})
    assert 400 <= api.status_code < 500 and set(api.json()) >= {"error", "type"}


def test_dedupe_same_everywhere(world, client):
    from cliplens.search import dedupe

    py = dedupe(world["idx"], threshold=0.9).to_dict()
    cli = cli_json(["dedupe", "--index", str(world["root"]), "--threshold", "0.9", "-q"])
    api = client.post("/api/dedupe", json={"threshold": 0.9})
    assert api.status_code == 200, api.text
    assert_close({k: cli[k] for k in py}, py)
    a = api.json()
    for g in a["groups"]:
        assert g.pop("thumb_url").startswith("/api/thumb") and g.pop("file_url")
        for d in g["duplicates"]:
            assert d.pop("thumb_url") and d.pop("file_url")
    assert_close({k: a[k] for k in py}, py)
    assert py["threshold"] == 0.9 and py["images"] == len(FILES)
    default = client.post("/api/dedupe", json={}).json()
    assert default["threshold"] == defaults.DEDUPE_THRESHOLD
