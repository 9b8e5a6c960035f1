"""The server's shared layer (issue 14 items 6 and 8, issue 17 logging): one error shape for every
client mistake, strict JSON in and out, loopback binds of any 127/8 address, access log lines,
and queued work dropped when its client has gone. Fast: no model is loaded."""
from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest
from fastapi.testclient import TestClient

from cliplens.server import create_app
from cliplens.server.disconnect import ClientGone, acquire, current_receive, run_abandonable
from cliplens.server.errors import validation_message
from cliplens.server.responses import StrictJSONResponse


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(models=["toyclip"], device="cpu", access_log=False), base_url="http://127.0.0.1") as c:
        yield c


def assert_error(r, status: int | tuple[int, ...], has: str | None = None) -> dict:
    """The one error shape: a 4xx, JSON with exactly `error` and `type` strings."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error", "type"}, body
    assert isinstance(body["error"], str) and isinstance(body["type"], str)
    if has:
        assert has in body["error"], body
    return body


# ---------------------------------------------------------------- one error shape
def test_validation_errors_have_the_error_shape(client):
    body = assert_error(client.post("/api/tokens", json={"texts": 5}), 422, "texts")
    assert body["type"] == "ValidationError"
    assert_error(client.post("/api/tokens", json={}), 422, "texts: required")
    assert_error(client.post("/api/tokens", content=b"{not json", headers={"content-type": "application/json"}),
                 422, "not valid JSON")


def test_unknown_route_and_method_have_the_error_shape(client):
    assert assert_error(client.get("/api/no-such-thing"), 404)["type"] == "NotFound"
    assert assert_error(client.delete("/api/health"), 405)["type"] == "MethodNotAllowed"


def test_validation_message_is_one_readable_line():
    msg = validation_message([{"type": "greater_than_equal", "loc": ("body", "top_k"),
                               "msg": "Input should be greater than or equal to 1"}])
    assert msg == "top_k: must be >= 1"


# ---------------------------------------------------------------- strict JSON in
@pytest.mark.parametrize("raw, has", [
    (b'{"texts": ["a"], "x": NaN}', "NaN"),
    (b'{"texts": ["a"], "x": -Infinity}', "Infinity"),
    (b'{"texts": ["\\ud800 lone"]}', "lone surrogate"),
    (b'{"texts": ["a\\u0000b"]}', "NUL"),
    (b'{"te\\u0000xts": ["a"]}', "NUL"),
])
def test_unusable_json_bodies_are_400(client, raw, has):
    body = assert_error(client.post("/api/tokens", content=raw, headers={"content-type": "application/json"}), 400, has)
    assert "$" in body["error"] or "number" in body["error"]


def test_nul_in_a_form_path_is_4xx(client):
    r = client.post("/api/similarity", data={"texts": "a", "paths": "a\x00b.png"})
    assert_error(r, (400, 403, 422))


def test_check_texts_refuses_nul_and_lone_surrogates():
    from cliplens.errors import InvalidInputError
    from cliplens.server.config import Limits
    from cliplens.server.inputs import check_texts

    for bad in ("a\x00b", "a\ud800b"):
        with pytest.raises(InvalidInputError):
            check_texts([bad], Limits(), "prompts")


def test_good_json_still_passes(client):
    r = client.post("/api/tokens", json={"texts": ["a red circle"]})
    assert r.status_code == 200 and r.json()["counts"][0]["tokens"] > 0


# ---------------------------------------------------------------- strict JSON out
def test_responses_never_contain_nan():
    import numpy as np

    r = StrictJSONResponse({"a": float("nan"), "b": np.array([1.0, np.inf]), "c": np.float32(0.5)})
    assert json.loads(r.body) == {"a": None, "b": [1.0, None], "c": 0.5}
    assert b"NaN" not in r.body and b"Infinity" not in r.body


def test_openapi_documents_the_error_shape(client):
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)
    assert schema["components"]["schemas"]["Error"]["required"] == ["error", "type"]
    op = schema["paths"]["/api/tokens"]["post"]
    assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_defaults_endpoint_reads_cliplens_defaults(client):
    from cliplens import defaults

    d = client.get("/api/defaults").json()
    assert d["top_k"] == defaults.TOP_K and d["on_error"] == defaults.ON_ERROR and d["model"] == defaults.MODEL


# ---------------------------------------------------------------- loopback binds (issue 14 item 8)
@pytest.mark.parametrize("host", ["127.0.0.5", "127.1.2.3", "::1", "localhost"])
def test_any_loopback_bind_works_without_token(host):
    app = create_app(models=["toyclip"], host=host, access_log=False)
    shown = f"[{host}]" if ":" in host else host
    with TestClient(app, base_url=f"http://{shown}:8123") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/health", headers={"host": "127.0.0.1:8123"}).status_code == 200
        # a domain name is still refused on a loopback bind (DNS rebinding guard)
        assert_error(c.get("/api/health", headers={"host": "evil.example:8123"}), 421)


# ---------------------------------------------------------------- access log
def test_access_log_lines_without_token_or_query():
    records: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("cliplens.access")
    h = Grab()
    logger.addHandler(h)
    try:
        token = "s3cret-token-for-tests"
        app = create_app(models=["toyclip"], host="0.0.0.0", token=token)
        with TestClient(app, base_url="http://192.168.1.20:8000") as c:
            c.get("/api/health")  # no token: 401, still logged
            c.get("/api/health", headers={"x-cliplens-token": token})
            c.get(f"/?token={token}")
    finally:
        logger.removeHandler(h)
    assert any("GET /api/health 200" in r for r in records), records
    assert any("GET / 200" in r for r in records), records
    assert any("GET /api/health 401" in r for r in records), records
    assert all(token not in r for r in records) and all("ms" in r for r in records)


def test_access_log_can_be_silenced():
    app = create_app(models=["toyclip"], access_log=False)
    records: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("cliplens.access")
    h = Grab()
    logger.addHandler(h)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as c:
            c.get("/api/health")
    finally:
        logger.removeHandler(h)
    assert records == []


# ---------------------------------------------------------------- abandoned work
def test_queued_work_is_dropped_when_the_client_leaves():
    """A request waiting for a busy model lock never runs once its client has disconnected."""
    lock = threading.Lock()
    lock.acquire()  # another request holds the model
    ran = []

    async def main():
        async def receive():
            await asyncio.sleep(0.1)
            return {"type": "http.disconnect"}

        def work(gone):
            acquire(lock, gone)
            ran.append(1)
            lock.release()

        tok = current_receive.set(receive)
        try:
            await run_abandonable(work)
        finally:
            current_receive.reset(tok)

    with pytest.raises(ClientGone):
        asyncio.run(asyncio.wait_for(main(), 5))
    assert ran == []
    lock.release()


def test_work_runs_when_the_client_stays():
    async def main():
        async def receive():
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

        tok = current_receive.set(receive)
        try:
            return await run_abandonable(lambda gone: 42)
        finally:
            current_receive.reset(tok)

    assert asyncio.run(asyncio.wait_for(main(), 5)) == 42
