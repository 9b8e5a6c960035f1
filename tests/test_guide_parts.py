"""cliplens.guide building blocks: prompt syntax, sizes, parametrisations, cutouts, losses, PNG metadata."""
from __future__ import annotations

import warnings

import pytest
import torch

from cliplens.errors import InvalidInputError
from cliplens.guide import (CutoutConfig, format_prompts, make_cutouts, make_param, parse_prompts, parse_size,
                            png_bytes, read_png_metadata, to_pil)
from cliplens.guide.losses import prompt_score, range_loss, tv_loss


def test_weighted_prompt_syntax_a1111():
    want = [("a lighthouse", 1.0), ("fog", 0.5), ("blurry", -0.5)]
    for text in ("a lighthouse, (fog:0.5), (blurry:-0.5)", "a lighthouse | (fog:0.5) | (blurry:-0.5)",
                 "(fog:0.5), a lighthouse, (blurry: -0.5)"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # the A1111 form is not deprecated
            ps = parse_prompts(text)
        assert sorted((p.text, p.weight) for p in ps) == sorted(want), text
    # colons inside text stay; a weighted group's text is everything up to its last colon
    ps = parse_prompts("poster, ratio 16:9 | (a cat: 0.2) | (time 10:30:2)")
    assert [(p.text, p.weight) for p in ps] == [("poster, ratio 16:9", 1.0), ("a cat", 0.2), ("time 10:30", 2.0)]
    assert format_prompts(parse_prompts(format_prompts(ps))) == format_prompts(ps)
    assert [p.weight for p in parse_prompts(["a", ("b", -2)])] == [1.0, -2.0]
    # zero weights are dropped
    assert [p.text for p in parse_prompts("a, (b:0)")] == ["a"]


def test_legacy_weight_syntax_still_parsed_with_a_warning():
    with pytest.warns(DeprecationWarning, match=r"\(fog:0.5\)"):
        ps = parse_prompts("a lighthouse:1 | fog:0.5")
    assert [(p.text, p.weight) for p in ps] == [("a lighthouse", 1.0), ("fog", 0.5)]


@pytest.mark.parametrize("bad", ["", "   ", "a | ", "| b", "(blurry:-1)", "(a:0)", "(:2)", "blurry:-1", [],
                                 [("x", "heavy")], [3]])
def test_bad_prompts_raise_clear_errors(bad):
    with pytest.raises(InvalidInputError) as exc:
        parse_prompts(bad)
    assert any(w in str(exc.value) for w in ("prompt", "weight", "string"))


def test_sizes():
    assert parse_size(512) == (512, 512)
    assert parse_size("768x512") == (512, 768)
    assert parse_size("64×32") == (32, 64)
    assert parse_size((40, 50)) == (40, 50)
    for bad in ("0", "abc", "5x", "10x10x10", 5000, "4x4", -3):
        with pytest.raises(InvalidInputError, match="size"):
            parse_size(bad)


@pytest.mark.parametrize("kind", ["fourier", "pixels", "pyramid", "pixel", "multiscale"])
def test_param_shapes_range_and_set_image(kind):
    g = torch.Generator().manual_seed(0)
    p = make_param(kind, (40, 56), g)
    x = p().detach()
    assert x.shape == (1, 3, 40, 56) and float(x.min()) >= 0 and float(x.max()) <= 1
    target = torch.rand(1, 3, 40, 56, generator=g) * 0.9 + 0.05
    p.set_image(target)
    assert torch.allclose(p(), target, atol=2e-3), kind
    # gradients reach the parameters
    p.set_progress(1.0)  # the pyramid opens every level by the end of the run
    p().mean().backward()
    assert all(q.grad is not None for q in p.parameters())


def test_pyramid_opens_coarse_to_fine():
    p = make_param("pyramid", (32, 32), torch.Generator().manual_seed(0), levels=4)
    p.set_progress(0.0)
    assert p.gates == [0.0, 0.0, 0.0, 1.0]  # only the coarsest level moves at first
    p().mean().backward()
    assert p.levels[0].grad is None or float(p.levels[0].grad.abs().sum()) == 0
    p.set_progress(1.0)
    assert p.gates == [1.0, 1.0, 1.0, 1.0]


def test_shapes_param_draws_flat_shapes_and_svg():
    from cliplens.guide.shapes import ShapesImage

    p = ShapesImage((48, 64), torch.Generator().manual_seed(0), shapes=3, strokes=2)
    p.set_progress(1.0)
    x = p().detach()
    assert x.shape == (1, 3, 48, 64) and float(x.min()) >= 0 and float(x.max()) <= 1
    p().mean().backward()
    assert all(q.grad is not None and bool(torch.isfinite(q.grad).all()) for q in p.parameters())
    svg = p.to_svg()
    assert svg.startswith("<svg") and svg.count("<polygon") == 3 and svg.count("<line") == 2
    # one opaque regular shape: the polygon covers the pixels near its centre with its colour
    q = ShapesImage((64, 64), torch.Generator().manual_seed(0), shapes=1, vertices=8)
    with torch.no_grad():
        q.centre.zero_()  # centre of the canvas
        q.log_radius.fill_(torch.log(torch.tensor(0.25)))
        q.corner.zero_()
        q.opacity.fill_(20.0)
        q.colour.copy_(torch.tensor([[10.0, -10.0, -10.0]]))  # red
        q.bg.fill_(10.0)  # white
    q.set_progress(1.0)
    img = q()[0]
    assert img[:, 32, 32].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-3)
    assert img[:, 2, 2].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-3)
    area = float((img[1] < 0.5).float().mean())  # red pixels: an octagon of circumradius 16 px
    assert area == pytest.approx(2 * 2**0.5 * 16**2 / 64**2, rel=0.05)


