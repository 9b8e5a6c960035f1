"""Issue 12 parity for guide: the same tiny run through Python, `cliplens guide --json` and POST /api/guide
gives the same image (pixel digest), the same scores and the same settings (defaults included);
a bad seed is refused the same way on every surface (issue 14: seeds >= 2**63)."""
from __future__ import annotations

import time

import pytest

from cliplens import defaults
from cliplens.errors import InvalidInputError
from cliplens.guide import generate
from parity import api, assert_close, cli_json, cli_run  # noqa: F401  (api is a fixture)

PROMPT = "a red circle on a white background, (blurry:-0.5)"
TINY = {"size": 32, "steps": 3, "cutouts": 2, "seed": 5}


def _wait_job(client, job_id: str, timeout: float = 120.0) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"guide job {job_id} did not finish in {timeout} s")


def test_same_image_scores_and_defaults_on_every_surface(toyclip, api, tmp_path):  # noqa: F811
    py = generate(toyclip, PROMPT, **TINY).to_dict()
    cli = cli_json(["guide", PROMPT, "--model", "toyclip", "--size", "32", "--steps", "3", "--cutouts", "2",
                    "--seed", "5", "--out", str(tmp_path / "g.png"), "--quiet"])
    r = api.post("/api/guide", json={"prompt": PROMPT, **TINY})
    assert r.status_code == 202, r.text
    job = _wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    http = job["result"]
    for other in (cli, http):
        assert other["image_sha256"] == py["image_sha256"]  # the same pixels
        assert_close(other["scores"], py["scores"], tol=1e-5)
        assert_close(other["history"], py["history"], tol=1e-5)
        assert other["settings"] == py["settings"]  # same defaults for everything not given
        assert other["prompts"] == py["prompts"] and other["svg"] == py["svg"]
    assert py["settings"]["param"] == defaults.GUIDE_PARAM and py["settings"]["search_rounds"] == defaults.GUIDE_SEARCH_ROUNDS
    assert py["prompts"] == [{"text": "a red circle on a white background", "weight": 1.0},
                             {"text": "blurry", "weight": -0.5}]
    assert py["svg"].startswith("<svg") and py["errors"] == []
    # the PNG the job serves is the image the library made
    png = api.get(f"/api/jobs/{r.json()['id']}/snapshot.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"


@pytest.mark.parametrize("seed", [2**63, -1])
def test_bad_seed_refused_on_every_surface(toyclip, api, tmp_path, seed):  # noqa: F811
    with pytest.raises(InvalidInputError, match="seed"):
        generate(toyclip, PROMPT, **{**TINY, "seed": seed})
    res = cli_run(["guide", PROMPT, "--model", "toyclip", "--seed", str(seed), "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "seed" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.png").exists()
    r = api.post("/api/guide", json={"prompt": PROMPT, **{**TINY, "seed": seed}})
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert set(body) >= {"error", "type"} and "seed" in body["error"], body


def test_bad_param_refused_on_every_surface(toyclip, api, tmp_path):  # noqa: F811
    with pytest.raises(InvalidInputError, match="param"):
        generate(toyclip, PROMPT, **{**TINY, "param": "vqgan"})
    res = cli_run(["guide", PROMPT, "--model", "toyclip", "--param", "vqgan", "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    r = api.post("/api/guide", json={"prompt": PROMPT, **TINY, "param": "vqgan"})
    assert 400 <= r.status_code < 500 and set(r.json()) >= {"error", "type"}, r.text
