"""Prompt composer: parsing, slots, T5 sentences, CLIP keywords, real token counts, targets, lint, CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cliplens.compose import clip_tokens, compose, lint_prompt, parse_prompt, structure, t5_tokens
from cliplens.compose.keywords import phrase_keywords
from cliplens.errors import InvalidInputError

EXAMPLE = """{"Character": "japanese young woman in her 20's.",
 "Appearance": {"hair": "black ponytail hair", "wearing": "black framed glasses, white wireless headphone"},
 "Action": "listening to music, sitting on white carpet",
 "style": "professional real photo"}"""
VALUES = ["japanese young woman", "20's", "black ponytail hair", "black framed glasses", "white wireless headphones",
          "listening", "music", "sitting on white carpet", "professional real photo"]
SYNTAX = set('{}[]"`<>|\\=')
VERB_RE = re.compile(r"\b(is|are|has|have|shows|includes|features|sits|holds|wears|\w+ing)\b")


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def assert_grammatical(t5: str) -> None:
    assert t5 and t5 == t5.strip()
    for s in sentences(t5):
        assert s[0].isupper(), s
        assert s.endswith("."), s
        assert VERB_RE.search(s), f"no verb in {s!r}"
    assert ".." not in t5 and ",," not in t5 and ", ," not in t5 and ". ." not in t5
    words = t5.lower().split()
    assert all(a != b for a, b in zip(words, words[1:])), "doubled word"


# --------------------------------------------------------------------------------------------- example
@pytest.fixture(scope="module")
def example():
    return compose(EXAMPLE, "flux")


def test_example_every_value_appears(example):
    clip, t5 = example.fields["clip_l"], example.fields["t5xxl"]
    for v in VALUES:
        bare = re.sub(r"\b(a|an) ", "", t5)  # T5 text adds articles: "sitting on a white carpet"
        assert v in bare or v.replace("ing", "ing to") in bare, (v, t5)
        assert all(w in clip for w in v.split()), (v, clip)


def test_example_no_syntax_no_key_names(example):
    for text in example.fields.values():
        assert not SYNTAX & set(text), text
        assert ":" not in text
        for key in ("character", "appearance", "action", "style"):
            assert key not in text.lower(), (key, text)


def test_example_clip_within_budget_per_real_tokenizer(example):
    from open_clip.tokenizer import SimpleTokenizer  # OpenAI's own BPE, independent of our wrapper

    clip = example.fields["clip_l"]
    n = len(SimpleTokenizer().encode(clip))
    assert n <= 75
    assert example.tokens["clip_l"]["tokens"] == n
    assert example.tokens["clip_l"]["exact"] is True


def test_example_t5_grammar(example):
    t5 = example.fields["t5xxl"]
    assert_grammatical(t5)
    ss = sentences(t5)
    assert ss[0].startswith("A japanese young woman")  # subject first, correct article
    assert ss[1].startswith("She ")                     # actions with a pronoun for a person
    assert "photo" in ss[-1]                            # style closes
    assert len(ss) == 3


def test_example_keywords_drop_filler(example):
    kws = [k.strip() for k in example.fields["clip_l"].split(",")]
    assert kws[0] == "japanese young woman"          # the subject first
    assert "20's" in kws and "listening music" in kws
    assert not any(k.split()[0] in ("a", "an", "the", "with", "wearing", "her") for k in kws)
    assert len(kws) == len({k.lower() for k in kws})


# --------------------------------------------------------------------------------------------- parsing
def test_parse_formats():
    assert parse_prompt('{"a": 1}') == ({"a": 1}, "json")
    assert parse_prompt("{'a': ('x', 'y')}") == ({"a": ("x", "y")}, "python")
    assert parse_prompt("subject: cat\nstyle:\n  - watercolor\n  - soft")[1] == "yaml"
    assert parse_prompt("  a cat on a sofa ") == ("a cat on a sofa", "text")
    assert parse_prompt(b'\xef\xbb\xbf{"a": "b"}')[0] == {"a": "b"}
    with pytest.raises(InvalidInputError, match="empty"):
        parse_prompt("   ")
    with pytest.raises(InvalidInputError, match="cannot be parsed"):
        parse_prompt('{"a": "b", ')
    with pytest.raises(InvalidInputError, match="UTF-8"):
        parse_prompt(b"\xff\xfe\xfa")


def test_parse_never_evaluates_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = "{'a': open(%r, 'w').write('x')}" % str(marker)
    try:
        data, _ = parse_prompt(payload)
    except InvalidInputError:
        data = None
    assert not marker.exists()
    if data is not None:  # YAML may read it as a plain string: still only text
        assert all(isinstance(v, str) for v in data.values())
    with pytest.raises(InvalidInputError):
        parse_prompt("__import__('os')", "python")


def test_key_synonyms_any_case_and_nesting():
    s = structure({"MAIN_CHARACTER": "old man", "outfitDetails": ["red scarf", {"hat": "straw"}],
                   "Pose": "leaning on a cane", "BACKDROP": "harbour at dawn", "Medium": "oil painting",
                   "Lighting": "soft", "Shot": "wide", "Vibe": "calm", "Negative_Prompt": ["blurry", "text"],
                   "seed": 7, "Hair": {"Color": "white"}})
    got = {(i.slot, i.text) for i in s.items}
    assert ("subject", "old man") in got
    assert ("outfit", "red scarf") in got and ("outfit", "straw hat") in got
    assert ("action", "leaning on a cane") in got
    assert ("setting", "harbour at dawn") in got
    assert ("style", "oil painting") in got
    assert ("lighting", "soft lighting") in got and ("camera", "wide shot") in got
    assert ("mood", "calm") in got and ("appearance", "white hair") in got
    assert {i.text for i in s.slot("negative")} == {"blurry", "text"}
    assert s.params == {"seed": 7}


def test_object_dicts_become_noun_phrases():
    r = compose({"objects": [{"shape": "cross", "colour": "red", "count": 2},
                             {"type": "star", "color": "blue", "size": "small", "position": "top left"}],
                 "background": "navy", "style": "neon"}, "sd15")
    assert r.fields["text"] == "two red crosses, small blue star at the top left, navy background, neon"


# --------------------------------------------------------------------------------------------- sentences
@pytest.mark.parametrize("data, first", [
    ({"subject": "owl", "action": "flying over a lake"}, "An owl is flying over a lake."),
    ({"subject": "two cats", "action": "sleeping"}, "Two cats are sleeping."),
    ({"subject": "Mona Lisa", "style": "pencil sketch"}, "There is Mona Lisa."),
    ({"subject": "knight", "appearance": {"age": 30, "eyes": "blue"}, "outfit": ["silver armor", "red cape"]},
     "A knight, 30 years old, with blue eyes, is wearing silver armor and a red cape."),
    ({"subject": "man", "outfit": "grey suit", "action": ["reading a newspaper", "drinking coffee"]},
     "A man is wearing a grey suit."),
])
def test_sentences(data, first):
    t5 = compose(data, "flux").fields["t5xxl"]
    assert sentences(t5)[0] == first
    assert_grammatical(t5)


def test_sentence_pronouns_and_closing_style():
    t5 = compose({"subject": "man", "outfit": "grey suit", "action": ["reading a newspaper", "drinking coffee"],
                  "setting": "busy cafe", "lighting": "warm window light", "camera": "close-up",
                  "mood": "quiet", "style": ["film photo", "grainy"]}, "flux").fields["t5xxl"]
    ss = sentences(t5)
    assert ss[1] == "He is reading a newspaper and drinking coffee."
    assert "The scene is set in a busy cafe." in ss
    assert ss[-1] == "This is a film photo, in grainy style."
    t5 = compose({"subject": "red fox", "outfit": "tiny scarf", "action": "jumping"}, "flux").fields["t5xxl"]
    assert sentences(t5)[1] == "The fox is jumping."


def test_cjk_input_keeps_working():
    r = compose({"人物": "日本の若い女性", "服装": "黒い眼鏡、白いヘッドホン", "動作": "音楽を聴いている", "スタイル": "写真"}, "flux")
    t5, clip = r.fields["t5xxl"], r.fields["clip_l"]
    assert not re.search(r"\b(A|An|a|an|the|The)\b", t5)
    assert "黒い眼鏡" in clip.split(", ") and "白いヘッドホン" in clip.split(", ")  # full-width separator
    assert t5.endswith("。")
    assert r.tokens["clip_l"]["tokens"] <= 75
    # mixed: English template around CJK subject: no article before CJK
    t5 = compose({"subject": "猫", "setting": "garden"}, "flux").fields["t5xxl"]
    assert "a 猫" not in t5 and "猫" in t5


def test_plain_text_input():
    r = compose("a cozy cabin in the woods at dusk, snow, warm light from windows", "flux")
    assert r.source_format == "text"
    assert r.fields["t5xxl"].startswith("A cozy cabin") and r.fields["t5xxl"].endswith(".")
    assert r.fields["clip_l"].split(", ")[0] == "cozy cabin in the woods at dusk"


# --------------------------------------------------------------------------------------------- keywords
def test_phrase_keywords():
    assert phrase_keywords("a woman with a red umbrella wearing a yellow raincoat") == \
        ["woman", "red umbrella", "yellow raincoat"]
    assert phrase_keywords("black and white photo") == ["black and white photo"]
    assert phrase_keywords("the the big big dog") == ["big dog"]


def test_budget_drops_least_visual_and_reports():
    data = {"subject": "lighthouse on a cliff", "style": "oil painting",
            "mood": [f"mood word{i} feeling" for i in range(30)], "details": [f"tiny detail {i}" for i in range(20)]}
    r = compose(data, "sd15")
    counter = clip_tokens()
    assert counter.count(r.fields["text"]) <= 75
    assert r.fields["text"].startswith("lighthouse on a cliff")
    assert "oil painting" in r.fields["text"]
    dropped = r.dropped["text"]
    assert dropped and all(d not in r.fields["text"].split(", ") for d in dropped)
    assert any("dropped" in w and dropped[0] in w for w in r.warnings)
    # everything either kept or reported
    kept = set(r.fields["text"].split(", "))
    assert kept | set(dropped) >= {f"mood word{i} feeling" for i in range(30)} - kept | kept


def test_break_chunks_keep_everything():
    data = {"subject": "castle", "details": [f"banner number {i}" for i in range(40)]}
    r = compose(data, "sd15", chunk=True)
    text = r.fields["text"]
    assert " BREAK " in text
    counter = clip_tokens()
    assert all(counter.count(c) <= 75 for c in text.split(" BREAK "))
    assert all(f"banner number {i}" in text for i in range(40))
    c = compose(data, "sd15", chunk=True, syntax="comfyui")
    assert "BREAK" not in c.fields["text"] and len(c.chunks["text"]) >= 2


def test_weights_emphasis_and_inline():
    r = compose({"subject": "a (red:1.3) fox", "style": "watercolor"}, "sd15", emphasis={"style": 1.2})
    assert r.fields["text"] == "(red:1.3) fox, (watercolor:1.2)"
    assert r.tokens["text"]["tokens"] == clip_tokens().count("red fox, watercolor")


# --------------------------------------------------------------------------------------------- tokens
@pytest.mark.parametrize("text", ["japanese young woman, 20's, (black:1.2)", "日本の若い女性，黒い眼鏡",
                                  "A   CAT &amp; dog!!", "한국어 텍스트、テスト！", "emoji 🐱🎨 ok"])
def test_clip_counts_match_openai_tokenizer(text):
    from open_clip.tokenizer import SimpleTokenizer

    assert clip_tokens().count(text) == len(SimpleTokenizer().encode(text))


def test_clip_cut_is_exact():
    counter = clip_tokens()
    text = ", ".join(f"word{i} thing" for i in range(40))
    kept, over = counter.cut(text, 75)
    assert counter.count(kept) <= 75 < counter.count(kept + " " + over.split()[0])
    assert (kept + " " + over).replace(" ", "") == text.replace(" ", "")


def test_clip_counter_from_encoder(tiny_encoder):
    c = clip_tokens(tiny_encoder)
    assert c.count("a red circle") == len(tiny_encoder.token_ids("a red circle"))
    kept, over = c.cut(" ".join(["red"] * 100), 75)
    assert c.count(kept) == 75 and over


def test_t5_estimate_is_labelled():
    t5 = t5_tokens()
    if not t5.exact:  # no T5 tokenizer in this machine's HF cache
        assert t5.source.startswith("estimate")
        r = compose(EXAMPLE, "flux")
        assert r.tokens["t5xxl"]["exact"] is False and "estimate" in r.to_text()


@pytest.fixture(scope="module")
def spiece(tmp_path_factory) -> Path:
    """A real (tiny) sentencepiece model trained here, standing in for T5's spiece.model."""
    import sentencepiece as spm

    d = tmp_path_factory.mktemp("spm")
    corpus = d / "corpus.txt"
    corpus.write_text("\n".join(f"a photo of a {c} {s} on a {b} background, {st}" for c in
                                ("red", "blue", "green", "yellow") for s in ("circle", "star", "heart", "ring")
                                for b in ("white", "navy") for st in ("pixel art", "watercolor painting")))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(d / "spiece"), vocab_size=60,
                                   model_type="unigram", hard_vocab_limit=False, minloglevel=2)
    return d / "spiece.model"


