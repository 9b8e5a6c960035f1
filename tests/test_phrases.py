"""cliplens.text.phrases: one weight syntax (A1111), legacy forms with a warning, two phrase splitters."""
from __future__ import annotations

import warnings

import pytest

from cliplens.errors import InvalidInputError
from cliplens.text.phrases import (WeightedTerm, clean_phrase, extract_weights, format_weight, parse_term,
                                   parse_weights, plain_text, split_keywords, split_phrases, strip_emphasis)


def weights(text, **kw):
    return [(t.text, round(t.weight, 4)) for t in parse_weights(text, **kw)]


def test_a1111_weights():
    assert weights("(red:1.3)") == [("red", 1.3)]
    assert weights("(red)") == [("red", 1.1)]
    assert weights("((red))") == [("red", 1.21)]
    assert weights("[red]") == [("red", 0.9091)]
    assert weights("a ((b:1.5) c) d") == [("a ", 1.0), ("b", 1.65), (" c", 1.1), (" d", 1.0)]
    assert weights("(fruit:-1)") == [("fruit", -1.0)]
    assert weights(r"a \(literal\) b") == [("a (literal) b", 1.0)]
    assert weights("ratio 16:9") == [("ratio 16:9", 1.0)]
    assert weights("unclosed (sharp") == [("unclosed ", 1.0), ("sharp", 1.1)]


def test_no_warning_for_the_new_syntax():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_term("(golden retriever:2)", legacy="search") == WeightedTerm("golden retriever", 2.0)
        assert parse_term("fog", legacy="guide") == WeightedTerm("fog", 1.0)


def test_legacy_search_form_warns_and_parses():
    with pytest.warns(DeprecationWarning, match=r"\(golden retriever:2\)"):
        assert parse_term("2:golden retriever", legacy="search") == WeightedTerm("golden retriever", 2.0)
    # without the flag it is plain text
    assert parse_term("2:golden retriever") == WeightedTerm("2:golden retriever", 1.0)


def test_legacy_guide_form_warns_and_parses():
    with pytest.warns(DeprecationWarning, match=r"\(fog:0.5\)"):
        assert parse_term("fog:0.5", legacy="guide") == WeightedTerm("fog", 0.5)
    with pytest.warns(DeprecationWarning):
        assert parse_term("blurry:-0.5", legacy="guide").weight == -0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_term("poster 16:9", legacy="guide").text == "poster 16:9"  # a ratio, no weight
    with pytest.raises(ValueError):
        parse_weights("x", legacy="compose")


def test_a_term_takes_one_weight():
    with pytest.raises(InvalidInputError, match="one weight"):
        parse_term("a (red:1.3) dog")
    assert parse_term("  (a red dog:0.5) ").weight == 0.5


def test_plain_and_extract_and_format():
    assert plain_text("a (red:1.3) [circle]") == "a red circle"
    assert extract_weights("a (Red:1.3) circle") == ("a Red circle", {"red": 1.3})
    assert format_weight("fog", 0.5) == "(fog:0.5)" and format_weight("sky", 1) == "sky"
    for t in ("fog", "golden retriever"):
        for w in (0.5, 1.3, -1.0, 2.0):
            assert parse_term(format_weight(t, w)) == WeightedTerm(t, w)


def test_keyword_splitting_of_a_prompt():
    assert split_keywords("a woman with glasses, (white carpet:1.2), red and blue, red") == [
        "a woman", "glasses", "white carpet", "red", "blue"]
    assert strip_emphasis("((masterpiece:1.2))") == "masterpiece"
    with pytest.raises(InvalidInputError):
        split_keywords("   ")
    with pytest.raises(InvalidInputError):
        split_keywords(", ; ,")


def test_cleaning_messy_text():
    assert clean_phrase('  "black  ponytail hair." ') == "black ponytail hair"
    assert clean_phrase("{'hair': black}") == "hair, black"
    assert clean_phrase("girl's 20's (smile:1.2)") == "girl's 20's smile"
    assert split_phrases("red, blue；緑。 big") == ["red", "blue", "緑", "big"]
    assert split_phrases("version 1.5 model. next") == ["version 1.5 model", "next"]
