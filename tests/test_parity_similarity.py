# ruff: noqa: F811  (the `api` fixture is imported from tests/parity.py and requested by name)
"""Parity (issue 12): one similarity request through `judge.similarity`, `cliplens similarity --json`
and `/api/similarity` gives the same numbers, the same shape and the same error shape."""
from __future__ import annotations

from pathlib import Path

from cliplens.judge import similarity
from parity import FIXTURES, api, assert_close, assert_item_errors, cli_json  # noqa: F401  (api is a fixture)

FILES = sorted(FIXTURES.glob("*.png"))[:3]
TEXTS = ["a large yellow hexagon", "two small pink rings", "x" * 300]


def _numbers(d: dict) -> dict:
    """What must agree on every surface: the matrix, the softmax, the kinds; not the image names."""
    return {"cosine": d["cosine"], "probs": d["probs"], "b": d["b"], "a_kinds": [a["kind"] for a in d["a"]],
            "model": d["model"], "errors": d["errors"]}


def test_same_numbers_everywhere(toyclip, api):
    img = FILES[0]
    py = similarity(toyclip, Path(img), TEXTS).to_dict()
    cli = cli_json(["similarity", f"@{img}", *TEXTS, "--model", "toyclip"])
    res = api.post("/api/similarity", data={"paths": [img.name], "texts": TEXTS})
    assert res.status_code == 200, res.text
    assert_close(_numbers(cli), _numbers(py))
    assert_close(_numbers(res.json()), _numbers(py))
    assert py["best"] == cli["best"] == res.json()["best"]


def test_images_only_is_image_by_image(toyclip, api):
    py = similarity(toyclip, [Path(f) for f in FILES[:2]]).to_dict()
    res = api.post("/api/similarity", data={"paths": [f.name for f in FILES[:2]]}).json()
    assert_close(res["cosine"], py["cosine"])
    assert abs(py["cosine"][0][0] - 1.0) < 1e-5


def test_a_bad_item_is_the_same_item_error(toyclip, api, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    py = similarity(toyclip, [Path(FILES[0]), broken], TEXTS[:2]).to_dict()
    res = api.post("/api/similarity", files=[("images", ("ok.png", FILES[0].read_bytes())),
                                             ("images", ("broken.png", broken.read_bytes()))],
                   data={"texts": TEXTS[:2]})
    assert res.status_code == 200, res.text
    api_d = res.json()
    assert_item_errors(py["errors"], [1])
    assert_item_errors(api_d["errors"], [1])
    assert api_d["errors"][0]["source"] == "broken.png" and api_d["cosine"][1] == [None, None]
    assert api_d["errors"][0]["reason"] == py["errors"][0]["reason"]
    assert_close(api_d["cosine"][0], py["cosine"][0])
    # the CLI: one broken image among the B terms does not abort the run
    cli = cli_json(["similarity", f"@{FILES[0]}", TEXTS[0], f"@{broken}", "--model", "toyclip"])
    assert_item_errors(cli["errors"], [2])
    assert cli["errors"][0]["reason"] == py["errors"][0]["reason"] and cli["cosine"][0][1] is None