def test_unknown_param():
    with pytest.raises(InvalidInputError, match="param"):
        make_param("vqgan", (8, 8))


def test_cutouts_shapes_seeded_and_differentiable():
    img = torch.rand(1, 3, 100, 80, requires_grad=True)
    cfg = CutoutConfig(hflip=0.5, jitter=0.1)
    a = make_cutouts(img, 6, (32, 32), cfg, torch.Generator().manual_seed(3))
    b = make_cutouts(img, 6, (32, 32), cfg, torch.Generator().manual_seed(3))
    c = make_cutouts(img, 6, (32, 32), cfg, torch.Generator().manual_seed(4))
    assert a.shape == (6, 3, 32, 32) and torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    a.sum().backward()
    assert img.grad is not None and float(img.grad.abs().sum()) > 0


def test_losses():
    flat = torch.full((1, 3, 16, 16), 0.5)
    noisy = flat + 0.2 * torch.randn(1, 3, 16, 16)
    assert float(tv_loss(flat)) == 0.0 and float(tv_loss(noisy)) > 0.01
    assert float(range_loss(flat)) == 0.0 and float(range_loss(flat + 1)) == pytest.approx(0.25)
    feats = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    tgt = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    # a negative weight does not change the scale of the positive prompt's term
    s_pos = prompt_score(feats, tgt[:1], torch.tensor([1.0]))
    s_both = prompt_score(feats, tgt, torch.tensor([1.0, -0.5]))
    assert float(s_both) == pytest.approx(float(s_pos) - 0.5 * float((feats @ tgt[1]).mean()), abs=1e-6)


def test_png_metadata_roundtrip(tmp_path):
    img = to_pil(torch.rand(1, 3, 12, 20))
    path = tmp_path / "x.png"
    path.write_bytes(png_bytes(img, {"prompt": "a red star | (fog:-0.5)", "settings": {"steps": 3}}))
    meta = read_png_metadata(path)
    assert meta["prompt"] == "a red star | (fog:-0.5)" and meta["settings"]["steps"] == 3
