"""API tests for `cliplens serve` through Starlette's TestClient (no sockets): every endpoint,
good and bad inputs, with the bundled toyclip so answers are real."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cliplens.assets import fixtures_dir
from cliplens.server import Limits, create_app
from server_helpers import make_root, png_bytes

FIX = fixtures_dir(64)


def _label(name: str) -> dict:
    for line in (FIX / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["file"] == name:
            return row
    raise KeyError(name)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    return make_root(tmp_path_factory.mktemp("srv"))


@pytest.fixture(scope="module")
def client(world, toyclip):
    app = create_app(models=["toyclip"], roots=[world["root"]], device="cpu",
                     limits=Limits(max_request_bytes=2_000_000, max_image_pixels=1_000_000, max_images=8, max_texts=50))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _img(path: Path):
    return ("images", (path.name, path.read_bytes(), "image/png"))


# ---------------------------------------------------------------- health, models, docs, page
def test_health_and_models(client):
    h = client.get("/api/health").json()
    assert h["status"] == "ok" and h["models"] == ["toyclip"] and h["token_required"] is False
    assert h["capabilities"]["guide"] is True
    m = client.get("/api/models").json()
    assert m["default"] == "toyclip" and any(p["name"] == "sd15" for p in m["presets"])


def test_page_docs_and_openapi_are_served_offline(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>cliplens</title>" in page.text
    assert "http://" not in page.text.replace("http://127.0.0.1", "")  # no CDN or remote asset
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "https://" not in r.text
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    assert "https://" not in docs.text and "src=\"http" not in docs.text  # FastAPI's default /docs pulls a CDN
    spec = client.get("/openapi.json").json()
    for path in ("/api/similarity", "/api/tokens", "/api/guide", "/api/jobs/{job_id}"):
        assert path in spec["paths"]


# ---------------------------------------------------------------- similarity
def test_similarity_picks_the_true_caption(client):
    files = sorted(FIX.glob("*.png"))[:6]
    captions = [_label(f.name)["caption"] for f in files]
    r = client.post("/api/similarity", files=[_img(f) for f in files], data={"texts": json.dumps(captions)})
    assert r.status_code == 200, r.text
    body = r.json()
    cos = np.array(body["cosine"])
    assert cos.shape == (6, 6)
    assert (cos.argmax(axis=1) == np.arange(6)).mean() >= 0.8  # toyclip knows its own world
    probs = np.array(body["probs"])
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_similarity_image_image_and_by_path(client, world):
    f = world["files"][0]
    r = client.post("/api/similarity", files=[_img(f)], data={"paths": [f.name]})
    assert r.status_code == 200, r.text
    cos = np.array(r.json()["cosine"])
    assert cos.shape == (2, 2) and cos[0, 1] > 0.999  # the upload and the served copy are the same picture


def test_similarity_repeated_text_fields(client):
    f = sorted(FIX.glob("*.png"))[0]
    r = client.post("/api/similarity", files=[_img(f)], data={"texts": ["a red circle", "a blue square"]})
    assert r.status_code == 200, r.text
    body = r.json()
    texts = body["texts"] if "texts" in body else [t["source"] for t in body["b"]]
    assert texts == ["a red circle", "a blue square"]


@pytest.mark.parametrize("files,data,needle", [
    ([], {"texts": "a red circle"}, "no images"),
    ([("images", ("junk.png", b"not an image at all", "image/png"))], {"texts": "x"}, "junk.png"),
    ([("images", ("empty.png", b"", "image/png"))], {"texts": "x"}, "empty"),
    ([("images", ("big.png", png_bytes((1200, 1000)), "image/png"))], {"texts": "x"}, "pixel"),
    ([("images", ("a.png", png_bytes(), "image/png"))], {"texts": json.dumps(["ok", ""])}, "empty"),
    ([("images", ("a.png", png_bytes(), "image/png"))], {"texts": "x" * 5000}, "characters"),
    ([("images", ("a.png", png_bytes(), "image/png"))], {"texts": json.dumps(["t"] * 60)}, "limit"),
])
def test_similarity_bad_inputs_are_refused_or_item_errors(client, files, data, needle):
    """A bad request is one 4xx `{error, type}`; a bad item in a good request is an ItemError (issue 12)."""
    r = client.post("/api/similarity", files=files or None, data=data)
    if r.status_code == 200:
        errs = r.json()["errors"]
        assert errs and any(needle in (e["source"] + " " + e["reason"]) for e in errs), r.text
        assert set(errs[0]) == {"index", "source", "reason"}
    else:
        assert r.status_code in (400, 422), r.text
        assert needle in r.json()["error"] and set(r.json()) == {"error", "type"}


def test_too_many_images_and_unknown_model(client):
    many = [("images", (f"{i}.png", png_bytes(), "image/png")) for i in range(9)]
    r = client.post("/api/similarity", files=many, data={"texts": "x"})
    assert r.status_code == 400 and "limit" in r.json()["error"]
    r = client.post("/api/similarity", files=[("images", ("a.png", png_bytes(), "image/png"))],
                    data={"texts": "x", "model": "/tmp/evil-model"})
    assert r.status_code == 404 and "not served" in r.json()["error"]


def test_request_body_limit_is_413(client):
    r = client.post("/api/similarity", files=[("images", ("huge.png", b"\x89PNG" + b"0" * 2_100_000, "image/png"))])
    assert r.status_code == 413 and r.json()["type"] == "PayloadTooLarge"


def test_streamed_body_over_limit_is_413(client):
    def chunks():  # no Content-Length: the guard must count while streaming
        for _ in range(30):
            yield b"x" * 100_000

    r = client.post("/api/tokens", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# ---------------------------------------------------------------- tokens
def test_tokens_counts_and_overflow(client, toyclip):
    short, long = "a red circle, pixel art", ", ".join(["a small red circle"] * 30)
    r = client.post("/api/tokens", json={"texts": [short, long, ""]}).json()
    a, b, c = r["counts"]
    assert a["tokens"] == toyclip.count_tokens(short) and a["fits"]
    assert not b["fits"] and b["tokens"] == toyclip.count_tokens(long)
    cut = b["overflow_from_char"]
    assert toyclip.count_tokens(long[:cut]) <= 75 < toyclip.count_tokens(long[: cut + len(b["overflow_text"].split(" ")[0]) + 1])
    assert c["tokens"] == 0 and c["fits"]


def test_tokens_validation(client):
    assert client.post("/api/tokens", json={"texts": "not a list"}).status_code == 422
    assert client.post("/api/tokens", content=b"{broken", headers={"content-type": "application/json"}).status_code == 422


# ---------------------------------------------------------------- guide jobs
def _wait(client, job_id: str, timeout: float = 90) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = client.get(f"/api/jobs/{job_id}").json()
        if j["status"] in ("done", "error", "cancelled"):
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {j}")


def test_guide_job_progress_snapshot_and_result(client):
    r = client.post("/api/guide", json={"prompt": "a large red circle", "size": 48, "steps": 12, "seed": 3, "snapshots": 4})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and job["params"]["model"] == "toyclip"
    done = _wait(client, job["id"])
    assert done["status"] == "done", done
    assert done["step"] == 12 and done["total"] == 12 and done["progress"] == 1.0
    hist = done["result"]["history"]
    assert hist[-1][0] == 12
    png = client.get(f"/api/jobs/{job['id']}/snapshot.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    from PIL import Image
    import io
    img = Image.open(io.BytesIO(png.content))
    assert img.size == (48, 48) and "cliplens" in img.info  # the final PNG carries its settings
    assert any(j["id"] == job["id"] for j in client.get("/api/jobs").json()["jobs"])


def test_guide_cancel(client):
    job = client.post("/api/guide", json={"prompt": "a blue square", "size": 32, "steps": 1000}).json()
    client.delete(f"/api/jobs/{job['id']}")
    assert _wait(client, job["id"])["status"] == "cancelled"


@pytest.mark.parametrize("payload,code", [
    ({"prompt": "", "size": 64}, 400),
    ({"prompt": "a cat", "size": 4000}, 400),
    ({"prompt": "a cat", "size": "64xbanana"}, 400),
    ({"prompt": "a cat", "steps": 100000}, 400),
    ({"prompt": "a cat", "steps": 0}, 422),
    ({"prompt": "a cat", "mode": "magic"}, 422),
    ({"prompt": "a cat", "model": "openclip:/etc"}, 404),
    ({"prompt": "a cat", "init_path": "/etc/passwd"}, 403),
])
def test_guide_bad_requests(client, payload, code):
    r = client.post("/api/guide", json=payload)
    assert r.status_code == code, r.text


def test_unknown_job_is_404(client):
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.delete("/api/jobs/nope").status_code == 404
