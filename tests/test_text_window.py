"""cliplens.text.window: counts, cuts and splits agree with the model's own tokenizer, cheaply."""
from __future__ import annotations

import random
import re

import pytest

from cliplens.text.window import DEFAULT_CONTEXT_LENGTH, Fit, budget_for, window

WORDS = ["a", "red", "circle", "hyper-realistic", "8k", "render's", "glow,", "(masterpiece:1.2)", "watercolour",
         "lighthouse", "on", "the", "blue", "square", "trending", "artstation", "日本の女性", "!!!"]


def brute_cut(count, text: str, limit: int) -> int | None:
    """Reference: grow the kept text one word at a time; char offset of the first dropped word."""
    if count(text) <= limit:
        return None
    words = list(re.finditer(r"\S+", text))
    k = 0
    while k < len(words) and count(text[: words[k].end()]) <= limit:
        k += 1
    return words[k].start() if k else None


def test_budget_is_derived_from_context_length():
    assert budget_for(DEFAULT_CONTEXT_LENGTH) == DEFAULT_CONTEXT_LENGTH - 2
    assert window(lambda t: t.split(), context_length=10).budget == 8


def test_encoder_window_uses_its_tokenizer(toyclip):
    w = window(toyclip)
    assert w.budget == toyclip.context_length - 2
    assert w.count("a red circle") == len(toyclip.token_ids("a red circle"))
    assert w.count("") == 0


@pytest.mark.parametrize("seed", range(6))
def test_fit_matches_word_by_word_reference(toyclip, seed):
    rng = random.Random(seed)
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 140)))
    w = window(toyclip)
    f = w.fit(text)
    assert f.tokens == w.count(text)
    if f.tokens <= w.budget:
        assert f.fits and f.dropped == "" and f.text == text
        return
    assert not f.fits
    ref = brute_cut(w.count, text, w.budget)
    assert f.cut_char == ref
    assert f.dropped == text[ref:]
    assert w.count(f.text) == f.kept_tokens <= w.budget
    # one more word would not fit: the cut is as late as possible
    nxt = re.match(r"\S+", f.dropped).group(0)
    assert w.count(f.text + " " + nxt) > w.budget
    assert (f.text + " " + f.dropped).split() == text.split()


def test_cut_is_logarithmic_in_tokenizer_calls(toyclip):
    calls = []

    def ids(t):
        calls.append(len(t))
        return toyclip.token_ids(t)

    w = window(ids, context_length=toyclip.context_length)
    text = "word " * 20000  # 100k characters
    f = w.fit(text)
    assert f.kept_tokens == w.budget
    assert len(calls) <= 20
    # only the first call (the total count) reads the whole text; the search reads bounded prefixes
    assert sorted(calls)[-2] < 5 * 80 * 2


def test_split_covers_every_word_in_windows_that_fit(toyclip):
    w = window(toyclip)
    text = " ".join(["lighthouse at dusk, oil painting"] * 60)
    pieces = w.split(text)
    assert len(pieces) > 1
    assert all(w.count(p) <= w.budget for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert w.split("") == [""]
    assert w.split("short one") == ["short one"]


def test_a_word_longer_than_the_window_is_cut_inside():
    w = window(lambda t: list(t.replace(" ", "")), context_length=7)  # one id per character, budget 5
    f = w.fit("abcdefghij klm")
    assert (f.text, f.dropped, f.cut_char, f.kept_tokens) == ("abcde", "fghij klm", 5, 5)
    assert w.split("abcdefghij klm") == ["abcde", "fghij", "klm"]


def test_zero_token_words_do_not_break_the_search():
    # a tokenizer that ignores some words: the bounded first guess must widen, not cut early
    w = window(lambda t: [x for x in t.split() if x != "~"], context_length=5)  # budget 3
    text = "~ ~ ~ ~ ~ ~ a b c d"
    f = w.fit(text)
    assert f.text.split()[-1] == "c" and f.dropped == "d"


def test_fit_to_dict_is_plain_json():
    f = window(lambda t: t.split(), context_length=4).fit("one two three")
    assert isinstance(f, Fit)
    assert f.to_dict() == {"text": "one two", "dropped": "three", "tokens": 3, "kept_tokens": 2, "budget": 2,
                           "cut_char": 8, "fits": False}


def test_bad_sources_and_budgets():
    with pytest.raises(TypeError):
        window(42)
    with pytest.raises(ValueError):
        window(lambda t: t.split()).fit("a b", budget=0)
