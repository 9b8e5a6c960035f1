"""Quality on the toy world (all 240 64-px fixtures): style mode names the true style, best beats the caption."""
from __future__ import annotations

import pytest

from cliplens.interrogate import Interrogator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(toyclip, tw, fixture_labels, tmp_path_factory):
    style_of = {p: name for name, d in tw.WORLD["styles"].items() for p in d["phrases"]}
    vocab = tmp_path_factory.mktemp("v") / "toy_styles.txt"
    vocab.write_text("\n".join(style_of))
    it = Interrogator(toyclip, caption_model="toycaption", vocab=[vocab], device="cpu")
    paths = [r["path"] for r in fixture_labels]
    captions = it.caption_images(paths, batch_size=64)
    feats = it.scorer.image_features(paths)
    return it, paths, captions, feats, style_of


def test_style_mode_names_true_style(setup, fixture_labels):
    it, paths, captions, feats, style_of = setup
    rs = it.interrogate_many(paths, "style", captions, min_flavors=0, max_flavors=2, features=feats)
    named = [style_of[r.parts[0].text] for r in rs]
    acc = sum(n == row["style"] for n, row in zip(named, fixture_labels)) / len(rs)
    assert acc >= 0.90, acc
    assert all(r.parts[0].table == "toy_styles" for r in rs)


def test_best_beats_caption_alone(setup):
    it, paths, captions, feats, _ = setup
    rs = it.interrogate_many(paths, "best", captions, min_flavors=1, max_flavors=3, features=feats)
    better = sum(r.similarity > r.candidates["caption"] + 1e-6 for r in rs)
    assert better / len(rs) > 0.5, better
    assert all(r.caption == c and r.prompt.startswith(c) for r, c in zip(rs, captions))
