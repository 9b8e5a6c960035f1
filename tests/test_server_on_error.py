"""`on_error` means the same on every route that takes images as on the CLI and in Python:
'skip' (default) makes a bad image one item of `errors`; 'raise' fails the request with a 4xx naming it."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cliplens.assets import fixtures_dir
from cliplens.server import create_app

GOOD = sorted(fixtures_dir(64).glob("*.png"))[0]
ROUTES = {
    "/api/similarity": {"texts": "a red circle"},
    "/api/score": {"prompts": "a red circle"},
    "/api/rank": {"prompt": "a red circle"},
    "/api/classify": {"labels": '["circle", "square"]'},
    "/api/tag": {"vocabulary": '["red", "blue"]'},
    "/api/interrogate/batch": {"mode": "caption"},
}


@pytest.fixture(scope="module")
def client(toyclip):
    with TestClient(create_app(models=["toyclip"], device="cpu"), base_url="http://127.0.0.1") as c:
        yield c


@pytest.mark.parametrize("route", list(ROUTES))
def test_on_error_skip_and_raise(client, route):
    files = [("images", ("good.png", GOOD.read_bytes(), "image/png")),
             ("images", ("junk.png", b"not an image", "image/png"))]
    skip = client.post(route, files=files, data=ROUTES[route])
    assert skip.status_code == 200, skip.text
    errors = skip.json()["errors"]
    assert [(e["index"], e["source"]) for e in errors] == [(1, "junk.png")], errors
    raised = client.post(route, files=files, data={**ROUTES[route], "on_error": "raise"})
    assert 400 <= raised.status_code < 500, raised.text
    body = raised.json()
    assert set(body) == {"error", "type"} and "junk.png" in body["error"]
    bad = client.post(route, files=files, data={**ROUTES[route], "on_error": "ignore"})
    assert bad.status_code == 422 and set(bad.json()) == {"error", "type"}
