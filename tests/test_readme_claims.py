"""A claim in the README is a test (issues 12/14/17): the concrete promises of README's "## Serve"
section, read from the README text itself where it quotes a number or a message, checked against a
real app (FastAPI TestClient, bundled toyclip). When the code changes, this fails until the README
says what the code does (or the code does what the README says).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import re
import shutil
from pathlib import Path

import pytest

from parity import FIXTURES

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from cliplens.errors import CliplensError  # noqa: E402
from cliplens.search import open_index  # noqa: E402
from cliplens.server import Limits, create_app  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end >= 0 else len(text)]


SERVE = " ".join(_section("## Serve:").split())  # whitespace-normalised: claims may wrap lines


def _claim(pattern: str) -> re.Match:
    m = re.search(pattern, SERVE)
    assert m, f"README's serve section no longer says {pattern!r}: update this test with the README"
    return m


@pytest.fixture(scope="module")
def served(tmp_path_factory, toyclip):
    tmp = tmp_path_factory.mktemp("claims")
    gallery = tmp / "gallery"
    gallery.mkdir()
    for f in sorted(FIXTURES.glob("*.png"))[:6]:
        shutil.copy(f, gallery / f.name)
    open_index(tmp / "idx", encoder=toyclip, create=True).add([gallery], progress=False)
    outside = tmp / "outside"
    outside.mkdir()
    shutil.copy(sorted(FIXTURES.glob("*.png"))[0], outside / "exists.png")
    app = create_app(models=["toyclip"], index_dirs=[tmp / "idx"], device="cpu")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield {"client": c, "app": app, "outside": outside.resolve(), "gallery": gallery.resolve()}


def test_limits_quoted_in_readme_are_the_defaults():
    lim = Limits()
    assert int(_claim(r"request body (\d+) MiB").group(1)) * 1024 * 1024 == lim.max_request_bytes
    assert int(_claim(r"(\d+) Mpx per decoded image").group(1)) * 1_000_000 == lim.max_image_pixels
    m = _claim(r"(\d+) images / (\d+) texts per request")
    assert (int(m.group(1)), int(m.group(2))) == (lim.max_images, lim.max_texts)
    assert int(_claim(r"(\d+) characters per text").group(1)) == lim.max_text_chars
    assert int(_claim(r"search top_k at most (\d+)").group(1)) == lim.max_top_k
    m = _claim(r"guide at most (\d+) px and (\d+) steps")
    assert (int(m.group(1)), int(m.group(2))) == (lim.max_guide_size, lim.max_guide_steps)
    assert int(_claim(r"up to (\d+) unfinished guide jobs \(429 above\)").group(1)) == lim.max_queued_jobs
    assert int(_claim(r"\(up to (\d+) unfinished jobs; more get 429\)").group(1)) == lim.max_queued_jobs
    # the CLI flags the README names set those same numbers by default
    from cliplens.cli.serve_cmd import serve_cmd

    params = inspect.signature(serve_cmd).parameters
    assert params["max_upload_mb"].default * 1024 * 1024 == lim.max_request_bytes
    assert params["max_pixels"].default == lim.max_image_pixels
    assert "`--max-upload-mb`" in SERVE and "`--max-pixels`" in SERVE


def test_validation_error_is_the_quoted_422(served):
    m = _claim(r"\(`422 (\{\"error\": \"top_k: must be <= (\d+)\", \"type\": \"ValidationError\"\})`")
    r = served["client"].post("/api/search", json={"query": "a red circle", "top_k": int(m.group(2)) + 1})
    assert r.status_code == 422
    assert r.json() == {"error": f"top_k: must be <= {m.group(2)}", "type": "ValidationError"}
    assert "detail" not in r.json()


def test_search_top_k_over_the_server_limit_is_a_4xx(served):
    r = served["client"].post("/api/search", json={"query": "a red circle", "top_k": Limits().max_top_k + 1})
    assert r.status_code == 400 and set(r.json()) == {"error", "type"}


def test_errors_are_error_and_type_with_a_4xx(served):
    c = served["client"]
    for r in (c.post("/api/search", json={"query": "a red circle", "index": "nope"}),
              c.post("/api/similarity", data={}),
              c.post("/api/guide", json={"prompt": "a red circle", "size": 100000}),
              c.get("/api/jobs/does-not-exist")):
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert set(r.json()) == {"error", "type"} and r.json()["error"], r.text


@pytest.mark.parametrize("body", [b'{"query": "a red circle", "top_k": NaN}',
                                  b'{"query": "a red circle", "threshold": Infinity}'])
def test_nan_or_infinity_in_a_json_body_is_a_400(served, body):
    r = served["client"].post("/api/search", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and set(r.json()) == {"error", "type"}, r.text


def test_nul_in_a_json_body_is_the_quoted_400(served):
    msg = _claim(r"\(`(the JSON body has a NUL character in \$\.query)`\)").group(1)
    r = served["client"].post("/api/search", content=b'{"query": "a\\u0000b"}',
                              headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == msg


def test_any_loopback_bind_needs_no_token_and_a_public_one_does(toyclip):
    _claim(r"any 127\.0\.0\.0/8 address, `::1`, `localhost`: those need no token")
    app = create_app(models=["toyclip"], host="127.0.0.5", device="cpu")
    with TestClient(app, base_url="http://127.0.0.5") as c:
        assert c.get("/api/health").status_code == 200
        # "only loopback Host headers are accepted (421 for a domain name)"
        _claim(r"only loopback `Host` headers are accepted \(421 for a domain name\)")
        r = c.get("/api/health", headers={"Host": "rebind.example.com"})
        assert r.status_code == 421 and set(r.json()) == {"error", "type"}
        # "browser requests whose Origin is another site get 403"
        r = c.post("/api/tokens", json={"texts": ["a"]}, headers={"Origin": "https://evil.example.com"})
        assert r.status_code == 403
    _claim(r"at least (\d+) characters, letters, digits or `\._~\+/=-`")
    with pytest.raises(CliplensError):
        create_app(models=["toyclip"], host="0.0.0.0")
    with pytest.raises(CliplensError):
        create_app(models=["toyclip"], host="0.0.0.0", token="x" * (int(_claim(r"at least (\d+) characters").group(1)) - 1))
    app = create_app(models=["toyclip"], host="0.0.0.0", token="abcdefgh", device="cpu")
    with TestClient(app, base_url="http://192.0.2.1") as c:
        assert c.get("/api/health").status_code == 401 or c.get("/api/health").status_code == 403
        assert c.get("/api/health", headers={"X-Cliplens-Token": "abcdefgh"}).status_code == 200
        assert c.get("/api/health", headers={"Authorization": "Bearer abcdefgh"}).status_code == 200


def test_at_path_outside_the_folders_is_an_item_error_whether_or_not_it_exists(served):
    _claim(r"an `@path` outside them is an item error in `errors` \(403 with `on_error` \"raise\"\)")
    _claim(r"a bare path is just text")
    c, out = served["client"], served["outside"]
    answers = []
    for p in (out / "exists.png", out / "missing.png"):
        r = c.post("/api/search", json={"query": f"a red circle + @{p}", "top_k": 3})
        assert r.status_code == 200, r.text
        d = r.json()
        assert [t["kind"] for t in d["terms"]] == ["text", "image"]
        assert [e["index"] for e in d["errors"]] == [1] and d["errors"][0]["source"] == str(p)
        assert len(d["hits"]) == 3  # the rest of the query still ran
        answers.append((d["errors"][0]["reason"].replace(str(p), "P"), [h["id"] for h in d["hits"]]))
        r = c.post("/api/search", json={"query": f"a red circle + @{p}", "on_error": "raise"})
        assert r.status_code == 403 and set(r.json()) == {"error", "type"}
    assert answers[0] == answers[1]
    r = c.post("/api/search", json={"query": str(out / "exists.png"), "top_k": 1})
    assert r.status_code == 200 and [t["kind"] for t in r.json()["terms"]] == ["text"] and not r.json()["errors"]


def test_a_search_waiting_for_the_model_is_dropped_when_its_client_leaves(served, monkeypatch):
    """README: "A request still waiting for the model when its client disconnects is dropped before
    it starts" -- for search too (its route waits on the index model's lock through `run_with`)."""
    _claim(r"A request still waiting for the model when its client disconnects is dropped before it starts")
    from cliplens.server.routes import search as route

    c, app = served["client"], served["app"]
    assert c.post("/api/search", json={"query": "a red circle", "top_k": 1}).status_code == 200  # binds the model
    st = app.state.cl
    _, idx = route._index(st, None)
    lock = st.lock_for(idx.bound_encoder)
    ran: list[str] = []
    real = route.search
    monkeypatch.setattr(route, "search", lambda *a, **k: ran.append("search") or real(*a, **k))
    body = json.dumps({"query": "a red circle", "top_k": 1}).encode()
    sent: list[dict] = []

    async def main() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop(0)
            await asyncio.sleep(0.2)  # the client leaves while the model is busy
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/api/search", "raw_path": b"/api/search", "query_string": b"",
                 "root_path": "", "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                              (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
        await app(scope, receive, send)

    lock.acquire()  # another request holds the model
    try:
        asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        lock.release()
    assert ran == []
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert not starts or starts[0]["status"] == 499
