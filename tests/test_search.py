"""The search engine on rendered toy-world images with the trained toyclip (real alignment)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cliplens.errors import ImageLoadError, InvalidInputError
from cliplens.search import (Filters, IndexBusyError, ModelMismatchError, apply_duplicates, find_duplicates,
                             open_index, parse_query, query_vector, search)
from cliplens.search.index import Index

from search_world import build_world


@pytest.fixture(scope="session")
def world(tw, tmp_path_factory):
    return build_world(tw, tmp_path_factory.mktemp("search") / "world")


@pytest.fixture(scope="session")
def built(world, toyclip, tmp_path_factory):
    """One index over the world, shared by the read-only tests."""
    idx = open_index(tmp_path_factory.mktemp("idx") / "i", encoder=toyclip, create=True)
    report = idx.add([world["root"]], progress=False)
    assert report.added == len(list(world["root"].rglob("*.*"))) and not report.errors
    return idx


def _copy_world(world, tmp_path: Path) -> Path:
    dst = tmp_path / "world"
    shutil.copytree(world["root"], dst)
    return dst


def test_text_query_returns_the_matching_image_first(built, world):
    hits = search(built, "a red circle, pixel art", top_k=5).hits
    assert hits[0].path == str(world["red"])
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert hits[0].width == 96 and hits[0].height == 96


def test_image_query_returns_itself_then_its_edited_copies(built, world):
    hits = search(built, world["star"], top_k=8).hits  # a Path is an image
    assert hits[0].path == str(world["star"]) and hits[0].score > 0.999
    family = {str(world["star"]), *map(str, world["edits"])}
    assert {h.path for h in hits[:4]} == family  # resized, cropped, recompressed: all above unrelated images
    assert min(h.score for h in hits[:4]) > max(h.score for h in hits[4:])


def test_arithmetic_is_the_weighted_sum_of_unit_vectors(toyclip, world):
    terms = parse_query(["(a red circle:2)", "+", "@" + str(world["star"]), "-", "pixel art"])
    assert [(t.kind, t.weight) for t in terms] == [("text", 2.0), ("image", 1.0), ("text", -1.0)]
    t = toyclip.encode_texts(["a red circle", "pixel art"])
    i = toyclip.encode_images([str(world["star"])])[0]
    want = 2 * t[0] + i - t[1]
    vec, errors = query_vector(toyclip, terms)
    assert errors == []
    np.testing.assert_allclose(vec, want / np.linalg.norm(want), atol=1e-5)


def test_arithmetic_moves_results_towards_the_added_text(built, world):
    star_only = search(built, ["@" + str(world["star"])], top_k=50).hits
    mixed = search(built, ["@" + str(world["star"]), "+", "(a red circle, pixel art:2)"], top_k=50).hits
    rank = lambda hits: [h.path for h in hits].index(str(world["red"]))  # noqa: E731
    assert rank(mixed) < rank(star_only)


def test_threshold_and_filters(built, world):
    hits = search(built, world["star"], top_k=50, threshold=0.9).hits
    assert len(hits) == 4 and all(h.score >= 0.9 for h in hits)
    only_other = search(built, world["star"], top_k=5, filters=Filters(folders=[world["root"] / "other"])).hits
    assert len(only_other) == 5 and all("/other/" in h.path for h in only_other)
    big = search(built, "a red circle", top_k=50, filters=Filters(min_width=90)).hits
    assert {Path(h.path).name for h in big} == {"red_circle.png", "blue_star.png", "star_crop.png", "star_q40.jpg"}
    small_files = search(built, "a red circle", top_k=50, filters=Filters(max_bytes=world["star"].stat().st_size - 1)).hits
    assert str(world["star"]) not in {h.path for h in small_files}
    future = search(built, "a red circle", top_k=5, filters=Filters(after=time.time() + 3600))
    assert future.hits == []


def test_duplicates_are_grouped_and_the_largest_kept(built, world):
    groups = find_duplicates(built, threshold=0.95, progress=False)
    assert len(groups) == 1
    g = groups[0]
    assert g.keep.path == str(world["star"])
    assert {e.path for e, _ in g.others} == set(map(str, world["edits"]))
    assert all(s >= 0.95 for _, s in g.others)
    plan = apply_duplicates(built, groups, action="delete")  # dry run by default
    assert len(plan) == 3 and not any(p["done"] for p in plan)
    assert all(Path(p["path"]).exists() for p in plan)


def test_duplicates_through_the_knn_path_match_exact(built, monkeypatch):
    import cliplens.search.duplicates as dd

    exact = [g.to_dict() for g in find_duplicates(built, threshold=0.95, progress=False)]
    monkeypatch.setattr(dd, "EXACT_PAIRS_LIMIT", 5)  # force the path used above 30k images
    knn = [g.to_dict() for g in find_duplicates(built, threshold=0.95, progress=False)]
    assert knn == exact and len(exact) == 1


def test_dedupe_move_applies_and_updates_the_index(world, toyclip, tmp_path):
    root = _copy_world(world, tmp_path)
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True)
    idx.add([root], progress=False)
    n = len(idx)
    groups = find_duplicates(idx, threshold=0.95, progress=False)
    plan = apply_duplicates(idx, groups, action="move", to=tmp_path / "dupes", dry_run=False)
    assert all(p["done"] for p in plan) and len(plan) == 3
    assert sorted(p.name for p in (tmp_path / "dupes").iterdir()) == sorted(e.name for e in world["edits"])
    assert not (root / "edits" / "star_small.png").exists()
    assert len(idx) == n - 3 and find_duplicates(idx, threshold=0.95, progress=False) == []


def test_incremental_add_update_move_delete(world, toyclip, tw, tmp_path):
    root = _copy_world(world, tmp_path)
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True)
    first = idx.add([root], progress=False)
    again = idx.add([root], progress=False)
    assert again.unchanged == first.added and again.added == again.embedded == 0
    # a changed file is re-embedded under a new id, a moved one keeps its id without embedding
    changed = root / "other" / "00.png"
    tw.render(tw.sample_scene(999, kind="single", shape="heart", colour="green"), 64).save(changed)
    os.utime(changed, (time.time() + 5, time.time() + 5))
    star_id = [e.id for e in idx.entries() if e.path.endswith("blue_star.png")][0]
    (root / "moved").mkdir()
    shutil.move(root / "blue_star.png", root / "moved" / "renamed_star.png")
    (root / "other" / "01.png").unlink()
    (root / "notes.txt").write_text("not an image")  # found by content: ignored
    shutil.copy(root / "red_circle.png", root / "red_copy.bin")  # an image by content, whatever the name
    rep = idx.add([root], progress=False, use_cache=False)
    assert (rep.updated, rep.moved, rep.removed, rep.added) == (1, 1, 1, 1)
    assert rep.embedded == 1  # only the changed file; the copy reuses the vector the index holds
    by_path = {e.path: e for e in idx.entries()}
    assert by_path[str(root / "moved" / "renamed_star.png")].id == star_id
    assert str(root / "red_copy.bin") in by_path and str(root / "notes.txt") not in by_path
    assert len(by_path) == len(idx.store.ids()) == first.added
    hits = search(idx, "a red circle, pixel art", top_k=2).hits
    assert {Path(h.path).name for h in hits} == {"red_circle.png", "red_copy.bin"}
    assert idx.remove([root / "other"]) == len([p for p in by_path if "/other/" in p])
    assert idx.store.count() == len(idx)


def test_update_rescans_known_roots_and_drops_vanished_ones(world, toyclip, tmp_path):
    root = _copy_world(world, tmp_path)
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True)
    idx.add([root / "edits", root / "other"], progress=False)
    shutil.rmtree(root / "edits")
    rep = idx.update(progress=False)
    assert rep.removed == 3 and len(idx) == len(list((root / "other").iterdir()))
    assert str(root / "edits") not in idx.roots()


def test_model_fingerprint_binding(built, tiny_encoder):
    with pytest.raises(ModelMismatchError, match="built with model 'toyclip'"):
        open_index(built.root, encoder=tiny_encoder)
    with pytest.raises(ModelMismatchError, match="different space"):
        built.use_encoder(tiny_encoder)


def test_one_writer_at_a_time(built):
    other = Index(built.root, built.manifest)
    with built.writing():
        with pytest.raises(IndexBusyError, match="another process"):
            with other.writing():
                pass
    with other.writing():  # free again
        pass


def test_bad_input_is_refused_clearly(built, tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        built.add([tmp_path / "nope"], progress=False)
    with pytest.raises(InvalidInputError, match="no index"):
        open_index(tmp_path / "empty")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.txt").write_text("x")
    with pytest.raises(InvalidInputError, match="not the image folder"):
        open_index(tmp_path / "photos", encoder=built.encoder, create=True)
    with pytest.raises(InvalidInputError, match="empty query"):
        search(built, "   ")
    with pytest.raises(InvalidInputError, match="top_k must be"):
        search(built, "a red circle", top_k=0)
    with pytest.raises(InvalidInputError):
        search(built, np.ones(3, np.float32))


def test_hnsw_index_answers_like_exact(world, toyclip, tmp_path):
    idx = open_index(tmp_path / "idx", encoder=toyclip, create=True, ann="hnsw")
    idx.add([world["root"]], progress=False)
    assert (tmp_path / "idx" / "ann.usearch").exists()
    reopened = open_index(tmp_path / "idx", encoder=toyclip, ann="hnsw")
    assert reopened.info()["search"] == "hnsw"
    assert search(reopened, "a red circle, pixel art", top_k=1).hits[0].path == str(world["red"])
    hits = search(reopened, world["star"], top_k=4).hits
    assert {h.path for h in hits} == {str(world["star"]), *map(str, world["edits"])}


def test_cli_index_search_dedupe_plot(world, tmp_path):
    from typer.testing import CliRunner

    from cliplens.cli import app

    import json

    run = CliRunner().invoke
    idx = str(tmp_path / "idx")
    r = run(app, ["index", "add", str(world["root"]), "--index", idx, "--model", "toyclip", "--json", "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["added"] == 41
    sheet = tmp_path / "hits.png"
    r = run(app, ["search", "(a red circle, pixel art:2)", "+", str(world["red"]), "-", "a blue star",
                  "--index", idx, "--top-k", "3", "--json", "--plot", str(sheet)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["hits"][0]["path"] == str(world["red"]) and [q["weight"] for q in out["terms"]] == [2, 1, -1]
    assert [q["kind"] for q in out["terms"]] == ["text", "image", "text"]  # the CLI reads an existing image file
    with Image.open(sheet) as im:
        assert im.format == "PNG" and im.size[0] > 100
    r = run(app, ["dedupe", "--index", idx, "--threshold", "0.95", "--delete", "--json", "-q"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["dry_run"] and d["duplicates"] == 3 and all(Path(a["path"]).exists() for a in d["actions"])
    r = run(app, ["index", "info", "--index", idx, "--json"])
    assert json.loads(r.stdout)["images"] == 41


def test_cli_mismatched_model_is_one_line_exit_2(built):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "cliplens", "search", "a red circle", "--index", str(built.root),
                        "--model", "toyclip-hf"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2
    assert "built with model 'toyclip'" in p.stderr and "Traceback" not in p.stderr
