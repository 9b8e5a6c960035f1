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
    assert kinds(parse_query(f'"2:golden retriever" + {img} - "fruit"')) == want
    assert kinds(parse_query(["2:golden retriever", "+", img, "-", "fruit"])) == want


def test_images_and_weights(img):
    assert kinds(parse_query([img, "a beach"])) == [("image", img, 1.0), ("text", "a beach", 1.0)]
    assert kinds(parse_query(["0.5:" + img, "-", "1.5:night"])) == [("image", img, 0.5), ("text", "night", -1.5)]
    assert kinds(parse_query(["-", "fruit"])) == [("text", "fruit", -1.0)]
    assert parse_query(["https://example.com/x.png"])[0].kind == "image"
    assert parse_query(["missing.jpg"])[0].kind == "text"  # not a file: read as text


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
