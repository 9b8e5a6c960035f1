"""judge: CLIPScore against torchmetrics on identical weights, the paper formula, long prompts,
manifests, best-of-N and per-keyword feedback on the toy world."""
from __future__ import annotations

import json
import random
import warnings

import numpy as np
import pytest
import torch

from cliplens.errors import ImageLoadError, InvalidInputError
from cliplens.judge import (LongPromptWarning, clip_score, encode_prompts, folder_pairs, keep_winners,
                            keyword_feedback, paper_clipscore, rank, rank_images, rank_prompts, read_manifest,
                            refclipscore, similarity, torchmetrics_clipscore, truncation_point)
from cliplens.results import ItemError, Result


@pytest.fixture(scope="module")
def toyclip_hf():
    from cliplens import load_encoder

    return load_encoder("toyclip-hf", device="cpu")


def _tm_model_and_processor():
    """toyclip's transformers weights in the shape torchmetrics 1.9 expects on transformers 5."""
    from cliplens.assets import toy_model_dir
    from benchmarks.torchmetrics_compat import torchmetrics_clip_pair

    return torchmetrics_clip_pair(toy_model_dir("toyclip") / "hf")


def _pairs(fixture_labels, n=60, seed=0):
    rng = random.Random(seed)
    rows = fixture_labels[:n]
    # half matching captions, half another image's caption: cosines on both sides of the typical range
    prompts = [r["caption"] if i % 2 == 0 else rng.choice(fixture_labels)["random_caption"] for i, r in enumerate(rows)]
    return [r["path"] for r in rows], prompts


def test_clipscore_equals_torchmetrics_per_sample_and_aggregate(toyclip_hf, fixture_labels):
    from torchmetrics.functional.multimodal import clip_score as tm_clip_score
    from torchmetrics.multimodal.clip_score import CLIPScore

    from benchmarks.torchmetrics_compat import torchmetrics_image

    model, processor = _tm_model_and_processor()
    paths, prompts = _pairs(fixture_labels, 60)
    tensors = [torchmetrics_image(p) for p in paths]
    ours = clip_score(toyclip_hf, paths, prompts, use_cache=False)
    assert len(paths) >= 50 and ours.summary()["failed"] == 0
    with torch.inference_mode():
        per = np.array([float(tm_clip_score(t, p, lambda: (model, processor))) for t, p in zip(tensors, prompts)])
        metric = CLIPScore(model_name_or_path=lambda: (model, processor))
        metric.update(tensors, prompts)
        agg = float(metric.compute())
    # torchmetrics' single-pair value is max(100*cos, 0)
    np.testing.assert_allclose(np.maximum(ours.clipscore_100, 0), per, atol=1e-4, rtol=0)
    assert abs(ours.summary()["clipscore_torchmetrics"] - agg) < 1e-4
    # the paper's CLIP-S is 2.5 * max(cos, 0), per sample
    np.testing.assert_allclose(ours.clip_s, 2.5 * np.maximum(ours.cosine, 0), atol=1e-12)
    np.testing.assert_allclose(ours.clip_s, 2.5 * per / 100, atol=1e-4 * 2.5 / 100 + 1e-6)


def test_clamping_point_differs(toyclip):
    cos = np.array([0.30, -0.10])
    assert paper_clipscore(cos).mean() == pytest.approx(0.375)
    assert torchmetrics_clipscore(cos) == pytest.approx(10.0)
    assert paper_clipscore(cos).mean() / 2.5 * 100 == pytest.approx(15.0)
    assert torchmetrics_clipscore([-0.2, -0.1]) == 0.0
    assert np.isnan(paper_clipscore([np.nan])[0])


