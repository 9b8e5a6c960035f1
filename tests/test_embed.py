"""embed_images: the cache, bad files, output formats, the CLI verb (CPU, tiny/toy models)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cliplens.embed import EmbeddingCache, embed_images
from cliplens.images import content_hash
from cliplens.io import save_embeddings
from cliplens.errors import InvalidInputError

from conftest import ASSETS_FIXTURES_64


@pytest.fixture()
def small_folder(tmp_path) -> Path:
    """12 fixture images (PNG) plus 2 JPEGs, in a nested folder."""
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    for i, f in enumerate(sorted(ASSETS_FIXTURES_64.glob("*.png"))[:12]):
        shutil.copy(f, (folder / "sub" if i % 3 == 0 else folder) / f.name)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (48, 80, 3), dtype=np.uint8)).save(folder / f"photo{i}.jpg", quality=90)
    return folder


class CallCounter:
    """Counts forward passes of an encoder's image tower (wraps the bound method on the instance)."""

    def __init__(self, encoder, monkeypatch):
        self.calls = 0
        self.images = 0
        original = encoder.encode_pixel_tensor

        def counting(pixels):
            self.calls += 1
            self.images += int(pixels.shape[0])
            return original(pixels)

        monkeypatch.setattr(encoder, "encode_pixel_tensor", counting)


@pytest.mark.parametrize("fast", [True, False])
def test_rerun_costs_no_model_calls(tiny_encoder, small_folder, tmp_path, monkeypatch, fast):
    counter = CallCounter(tiny_encoder, monkeypatch)
    root = tmp_path / f"cache-{fast}"
    first = embed_images(tiny_encoder, [small_folder], batch_size=5, cache_root=root, progress=False, fast=fast)
    assert first.computed == 14 and first.cached == 0 and not first.errors
    assert counter.images == 14 and counter.calls >= 3
    counter.calls = counter.images = 0
    second = embed_images(tiny_encoder, [small_folder], batch_size=5, cache_root=root, progress=False, fast=fast)
    assert counter.calls == 0, "a re-run over the same files must not touch the model"
    assert second.cached == 14 and second.computed == 0
    assert second.paths == first.paths
    np.testing.assert_array_equal(second.vectors, first.vectors)
    assert len(EmbeddingCache(tiny_encoder.fingerprint, root)) == 14


