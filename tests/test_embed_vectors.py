"""cliplens.embed.image_vectors: any mix of inputs -> one vector per input, errors per item, one read per file."""
from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from cliplens.embed import embed_images, image_vectors, iter_embeddings
from cliplens.errors import ImageLoadError, InvalidInputError
from cliplens.images import content_hash, find_images
from cliplens.results import ItemError

from conftest import ASSETS_FIXTURES_64


@pytest.fixture(scope="module")
def pngs():
    return sorted(ASSETS_FIXTURES_64.glob("*.png"))[:3]


def test_mixed_inputs_same_vector_for_the_same_picture(tiny_encoder, pngs, tmp_path):
    p = pngs[0]
    data = p.read_bytes()
    pil = Image.open(io.BytesIO(data)).convert("RGB")
    arr = np.asarray(pil)
    res = image_vectors(tiny_encoder, [str(p), data, pil, arr, p], use_cache=False)
    assert res.indices == [0, 1, 2, 3, 4] and res.errors == [] and res.count == 5
    v = res.vectors
    assert np.allclose(v, v[0], atol=1e-5)
    assert res.hashes[0] == res.hashes[1] == content_hash(data) and res.hashes[2] == ""
    assert res.computed == 4, "the path named twice is read and embedded once (path, bytes, PIL, array)"


def test_bad_items_are_item_errors_and_the_rest_goes_on(tiny_encoder, pngs, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    folder = tmp_path / "dir"
    folder.mkdir()
    items = [str(pngs[0]), str(tmp_path / "missing.png"), b"not an image", str(empty), str(folder), str(pngs[1])]
    res = image_vectors(tiny_encoder, items, use_cache=False)
    assert res.indices == [0, 5]
    assert [e.index for e in res.errors] == [1, 2, 3, 4]
    assert all(isinstance(e, ItemError) for e in res.errors)
    reasons = {e.index: e.reason for e in res.errors}
    assert reasons[1] == "no such file" and "not an image" in reasons[2] and reasons[3] == "empty file"
    assert "folder" in reasons[4]
    aligned = res.aligned()
    assert aligned.shape == (6, tiny_encoder.embed_dim) and np.isnan(aligned[1:5]).all()
    assert res.ok.tolist() == [True, False, False, False, False, True]
    assert res.to_dict()["errors"][0] == {"index": 1, "source": str(tmp_path / "missing.png"), "reason": "no such file"}
    with pytest.raises(ImageLoadError, match="missing.png"):
        image_vectors(tiny_encoder, items, use_cache=False, on_error="raise")
    with pytest.raises(InvalidInputError, match="on_error"):
        image_vectors(tiny_encoder, items, on_error="ignore")


def test_bytes_go_through_the_cache(tiny_encoder, pngs, tmp_path):
    data = [p.read_bytes() for p in pngs]
    first = image_vectors(tiny_encoder, data)
    second = image_vectors(tiny_encoder, data)
    assert second.cached == len(data) and second.computed == 0
    np.testing.assert_allclose(first.vectors, second.vectors, atol=1e-6)


def test_iter_embeddings_reads_each_file_once_and_yields_hashes(tiny_encoder, pngs, monkeypatch):
    from cliplens.embed import decode

    reads = []
    real = decode.read_and_hash
    monkeypatch.setattr(decode, "read_and_hash", lambda p: reads.append(p) or real(p))
    from cliplens.embed import pipeline

    monkeypatch.setattr(pipeline, "read_and_hash", decode.read_and_hash)
    batches = list(iter_embeddings(tiny_encoder, list(pngs), batch_size=2, use_cache=False))
    assert [b.indices for b in batches] == [[0, 1], [2]]
    assert sorted(map(str, reads)) == sorted(map(str, pngs))
    assert batches[0].hashes[0] == content_hash(pngs[0].read_bytes())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_files_in_folders_are_reported(tiny_encoder, pngs, tmp_path):
    for p in pngs:
        shutil.copy(p, tmp_path / p.name)
    locked = tmp_path / "locked.png"
    shutil.copy(pngs[0], locked)
    locked.chmod(0)
    try:
        assert locked in find_images([tmp_path]), "listed, so the reader reports it"
        res = embed_images(tiny_encoder, [tmp_path], use_cache=False, progress=False)
        assert len(res.paths) == len(pngs)
        assert [(e.source, e.reason) for e in res.errors] == [(str(locked), "cannot read file (Permission denied)")]
    finally:
        locked.chmod(0o644)


def test_permission_denied_is_reported_even_as_root(tiny_encoder, pngs, tmp_path, monkeypatch):
    """Same as above without relying on file modes (CI containers often run as root)."""
    import builtins
    from pathlib import Path

    import cliplens.images as images_mod

    for p in pngs:
        shutil.copy(p, tmp_path / p.name)
    locked = tmp_path / "locked.png"
    shutil.copy(pngs[0], locked)

    def denied(path):
        return Path(path).name == "locked.png"

    def fake_open(path, *a, **k):
        if denied(path):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *a, **k)

    real_read = Path.read_bytes
    monkeypatch.setattr(images_mod, "open", fake_open, raising=False)
    monkeypatch.setattr(Path, "read_bytes", lambda self: fake_open(self) and real_read(self))
    assert locked in find_images([tmp_path])
    res = embed_images(tiny_encoder, [tmp_path], use_cache=False, progress=False)
    assert len(res.paths) == len(pngs)
    assert [(e.source, e.reason) for e in res.errors] == [(str(locked), "cannot read file (Permission denied)")]
