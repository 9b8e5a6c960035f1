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
    from cliplens.guide.vector import Figure

    p = ShapesImage((48, 64), torch.Generator().manual_seed(0), shapes=3, strokes=2)
    x = p().detach()
    assert x.shape == (1, 3, 48, 64) and float(x.min()) >= 0 and float(x.max()) <= 1
    p().mean().backward()
    assert all(q.grad is not None and bool(torch.isfinite(q.grad).all()) for q in p.parameters())
    svg = p.to_svg()
    assert svg.startswith("<svg") and svg.count("<line") == 2 and len(p.figures()) == 3
    # one opaque octagon, centred: it covers the pixels near its centre with its colour
    q = ShapesImage((64, 64), figures=[Figure("octagon", 0.5, 0.5, 0.25, 0.0, (1.0, 0.0, 0.0))],
                    background=(1.0, 1.0, 1.0))
    img = q()[0].detach()
    assert img[:, 32, 32].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-3)
    assert img[:, 2, 2].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-3)
    area = float((img[1] < 0.5).float().mean())  # red pixels: an octagon of circumradius 16 px
    assert area == pytest.approx(2 * 2**0.5 * 16**2 / 64**2, rel=0.05)
    assert q.figures()[0].size == pytest.approx(0.25) and q.background() == pytest.approx((1.0, 1.0, 1.0), abs=2e-3)


def _svg_raster(svg: str, size: int):
    """Rasterise the polygon / circle elements our SVG export writes (translate rotate scale), with PIL."""
    import math
    import re

    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    for el in re.findall(r"<(polygon|circle) ([^>]*)/>", svg):
        tag, attrs = el
        tx, ty, rot, sc = map(float, re.search(r"translate\(([-\d.]+) ([-\d.]+)\) rotate\(([-\d.]+)\) "
                                               r"scale\(([-\d.]+)\)", attrs).groups())
        ca, sa = math.cos(math.radians(rot)), math.sin(math.radians(rot))
        if tag == "circle":
            r = float(re.search(r'r="([-\d.]+)"', attrs).group(1)) * sc
            draw.ellipse([tx - r, ty - r, tx + r, ty + r], fill=255)
            continue
        pts = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]+)"', attrs).group(1).split()]
        draw.polygon([(tx + sc * (ca * x - sa * y), ty + sc * (sa * x + ca * y)) for x, y in pts], fill=255)
    return torch.from_numpy(__import__("numpy").asarray(img, dtype="float32") / 255)


@pytest.mark.parametrize("kind", ["circle", "square", "rectangle", "triangle", "rhombus", "pentagon", "hexagon",
                                  "octagon", "star", "plus"])
def test_svg_export_matches_the_torch_render(kind):
    """Each primitive's SVG (rasterised here) covers the same pixels as the torch render (IoU >= 0.9)."""
    from cliplens.guide.vector import Figure, render_scene, scene_svg

    f = Figure(kind, 0.45, 0.55, 0.3, 0.4, (0.0, 0.0, 0.0))
    torch_mask = 1 - render_scene((1.0, 1.0, 1.0), [f], (96, 96))[0, 0]
    svg_mask = _svg_raster(scene_svg((1.0, 1.0, 1.0), [f], (96, 96)), 96)
    a, b = torch_mask > 0.5, svg_mask > 0.5
    iou = float((a & b).sum()) / float((a | b).sum())
    assert iou > 0.9, (kind, iou)
    assert float(a.float().mean()) > 0.05  # the figure is really there


@pytest.mark.parametrize("kind", ["ring", "heart", "moon"])
def test_curved_primitives_render_and_export(kind):
    import xml.etree.ElementTree as ET

    from cliplens.guide.vector import Figure, render_scene, scene_svg

    for mode in ("fill", "outline"):
        f = Figure(kind, 0.5, 0.5, 0.35, 0.0, (0.0, 0.0, 0.0), mode)
        cov = 1 - render_scene((1.0, 1.0, 1.0), [f], (64, 64))[0, 0]
        frac = float((cov > 0.5).float().mean())
        assert 0.03 < frac < 0.4, (kind, mode, frac)  # visible, and not a full disc or canvas
        ET.fromstring(scene_svg((1.0, 1.0, 1.0), [f], (64, 64)))  # well-formed SVG
    if kind == "ring":  # the hole is background
        assert float(cov[32, 32]) < 0.1


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


def test_name_prior_reads_primitive_and_count_from_the_prompt(toyclip):
    """The design search's name prior: 0 for the description the prompt's text matches best, below 0
    for the rest, scaled by its strength; menu synonyms count ('cross' is the plus sign)."""
    from cliplens.guide.search import Design, NamePrior, descriptions

    assert descriptions("circle", 1) == ["a circle"] and descriptions("octagon", 1) == ["an octagon"]
    assert descriptions("moon", 3) == ["three moons", "three crescents"]

    def prior(text, strength=1.0):
        return NamePrior([(toyclip, 1.0)], [toyclip.encode_text_tensor([text]).float()], torch.tensor([1.0]),
                         strength)

    cases = {"three yellow stars on a black background, flat": ("star", 3),
             "a large white cross on a teal background, flat": ("plus", 1),
             "two blue squares on a beige background, flat": ("square", 2),
             "a large yellow crescent on a navy background, flat": ("moon", 1)}
    for text, want in cases.items():
        p = prior(text)
        assert p.best() == want, (text, p.best())
        assert max(p.value.values()) == 0.0 and min(p.value.values()) < -0.01
        assert p(Design(kind=want[0], count=want[1])) == 0.0
        assert p(Design(kind="heart", count=4)) < 0.0
    p1, p2 = prior("two blue squares on a beige background, flat"), prior("two blue squares on a beige background, flat", 2.5)
    assert all(p2.value[k] == pytest.approx(2.5 * v) for k, v in p1.value.items())
    assert set(prior("a red circle", 0.0).value.values()) == {0.0}
    # a negative prompt counts against: pushing away from hearts lowers the heart descriptions
    both = NamePrior([(toyclip, 1.0)], [toyclip.encode_text_tensor(["a red shape", "a heart"]).float()],
                     torch.tensor([1.0, -1.0]))
    assert both.best()[0] != "heart"


def test_search_prior_must_be_non_negative():
    from cliplens.guide import GuideConfig

    with pytest.raises(InvalidInputError, match="search_prior"):
        GuideConfig(search_prior=-1.0).validate()
    with pytest.raises(InvalidInputError, match="search_prior"):
        GuideConfig(search_prior=float("nan")).validate()
