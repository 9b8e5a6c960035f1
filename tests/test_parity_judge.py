# ruff: noqa: F811  (the `api` fixture is imported from tests/parity.py and requested by name)
"""Parity (issue 12): score, rank and feedback through the Python call, `cliplens ... --json` and the
HTTP route: same numbers, same defaults, same error shape for a bad item."""
from __future__ import annotations

from pathlib import Path

from cliplens import defaults
from cliplens.judge import clip_score, keyword_feedback, rank
from parity import FIXTURES, api, assert_close, assert_item_errors, cli_json  # noqa: F401  (api is a fixture)

FILES = sorted(FIXTURES.glob("*.png"))[:4]
PROMPT = "a large yellow hexagon on the right"


def _pairs(d: dict) -> list[dict]:
    return [{k: v for k, v in p.items() if k != "image"} for p in d["pairs"]]


def test_score_same_everywhere(toyclip, api):
    py = clip_score(toyclip, [str(f) for f in FILES], [PROMPT]).to_dict()
    cli = cli_json(["score", *map(str, FILES), "--prompt", PROMPT, "--model", "toyclip", "-q"])
    res = api.post("/api/score", data={"paths": [f.name for f in FILES], "prompts": PROMPT})
    assert res.status_code == 200, res.text
    api_d = res.json()
    for d in (cli, api_d):
        assert_close(d["summary"], py["summary"])  # same defaults too: w, prefix
        assert_close(_pairs(d), _pairs(py))
        assert d["errors"] == [] and d["model"] == py["model"]
    assert py["summary"]["w"] == 2.5 and py["summary"]["prefix"] is None


def test_score_bad_item_same_shape(toyclip, api, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    py = clip_score(toyclip, [str(FILES[0]), str(broken)], [PROMPT]).to_dict()
    cli = cli_json(["score", str(FILES[0]), str(broken), "--prompt", PROMPT, "--model", "toyclip", "-q"])
    api_d = api.post("/api/score", files=[("images", ("a.png", FILES[0].read_bytes())),
                                          ("images", ("broken.png", b"garbage"))], data={"prompts": PROMPT}).json()
    for d in (py, cli, api_d):
        assert_item_errors(d["errors"], [1])
        assert d["errors"][0]["reason"] == py["errors"][0]["reason"]
        assert d["pairs"][1]["cosine"] is None and d["summary"]["failed"] == 1
    assert_close(api_d["pairs"][0]["cosine"], py["pairs"][0]["cosine"])


def test_rank_same_everywhere(toyclip, api, tmp_path):
    py = rank(toyclip, PROMPT, [str(f) for f in FILES]).to_dict()
    cli = cli_json(["rank", *map(str, FILES), "--prompt", PROMPT, "--model", "toyclip", "-q"])
    api_d = api.post("/api/rank", data={"paths": [f.name for f in FILES], "prompt": PROMPT}).json()
    strip = lambda d: [{k: v for k, v in r.items() if k != "item"} for r in d["results"]]  # noqa: E731
    assert defaults.RANK_TOP_K is None and len(py["results"]) == len(FILES)  # default: every candidate
    for d in (cli, api_d):
        assert_close(strip(d), strip(py))
        assert d["total"] == py["total"] and d["ranked"] == "images" and d["errors"] == []
    # ranking prompts for one image
    cands = [PROMPT, "two small pink rings", "a blue square"]
    py = rank(toyclip, Path(FILES[0]), cands, top_k=2).to_dict()
    cli = cli_json(["rank", str(FILES[0]), *sum((["--candidate", c] for c in cands), []), "--top-k", "2",
                    "--model", "toyclip", "-q"])
    api_d = api.post("/api/rank", data={"paths": [FILES[0].name], "prompts": cands, "top_k": 2}).json()
    for d in (cli, api_d):
        assert_close(d["results"], py["results"])
    # a bad candidate: the same item error
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    py = rank(toyclip, PROMPT, [str(FILES[0]), str(broken)]).to_dict()
    cli = cli_json(["rank", str(FILES[0]), str(broken), "--prompt", PROMPT, "--model", "toyclip", "-q"])
    api_d = api.post("/api/rank", files=[("images", ("a.png", FILES[0].read_bytes())),
                                         ("images", ("broken.png", b"garbage"))], data={"prompt": PROMPT}).json()
    for d in (py, cli, api_d):
        assert_item_errors(d["errors"], [1])
        assert d["errors"][0]["reason"] == py["errors"][0]["reason"] and len(d["results"]) == 1


def test_feedback_same_everywhere(toyclip, api):
    prompt = "yellow, hexagon, pink rings, pixel art"
    py = keyword_feedback(toyclip, FILES[0], prompt).to_dict()
    cli = cli_json(["feedback", str(FILES[0]), prompt, "--model", "toyclip", "-q"])
    api_d = api.post("/api/feedback", data={"path": FILES[0].name, "prompt": prompt}).json()
    keys = ("prompt_cosine", "prompt_clip_s", "baseline_cosine", "margin", "keywords", "unrequested", "errors")
    for d in (cli, api_d):
        assert_close({k: d[k] for k in keys}, {k: py[k] for k in keys})
    # the route reports the paper scale under the library's name; nothing recomputed
    assert abs(api_d["prompt_clip_s"] - 2.5 * max(api_d["prompt_cosine"], 0)) < 1e-5
    assert py["margin"] == defaults.FEEDBACK_MARGIN
