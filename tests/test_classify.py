"""classify: zero-shot labels on the toy world, templates, "none of these", tagging and writers."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from cliplens.classify import (NONE_LABEL, Tagger, ZeroShotClassifier, build_xmp, calibrate_none_margin,
                               calibrate_thresholds, imagenet_templates, load_templates, read_thresholds,
                               write_table, write_txt_sidecars, write_xmp_sidecars, xmp_keywords, xmp_path)
from cliplens.errors import InvalidInputError


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
    capped = tagger.tag([rows[0]["path"]], max_tags=2)[0]
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


def test_writers(tmp_path, fixture_labels):
    src = fixture_labels[0]["path"]
    img = tmp_path / "photo.png"
    shutil.copy(src, img)
    rows = [{"image": str(img), "tags": [{"tag": "red", "score": 0.08}, {"tag": "circle", "score": 0.05}]}]
    write_table(rows, tmp_path / "t.csv")
    got = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert got[0]["tags"] == "red; circle" and got[0]["tag_scores"] == "0.0800; 0.0500"
    write_table(rows, tmp_path / "t.jsonl")
    assert json.loads((tmp_path / "t.jsonl").read_text())["tags"][0]["tag"] == "red"
    with pytest.raises(InvalidInputError, match=".csv or .jsonl"):
        write_table(rows, tmp_path / "t.xlsx")
    # .txt sidecars: overwrite, append, skip
    (side,) = write_txt_sidecars(rows)
    assert side == tmp_path / "photo.txt" and side.read_text() == "red, circle\n"
    write_txt_sidecars([{"image": str(img), "tags": ["circle", "pixel art"]}], mode="append")
    assert side.read_text() == "red, circle, pixel art\n"
    write_txt_sidecars([{"image": str(img), "tags": ["x"]}], mode="skip")
    assert side.read_text() == "red, circle, pixel art\n"
    # XMP: new file, then merge into an existing sidecar that has other metadata
    (x,) = write_xmp_sidecars(rows)
    assert x == tmp_path / "photo.xmp" and xmp_keywords(x.read_bytes()) == ["red", "circle"]
    assert x.read_bytes().startswith(b"<?xpacket")
    other = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
             b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>'
             b'</rdf:RDF></x:xmpmeta>')
    merged = build_xmp(["star"], other)
    assert xmp_keywords(merged) == ["star"] and b'Rating="4"' in merged
    again = build_xmp(["star", "red"], merged)
    assert xmp_keywords(again) == ["star", "red"]
    assert xmp_path(img, "extension").name == "photo.png.xmp"
    with pytest.raises(InvalidInputError, match="not valid XML"):
        build_xmp(["a"], b"<broken")
    with pytest.raises(InvalidInputError, match="file path"):
        write_txt_sidecars([{"image": "<PIL image 4x4 RGB>", "tags": ["a"]}])