def test_refclipscore_is_harmonic_mean(toyclip, fixture_labels):
    paths = [r["path"] for r in fixture_labels[:4]]
    prompts = [r["caption"] for r in fixture_labels[:4]]
    refs = [[r["random_caption"], "a photo"] for r in fixture_labels[:4]]
    s = clip_score(toyclip, paths, prompts, references=refs)
    a = s.clip_s
    tv = toyclip.encode_texts(prompts)
    b = np.array([float(np.max(toyclip.encode_texts(r) @ t)) for r, t in zip(refs, tv)])
    np.testing.assert_allclose(s.refclip_s, 2 * a * np.maximum(b, 0) / (a + np.maximum(b, 0)), atol=1e-5)
    assert refclipscore(np.array([0.0]), np.array([-0.3]))[0] == 0.0
    assert "refclip_s_mean" in s.summary()


def test_paper_prefix_changes_the_text(toyclip, fixture_labels):
    p = fixture_labels[0]["path"]
    plain = clip_score(toyclip, [p], ["a red circle"])
    pref = clip_score(toyclip, [p], ["a red circle"], paper_prefix=True)
    v = toyclip.encode_texts(["A photo depicts a red circle"])[0] @ toyclip.encode_images([p])[0]
    assert pref.cosine[0] == pytest.approx(v, abs=1e-5)
    assert pref.cosine[0] != pytest.approx(plain.cosine[0], abs=1e-6)


