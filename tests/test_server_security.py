"""Security of `cliplens serve`: token on every request, loopback-only by default, Host/Origin
guards, and no file outside the served roots readable by any spelling of a path."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cliplens.cli import app as cli_app
from cliplens.errors import CliplensError
from cliplens.server import create_app
from server_helpers import make_root

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_root(tmp_path_factory.mktemp("sec"))


@pytest.fixture(scope="module")
def local(world, toyclip):
    with TestClient(create_app(models=["toyclip"], roots=[world["root"]], device="cpu"), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def public(world, toyclip):
    app = create_app(models=["toyclip"], roots=[world["root"]], device="cpu", host="0.0.0.0", token=TOKEN)
    with TestClient(app, base_url="http://192.168.1.20:8000") as c:
        yield c


# ---------------------------------------------------------------- binding rules
def test_public_bind_needs_a_token():
    with pytest.raises(CliplensError, match="token"):
        create_app(models=["toyclip"], host="0.0.0.0")
    with pytest.raises(CliplensError, match="8 characters"):
        create_app(models=["toyclip"], host="0.0.0.0", token="short")
    with pytest.raises(CliplensError, match="letters"):
        create_app(models=["toyclip"], host="0.0.0.0", token="long-enough; but with a semicolon")
    create_app(models=["toyclip"], host="::1")  # IPv6 loopback is fine without one


def test_cli_refuses_public_bind_without_token():
    res = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--model", "toyclip", "--lazy"], env={"CLIPLENS_TOKEN": ""})
    assert res.exit_code != 0
    assert "token" in str(res.exception) + res.output


# ---------------------------------------------------------------- token
@pytest.mark.parametrize("path", ["/", "/api/health", "/api/models", "/static/app.js", "/docs", "/openapi.json",
                                  "/api/jobs", "/api/nonexistent"])
def test_every_route_needs_the_token(public, path):
    public.cookies.clear()
    r = public.get(path)
    assert r.status_code == 401, (path, r.status_code)
    assert public.get(path, headers={"X-Cliplens-Token": TOKEN + "x"}).status_code == 401
    assert public.get(path, headers={"X-Cliplens-Token": TOKEN}).status_code in (200, 404)


def test_token_on_post_and_bearer(public):
    body = {"texts": ["a red circle"]}
    assert public.post("/api/tokens", json=body).status_code == 401
    assert public.post("/api/tokens", json=body, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_token_query_sets_cookie_for_the_browser(world, toyclip):
    app = create_app(models=["toyclip"], device="cpu", host="0.0.0.0", token=TOKEN)
    with TestClient(app, base_url="http://10.0.0.5:8000") as c:
        assert c.get("/?token=wrong-token-value").status_code == 401
        assert c.get("/api/health?token=" + TOKEN).status_code == 401  # the query only works on the page
        r = c.get("/?token=" + TOKEN)
        assert r.status_code == 200 and "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        assert c.get("/api/health").status_code == 200  # the cookie now rides along


def test_websockets_are_refused(local):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with local.websocket_connect("/api/health"):
            pass


# ---------------------------------------------------------------- host / origin
def test_dns_rebinding_host_is_refused(local):
    assert local.get("/api/health", headers={"Host": "evil.example:8000"}).status_code == 421
    assert local.get("/api/health", headers={"Host": "localhost:8000"}).status_code == 200


def test_cross_origin_requests_are_refused(local):
    r = local.post("/api/tokens", json={"texts": ["x"]}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert local.post("/api/tokens", json={"texts": ["x"]}, headers={"Origin": "null"}).status_code == 403
    ok = local.post("/api/tokens", json={"texts": ["x"]}, headers={"Origin": "http://127.0.0.1"})
    assert ok.status_code == 200


# ---------------------------------------------------------------- path traversal
def _by_path(client, p: str):
    return client.post("/api/similarity", data={"paths": [p], "texts": "a red circle"})


def test_paths_inside_the_root_work(local, world):
    inside = [f for f in (world["root"] / "sub").iterdir()][0]
    for p in (f"sub/{inside.name}", str(inside), f"sub/../sub/{inside.name}"):
        assert _by_path(local, p).status_code == 200, p


@pytest.mark.parametrize("attempt", [
    "../secret.png", "../secret.txt", "sub/../../secret.png", "/etc/passwd", "escape.png",
    "escape_dir/secret.png", "..%2fsecret.png", "%2e%2e/secret.png", "....//secret.png", "sub/\x00.png",
    "~/.bashrc", "", "/", ".",
])
def test_traversal_attempts_are_403(local, world, attempt):
    r = _by_path(local, attempt)
    # an empty path is refused by the request model (422) before any disk access; the rest are 403
    assert r.status_code == 403 or (attempt == "" and r.status_code == 422), (attempt, r.status_code, r.text)
    assert "secret" not in r.json()["error"].replace(attempt, "")


def test_absolute_path_of_outside_file_is_403(local, world):
    assert _by_path(local, str(world["secret"])).status_code == 403
    assert _by_path(local, str(world["root"] / ".." / "secret.png")).status_code == 403


def test_no_roots_means_no_paths(toyclip, world):
    with TestClient(create_app(models=["toyclip"], device="cpu"), base_url="http://127.0.0.1") as c:
        r = _by_path(c, str(world["files"][0]))
        assert r.status_code == 403 and "upload" in r.json()["error"]


@pytest.mark.parametrize("url", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                                 "/static/%2e%2e%2f%2e%2e%2fsettings.py", "/static//etc/passwd",
                                 "/static/..%5capp.py"])
def test_static_files_do_not_escape(local, url):
    r = local.get(url)
    assert r.status_code in (404, 400, 403), (url, r.status_code)
    assert "create_app" not in r.text and "root:" not in r.text


@pytest.mark.slow
def test_real_server_with_token_over_http(tmp_path):
    """`cliplens serve --token` as a real process: 401 without the token, 200 with it, on every route kind."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CLIPLENS_TOKEN": TOKEN, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "cliplens", "serve", "--port", str(port), "--model", "toyclip",
                             "--device", "cpu", "--lazy"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                r = httpx.get(base + "/api/health", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.time() < deadline, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.3)
        assert r.status_code == 401
        with httpx.Client(base_url=base, timeout=120) as http:
            for path in ("/", "/docs", "/static/app.js", "/api/models"):
                http.cookies.clear()  # the page sets a cookie for browsers; test the header alone
                assert http.get(path).status_code == 401
                assert http.get(path, headers={"X-Cliplens-Token": TOKEN}).status_code == 200
            r = http.post("/api/tokens", json={"texts": ["a red circle"]}, headers={"X-Cliplens-Token": TOKEN})
        assert r.status_code == 200 and r.json()["counts"][0]["tokens"] == 3
    finally:
        proc.terminate()
        proc.wait(10)