def test_cache_is_keyed_by_content_not_name(tiny_encoder, small_folder, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    embed_images(tiny_encoder, [small_folder], cache_root=root, progress=False)
    renamed = tmp_path / "renamed"
    shutil.copytree(small_folder, renamed)
    for f in sorted(renamed.rglob("*.png"))[:3]:
        f.rename(f.with_name("x_" + f.name))
    extra = renamed / "new.png"
    Image.new("RGB", (40, 40), (10, 200, 30)).save(extra)
    counter = CallCounter(tiny_encoder, monkeypatch)
    res = embed_images(tiny_encoder, [renamed], cache_root=root, progress=False)
    assert (res.cached, res.computed) == (14, 1)
    assert counter.images == 1
    assert res.hashes[res.paths.index(str(extra))] == content_hash(extra.read_bytes())


def test_no_cache_computes_everything(tiny_encoder, small_folder, tmp_path):
    root = tmp_path / "cache"
    embed_images(tiny_encoder, [small_folder], cache_root=root, progress=False)
    res = embed_images(tiny_encoder, [small_folder], cache_root=root, progress=False, use_cache=False)
    assert (res.cached, res.computed) == (0, 14)


def test_bad_files_are_skipped_and_reported(tiny_encoder, small_folder, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    good = sorted(small_folder.rglob("*.png"))[:3]
    jpeg = (small_folder / "photo0.jpg").read_bytes()
    (bad / "empty.png").write_bytes(b"")
    (bad / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (bad / "notes.jpg").write_text("this is not a picture")
    (bad / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    inputs = [good[0], bad / "empty.png", good[1], bad / "truncated.jpg", bad / "notes.jpg", bad / "garbage.png", good[2]]
    res = embed_images(tiny_encoder, inputs, batch_size=4, use_cache=False, progress=False)
    assert res.paths == [str(p) for p in sorted(good)]
    assert res.vectors.shape == (3, tiny_encoder.embed_dim)
    reported = {Path(e.source).name: e.reason for e in res.errors}
    assert set(reported) == {"empty.png", "truncated.jpg", "notes.jpg", "garbage.png"}
    assert "empty" in reported["empty.png"]
    assert "truncated" in reported["truncated.jpg"] or "corrupt" in reported["truncated.jpg"]
    assert "not an image" in reported["notes.jpg"]
    # the good files got the same vectors they get alone
    alone = tiny_encoder.encode_images([str(p) for p in sorted(good)])
    np.testing.assert_allclose((alone * res.vectors).sum(1), 1.0, atol=1e-3)


def test_all_files_bad_gives_empty_result(tiny_encoder, tmp_path):
    f = tmp_path / "x.png"
    f.write_bytes(b"")
    res = embed_images(tiny_encoder, [f], progress=False, use_cache=False)
    assert res.vectors.shape == (0, tiny_encoder.embed_dim) and len(res.errors) == 1


def _load(out: Path, fmt: str) -> tuple[list[str], list[str], np.ndarray]:
    if fmt == ".npy":
        paths = out.with_name(out.name + ".paths.txt").read_text().splitlines()
        return paths, [], np.load(out)
    if fmt == ".npz":
        z = np.load(out)
        return list(z["paths"]), list(z["hashes"]), z["vectors"]
    if fmt == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(out)
        assert t.schema.metadata[b"model"] == b"tiny"
        return t["path"].to_pylist(), t["hash"].to_pylist(), np.array(t["embedding"].to_pylist(), np.float32)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return [r["path"] for r in rows], [r["hash"] for r in rows], np.array([r["embedding"] for r in rows], np.float32)


@pytest.mark.parametrize("fmt", [".npy", ".npz", ".parquet", ".jsonl"])
def test_output_formats_round_trip(tiny_encoder, small_folder, tmp_path, fmt):
    res = embed_images(tiny_encoder, [small_folder], progress=False, use_cache=False)
    out = save_embeddings(res, tmp_path / "out" / f"emb{fmt}", model="tiny")
    paths, hashes, vecs = _load(out, fmt)
    assert paths == res.paths
    if hashes:
        assert hashes == res.hashes
    assert vecs.dtype == np.float32 and vecs.shape == res.vectors.shape
    np.testing.assert_allclose(vecs, res.vectors, atol=1e-6 if fmt == ".jsonl" else 0)
    assert not list(out.parent.glob(".*tmp")), "no temp files left behind"


def test_unknown_output_format_is_a_clear_error(tiny_encoder, small_folder, tmp_path):
    res = embed_images(tiny_encoder, [small_folder], progress=False, use_cache=False)
    with pytest.raises(InvalidInputError, match=r"\.npy, \.npz, \.parquet or \.jsonl"):
        save_embeddings(res, tmp_path / "emb.csv")


def test_bad_batch_size(tiny_encoder, small_folder):
    with pytest.raises(InvalidInputError, match="batch_size must be >= 1"):
        embed_images(tiny_encoder, [small_folder], batch_size=-1, progress=False)
    with pytest.raises(InvalidInputError, match="workers must be >= 1"):
        embed_images(tiny_encoder, [small_folder], workers=-1, progress=False)


def test_cli_embed_json(small_folder, tmp_path):
    from typer.testing import CliRunner

    from cliplens.cli import app

    out = tmp_path / "emb.parquet"
    args = ["embed", str(small_folder), "--out", str(out), "--model", "toyclip", "--device", "cpu", "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["images"] == 14 and summary["dim"] == 64 and summary["errors"] == []
    assert summary["computed"] + summary["cached"] == 14
    r2 = CliRunner().invoke(app, args)
    assert json.loads(r2.stdout)["cached"] == 14


@pytest.mark.parametrize("flag", [["--workers", "-1"], ["--workers", "0"], ["--batch-size", "0"]])
def test_cli_embed_bad_numbers_are_one_line_exit_2(small_folder, tmp_path, flag):
    from typer.testing import CliRunner

    from cliplens.cli import app

    out = tmp_path / "emb.npy"
    r = CliRunner().invoke(app, ["embed", str(small_folder), "--out", str(out), "--model", "toyclip", *flag])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and flag[0] in r.output
    assert not out.exists()
