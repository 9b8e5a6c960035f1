"""Property-based tests of the composer over random nested prompts (hypothesis).

Never crashes (only `InvalidInputError` when there is nothing to compose), never leaks JSON/code
syntax, CLIP text always within 75 real tokens or the cut keywords are named in a warning, and a
T5 text past its limit always comes with a warning saying where it is cut.
"""
from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cliplens.compose import TARGETS, clip_tokens, compose, lint_prompt, parse_prompt
from cliplens.errors import InvalidInputError

SYNTAX = set('{}[]"`<>|\\=')
KEYS = ["subject", "Character", "APPEARANCE", "hair", "Outfit", "wearing", "action", "Pose", "setting", "Background",
        "style", "Medium", "lighting", "camera", "mood", "colors", "negative", "details", "objects", "shape", "color",
        "size", "position", "count", "age", "seed", "width", "quality", "bg", "backgroundColor", "人物", "服装"]
WORDS = ["red", "circle", "young", "woman", "in", "her", "with", "a", "the", "and", "pixel", "art", "soft", "light",
         "on", "left", "日本", "女性", "猫", "{", "}", '"', "'", ":", ",", ";", "[", "]", "(x:1.2)", "BREAK", "AND", "\n", "。",
         "，", "watercolor", "sitting", "listening", "to", "music", "20's", "=", "<tag>", "two", "3"]

text = st.one_of(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join), st.text(max_size=30))
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12))
leaf = st.one_of(text, st.integers(-5, 50), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.booleans(), st.none())
nested = st.recursive(leaf, lambda children: st.one_of(st.lists(children, max_size=5),
                                                       st.dictionaries(keys, children, max_size=6)), max_leaves=25)
prompts = st.dictionaries(keys, nested, min_size=1, max_size=8)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(result) -> None:
    counter = clip_tokens()
    t = TARGETS[result.target]
    for name, value in [*result.fields.items(), ("negative", result.negative)]:
        leaked = SYNTAX & set(value)
        assert not leaked, (name, value)
        # a colon only ever appears inside (word:1.2) weights
        assert ":" not in re.sub(r"\([^()]*:[0-9.]+\)", "", value), (name, value)
        assert "  " not in value and not value.startswith((",", " ")), (name, value)
        if name not in t.clip_fields or result.chunks.get(name) is None:
            assert "BREAK" not in value and " AND " not in value, (name, value)
    for name in (*t.clip_fields, "negative"):
        value = result.fields.get(name, result.negative if name == "negative" else "")
        plain = re.sub(r"\(([^()]*):[0-9.]+\)", r"\1", value)
        assert counter.count(plain) <= 75, (name, value)
        for d in result.dropped.get(name, []):
            assert any(d in w for w in result.warnings), (d, result.warnings)
    if t.t5_field:
        tk = result.tokens[t.t5_field]
        if tk["tokens"] > tk["limit"]:
            assert any("cut off from" in w for w in result.warnings)


@SETTINGS
@given(prompts, st.sampled_from(["flux", "flux-schnell", "sd3", "sdxl", "sd15"]))
def test_random_nested_prompts(data, target):
    try:
        result = compose(data, target)
    except InvalidInputError as exc:
        assert "no text" in str(exc)
        return
    _check(result)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), nested, min_size=1, max_size=6))
def test_json_text_and_object_agree(data):
    """Composing the JSON text gives the same texts as composing the dict itself."""
    try:
        direct = compose(data, "sd3")
    except InvalidInputError:
        return
    via_text = compose(json.dumps(data, ensure_ascii=False), "sd3")
    assert via_text.fields == direct.fields and via_text.negative == direct.negative


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_never_crashes(raw):
    try:
        parse_prompt(raw)
        result = compose(raw, "flux")
    except InvalidInputError:
        return
    _check(result)
    report = lint_prompt(raw)
    assert all(i.code and i.message for i in report.issues)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["red circle", "blue star on the left", "navy background", "pixel art",
                                 "soft light", "watercolor painting", "two green hearts"]), min_size=10, max_size=60))
def test_chunking_keeps_every_keyword_within_windows(phrases):
    result = compose({"details": phrases}, "sd15", chunk=True)
    counter = clip_tokens()
    chunks = result.fields["text"].split(" BREAK ")
    assert all(counter.count(c) <= 75 for c in chunks)
    assert set(", ".join(chunks).split(", ")) == set(phrases)
