"""classify: zero-shot labels on the toy world, templates, "none of these", tagging and writers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cliplens import defaults
from cliplens.classify import (NONE_LABEL, Tagger, ZeroShotClassifier, calibrate_none_margin, calibrate_thresholds,
                               classify, imagenet_templates, load_templates, read_thresholds, tag)
from cliplens.errors import InvalidInputError
from cliplens.results import Result


def test_imagenet_templates_are_the_80_openai_ones():
    t = imagenet_templates()
    assert len(t) == 80 and len(set(t)) == 80 and all(x.count("{}") == 1 for x in t)
    assert t[0] == "a bad photo of a {}." and t[-1] == "a tattoo of the {}."
    # cross-check against the copy open_clip ships (a peer implementation)
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    assert list(t) == [f("{}") for f in OPENAI_IMAGENET_TEMPLATES]


def test_load_templates(tmp_path):
    assert load_templates("none") == ["{}"] and len(load_templates("imagenet7")) == 7
    f = tmp_path / "t.txt"
    f.write_text("# mine\na {} drawing\nart of {}\n")
    assert load_templates(f) == ["a {} drawing", "art of {}"]
    assert load_templates("a sketch of {}") == ["a sketch of {}"]
    with pytest.raises(InvalidInputError, match="exactly once"):
        load_templates(["no placeholder"])
    with pytest.raises(InvalidInputError, match="unknown templates"):
        load_templates("imagenet81")


@pytest.mark.parametrize("templates", ["imagenet80", "short"])
def test_zero_shot_picks_shape_colour_style(toyclip, tw, fixture_labels, templates):
    singles = [r for r in fixture_labels if r["kind"] == "single"][:60]
    paths = [r["path"] for r in singles]
    for labels, truth in ((tw.WORLD["shapes"], [r["objects"][0]["shape"] for r in singles]),
                          (list(tw.WORLD["colours"]), [r["objects"][0]["colour"] for r in singles]),
                          (list(tw.WORLD["styles"]), [r["style"] for r in singles])):
        clf = ZeroShotClassifier(toyclip, labels, templates=templates)
        preds = clf.predict(paths, top_k=3)
        acc = np.mean([p.label == t for p, t in zip(preds, truth)])
        assert acc >= 0.8, (labels[:3], acc)
        np.testing.assert_allclose(clf.probabilities(toyclip.encode_images(paths[:3])).sum(axis=1), 1.0, atol=1e-5)
        assert len(preds[0].top) == 3 and preds[0].top[0][1] >= preds[0].top[1][1]


def test_none_of_these(toyclip, tw, fixture_labels):
    singles = [r for r in fixture_labels if r["kind"] == "single"]
    labels = ["circle", "square", "star"]
    known = [r["path"] for r in singles if r["objects"][0]["shape"] in labels][:15]
    unknown = [r["path"] for r in singles if r["objects"][0]["shape"] in ("heart", "crescent", "hexagon")][:15]
    clf = ZeroShotClassifier(toyclip, labels, templates="short")
    t = calibrate_none_margin(clf, known, unknown)
    pk = clf.predict(known, none_margin=t)
    pu = clf.predict(unknown, none_margin=t)
    k_ok = np.mean([p.label != NONE_LABEL for p in pk])
    u_ok = np.mean([p.label == NONE_LABEL for p in pu])
    assert (k_ok + u_ok) / 2 > 0.6, (k_ok, u_ok)
    strict = clf.predict(known[:5], min_prob=1.0)
    assert all(p.label == NONE_LABEL for p in strict if p.top[0][1] < 1.0)
    assert all(p.label != NONE_LABEL for p in clf.predict(known[:5], min_prob=0.0))
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        clf.predict(known[:1], min_prob=2)


def test_classifier_bad_inputs(toyclip, tmp_path):
    with pytest.raises(InvalidInputError, match="no labels"):
        ZeroShotClassifier(toyclip, [])
    with pytest.raises(InvalidInputError, match="twice"):
        ZeroShotClassifier(toyclip, ["a", "a"])
    clf = ZeroShotClassifier(toyclip, ["red", "blue"], templates="none")
    bad = tmp_path / "x.png"
    bad.write_bytes(b"nope")
    p = clf.predict([str(bad)])[0]
    assert p.error and "not an image" in p.error and p.to_dict()["error"]
    with pytest.raises(InvalidInputError, match="no images"):
        clf.predict([])


def _vocab(tw):
    return tw.WORLD["shapes"] + list(tw.WORLD["colours"]) + list(tw.WORLD["styles"])


def test_tagging_finds_true_tags(toyclip, tw, fixture_labels):
    rows = fixture_labels[:80]
    vocab = _vocab(tw)
    truth = [{o["shape"] for o in r["objects"]} | {o["colour"] for o in r["objects"]} | {r["style"]} for r in rows]
    tagger = Tagger(toyclip, vocab)
    res = tagger.tag([r["path"] for r in rows])
    tp = sum(len({t for t, _ in x.tags} & tr) for x, tr in zip(res, truth))
    npred = sum(len(x.tags) for x in res)
    ntrue = sum(len(tr) for tr in truth)
    f1 = 2 * tp / (npred + ntrue)
    assert f1 > 0.6, f1
    # per-tag thresholds fitted on half, applied to the other half, do not get worse than the default
    th = calibrate_thresholds(tagger, [r["path"] for r in rows[:40]], [list(t) for t in truth[:40]])
    assert set(th) <= set(vocab) and th
    tuned = Tagger(toyclip, vocab, thresholds=th).tag([r["path"] for r in rows[40:]])
    tp2 = sum(len({t for t, _ in x.tags} & tr) for x, tr in zip(tuned, truth[40:]))
    f1b = 2 * tp2 / (sum(len(x.tags) for x in tuned) + sum(len(t) for t in truth[40:]))
    assert f1b > 0.6, f1b
    capped = tagger.tag([rows[0]["path"]], top_k=2)[0]
    assert len(capped.tags) <= 2


def test_tagger_options_and_errors(toyclip, tw, tmp_path):
    f = tmp_path / "th.txt"
    f.write_text("# per tag\nred,0.5\npixel art\t0.01\n")
    assert read_thresholds(f) == {"red": 0.5, "pixel art": 0.01}
    (tmp_path / "th.json").write_text(json.dumps({"red": 0.2}))
    assert read_thresholds(tmp_path / "th.json") == {"red": 0.2}
    (tmp_path / "bad.txt").write_text("red,abc\n")
    with pytest.raises(InvalidInputError, match="not a number"):
        read_thresholds(tmp_path / "bad.txt")
    with pytest.raises(InvalidInputError, match="not in the vocabulary"):
        Tagger(toyclip, ["red"], thresholds={"blue": 0.1})
    with pytest.raises(InvalidInputError, match="score"):
        Tagger(toyclip, ["red"], score="nope")
    with pytest.raises(InvalidInputError, match="empty"):
        Tagger(toyclip, [" "])
    z = Tagger(toyclip, _vocab(tw), score="z")
    img = tw.render(tw.sample_scene(2, shape="heart", colour="green", style="flat"), 64)
    top = [t for t, _ in z.tag([img])[0].tags]
    assert "heart" in top or "green" in top


def test_classify_is_one_call_with_one_default_and_item_errors(toyclip, fixture_labels, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    paths = [fixture_labels[0]["path"], str(bad), fixture_labels[1]["path"]]
    r = classify(toyclip, paths, ["circle", "square", "ring"])
    assert isinstance(r, Result) and r.templates == defaults.CLASSIFY_TEMPLATES == "imagenet7"
    assert r.template_count == len(load_templates(defaults.CLASSIFY_TEMPLATES)) == 7
    assert [e.index for e in r.errors] == [1] and "not an image" in r.errors[0].reason
    d = r.to_dict()
    # strict JSON: the failed image's cosine/margin are null, never NaN (issue 14 item 8)
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["results"][1] == {"index": 1, "image": str(bad), "label": None, "top": [], "cosine": None, "margin": None}
    assert len(d["results"][0]["top"]) == min(defaults.CLASSIFY_TOP_K, 3)
    # the same classifier object serves a repeated request (memory LRU), with identical numbers
    r2 = classify(toyclip, paths[:1], ["circle", "square", "ring"], label_cache="memory")
    assert [t for t, _ in r2.results[0].top] == [t for t, _ in r.results[0].top]
    np.testing.assert_allclose([p for _, p in r2.results[0].top], [p for _, p in r.results[0].top], atol=1e-5)
    with pytest.raises(InvalidInputError, match="label_cache"):
        classify(toyclip, paths, ["a", "b"], label_cache="nope")


def test_tag_is_one_call(toyclip, tw, fixture_labels, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    r = tag(toyclip, [fixture_labels[0]["path"], str(bad)], _vocab(tw), top_k=3)
    assert isinstance(r, Result) and [e.index for e in r.errors] == [1]
    assert len(r.results[0].tags) <= 3 and r.results[1].tags == []
    d = r.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d and d["results"][1]["tags"] == []
    with pytest.raises(InvalidInputError, match="top_k must be >= 1"):
        tag(toyclip, [fixture_labels[0]["path"]], _vocab(tw), top_k=0)