def test_t5_real_tokenizer_from_path_and_env(spiece, monkeypatch):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spiece))
    text = "There is a red circle. It is set against a navy background."
    t5 = t5_tokens(spiece)
    assert t5.exact and "sentencepiece" in t5.source
    assert t5.count(text) == len(sp.encode(text)) + 1  # + </s>
    monkeypatch.setenv("CLIPLENS_T5_TOKENIZER", str(spiece))
    r = compose({"subject": "red circle", "background": "navy"}, "flux")
    assert r.tokens["t5xxl"]["exact"] is True
    assert r.tokens["t5xxl"]["tokens"] == len(sp.encode(r.fields["t5xxl"])) + 1


def test_t5_over_limit_warns_with_cut_point(spiece):
    data = {"subject": "market square", "details": [f"stall number {i} selling fruit" for i in range(120)]}
    r = compose(data, "flux-schnell", t5_tokenizer=spiece)
    assert r.tokens["t5xxl"]["tokens"] > 256
    warn = next(w for w in r.warnings if w.startswith("t5xxl"))
    kept, over = t5_tokens(spiece).cut(r.fields["t5xxl"], 256)
    assert "cut off from" in warn and over[:40] in warn
    assert t5_tokens(spiece).count(kept) <= 256


# --------------------------------------------------------------------------------------------- targets
def test_targets_fields_and_comfyui_inputs():
    data = json.loads(EXAMPLE) | {"negative": "blurry, lowres", "width": 832, "height": 1216}
    flux = compose(data, "flux")
    assert set(flux.fields) == {"clip_l", "t5xxl"} and flux.tokens["t5xxl"]["limit"] == 512
    assert any("ignores negative" in w for w in flux.warnings)
    assert compose(data, "flux-schnell").tokens["t5xxl"]["limit"] == 256
    nodes = flux.to_comfyui("11")
    pos = nodes["cliplens_positive"]
    assert pos["class_type"] == "CLIPTextEncodeFlux"
    assert set(pos["inputs"]) == {"clip", "clip_l", "t5xxl", "guidance"} and pos["inputs"]["clip"] == ["11", 0]

    sd3 = compose(data, "sd3").to_comfyui()
    assert sd3["cliplens_positive"]["class_type"] == "CLIPTextEncodeSD3"
    assert set(sd3["cliplens_positive"]["inputs"]) == {"clip", "clip_l", "clip_g", "t5xxl", "empty_padding"}
    assert sd3["cliplens_negative"]["inputs"]["clip_l"] == "blurry, lowres"

    sdxl = compose(data, "sdxl")
    assert set(sdxl.fields) == {"text_g", "text_l"}
    n = sdxl.to_comfyui()["cliplens_positive"]
    assert n["class_type"] == "CLIPTextEncodeSDXL"
    assert set(n["inputs"]) == {"clip", "width", "height", "crop_w", "crop_h", "target_width", "target_height",
                                "text_g", "text_l"}
    assert (n["inputs"]["width"], n["inputs"]["height"]) == (832, 1216)
    # issue 15: both SDXL encoders get every keyword (text_l used to get 11/75 tokens, style only)
    assert n["inputs"]["text_l"] == n["inputs"]["text_g"]
    for word in ("glasses", "ponytail", "headphone", "carpet", "photo"):
        assert word in n["inputs"]["text_l"], word

    sd15 = compose(data, "sd15")
    assert set(sd15.fields) == {"text"} and sd15.negative == "blurry, lowres"
    assert sd15.to_comfyui()["cliplens_positive"]["class_type"] == "CLIPTextEncode"
    with pytest.raises(InvalidInputError, match="unknown target"):
        compose(data, "dalle")


