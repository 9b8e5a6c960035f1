"""Query grammar, filters parsing, and the embedded store's automatic exact -> IVF switch."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cliplens.errors import InvalidInputError
from cliplens.search import Filters, parse_bytes, parse_date, parse_query


@pytest.fixture()
def img(tmp_path):
    p = tmp_path / "pool.jpg"
    Image.new("RGB", (8, 8), "blue").save(p)
    return str(p)


def kinds(terms):
    return [(t.kind, t.value, t.weight) for t in terms]


def test_words_join_into_one_text_and_operators_split():
    assert kinds(parse_query(["a", "red", "circle"])) == [("text", "a red circle", 1.0)]
    assert kinds(parse_query(["a dog", "-", "grass", "field"])) == [("text", "a dog", 1.0), ("text", "grass field", -1.0)]
    assert kinds(parse_query("a red circle, pixel art")) == [("text", "a red circle, pixel art", 1.0)]
    assert kinds(parse_query("a dog's toy")) == [("text", "a dog's toy", 1.0)]  # unbalanced quote: one text


def test_issue_example_as_one_string_and_as_shell_words(img):
    want = [("text", "golden retriever", 2.0), ("image", img, 1.0), ("text", "fruit", -1.0)]
    assert kinds(parse_query(f'"(golden retriever:2)" + @{img} - "fruit"')) == want
    assert kinds(parse_query(["(golden retriever:2)", "+", "@" + img, "-", "fruit"])) == want


def test_images_and_weights(img):
    assert kinds(parse_query(["@" + img, "a beach"])) == [("image", img, 1.0), ("text", "a beach", 1.0)]
    assert kinds(parse_query([f"(@{img}:0.5)", "-", "(night:1.5)"])) == [("image", img, 0.5), ("text", "night", -1.5)]
    assert kinds(parse_query(["-", "fruit"])) == [("text", "fruit", -1.0)]
    assert kinds(parse_query(["(sharp)", "+", "[blurry]"])) == [("text", "sharp", 1.1), ("text", "blurry", 0.9090909091)]
    # emphasis inside one term: the words count, the inner weights do not
    assert kinds(parse_query("a (red:1.3) dog")) == [("text", "a red dog", 1.0)]


def test_legacy_weights_still_work_with_a_deprecation_note(img):
    with pytest.warns(DeprecationWarning, match=r"\(golden retriever:2\)"):
        assert kinds(parse_query(["2:golden retriever"])) == [("text", "golden retriever", 2.0)]
    with pytest.warns(DeprecationWarning):
        assert kinds(parse_query(["0.5:@" + img])) == [("image", img, 0.5)]


def test_a_term_is_an_image_only_when_the_user_says_so(img):
    # the library and the server never look at the disk: a bare path is text
    assert kinds(parse_query([img])) == [("text", img, 1.0)]
    assert parse_query(["https://example.com/x.png"])[0].kind == "text"
    # the CLI's rule: a bare word naming an existing image file is an image; anything else stays text
    assert kinds(parse_query([img], detect_files=True)) == [("image", img, 1.0)]
    assert parse_query(["missing.jpg"], detect_files=True)[0].kind == "text"
    with pytest.warns(DeprecationWarning):
        assert kinds(parse_query(["0.5:" + img], detect_files=True)) == [("image", img, 0.5)]


@pytest.mark.parametrize("n", [255, 256, 300, 5000])
def test_long_texts_are_text_never_a_path_lookup(n):
    """Issue 14 item 3: a 256+ byte text used to crash the path check (ENAMETOOLONG)."""
    long = ("a very long stable diffusion prompt, " * 200)[:n]
    for detect in (False, True):
        t = parse_query(long, detect_files=detect)
        assert [x.kind for x in t] == ["text"] and t[0].value == long.strip()
        t = parse_query(["x" * n, "+", "@" + "y" * n], detect_files=detect)
        assert [x.kind for x in t] == ["text", "image"]
    assert parse_query(["bad\x00name"], detect_files=True)[0].kind == "text"


def test_terms_hold_in_memory_images():
    from cliplens.search import Term

    t = Term.image(b"\x89PNG...", name="upload.png", weight=-0.5)
    assert (t.kind, t.value, t.weight) == ("image", "upload.png", -0.5) and t.source.startswith(b"\x89PNG")
    assert t.to_dict() == {"kind": "image", "value": "upload.png", "weight": -0.5}


@pytest.mark.parametrize("bad", [[], ["  "], ["a", "+"], ["a", "+", "-", "b"], ["+"]])
def test_bad_queries(bad):
    with pytest.raises(InvalidInputError):
        parse_query(bad)


def test_sizes_dates_and_filter_sql(tmp_path):
    assert parse_bytes("250KB") == 250_000 and parse_bytes("2MiB") == 2 * 1024**2 and parse_bytes("17") == 17
    with pytest.raises(InvalidInputError):
        parse_bytes("big")
    assert parse_date("2024-05-02") - parse_date("2024-05-01") == 86400
    with pytest.raises(InvalidInputError):
        parse_date("yesterday")
    assert not Filters().active() and Filters().to_sql() == ("1", [])
    sql, args = Filters(folders=[tmp_path], min_width=10).to_sql()
    assert "width >= ?" in sql and args[0] == str(tmp_path.resolve()) and args[-1] == 10


def test_auto_store_switches_from_exact_to_ivf(tmp_path, monkeypatch):
    import cliplens.search.embedded as emb

    monkeypatch.setattr(emb, "EXACT_LIMIT", 150)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = emb.EmbeddedStore(tmp_path, 16)
    store.add(np.arange(100), x[:100])
    assert int(store.search(x[5:6], 1)[0].ids[0]) == 5 and store._ann is None  # exact
    store.add(np.arange(100, 400), x[100:])
    assert int(store.search(x[300:301], 1)[0].ids[0]) == 300 and store._ann_kind == "ivf"
    store.flush()
    assert (tmp_path / "ann.ivf").exists()
    store.remove(np.arange(0, 300))
    store.flush()  # below the limit again: back to exact, the derived file goes
    assert not (tmp_path / "ann.ivf").exists()
    assert int(store.search(x[350:351], 1)[0].ids[0]) == 350
