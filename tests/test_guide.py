"""CLIP-guided generation end to end on CPU with the tiny and toy models (few steps, small sizes)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cliplens import load_encoder
from cliplens.errors import CapabilityError, InvalidInputError
from cliplens.guide import GuideConfig, generate, read_png_metadata, save_png

PROMPT = "a large red circle on a white background, flat"
FAST = dict(size=64, steps=12, cutouts=4, score_every=4, search_rounds=1, search_views=1)


def test_naive_similarity_rises(toyclip):
    steps = 20
    res = generate(toyclip, PROMPT, mode="naive", seed=0, **{**FAST, "steps": steps})
    first, last = res.history[0][1], res.history[-1][1]
    assert res.history[0][0] == 0 and res.history[-1][0] == steps
    assert last > first + 0.15, res.history
    # the reported final cosine is the real one: recompute it from the saved image's pixels
    img = torch.from_numpy(np.asarray(res.image, np.float32) / 255).permute(2, 0, 1)[None]
    cos = float(toyclip.encode_unit_images(img) @ toyclip.encode_text_tensor([PROMPT])[0])
    assert cos == pytest.approx(res.scores[0]["cosines"][PROMPT], abs=0.02)


def test_shapes_search_draws_the_prompt(toyclip, tw):
    """The default (shapes: design search, then a guarded polish) draws a red figure on a white ground
    that toyclip likes about as much as a true render; a random start with the same steps does not."""
    res = generate(toyclip, PROMPT, seed=0, **FAST)
    rnd = generate(toyclip, PROMPT, seed=0, **{**FAST, "search_rounds": 0})
    arr = np.asarray(res.image, np.float32) / 255
    corners = arr[[1, 1, -2, -2], [1, -2, 1, -2]]
    assert (corners > 0.75).all(), corners  # a light (white-ish) background
    fig = arr[(np.abs(arr - arr[1, 1]).sum(-1) > 0.3)]  # the figure's pixels
    assert len(fig) > 0.03 * arr.shape[0] * arr.shape[1]
    r, g, b = np.median(fig, 0)
    assert r > 0.6 and g < 0.4 and b < 0.4, (r, g, b)  # red
    true = tw.render(tw.sample_scene(0, shape="circle", colour="red", kind="single", background="white",
                                     style="flat", size="large"), 64)
    true_cos = float(toyclip.encode_images([true])[0] @ toyclip.encode_texts([PROMPT])[0])
    assert res.scores[0]["score"] > 0.85 * true_cos, (res.scores[0]["score"], true_cos)
    assert res.scores[0]["score"] > rnd.scores[0]["score"] + 0.1
    # the polish is kept only when it helps: never much below the searched start
    assert res.history[-1][1] > res.history[0][1] - 0.02, res.history
    assert res.svg.startswith("<svg") and res.svg.count("<rect") == 1


def test_shapes_search_draws_the_count_and_primitive_the_prompt_names(toyclip):
    """Groups and primitives toyclip's image side hardly tells apart ("three circles" vs three polygons):
    the name prior makes the search draw what the prompt says. The SVG holds the figures."""
    res = generate(toyclip, "three red circles on a white background, flat", seed=0, **FAST)
    assert res.svg.count("<circle") == 3 and "<polygon" not in res.svg, res.svg  # (three polygons without it)


def test_restarts_setting_is_deprecated(tiny_encoder):
    with pytest.warns(DeprecationWarning, match="search_rounds"):
        res = generate(tiny_encoder, "a red star", size=16, steps=1, cutouts=1, restarts=1)
    assert res.config.search_rounds == 0 and res.config.restarts is None


@pytest.mark.parametrize("param", ["pixels", "pyramid", "fourier"])
def test_other_parametrisations_also_climb(toyclip, param):
    # the Fourier image starts grey and the pyramid opens its fine levels late: they need more steps
    steps = 12 if param == "pixels" else 30
    res = generate(toyclip, PROMPT, param=param, seed=0, **{**FAST, "steps": steps})
    assert res.history[-1][1] > res.history[0][1] + 0.1, res.history


def test_seeds_reproduce(tiny_encoder):
    a = generate(tiny_encoder, "a red star", seed=7, **FAST)
    b = generate(tiny_encoder, "a red star", seed=7, **FAST)
    c = generate(tiny_encoder, "a red star", seed=8, **FAST)
    assert torch.equal(a.tensor, b.tensor)
    assert not torch.equal(a.tensor, c.tensor)


@pytest.mark.parametrize("size,expect", [("96x40", (96, 40)), (24, (24, 24)), ((50, 70), (70, 50))])
def test_output_has_requested_size(tiny_encoder, size, expect):
    res = generate(tiny_encoder, "a blue square", size=size, steps=2, cutouts=2, seed=0)
    assert res.image.size == expect and res.tensor.shape[-2:] == (expect[1], expect[0])


@pytest.mark.parametrize("kwargs,match", [
    (dict(size=0), "size"), (dict(size="big"), "size"), (dict(size=9000), "size"),
    (dict(steps=0), "steps"), (dict(mode="fast"), "mode"), (dict(param="vqgan"), "param"),
    (dict(cutouts=0), "cutouts"), (dict(init_strength=1.5), "init_strength"), (dict(cut_min=0), "cut_min"),
    (dict(colour=3), "unknown guide setting"), (dict(seed=2**63), "seed"), (dict(seed=-1), "seed"),
    (dict(param="shapes", shapes=0), "shapes"),
])
def test_bad_settings_raise_clear_errors(tiny_encoder, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        generate(tiny_encoder, "a red star", **kwargs)


@pytest.mark.parametrize("prompt", ["", " | ", "(blurry:-1)"])
def test_bad_prompts_raise(tiny_encoder, prompt):
    with pytest.raises(InvalidInputError):
        generate(tiny_encoder, prompt, steps=1)


def test_negative_prompt_lowers_its_own_score(toyclip):
    neg = "a blue square on a black background"
    base = generate(toyclip, PROMPT, seed=0, **FAST)
    pushed = generate(toyclip, f"{PROMPT} | ({neg}:-1)", seed=0, **FAST)
    cos = toyclip.encode_images([base.image, pushed.image]) @ toyclip.encode_texts([neg])[0]
    assert cos[1] < cos[0] - 0.05, cos
    assert pushed.scores[0]["cosines"][neg] == pytest.approx(float(cos[1]), abs=0.02)


def test_several_guiding_models(tiny_encoder, toyclip):
    res = generate([toyclip, (tiny_encoder, 0.5)], PROMPT, seed=0, **FAST)
    assert [r["model"] for r in res.scores] == [toyclip.name, tiny_encoder.name]
    assert res.models == [toyclip.name, tiny_encoder.name]
    # the searched picture already scores well on the pair; the polish is kept only when it raises the
    # score over the augmented views, so the plain picture's score moves little either way
    assert res.history[0][1] > 0.2 and abs(res.history[-1][1] - res.history[0][1]) < 0.05, res.history


def test_init_image_strength(toyclip, tw):
    init = tw.render(tw.sample_scene(3, shape="star", colour="blue", kind="single", background="white",
                                     style="flat"), 64)
    arr = np.asarray(init, np.float32) / 255

    def dist(strength: float) -> float:
        # a pixel-family image can hold the init picture exactly (shapes only take its mean colour)
        res = generate(toyclip, PROMPT, init_image=init, init_strength=strength, seed=0, param="fourier", **FAST)
        return float(np.abs(np.asarray(res.image, np.float32) / 255 - arr).mean())

    keep, free = dist(0.0), dist(1.0)
    assert keep < 0.1 and keep < free - 0.05, (keep, free)


def test_callback_sees_every_step_and_can_stop(tiny_encoder):
    seen = []

    def cb(info):
        seen.append((info.step, info.steps, info.lr))
        if info.step == 3:
            assert info.image().size == (32, 32)
        return info.step == 5

    res = generate(tiny_encoder, "a red star", size=32, steps=100, cutouts=2, seed=0, callback=cb)
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5] and res.steps_done == 5
    assert seen[0][2] < seen[2][2]  # learning-rate warm-up


def test_onnx_cannot_guide():
    onnx = load_encoder("toyclip-onnx", device="cpu")
    with pytest.raises(CapabilityError, match="differentiable"):
        generate(onnx, "a red star", steps=1)


def test_png_stores_prompt_and_settings(tiny_encoder, tmp_path):
    res = generate(tiny_encoder, "a red star, (blurry:-0.5)", config=GuideConfig(steps=2, cutouts=2, size=(16, 24)))
    save_png(res, tmp_path / "o.png")
    meta = read_png_metadata(tmp_path / "o.png")
    assert meta["prompt"] == "a red star | (blurry:-0.5)"
    assert meta["settings"]["size"] == [24, 16] and meta["settings"]["steps"] == 2
    with pytest.raises(InvalidInputError, match="png"):
        save_png(res, tmp_path / "o.jpg")


# ---------------------------------------------------------------- CLI
def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `cliplens ...` in-process through main() (the real error handling and exit codes)."""
    from cliplens.cli import main

    monkeypatch.setattr("sys.argv", ["cliplens", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_guide_json_snapshots_metadata(monkeypatch, capsys, tmp_path):
    out = tmp_path / "g.png"
    code, stdout, err = run_cli(monkeypatch, capsys, "guide", "a red circle, (blurry:-0.5)", "--model", "toyclip",
                                "--size", "48x32", "--steps", "6", "--cutouts", "2", "--seed", "3",
                                "--snapshot-every", "3", "--out", str(out), "--json", "--quiet")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["width"] == 48 and data["height"] == 32 and data["steps_done"] == 6
    assert [p.rsplit(".", 2)[-2] for p in data["snapshots"]] == ["step00003"]
    meta = read_png_metadata(out)
    assert meta["prompt"] == "a red circle | (blurry:-0.5)" and meta["settings"]["seed"] == 3
    assert meta["models"] == ["toyclip"]


@pytest.mark.parametrize("args,msg", [
    (["--model", "toyclip-onnx"], "no differentiable image path"),
    (["--model", "toyclip", "--size", "3"], "size"),
    (["--model", "toyclip", "--steps", "0"], "steps"),
])
def test_cli_errors_are_one_line(monkeypatch, capsys, tmp_path, args, msg):
    code, _, err = run_cli(monkeypatch, capsys, "guide", "a red star", "--out", str(tmp_path / "x.png"), *args)
    assert code == 2 and msg in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_cli_bad_prompt_and_output(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "guide", "blurry:-1", "--model", "toyclip", "--out",
                           str(tmp_path / "x.png"))
    assert code == 2 and "positive weight" in err
    code, _, err = run_cli(monkeypatch, capsys, "guide", "a star", "--model", "toyclip", "--out",
                           str(tmp_path / "x.jpg"))
    assert code == 2 and ".png" in err
