"""Issue 12 parity: compose and lint give the same document from Python, `cliplens prompt ... --json`
and the HTTP routes, with the same defaults and the same error for a bad prompt."""
from __future__ import annotations

import json

import pytest
from parity import api  # noqa: F401  (a fixture: pytest finds it by this name)
from parity import assert_close, cli_json, cli_run

from cliplens import defaults
from cliplens.compose import compose, lint_prompt



@pytest.fixture()
def client(request):
    """The shared parity server (the `api` fixture of tests/parity.py)."""
    return request.getfixturevalue("api")


PROMPTS = [
    {"Character": "japanese young woman in her 20's", "Appearance": {"hair": "black ponytail hair"},
     "Action": "listening to music", "style": "professional real photo", "negative": "blurry"},
    {"subject": "castle", "count": 3, "weather": "rain", "style": "35mm film photo"},
    "a cat, (glasses:1.2), [blue], masterpiece",
    {"角色": "日本年轻女性", "动作": "听音乐", "风格": "专业真实照片"},
]


@pytest.mark.parametrize("target", ["flux", "sd3", "sdxl", "sd15"])
@pytest.mark.parametrize("n", range(len(PROMPTS)))
def test_compose_same_on_every_surface(client, n, target):
    raw = PROMPTS[n] if isinstance(PROMPTS[n], str) else json.dumps(PROMPTS[n], ensure_ascii=False)
    py = compose(raw, target).to_dict()
    cli = cli_json(["prompt", "compose", raw, "--target", target])
    r = client.post("/api/compose", json={"text": raw, "target": target})
    assert r.status_code == 200, r.text
    assert_close(py, cli)
    assert_close(py, r.json())


def test_compose_defaults_agree(client):
    raw = json.dumps(PROMPTS[1])
    py = compose(raw).to_dict()
    assert py["target"] == defaults.COMPOSE_TARGET
    assert_close(py, cli_json(["prompt", "compose", raw]))
    assert_close(py, client.post("/api/compose", json={"text": raw}).json())


@pytest.mark.parametrize("text", ["red fox, snowy forest, watercolor painting", "a cat, [blue], (glasses:1.2)",
                                  '{"subject": "cat", "style": "pixel art"}', ", ".join(f"item{i}" for i in range(60))])
def test_lint_same_on_every_surface(client, text):
    py = lint_prompt(text).to_dict()
    r = client.post("/api/lint", json={"text": text})
    assert r.status_code == 200, r.text
    assert_close(py, r.json())
    failed = any(i["severity"] in ("error", "warning") for i in py["issues"])
    assert_close(py, cli_json(["prompt", "lint", text], expect_code=1 if failed else 0))


@pytest.mark.parametrize("bad", ['{"subject": ', "   "])
def test_bad_prompt_same_error_everywhere(client, bad):
    """A client mistake: one line + exit 2 from the CLI, a 4xx {error, type} from the server, never 500."""
    from cliplens.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as e:
        compose(bad)
    res = cli_run(["prompt", "compose", bad, "--json"])
    assert res.exit_code == 2 and str(e.value) in " ".join(res.output.split()), res.output
    r = client.post("/api/compose", json={"text": bad})
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert body["type"] == "InvalidInputError" and body["error"] == str(e.value), body
    if not bad.strip():  # broken JSON is something to lint; an empty prompt is a mistake
        r = client.post("/api/lint", json={"text": bad})
        assert 400 <= r.status_code < 500 and "error" in r.json(), r.text
        assert cli_run(["prompt", "lint", bad]).exit_code == 2
