# ruff: noqa: F811  (the `api` fixture is imported from tests/parity.py and requested by name)
"""Parity (issue 12): classify and tag through the Python call, `cliplens ... --json` and the HTTP
route: same probabilities, the same template default (imagenet7) everywhere, same error shape;
and the request bounds of issue 14 item 5 live in the request model."""
from __future__ import annotations

import json

from cliplens import defaults
from cliplens.classify import classify, tag
from parity import FIXTURES, api, assert_close, assert_item_errors, cli_json  # noqa: F401  (api is a fixture)

FILES = sorted(FIXTURES.glob("*.png"))[:3]
LABELS = ["hexagon", "ring", "triangle", "cross"]
CLI_ONLY = ("sidecars", "plot", "out")


def _core(d: dict) -> dict:
    d = {k: v for k, v in d.items() if k not in CLI_ONLY}
    d["results"] = [{k: v for k, v in r.items() if k != "image"} for r in d["results"]]
    return d


def test_classify_same_everywhere_with_one_template_default(toyclip, api):
    py = classify(toyclip, [str(f) for f in FILES], LABELS).to_dict()
    cli = cli_json(["classify", *map(str, FILES), "--labels", ",".join(LABELS), "--model", "toyclip", "-q"])
    res = api.post("/api/classify", data={"paths": [f.name for f in FILES], "labels": LABELS})
    assert res.status_code == 200, res.text
    assert py["templates"] == defaults.CLASSIFY_TEMPLATES and py["template_count"] == 7
    assert_close(_core(cli), _core(py))
    assert_close(_core(res.json()), _core(py))
    assert len(py["results"][0]["top"]) == min(defaults.CLASSIFY_TOP_K, len(LABELS))


def test_classify_bad_item_same_shape(toyclip, api, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    py = classify(toyclip, [str(FILES[0]), str(broken)], LABELS).to_dict()
    cli = cli_json(["classify", str(FILES[0]), str(broken), "--labels", ",".join(LABELS), "--model", "toyclip", "-q"])
    api_d = api.post("/api/classify", files=[("images", ("a.png", FILES[0].read_bytes())),
                                             ("images", ("broken.png", b"garbage"))], data={"labels": LABELS}).json()
    for d in (py, cli, api_d):
        assert_item_errors(d["errors"], [1])
        assert d["errors"][0]["reason"] == py["errors"][0]["reason"]
        assert d["results"][1]["label"] is None and d["results"][1]["cosine"] is None


def test_tag_same_everywhere(toyclip, api, tmp_path):
    py = tag(toyclip, [str(f) for f in FILES], "colour").to_dict()
    cli = cli_json(["tag", *map(str, FILES), "--vocab", "colour", "--model", "toyclip", "-q"])
    res = api.post("/api/tag", data={"paths": [f.name for f in FILES], "vocabulary": "colour"})
    assert res.status_code == 200, res.text
    assert_close(_core(cli), _core(py))
    assert_close(_core(res.json()), _core(py))
    assert max(len(r["tags"]) for r in py["results"]) <= defaults.TAG_TOP_K
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    api_d = api.post("/api/tag", files=[("images", ("a.png", FILES[0].read_bytes())),
                                        ("images", ("broken.png", b"garbage"))], data={"vocabulary": "colour"}).json()
    assert_item_errors(api_d["errors"], [1])


def test_classify_request_bounds_are_in_the_model(api):
    """Issue 14 item 5: labels x templates, label count and template count are refused up front (4xx,
    one error shape), before the model is touched."""
    img = ("images", ("a.png", FILES[0].read_bytes()))
    too_many_texts = [f"label {i}" for i in range(defaults.MAX_LABEL_TEXTS // 80 + 1)]
    for data in ({"labels": json.dumps(too_many_texts), "templates": "imagenet80"},
                 {"labels": json.dumps([f"l{i}" for i in range(defaults.MAX_LABELS + 1)]), "templates": "photo"},
                 {"labels": ["a", "b"], "templates": json.dumps([f"{{}} {i}" for i in range(defaults.MAX_TEMPLATES + 1)])},
                 {"labels": ["a", "b"], "templates": "/etc/passwd"},
                 {"labels": ["a", "a"]},
                 {"labels": ["a"], "top_k": "0"}):
        res = api.post("/api/classify", files=[img], data=data)
        assert 400 <= res.status_code < 500, (data, res.status_code, res.text)
        body = res.json()
        assert set(body) == {"error", "type"} and body["error"], body
    res = api.post("/api/classify", files=[img], data={"labels": json.dumps(too_many_texts), "templates": "imagenet80"})
    assert "labels x templates" in res.json()["error"]