def test_nothing_to_compose_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="no text"):
        compose({"seed": 3, "negative": "blurry"}, "flux")


# --------------------------------------------------------------------------------------------- lint
def test_lint_findings():
    assert lint_prompt("red fox, snowy forest, watercolor painting").ok
    codes = lambda t: {i.code for i in lint_prompt(t).issues}  # noqa: E731
    assert "json-syntax" in codes('{"subject": "cat", "style": "pixel art"}')
    assert "json-syntax" in codes("subject: 'cat', {style}")
    assert "duplicate-terms" in codes("cat, dog, cat")
    assert "duplicate-terms" in codes("a red red circle")
    assert "sentence-style" in codes("A woman is sitting on the sofa in the living room while the sun is shining.")
    assert "unbalanced-brackets" in codes("(red:1.2 circle")
    assert lint_prompt("(red:1.2) circle BREAK watercolor").ok


def test_lint_long_prompt_shows_words_past_75():
    words = [f"item{i}" for i in range(60)]
    text = ", ".join(words)
    rep = lint_prompt(text)
    issue = next(i for i in rep.issues if i.code == "clip-too-long")
    counter = clip_tokens()
    cut = text[: len(text) - len(issue.detail)].rstrip()
    assert counter.count(cut) <= 75 < counter.count(text)
    assert issue.detail.startswith(text[len(cut):].strip()[:5])
    assert "item59" in issue.detail and "item0," not in issue.detail


