"""Issue 12 parity: every interrogate mode gives the same answer from Python, `cliplens interrogate
--json` and `/api/interrogate`; the defaults are the same; a bad image has one error shape."""
from __future__ import annotations

import inspect
import shutil

import pytest
from parity import FIXTURES, api, assert_close, assert_item_errors, cli_json, cli_run, without  # noqa: F401

from cliplens import defaults as D
from cliplens.interrogate import Interrogator, interrogate

IMAGE = sorted(FIXTURES.glob("*.png"))[0]
OPTS = {"min_flavors": 2, "max_flavors": 4, "top_k": 3}
#: legitimately differs between surfaces: timings, how the image and model are named
VOLATILE = ("seconds", "prepare_seconds", "image", "model")


@pytest.fixture(scope="module")
def it(toyclip):
    return Interrogator(toyclip, caption_model="toycaption", device="cpu")


@pytest.mark.parametrize("mode", D.INTERROGATE_MODES)
def test_same_prompt_on_every_surface(mode, it, api):  # noqa: F811
    py = interrogate(it, IMAGE, mode=mode, **OPTS).to_dict()
    cli = cli_json(["interrogate", str(IMAGE), "--model", "toyclip", "--mode", mode, "-q",
                    "--min-flavors", "2", "--max-flavors", "4", "--top-k", "3"])
    res = api.post("/api/interrogate", data={"path": IMAGE.name, "mode": mode, **{k: str(v) for k, v in OPTS.items()}})
    assert res.status_code == 200, res.text
    http = res.json()
    assert py["mode"] == mode and py["caption_model"] == cli["caption_model"] == http["caption_model"] == "toycaption"
    assert_close(without(py, *VOLATILE), without(cli, *VOLATILE), tol=1e-4)
    assert_close(without(py, *VOLATILE), without(http, *VOLATILE), tol=1e-4)


def test_same_defaults_everywhere(api):  # noqa: F811
    from cliplens.cli.interrogate_cmd import interrogate_cmd

    lib = inspect.signature(interrogate).parameters
    cli = inspect.signature(interrogate_cmd).parameters
    schema = api.get("/openapi.json").json()
    body = schema["paths"]["/api/interrogate"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    ref = body["$ref"].split("/")[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert lib["mode"].default == cli["mode"].default == props["mode"]["default"] == D.INTERROGATE_MODE == "best"
    assert lib["min_flavors"].default == cli["min_flavors"].default == props["min_flavors"]["default"]
    assert lib["max_flavors"].default is cli["max_flavors"].default is None
    assert lib["top_k"].default == cli["top_k"].default == props["top_k"]["default"] == D.TOP_K
    assert lib["min_confidence"].default == cli["min_confidence"].default == D.INTERROGATE_MIN_CONFIDENCE
    assert api.get("/api/interrogate/modes").json()["default"] == D.INTERROGATE_MODE


def test_bad_image_same_error_shape(it, api, tmp_path):  # noqa: F811
    bad = b"\x89PNG\r\n\x1a\nbroken"
    good = IMAGE.read_bytes()
    py = interrogate(it, [good, bad, good], mode="caption").to_dict()
    assert_item_errors(py["errors"], [1])
    res = api.post("/api/interrogate/batch", data={"mode": "caption"},
                   files=[("images", ("a.png", good, "image/png")), ("images", ("b.png", bad, "image/png")),
                          ("images", ("c.png", good, "image/png"))])
    assert res.status_code == 200, res.text
    http = res.json()
    assert_item_errors(http["errors"], [1])
    assert [r["index"] for r in http["results"]] == [r["index"] for r in py["results"]] == [0, 2]
    assert_close([without(r, *VOLATILE) for r in http["results"]], [without(r, *VOLATILE) for r in py["results"]])
    d = tmp_path / "f"
    d.mkdir()
    shutil.copy(IMAGE, d / "a.png")
    (d / "b.png").write_bytes(bad)
    cli = cli_json(["interrogate", str(d), "--model", "toyclip", "--mode", "caption", "-q", "--format", "jsonl",
                    "--out", str(tmp_path / "o.jsonl")])
    assert_item_errors(cli["errors"], [1])
    # a single bad image: one error object with a 4xx from the API, exit 2 from the CLI
    res = api.post("/api/interrogate", data={"mode": "caption"}, files={"image": ("b.png", bad, "image/png")})
    assert 400 <= res.status_code < 500 and {"error", "type"} <= set(res.json())
    r = cli_run(["interrogate", str(d / "b.png"), "--model", "toyclip", "--mode", "caption", "-q"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_request_bounds_are_4xx(api):  # noqa: F811
    """Issue 14.5: a huge caption is refused by the request model before any work; bad fields are 4xx."""
    for data in ({"caption": "x " * 1500}, {"mode": "nope"}, {"max_flavors": "0"}, {"min_flavors": "9", "max_flavors": "2"}):
        res = api.post("/api/interrogate", data={"path": IMAGE.name, **data})
        assert 400 <= res.status_code < 500, (data, res.status_code, res.text)