def test_long_prompt_policies(toyclip, fixture_labels):
    long = ", ".join(["a small red star on the left"] * 15)  # ~ 120 tokens
    assert toyclip.count_tokens(long) > 75
    tr = truncation_point(toyclip, long)
    assert tr is not None and tr.kept_tokens <= 75 and tr.dropped_text and long.startswith(tr.kept_text)
    assert toyclip.count_tokens(tr.kept_text) <= 75
    assert truncation_point(toyclip, "a red circle") is None
    with pytest.warns(LongPromptWarning, match="tokens"):
        te = encode_prompts(toyclip, [long, "a red circle"])
    assert te.truncations[0].index == 0 and len(te.truncations) == 1
    # truncating equals what the encoder does by itself
    np.testing.assert_allclose(te.vectors[0], toyclip.encode_texts([long])[0], atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch = encode_prompts(toyclip, [long], long_prompts="chunks")
    assert ch.truncations[0].chunks >= 2 and ch.truncations[0].dropped_text == ""
    assert np.linalg.norm(ch.vectors[0]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InvalidInputError, match="chunks"):
        encode_prompts(toyclip, [long], long_prompts="error")
    with pytest.raises(InvalidInputError, match="long_prompts"):
        encode_prompts(toyclip, ["x"], long_prompts="nope")
    s = clip_score(toyclip, [fixture_labels[0]["path"]], [long], long_prompts="truncate")
    assert s.rows()[0]["truncated"]["tokens"] > 75


def test_bad_inputs(toyclip, tmp_path, fixture_labels):
    p = fixture_labels[0]["path"]
    with pytest.raises(InvalidInputError, match="empty"):
        clip_score(toyclip, [p], [" "], on_error="raise")
    with pytest.raises(InvalidInputError, match="2 images but 3 prompts"):
        clip_score(toyclip, [p, p], ["a", "b", "c"])
    with pytest.raises(InvalidInputError, match="no images"):
        clip_score(toyclip, [], ["a"])
    with pytest.raises(ImageLoadError, match="no such file"):
        clip_score(toyclip, [str(tmp_path / "gone.png")], ["a"], on_error="raise")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    s = clip_score(toyclip, [p, str(bad), p, p], ["a red circle", "a red circle", " ", None])
    assert isinstance(s, Result) and all(isinstance(e, ItemError) for e in s.errors)
    assert [e.index for e in s.errors] == [1, 2, 3] and "not an image" in s.errors[0].reason
    assert s.errors[1].reason == "empty prompt" and "no prompt" in s.errors[2].reason
    assert np.isnan(s.cosine[1:]).all() and not np.isnan(s.cosine[0])
    assert s.summary()["failed"] == 3 and s.rows()[1]["error"]
    d = s.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d  # strict JSON: failed rows are null, not NaN
    assert d["errors"][0] == {"index": 1, "source": str(bad), "reason": s.errors[0].reason}


def test_manifests_and_folders(toyclip, tmp_path, fixture_labels):
    import shutil

    rows = fixture_labels[:3]
    for r in rows:
        shutil.copy(r["path"], tmp_path / r["file"])
    (tmp_path / "m.jsonl").write_text("".join(json.dumps({"image": r["file"], "prompt": r["caption"],
                                                          "refs": [r["random_caption"]]}) + "\n" for r in rows))
    m = read_manifest(tmp_path / "m.jsonl")
    assert m.images[0] == str(tmp_path / rows[0]["file"]) and m.references[0] == [rows[0]["random_caption"]]
    (tmp_path / "m.csv").write_text("path,caption\n" + "".join(f"{r['file']},\"{r['caption']}\"\n" for r in rows))
    m2 = read_manifest(tmp_path / "m.csv")
    assert m2.prompts == [r["caption"] for r in rows] and m2.references is None
    (tmp_path / "bad.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(InvalidInputError, match="image column"):
        read_manifest(tmp_path / "bad.csv")
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_manifest(tmp_path / "bad.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no images found"):
        folder_pairs(tmp_path / "empty")
    files, prompts = folder_pairs(tmp_path, "a red circle")
    assert len(files) == 3 and set(prompts) == {"a red circle"}
    files, prompts = folder_pairs(tmp_path)  # no sidecars: each pair is reported, the others still scored
    assert prompts == [None] * 3
    # one home for sidecar prompts: a.png.txt (full name), else a.txt (trainers' layout); empty -> None
    (tmp_path / rows[0]["file"]).with_suffix(".txt").write_text(rows[0]["caption"])
    (tmp_path / (rows[1]["file"] + ".txt")).write_text(rows[1]["caption"])
    (tmp_path / (rows[2]["file"] + ".txt")).write_text("  \n")
    files, prompts = folder_pairs(tmp_path)
    assert prompts == [rows[0]["caption"], rows[1]["caption"], None]
    s = clip_score(toyclip, files, prompts)
    assert [e.index for e in s.errors] == [2] and s.summary()["pairs"] == 2


def test_matching_captions_score_higher(toyclip, fixture_labels):
    rows = fixture_labels[:40]
    paths = [r["path"] for r in rows]
    from pathlib import Path

    r = similarity(toyclip, [Path(p) for p in paths], [r["caption"] for r in rows])
    m = np.array(r.cosine)
    assert not r.errors and m.shape == (40, 40)
    # each image's own caption beats the average caption, for most images
    assert (np.diag(m) > m.mean(axis=1)).mean() > 0.9
    sim = np.array(similarity(toyclip, [Path(p) for p in paths[:3]]).cosine)
    np.testing.assert_allclose(np.diag(sim), 1.0, atol=1e-5)


def test_rank_images_and_prompts(toyclip, fixture_labels, tmp_path):
    singles = [r for r in fixture_labels if r["kind"] == "single"]
    target = singles[0]
    o = target["objects"][0]
    others = [r for r in singles if r["objects"][0]["shape"] != o["shape"] and r["objects"][0]["colour"] != o["colour"]][:7]
    cands = [r["path"] for r in others] + [target["path"]]
    rk = rank(toyclip, target["caption"], cands, top_k=3)
    assert rk.items[0].item == target["path"] and len(rk.items) == 3 and rk.total == 8
    assert rk.items[0].cosine >= rk.items[1].cosine >= rk.items[2].cosine
    out = keep_winners(rk, tmp_path / "best", mode="copy")
    assert [p.name for p in out][0].startswith("001_") and out[0].read_bytes() == open(target["path"], "rb").read()
    links = keep_winners(rk, tmp_path / "links", mode="symlink")
    assert links[0].is_symlink()
    from pathlib import Path

    rp = rank(toyclip, Path(target["path"]), [others[0]["caption"], target["caption"], "a blue square"])
    assert rp.items[0].item == target["caption"] and rp.kind == "prompts"
    assert rank_prompts(toyclip, target["path"], [target["caption"]]).items[0].cosine == pytest.approx(rp.items[0].cosine)
    with pytest.raises(InvalidInputError, match="top_k must be >= 1"):
        rank_images(toyclip, "x", cands, top_k=0)
    bad = rank(toyclip, "x", [cands[0], str(tmp_path / "nope.png")])
    assert [(e.index, e.reason) for e in bad.errors] == [(1, "no such file")] and bad.total == 2
    with pytest.raises(InvalidInputError, match="no candidate"):
        rank_images(toyclip, "x", [])
    with pytest.raises(InvalidInputError, match="could be read"):
        rank_images(toyclip, "x", [str(tmp_path / "nope.png")])


def test_feedback_splits_with_the_shared_phrase_module(toyclip, fixture_labels):
    fb = keyword_feedback(toyclip, fixture_labels[0]["path"], "a woman with glasses, (white carpet:1.2), red and blue")
    assert [k.phrase for k in fb.keywords] == ["a woman", "glasses", "white carpet", "red", "blue"]
    assert fb.prompt_clip_s == pytest.approx(2.5 * max(fb.prompt_cosine, 0), abs=1e-6)
    assert fb.to_dict()["prompt_clip_s"] == fb.prompt_clip_s and fb.to_dict()["errors"] == []
    for bad in ("  ", ", ,"):
        with pytest.raises(InvalidInputError):
            keyword_feedback(toyclip, fixture_labels[0]["path"], bad)


def test_feedback_ranks_present_keyword_above_absent(toyclip, tw, fixture_labels):
    shapes, colours, styles = tw.WORLD["shapes"], list(tw.WORLD["colours"]), list(tw.WORLD["styles"])
    rng = random.Random(3)
    singles = [r for r in fixture_labels if r["kind"] == "single"][:30]
    wins = total = 0
    verdict_ok = 0
    for r in singles:
        o = r["objects"][0]
        for pool, true in ((colours, o["colour"]), (shapes, o["shape"]), (styles, r["style"])):
            wrong = rng.choice([x for x in pool if x != true])
            fb = keyword_feedback(toyclip, r["path"], f"{wrong}, {true}, a drawing")
            by = {k.phrase: k for k in fb.keywords}
            wins += by[true].presence > by[wrong].presence
            verdict_ok += by[true].verdict == "present" and by[wrong].verdict == "absent"
            total += 1
    assert wins / total >= 0.9, wins / total
    assert verdict_ok / total >= 0.75, verdict_ok / total
    # the three examples on a rendered scene
    img = tw.render(tw.sample_scene(11, shape="circle", colour="red", style="pixel art"), 64)
    fb = keyword_feedback(toyclip, img, "red, circle, pixel art, blue, square, watercolor")
    by = {k.phrase: k.presence for k in fb.keywords}
    for present, absent in (("red", "blue"), ("circle", "square"), ("pixel art", "watercolor")):
        assert by[present] > by[absent], (present, absent, by)


def test_feedback_unrequested_from_vocabulary(toyclip, tw):
    img = tw.render(tw.sample_scene(5, shape="star", colour="blue", style="neon", background="black"), 64)
    vocab = list(tw.WORLD["colours"]) + list(tw.WORLD["shapes"]) + list(tw.WORLD["styles"])
    fb = keyword_feedback(toyclip, img, "a star", vocabulary=vocab, unrequested_k=5)
    found = [u.phrase for u in fb.unrequested]
    assert "star" not in found  # the prompt already says it
    assert {"blue", "neon"} & set(found), found
    assert all(u.gain > 0 for u in fb.unrequested)
    with pytest.raises(InvalidInputError):
        keyword_feedback(toyclip, img, "")