# --------------------------------------------------------------------------------------------- CLI
@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()


def test_cli_compose_formats(runner, tmp_path):
    from cliplens.cli import app

    f = tmp_path / "p.json"
    f.write_text(EXAMPLE)
    res = runner.invoke(app, ["prompt", "compose", str(f), "--target", "flux", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["fields"]["clip_l"].startswith("japanese young woman") and data["target"] == "flux"
    res = runner.invoke(app, ["prompt", "compose", "-", "--target", "sd3", "--format", "comfyui"], input=EXAMPLE)
    assert res.exit_code == 0
    assert json.loads(res.stdout)["cliplens_positive"]["class_type"] == "CLIPTextEncodeSD3"
    y = tmp_path / "p.yaml"
    y.write_text("subject: lighthouse\nstyle: [oil painting]\nnegative: blurry\n")
    res = runner.invoke(app, ["prompt", "compose", str(y), "-t", "sd15", "-w", "subject=1.2"])
    assert res.exit_code == 0 and "(lighthouse:1.2), oil painting" in res.stdout and "[negative]" in res.stdout


def test_cli_errors(runner):
    """Bad input: one line naming the flag, exit code 2 (no traceback)."""
    from cliplens.cli import app

    res = runner.invoke(app, ["prompt", "compose", "missing.json"])
    assert res.exit_code == 2 and "not found" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["prompt", "compose", '{"a": "b"}', "--format", "xml"])
    assert res.exit_code == 2 and "xml" in res.output
    res = runner.invoke(app, ["prompt", "compose", '{"a": "b"}', "-w", "subject"])
    assert res.exit_code == 2 and "--weight" in res.output


def test_cli_lint(runner):
    from cliplens.cli import app

    res = runner.invoke(app, ["prompt", "lint", "red fox, watercolor"])
    assert res.exit_code == 0 and "ok" in res.stdout
    res = runner.invoke(app, ["prompt", "lint", '{"subject": "cat"}, cat, cat', "--json"])
    assert res.exit_code == 1
    assert {i["code"] for i in json.loads(res.stdout)["issues"]} >= {"json-syntax", "duplicate-terms"}
