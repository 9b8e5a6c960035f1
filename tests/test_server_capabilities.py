"""API tests of the capability endpoints (judge, classify, interrogate, compose, search) with the
toy models, so every answer is checked against the library or the toy world's ground truth."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from cliplens.assets import fixtures_dir
from cliplens.search import open_index
from cliplens.server import create_app

FIX = fixtures_dir(64)
LABELS = {r["file"]: r for r in map(json.loads, (FIX / "labels.jsonl").read_text().splitlines())}
FILES = sorted(FIX.glob("*.png"))[:40]


@pytest.fixture(scope="module")
def world(tmp_path_factory, toyclip):
    tmp = tmp_path_factory.mktemp("caps")
    gallery = tmp / "gallery"
    (gallery / "sub").mkdir(parents=True)
    for i, f in enumerate(FILES):
        shutil.copy(f, (gallery / "sub" if i % 3 == 0 else gallery) / f.name)
    idx = open_index(tmp / "idx", model="toyclip", create=True)
    idx.add([gallery], progress=False)
    idx.close()
    (tmp / "outside.png").write_bytes(FILES[0].read_bytes())
    (gallery / "notes.txt").write_text("not an image\n")
    # after indexing: one indexed file is swapped for a symlink pointing out of the gallery
    victim = gallery / FILES[1].name
    victim.unlink()
    victim.symlink_to(tmp / "outside.png")
    (gallery / "link_out.png").symlink_to(tmp / "outside.png")
    return {"tmp": tmp, "gallery": gallery, "index": tmp / "idx", "victim": victim}


@pytest.fixture(scope="module")
def client(world):
    app = create_app(models=["toyclip"], index_dirs=[world["index"]], device="cpu")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def up(path: Path, field: str = "images"):
    return (field, (path.name, path.read_bytes(), "image/png"))


def test_every_capability_is_on(client):
    caps = client.get("/api/health").json()["capabilities"]
    assert all(v is True for v in caps.values()), caps


# ---------------------------------------------------------------- judge
def test_score_matches_the_library(client, toyclip):
    imgs = FILES[:3]
    prompts = [LABELS[f.name]["caption"] for f in imgs]
    r = client.post("/api/score", files=[up(f) for f in imgs], data={"prompts": json.dumps(prompts)})
    assert r.status_code == 200, r.text
    body = r.json()
    expect = np.einsum("nd,nd->n", toyclip.encode_images([str(f) for f in imgs]), toyclip.encode_texts(prompts))
    got = np.array([p["cosine"] for p in body["pairs"]])
    assert np.allclose(got, expect, atol=1e-4)
    assert [p["image"] for p in body["pairs"]] == [f.name for f in imgs]
    assert np.allclose([p["clip_s"] for p in body["pairs"]], 2.5 * np.maximum(expect, 0), atol=1e-4)
    assert body["summary"]["pairs"] == 3


def test_score_bad_inputs(client):
    f = FILES[0]
    assert client.post("/api/score", files=[up(f)]).status_code in (400, 422)  # no prompts
    r = client.post("/api/score", files=[up(f), up(f)], data={"prompts": json.dumps(["a", "b", "c"])})
    assert r.status_code in (400, 422) and "prompts" in r.json()["error"]
    assert client.post("/api/score", files=[up(f)], data={"prompts": "x", "long_prompts": "yolo"}).status_code in (400, 422)
    assert client.post("/api/score", files=[up(f)], data={"prompts": "x", "references": "{nope"}).status_code in (400, 422)


def test_rank_images_and_prompts(client, toyclip):
    imgs = FILES[:6]
    target = LABELS[imgs[4].name]["caption"]
    r = client.post("/api/rank", files=[up(f) for f in imgs], data={"prompt": target, "top_k": 3}).json()
    cos = toyclip.encode_images([str(f) for f in imgs]) @ toyclip.encode_texts([target])[0]
    items = r.get("items", r.get("results"))
    assert [x["item"] for x in items] == [imgs[i].name for i in np.argsort(-cos)[:3]]
    caps = [LABELS[f.name]["caption"] for f in imgs]
    r = client.post("/api/rank", files=[up(imgs[4])], data={"prompts": json.dumps(caps)}).json()
    items = r.get("items", r.get("results"))
    assert r.get("kind", r.get("ranked")) == "prompts" and items[0]["item"] == target
    assert client.post("/api/rank", files=[up(imgs[0])]).status_code in (400, 422)  # neither prompt nor prompts
    assert client.post("/api/rank", files=[up(imgs[0]), up(imgs[1])], data={"prompts": "a\nb"}).status_code in (400, 422)


def test_feedback_present_beats_absent(client):
    pixel = next(f for f in FILES if LABELS[f.name]["style"] == "pixel art")
    r = client.post("/api/feedback", files=[up(pixel, "image")],
                    data={"prompt": "pixel art, watercolor painting", "vocabulary": "mediums", "unrequested_k": 3})
    assert r.status_code == 200, r.text
    ph = {p["phrase"]: p for p in r.json()["keywords"]}
    assert ph["pixel art"]["presence"] > ph["watercolor painting"]["presence"]
    assert ph["pixel art"]["verdict"] == "present"
    assert len(r.json()["unrequested"]) <= 3


def test_feedback_vocabulary_cannot_name_files(client):
    r = client.post("/api/feedback", files=[up(FILES[0], "image")], data={"prompt": "red", "vocabulary": "/etc/passwd"})
    assert r.status_code in (400, 422) and "cannot be named" in r.json()["error"]
    r = client.post("/api/feedback", files=[up(FILES[0], "image")],
                    data={"prompt": "red", "vocabulary": json.dumps(["blue", "pixel art"])})
    assert r.status_code == 200
    assert client.post("/api/feedback", data={"prompt": "red"}).status_code in (400, 422)  # no image
    assert "mediums" in client.get("/api/vocabularies").json()["vocabularies"]


# ---------------------------------------------------------------- classify / tag
def test_classify_styles(client):
    styles = sorted({r["style"] for r in LABELS.values()})
    imgs = FILES[:12]
    r = client.post("/api/classify", files=[up(f) for f in imgs], data={"labels": json.dumps(styles), "top_k": 3})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    right = sum(x["label"] == LABELS[f.name]["style"] for x, f in zip(res, imgs))
    assert right >= 8, [(x["label"], LABELS[f.name]["style"]) for x, f in zip(res, imgs)]
    assert all(abs(sum(t["prob"] for t in x["top"])) <= 1.0001 for x in res)


def test_classify_bad_inputs(client):
    f = FILES[0]
    assert client.post("/api/classify", files=[up(f)]).status_code in (400, 422)
    assert client.post("/api/classify", files=[up(f)], data={"labels": "a\na"}).status_code in (400, 422)  # duplicates
    assert client.post("/api/classify", files=[up(f)], data={"labels": "a\nb", "templates": "/etc/passwd"}).status_code in (400, 422)
    ok = client.post("/api/classify", files=[up(f)], data={"labels": "a\nb", "templates": json.dumps(["a {} drawing"])})
    body = ok.json()
    assert ok.status_code == 200 and body.get("template_count", body["templates"]) == 1


def test_tag(client):
    pixel = next(f for f in FILES if LABELS[f.name]["style"] == "pixel art")
    r = client.post("/api/tag", files=[up(pixel)], data={"vocabulary": "mediums", "max_tags": 5}).json()
    tags = [t["tag"] for t in r["results"][0]["tags"]]
    assert "pixel art" in tags[:3]
    r = client.post("/api/tag", files=[up(pixel)], data={"vocabulary": json.dumps(["pixel art", "oil painting"]),
                                                          "thresholds": json.dumps({"oil painting": 5.0})}).json()
    assert "oil painting" not in [t["tag"] for t in r["results"][0]["tags"]]
    assert client.post("/api/tag", files=[up(pixel)], data={"vocabulary": "mediums", "score": "x"}).status_code in (400, 422)
    assert client.post("/api/tag", files=[up(pixel)], data={"thresholds": "{bad"}).status_code in (400, 422)


# ---------------------------------------------------------------- interrogate
@pytest.mark.parametrize("mode", ["fast", "style", "caption", "analyze"])
def test_interrogate_modes(client, toyclip, mode):
    img = FIX / "toy_1200000002.png"
    r = client.post("/api/interrogate", files=[up(img, "image")], data={"mode": mode, "top_k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == mode and body["prompt"].strip()
    assert toyclip.count_tokens(body["prompt"]) <= 75
    if mode == "analyze":
        assert body["analysis"] and all(len(v) <= 3 for v in body["analysis"].values())
    if mode == "style":
        assert body["caption"] is None or "triangle" not in body["prompt"]


def test_interrogate_with_own_caption_and_bad_inputs(client):
    img = FIX / "toy_1200000002.png"
    r = client.post("/api/interrogate", files=[up(img, "image")], data={"mode": "fast", "caption": "my own words"})
    assert r.status_code == 200 and r.json()["prompt"].startswith("my own words")
    assert client.post("/api/interrogate", files=[up(img, "image")], data={"mode": "magic"}).status_code in (400, 422)
    assert client.post("/api/interrogate", data={"mode": "fast"}).status_code in (400, 422)
    bad = ("image", ("x.png", b"GIF89a broken", "image/gif"))
    assert client.post("/api/interrogate", files=[bad], data={"mode": "fast"}).status_code in (400, 422)


# ---------------------------------------------------------------- compose / lint
EXAMPLE = {"Character": "japanese young woman in her 20's.",
           "Appearance": {"hair": "black ponytail hair", "wearing": "black framed glasses, white wireless headphone"},
           "Action": "listening to music, sitting on white carpet", "style": "professional real photo"}


@pytest.mark.parametrize("target,fields", [("flux", {"clip_l", "t5xxl"}), ("sd3", {"clip_l", "clip_g", "t5xxl"}),
                                           ("sdxl", {"text_g", "text_l"}), ("sd15", {"text"})])
def test_compose_targets(client, target, fields):
    r = client.post("/api/compose", json={"text": json.dumps(EXAMPLE), "target": target})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["fields"]) == fields
    for o in body["outputs"]:
        assert not set(o["text"]) & set('{}[]"'), o
        if o["name"] != "t5xxl":
            assert o["tokens"] <= 75 and o["budget"] == 75
    assert any("ponytail" in t for t in body["fields"].values())
    assert body["comfyui"]["cliplens_positive"]["class_type"].startswith("CLIPTextEncode")


def test_compose_and_lint_bad_inputs(client):
    assert client.post("/api/compose", json={"text": "a cat", "target": "dalle"}).status_code in (400, 422)
    assert client.post("/api/compose", json={"text": "{}"}).status_code in (400, 422)
    assert client.post("/api/compose", json={"target": "flux"}).status_code == 422
    lint = client.post("/api/lint", json={"text": '{"subject": "a cat"}'}).json()
    assert not lint["ok"] and lint["issues"][0]["code"] == "json-syntax"
    assert client.post("/api/lint", json={"text": "  "}).status_code in (400, 422)


# ---------------------------------------------------------------- search
def test_indexes_listed(client, world):
    ix = client.get("/api/indexes").json()["indexes"]
    assert ix[0]["name"] == "idx" and ix[0]["images"] == len(FILES)
    assert str(world["gallery"].resolve()) in ix[0]["roots"]


def test_text_search_finds_the_described_image(client):
    wins = 0
    probe = FILES[2:12]
    for f in probe:
        r = client.post("/api/search", json={"query": LABELS[f.name]["caption"], "top_k": 5})
        assert r.status_code == 200, r.text
        wins += f.name in [Path(h["path"]).name for h in r.json()["hits"]]
    assert wins >= 7, wins


def test_image_search_returns_itself_first(client):
    f = FILES[5]
    r = client.post("/api/search/image", files=[up(f, "image")], data={"top_k": 3}).json()
    assert Path(r["hits"][0]["path"]).name == f.name and r["hits"][0]["score"] > 0.99


def test_arithmetic_with_an_indexed_path_and_outside_paths_as_text(client, world):
    inside = world["gallery"] / FILES[5].name
    r = client.post("/api/search", json={"query": f'@{inside} + "(pixel art:0.2)" - "(blue:0.1)"', "top_k": 3}).json()
    kinds = [t["kind"] for t in r["terms"]]
    assert kinds == ["image", "text", "text"] and r["terms"][2]["weight"] < 0
    assert Path(r["hits"][0]["path"]).name == FILES[5].name
    outside = world["tmp"] / "outside.png"
    r = client.post("/api/search", json={"query": f'"red" + {outside}'}).json()
    assert [t["kind"] for t in r["terms"]] == ["text", "text"]  # never read: just words
    r = client.post("/api/search", json={"query": '"red" + https://example.com/x.png'}).json()
    assert [t["kind"] for t in r["terms"]] == ["text", "text"]


def test_search_bad_inputs(client):
    assert client.post("/api/search", json={"query": ""}).status_code in (400, 422)
    assert client.post("/api/search", json={"query": "red", "index": "nope"}).status_code == 404
    assert client.post("/api/search", json={"query": "red", "top_k": 100000}).status_code in (400, 422)
    assert client.post("/api/search", json={"query": "red +"}).status_code in (400, 422)
    assert client.post("/api/search/image", data={"top_k": 3}).status_code in (400, 422)


def test_thumbnails_and_files(client, world):
    hit = client.post("/api/search", json={"query": "a red circle", "top_k": 3}).json()["hits"]
    hit = next(h for h in hit if Path(h["path"]).name != world["victim"].name)
    t = client.get(hit["thumb_url"])
    assert t.status_code == 200 and Image.open(io.BytesIO(t.content)).size == (64, 64)
    small = client.get(hit["thumb_url"] + "&size=32")
    assert Image.open(io.BytesIO(small.content)).size == (32, 32)
    f = client.get(hit["file_url"])
    assert f.status_code == 200 and f.content == Path(hit["path"]).read_bytes()
    by_path = client.get("/api/thumb", params={"path": "sub/" + FILES[0].name})
    assert by_path.status_code == 200


@pytest.mark.parametrize("attempt", ["../outside.png", "../idx/manifest.json", "link_out.png", "/etc/passwd",
                                     "sub/../../outside.png", "..%2foutside.png", "notes.txt"])
def test_thumb_and_file_traversal(client, attempt):
    for ep in ("/api/thumb", "/api/file"):
        r = client.get(ep, params={"path": attempt})
        assert r.status_code in (403, 400), (ep, attempt, r.status_code)
        assert r.status_code != 200


def test_raw_encoded_traversal_in_query_string(client):
    for url in ("/api/file?path=..%2F..%2F..%2Fetc%2Fpasswd", "/api/thumb?path=%2Fetc%2Fpasswd",
                "/api/file?path=..%252f..%252fetc%252fpasswd"):
        assert client.get(url).status_code == 403, url


def test_indexed_file_that_became_an_outside_symlink_is_refused(client, world):
    idx = open_index(world["index"])
    entry = next(e for e in idx.entries() if Path(e.path).name == world["victim"].name)
    idx.close()
    assert client.get(f"/api/thumb?index=idx&id={entry.id}").status_code == 403
    assert client.get(f"/api/file?index=idx&id={entry.id}").status_code == 403
    assert client.get("/api/thumb?index=idx&id=999999").status_code == 404
    assert client.get("/api/thumb?index=idx").status_code in (400, 422)
