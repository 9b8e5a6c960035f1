"""Interrogator: mode semantics, 77-token fit, prefix-cache exactness, multi-encoder scoring, bad inputs, CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from cliplens import load_encoder
from cliplens.assets import assets_dir, fixtures_dir
from cliplens.cli import app
from cliplens.errors import CliplensError, ImageLoadError, InvalidInputError
from cliplens.interrogate import MODES, Interrogator, PrefixScorer, content_words, load_captioner
from cliplens.interrogate.scoring import MultiTable
from cliplens.vocab import load_vocabulary

EXAMPLE = assets_dir() / "examples" / "toyworld.png"
FIX224 = fixtures_dir(224)
runner = CliRunner()


@pytest.fixture(scope="module")
def it(toyclip):
    return Interrogator(toyclip, caption_model="toycaption", device="cpu", shortlist=128, flavor_pool=512)


@pytest.fixture(scope="module")
def images():
    return sorted(FIX224.glob("*.png"))[:2]


@pytest.fixture(scope="module")
def results(it, images):
    """Every mode on two 224-px fixtures (computed once, checked by several tests)."""
    return {m: it.interrogate_many(images, m, min_flavors=2, max_flavors=8) for m in MODES}


def fits_real_tokenizer(enc, text: str) -> bool:
    ids = enc.tokenize([text])[0].tolist()
    eot = enc.eot_id
    # the model's own tokenizer keeps the whole text: its content ids + end token are all inside 77
    return len(enc.token_ids(text)) + 2 <= enc.context_length and eot in ids


def test_every_mode_fits_77_tokens(results, toyclip):
    hf = load_encoder("toyclip-hf", device="cpu")  # transformers' CLIPTokenizer: a second real tokenizer
    for mode, rs in results.items():
        for r in rs:
            assert r.mode == mode
            assert fits_real_tokenizer(toyclip, r.prompt), (mode, r.prompt)
            assert fits_real_tokenizer(hf, r.prompt), (mode, r.prompt)
            assert r.tokens == toyclip.count_tokens(r.prompt)


def test_caption_mode_is_the_captioner_output(results, it, images):
    caps = it.caption_images(images)
    assert [r.prompt for r in results["caption"]] == caps
    assert all(c and c == r.caption for c, r in zip(caps, results["caption"]))


def test_classic_and_fast_start_with_caption(results):
    for mode in ("classic", "fast"):
        for r in results[mode]:
            assert r.prompt.startswith(r.caption + ", ")
            assert r.parts[0].table == "caption"
    order = ["medium", "artist", "trending", "movement"]
    for r in results["classic"]:
        tables = [p.table for p in r.parts]
        fixed = [t for t in tables[1:] if t in order]
        assert fixed == sorted(fixed, key=order.index) and "medium" in fixed
        assert len(tables) - 1 - len(fixed) <= 8  # max_flavors flavors at most
    toyclip = load_encoder("toyclip", device="cpu")
    r = results["classic"][0]
    img = toyclip.encode_images([r.image])[0]
    want = toyclip.encode_texts([p.text for p in r.parts]) @ img  # each part's score is its real cosine
    np.testing.assert_allclose([p.score for p in r.parts], want, atol=1e-5)


def test_best_is_best_of_its_candidates(results, toyclip):
    for r in results["best"]:
        assert set(r.candidates) == {"caption", "classic", "fast", "chain"}
        assert r.similarity == pytest.approx(max(r.candidates.values()), abs=1e-5)
        # the reported similarity is the real cosine of the returned prompt
        img = toyclip.encode_images([r.image])[0]
        assert float(toyclip.encode_texts([r.prompt])[0] @ img) == pytest.approx(r.similarity, abs=1e-5)


def test_negative_lowers_similarity(results, it, images, toyclip):
    for r, cap, best in zip(results["negative"], results["caption"], results["best"]):
        assert r.caption is None and r.prompt
        assert r.similarity < cap.similarity < best.similarity + 1e-6
        # its first phrases name what the image is not: below their table's typical score
        assert r.parts[0].table != "negative" and r.parts[0].confidence > 0


def test_style_has_no_caption_words(results):
    for r in results["style"]:
        assert r.prompt and r.caption
        assert not content_words(r.prompt) & content_words(r.caption), (r.prompt, r.caption)
        assert all(p.table in ("medium", "artist", "movement", "flavors", "lighting", "camera", "composition", "colour")
                   for p in r.parts)


def test_analyze_ranks_every_table(results, it):
    for r in results["analyze"]:
        assert set(r.analysis) == set(it.vocab.role_lists())
        for rows in r.analysis.values():
            assert len(rows) == 10
            scores = [s for _, s in rows]
            assert scores == sorted(scores, reverse=True)
        assert r.prompt == r.caption


def test_user_caption_skips_captioner(toyclip):
    it = Interrogator(toyclip, caption_model="/no/such/captioner", device="cpu")
    r = it.interrogate(EXAMPLE, mode="fast", caption="a red star", max_flavors=4)
    assert r.prompt.startswith("a red star, ") and r.caption == "a red star"


def test_caption_model_none_ranks_subjects(toyclip):
    it = Interrogator(toyclip, caption_model="none", device="cpu")
    r = it.interrogate(EXAMPLE, mode="caption")
    assert r.caption in load_vocabulary("subjects") and r.prompt == r.caption
    assert it.interrogate(EXAMPLE, mode="negative", max_flavors=4).prompt


def test_user_vocab_replaces_builtin(toyclip, tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("watercolor\npixel art\nneon glow\nstriped\n")
    it = Interrogator(toyclip, caption_model="none", vocab=[f], device="cpu")
    r = it.interrogate(EXAMPLE, mode="fast", caption="x")
    assert set(r.prompt.split(", ")[1:]) <= {"watercolor", "pixel art", "neon glow", "striped"}
    assert it.interrogate(EXAMPLE, mode="style", max_flavors=2).parts[0].table == "mine"


@pytest.mark.parametrize("spec", ["toyclip", "toyclip-hf", "toyclip-onnx"])
def test_prefix_scorer_matches_plain_encoding(spec):
    enc = load_encoder(spec, device="cpu")
    ps = PrefixScorer(enc, batch_size=7)
    assert ps.uses_cache == (spec != "toyclip-onnx")
    prompt = "a small red star on the left, navy background, pixel art"
    cands = ["neon", "a watercolor painting", "by Claude Monet", "high contrast", "8-bit", "x", "two blue rings"] * 2
    got = ps.encode_continuations(enc.token_ids(prompt + ","), [enc.token_ids(c) for c in cands]).cpu().numpy()
    want = enc.encode_texts([f"{prompt}, {c}" for c in cands])
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_prefix_scorer_tiny_backends(tiny_dirs):
    for spec in (f"openclip:{tiny_dirs['openclip']}", f"hf:{tiny_dirs['hf']}", f"hf:{tiny_dirs['siglip']}"):
        enc = load_encoder(spec, device="cpu")
        ps = PrefixScorer(enc)
        texts = [f"a cat, {c}" for c in ("dog", "a big red house", "z")]
        got = ps.encode_continuations(enc.token_ids("a cat,"), [enc.token_ids(c) for c in ("dog", "a big red house", "z")],
                                      texts=texts).cpu().numpy()
        np.testing.assert_allclose(got, enc.encode_texts(texts), atol=2e-5)


def test_two_encoder_scoring_is_weighted_mean(toyclip, tiny_encoder):
    """The sdxl path: several encoders, phrases ranked by the weighted sum of their cosines."""
    it = Interrogator([toyclip, tiny_encoder], caption_model="none", weights=[3, 1], device="cpu")
    r = it.interrogate(EXAMPLE, mode="best", caption="a red star", max_flavors=6)
    a = float(toyclip.encode_texts([r.prompt])[0] @ toyclip.encode_images([EXAMPLE])[0])
    b = float(tiny_encoder.encode_texts([r.prompt])[0] @ tiny_encoder.encode_images([EXAMPLE])[0])
    assert r.similarity == pytest.approx(0.75 * a + 0.25 * b, abs=1e-5)
    assert fits_real_tokenizer(toyclip, r.prompt) and fits_real_tokenizer(tiny_encoder, r.prompt)


def test_sdxl_preset_names_both_encoders():
    from cliplens.models import parse_spec

    spec = parse_spec("sdxl")
    it = Interrogator("sdxl", caption_model="none")
    assert it.model_spec == "sdxl" and spec.secondary == ("openclip:ViT-L-14/openai",)


def test_bad_inputs(it, tmp_path):
    with pytest.raises(InvalidInputError, match="mode"):
        it.interrogate(EXAMPLE, mode="nope")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ImageLoadError):
        it.interrogate(bad, mode="caption")
    with pytest.raises(ImageLoadError):
        it.interrogate(tmp_path / "missing.png", mode="caption")
    with pytest.raises(InvalidInputError, match="caption"):
        it.interrogate(EXAMPLE, mode="fast", caption="   ")
    with pytest.raises(InvalidInputError, match="max_flavors"):
        it.interrogate(EXAMPLE, mode="best", caption="x", max_flavors=0)
    with pytest.raises(InvalidInputError, match="captions"):
        it.interrogate_many([EXAMPLE, EXAMPLE], mode="fast", captions=["one"])
    with pytest.raises(CliplensError, match="caption model"):
        load_captioner("definitely-not-a-model", device="cpu")
    with pytest.raises(CliplensError):
        load_captioner(tmp_path, device="cpu")  # a folder without config.json
    with pytest.raises(InvalidInputError):
        Interrogator("toyclip", vocab=[tmp_path / "nope.txt"])


def test_long_caption_is_cut_to_fit(it):
    long = " ".join(["red star"] * 60)
    r = it.interrogate(EXAMPLE, mode="classic", caption=long)
    assert fits_real_tokenizer(it.encoders[0], r.prompt) and r.prompt.startswith("red star red star")


def test_huge_caption_is_cut_fast(it):
    """Issue 14.5: a 100k-character caption took 8+ minutes (cut one word at a time)."""
    import time

    huge = "a large red star on a white background " * 2600
    t = time.perf_counter()
    r = it.interrogate(EXAMPLE, mode="caption", caption=huge)
    assert time.perf_counter() - t < 20
    assert fits_real_tokenizer(it.encoders[0], r.prompt) and r.prompt.startswith("a large red star")


def test_cli_single_image_json_and_text():
    res = runner.invoke(app, ["interrogate", str(EXAMPLE), "--model", "toyclip", "--mode", "fast", "--json", "-q",
                              "--max-flavors", "6"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output[res.output.index("{"):])
    assert d["mode"] == "fast" and d["caption_model"] == "toycaption" and d["prompt"].startswith(d["caption"])
    res = runner.invoke(app, ["interrogate", str(EXAMPLE), "--model", "toyclip", "--mode", "analyze", "--top-k", "3",
                              "--caption", "a red star"])
    assert res.exit_code == 0 and "medium" in res.output and "a red star" in res.output


def test_cli_bad_mode_is_refused_by_the_parser():
    p = subprocess.run([sys.executable, "-m", "cliplens", "interrogate", str(EXAMPLE), "--model", "toyclip",
                        "--mode", "nope"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "--mode" in p.stderr and "Traceback" not in p.stderr
    assert "best" in p.stderr and "negative" in p.stderr  # the choices are listed
    h = runner.invoke(app, ["interrogate", "--help"])
    assert "best|classic|fast" in h.output.replace("\n", "").replace(" ", "").replace("│", "")


def test_chain_shortlist_first_step_exact_then_earlier_scores(toyclip):
    """shortlist < pool: the first step scores every continuation (so its pick equals the exact chain's);
    later steps score only `shortlist`, chosen by their exact scores at earlier steps."""
    from cliplens.interrogate.chain import Chainer

    it = Interrogator(toyclip, caption_model="none", vocab="builtin", device="cpu")
    table = it.flavor_table()
    feats = it.scorer.image_features([EXAMPLE])
    idx = np.arange(min(300, len(table)))
    kw = dict(min_count=4, max_count=4, dedupe=None)
    exact = Chainer(it.scorer, shortlist=10**6).run(feats, 0, table, idx, ["a red star"], **kw)
    short = Chainer(it.scorer, shortlist=16).run(feats, 0, table, idx, ["a red star"], **kw)
    assert short.trace[1] == pytest.approx(exact.trace[1])  # same first pick, same similarity
    assert short.steps == exact.steps == 4
    n_first = len(idx)  # upper bound of the first step's continuations
    assert short.scored <= n_first + 16 * (short.steps - 1) < exact.scored
    ch = Chainer(it.scorer, shortlist=2)
    cand = np.array([5, 7, 9, 11])
    assert ch._shortlist(cand, {5: 0.1, 7: 0.3}).tolist() == [5, 7, 9, 11]  # 9, 11 never scored: all
    assert ch._shortlist(cand, {5: 0.1, 7: 0.3, 9: 0.2, 11: -1.0}).tolist() == [7, 9]  # best two, pool order


def test_chain_batched_token_ids_match_one_by_one(toyclip):
    from cliplens.interrogate.chain import Chainer

    it = Interrogator(toyclip, caption_model="none", vocab="builtin", device="cpu")
    phrases = load_vocabulary("flavors")[:60] + ["café crème", "a &amp; b", "x " * 90, "<|endoftext|> trick"]
    ch = Chainer(it.scorer)
    ch._prefetch_ids(phrases)
    assert ch._batch_ok == [True]
    assert len(ch._ids[0]) >= 60
    for p in phrases:
        assert ch._token_ids(0, p) == toyclip.token_ids(p), p


def test_chain_wide_beam_is_exhaustive_search(toyclip):
    """With a beam as wide as the pool, a 2-step chain finds the best of every 1- and 2-phrase prompt."""
    from itertools import permutations

    from cliplens.interrogate.chain import Chainer

    phrases = ["neon glow", "watercolor", "pixel art", "high contrast", "soft focus", "vintage photo",
               "oil painting", "bokeh", "minimalism", "gold leaf", "charcoal sketch", "isometric"]
    it = Interrogator(toyclip, caption_model="none", vocab=[], device="cpu")
    table = MultiTable(it.scorer, phrases, "t", cache=False)
    feats = it.scorer.image_features([EXAMPLE])
    start = "a red star"
    wide = Chainer(it.scorer, beam=len(phrases)).run(feats, 0, table, np.arange(len(phrases)), [start],
                                                     min_count=2, max_count=2, dedupe=None)
    texts = [f"{start}, {a}" for a in phrases] + [f"{start}, {a}, {b}" for a, b in permutations(phrases, 2)]
    sims = it.scorer.text_similarity(feats, 0, texts)
    assert wide.similarity == pytest.approx(float(sims.max()), abs=1e-5)
    assert wide.prompt == texts[int(np.argmax(sims))]
    greedy = Chainer(it.scorer).run(feats, 0, table, np.arange(len(phrases)), [start], min_count=2, max_count=2,
                                    dedupe=None)
    assert greedy.similarity <= wide.similarity + 1e-6
    with pytest.raises(InvalidInputError, match="beam"):
        Interrogator(toyclip, caption_model="none", beam=0)
