"""The search engine over real services: Milvus (milvus-lite, started by pymilvus) as the store,
and Ray Data (a local Ray instance) as the embedder."""
from __future__ import annotations

import numpy as np
import pytest

from cliplens.search import find_duplicates, open_index, search

from search_world import build_world

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def world(tw, tmp_path_factory):
    return build_world(tw, tmp_path_factory.mktemp("svc") / "world")


def test_milvus_backed_index_end_to_end(world, toyclip, tmp_path):
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True, store="milvus-lite:vectors.db")
    rep = idx.add([world["root"]], progress=False)
    assert rep.added == 41 and idx.store.count() == 41
    assert search(idx, "a red circle, pixel art", top_k=1).hits[0].path == str(world["red"])
    family = {str(world["star"]), *map(str, world["edits"])}
    assert {h.path for h in search(idx, world["star"], top_k=4).hits} == family
    groups = find_duplicates(idx, threshold=0.95, progress=False)
    assert len(groups) == 1 and groups[0].keep.path == str(world["star"])
    # an orphan vector (as a writer killed between the store write and the metadata commit leaves)
    idx.store.add(np.array([10_000_000]), toyclip.encode_texts(["a red circle"]))
    assert search(idx, "a red circle", top_k=3).hits[0].id != 10_000_000  # readers never show it
    with idx.writing():
        pass
    assert 10_000_000 not in idx.store.ids().tolist()
    assert idx.info()["store"] == "milvus-lite:vectors.db"
    idx.close()
    again = open_index(tmp_path / "idx", encoder=toyclip)
    assert len(again) == again.store.count() == 41
    again.close()


@pytest.mark.slow
def test_ray_data_embedding_matches_in_process(world, toyclip, tmp_path):
    from cliplens.search.ray_embed import ray_embedder

    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True)
    emb = ray_embedder("toyclip", toyclip.fingerprint, batch_size=16, workers=1, use_cache=False, device="cpu")
    rep = idx.add([world["root"]], progress=False, embedder=emb)
    assert rep.added == 41 and rep.embedded == 41 and not rep.errors
    entries = idx.entries()
    got = idx.vectors(np.array([e.id for e in entries]))
    want = toyclip.encode_images([e.path for e in entries])
    # same model, other process and batch shapes: equal up to float rounding of the kernels
    assert float(np.min(np.sum(got * want, axis=1))) > 0.999
    assert all(e.width > 0 and len(e.hash) == 32 for e in entries)
    assert search(idx, "a red circle, pixel art", top_k=1).hits[0].path == str(world["red"])
