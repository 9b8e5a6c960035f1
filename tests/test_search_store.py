"""Store conformance: the embedded store (exact and HNSW) and Milvus (milvus-lite, started for
real by pymilvus) must behave the same behind the `VectorStore` interface."""
from __future__ import annotations

import numpy as np
import pytest

from cliplens.errors import InvalidInputError
from cliplens.search.store import VectorStore
from cliplens.search.stores import open_store

DIM = 32

BACKENDS = [
    pytest.param(("embedded", "exact"), id="embedded-exact"),
    pytest.param(("embedded", "hnsw"), id="embedded-hnsw"),
    pytest.param(("embedded", "ivf"), id="embedded-ivf"),
    pytest.param(("milvus-lite:vectors.db", "auto"), id="milvus-lite", marks=pytest.mark.services),
]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=BACKENDS)
def make_store(request, tmp_path):
    uri, ann = request.param
    opened: list[VectorStore] = []

    def make(sub: str = "s") -> VectorStore:
        store = open_store(uri, tmp_path / sub, DIM, name="conf_" + sub, ann=ann)
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


def test_add_get_count_ids(make_store):
    store = make_store()
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 50)
    ids = np.arange(100, 150, dtype=np.int64)
    store.add(ids, vecs)
    assert store.count() == 50
    assert np.array_equal(store.ids(), ids)
    got = store.get(np.array([100, 149, 999]))
    assert set(got) == {100, 149}
    np.testing.assert_allclose(got[149], vecs[-1], atol=1e-6)


def test_search_finds_itself_first_and_orders_scores(make_store):
    store = make_store()
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 200)
    store.add(np.arange(200), vecs)
    res = store.search(vecs[[3, 77]], k=5)
    assert [int(r.ids[0]) for r in res] == [3, 77]
    for r in res:
        assert len(r) == 5
        assert abs(float(r.scores[0]) - 1.0) < 1e-2
        assert np.all(np.diff(r.scores) <= 1e-6)
    exact = vecs @ vecs[3]
    np.testing.assert_array_equal(np.sort(res[0].ids), np.sort(np.argsort(-exact)[:5]))


def test_upsert_replaces_and_remove_deletes(make_store):
    store = make_store()
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 20)
    store.add(np.arange(20), vecs)
    store.search(vecs[:1], k=1)  # build the derived search state before changing things
    new = _unit(rng, 1)
    store.add(np.array([5]), new)
    assert store.count() == 20
    np.testing.assert_allclose(store.get(np.array([5]))[5], new[0], atol=1e-6)
    assert int(store.search(new, k=1)[0].ids[0]) == 5
    assert int(store.search(vecs[5:6], k=1)[0].ids[0]) != 5 or store.search(vecs[5:6], k=1)[0].scores[0] < 0.99
    store.remove(np.array([0, 1, 2, 12345]))
    assert store.count() == 17
    assert not set(store.search(vecs[:3], k=3)[0].ids.tolist()) & {0, 1, 2}


def test_allow_list_restricts_hits(make_store):
    store = make_store()
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 100)
    store.add(np.arange(100), vecs)
    allow = np.arange(50, 60)
    res = store.search(vecs[:2], k=4, allow=allow)
    for r in res:
        assert len(r) == 4 and set(r.ids.tolist()) <= set(allow.tolist())
    exact = vecs[50:60] @ vecs[0]
    assert int(res[0].ids[0]) == 50 + int(np.argmax(exact))
    assert len(store.search(vecs[:1], k=3, allow=np.array([], np.int64))[0]) == 0


def test_persists_across_reopen_and_empty_search(make_store):
    store = make_store("p")
    assert store.count() == 0
    assert len(store.search(np.ones((1, DIM), np.float32) / np.sqrt(DIM), k=3)[0]) == 0
    rng = np.random.default_rng(4)
    vecs = _unit(rng, 30)
    store.add(np.arange(30), vecs)
    store.flush()
    store.close()
    again = make_store("p")
    assert again.count() == 30
    assert int(again.search(vecs[7:8], k=1)[0].ids[0]) == 7


def test_bad_input_is_refused(make_store):
    store = make_store()
    with pytest.raises(InvalidInputError):
        store.add(np.arange(2), np.ones((2, DIM + 1), np.float32))
    with pytest.raises(InvalidInputError):
        store.add(np.arange(3), np.ones((2, DIM), np.float32))
    with pytest.raises(InvalidInputError):
        store.search(np.ones((1, DIM + 3), np.float32), k=1)
    with pytest.raises(InvalidInputError):
        store.search(np.ones((1, DIM), np.float32), k=0)


def test_unknown_store_uri(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown store"):
        open_store("postgres://x", tmp_path, DIM)
