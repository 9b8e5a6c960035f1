"""cliplens.io: sidecar naming, clash refusal, never replacing a file cliplens did not write, atomicity."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cliplens.errors import InvalidInputError
from cliplens.io import (LEDGER_NAME, SidecarClashError, build_xmp, find_sidecar, save_embeddings, sidecar_path,
                         write_sidecar, write_sidecars, write_table, written_by_cliplens, xmp_keywords)


def test_sidecar_names_from_full_file_name(tmp_path):
    assert sidecar_path(tmp_path / "a.png") == tmp_path / "a.png.txt"
    assert sidecar_path(tmp_path / "a.jpg", ".xmp") == tmp_path / "a.jpg.xmp"
    assert sidecar_path(tmp_path / "a.png", naming="stem") == tmp_path / "a.txt"
    assert sidecar_path(tmp_path / "a.png", ".xmp", naming="basename") == tmp_path / "a.xmp"  # old alias
    assert sidecar_path(tmp_path / "in" / "s" / "a.png", out_dir=tmp_path / "o", roots=[tmp_path / "in"]) \
        == tmp_path / "o" / "s" / "a.png.txt"
    with pytest.raises(InvalidInputError, match="naming"):
        sidecar_path("a.png", naming="weird")


def test_png_and_jpg_no_longer_share_a_sidecar(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "a.jpg"
    rep = write_sidecars([(a, ["red"]), (b, ["blue"])])
    assert not rep.errors and sorted(rep.written) == sorted([str(a) + ".txt", str(b) + ".txt"])
    assert (tmp_path / "a.png.txt").read_text() == "red\n" and (tmp_path / "a.jpg.txt").read_text() == "blue\n"


def test_stem_naming_clash_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(SidecarClashError, match="would both write"):
        write_sidecars([(tmp_path / "a.png", ["red"]), (tmp_path / "a.jpg", ["blue"])], naming="stem")
    assert list(tmp_path.iterdir()) == []


def test_sidecar_landing_on_an_input_is_refused(tmp_path):
    # an image that happens to be called x.txt: its stem sidecar is itself; y.png's would be the input x.txt
    img = tmp_path / "x.txt"
    img.write_bytes(b"\x89PNG fake")
    with pytest.raises(SidecarClashError, match="replace the input"):
        write_sidecars([(img, ["red"])], naming="stem", mode="overwrite")
    with pytest.raises(SidecarClashError, match="replace the input"):
        write_sidecars([(tmp_path / "x.png", ["red"])], naming="stem", inputs=[img])
    assert img.read_bytes() == b"\x89PNG fake"


def test_overwrite_never_replaces_a_file_cliplens_did_not_write(tmp_path):
    mine = tmp_path / "a.png.txt"
    mine.write_text("my own careful caption\n")
    rep = write_sidecars([(tmp_path / "a.png", ["red"])], mode="overwrite")
    assert rep.written == [] and len(rep.errors) == 1
    assert rep.errors[0].index == 0 and "not written by cliplens" in rep.errors[0].reason
    assert mine.read_text() == "my own careful caption\n"


def test_overwrite_replaces_our_own_sidecar_but_not_after_a_user_edit(tmp_path):
    img = tmp_path / "a.png"
    write_sidecars([(img, ["red"])])
    side = tmp_path / "a.png.txt"
    assert written_by_cliplens(side) and (tmp_path / LEDGER_NAME).is_file()
    rep = write_sidecars([(img, ["blue"])], mode="overwrite")
    assert not rep.errors and side.read_text() == "blue\n"
    side.write_text("blue, hand edited\n")
    assert not written_by_cliplens(side)
    rep = write_sidecars([(img, ["green"])], mode="overwrite")
    assert rep.errors and side.read_text() == "blue, hand edited\n"


def test_append_keeps_foreign_text_verbatim_and_does_not_adopt_it(tmp_path):
    side = tmp_path / "a.png.txt"
    side.write_text("Masterpiece,  by Someone\n")
    rep = write_sidecars([(tmp_path / "a.png", ["red", "by Someone"])])
    assert not rep.errors
    assert side.read_text() == "Masterpiece,  by Someone, red\n"
    assert not written_by_cliplens(side)  # still the user's file: a later overwrite refuses
    rep = write_sidecars([(tmp_path / "a.png", ["x"])], mode="overwrite")
    assert rep.errors and "red" in side.read_text()
    rep = write_sidecars([(tmp_path / "a.png", ["red"])])  # nothing to add: untouched
    assert rep.skipped == [str(side)]


def test_skip_mode_and_bad_existing_files_are_per_item(tmp_path):
    (tmp_path / "a.png.txt").write_text("keep")
    (tmp_path / "b.png.txt").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "c.png.txt").mkdir()
    items = [(tmp_path / n, ["t"]) for n in ("a.png", "b.png", "c.png", "d.png")]
    rep = write_sidecars(items, mode="skip")
    assert rep.skipped == [str(tmp_path / "a.png.txt"), str(tmp_path / "b.png.txt")]
    assert [e.index for e in rep.errors] == [2] and rep.written == [str(tmp_path / "d.png.txt")]
    rep = write_sidecars(items[:2], mode="append")
    assert [e.index for e in rep.errors] == [1] and "UTF-8" in rep.errors[0].reason
    assert (tmp_path / "b.png.txt").read_bytes() == b"\xff\xfe\x00binary"


def test_in_memory_images_are_item_errors_not_crashes(tmp_path):
    rep = write_sidecars([("<PIL image 4x4 RGB>", ["a"]), (tmp_path / "b.png", ["b"])])
    assert [e.index for e in rep.errors] == [0] and len(rep.written) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_permission_denied_is_an_item_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        rep = write_sidecars([(ro / "a.png", ["a"]), (tmp_path / "b.png", ["b"])])
    finally:
        os.chmod(ro, 0o755)
    assert [e.index for e in rep.errors] == [0] and "cannot write" in rep.errors[0].reason
    assert len(rep.written) == 1


def test_xmp_sidecars_merge_and_protect(tmp_path):
    img = tmp_path / "p.jpg"
    rep = write_sidecars([(img, ["red", "circle"])], "xmp")
    side = tmp_path / "p.jpg.xmp"
    assert rep.written == [str(side)] and xmp_keywords(side.read_bytes()) == ["red", "circle"]
    other = tmp_path / "q.jpg.xmp"
    other.write_bytes(build_xmp(["star"]).replace(b"<rdf:Description", b'<rdf:Description xmp:Rating="4" '
                                                   b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"'))
    write_sidecars([(tmp_path / "q.jpg", ["red"])], "xmp")
    assert xmp_keywords(other.read_bytes()) == ["star", "red"] and b'Rating="4"' in other.read_bytes()
    rep = write_sidecars([(tmp_path / "q.jpg", ["x"])], "xmp", mode="overwrite")
    assert rep.errors and b"star" in other.read_bytes()
    (tmp_path / "r.jpg.xmp").write_text("<broken")
    rep = write_sidecars([(tmp_path / "r.jpg", ["x"])], "xmp")
    assert rep.errors and "not valid XML" in rep.errors[0].reason


def test_single_write_for_prompts_and_find_sidecar(tmp_path):
    img = tmp_path / "a.png"
    assert find_sidecar(img) is None
    (tmp_path / "a.txt").write_text("legacy")
    assert find_sidecar(img) == tmp_path / "a.txt"
    assert write_sidecar(sidecar_path(img), "txt", "a red circle", mode="overwrite")
    assert find_sidecar(img) == tmp_path / "a.png.txt"
    assert write_sidecar(sidecar_path(img), "txt", "a blue circle", mode="overwrite")
    assert (tmp_path / "a.png.txt").read_text() == "a blue circle\n"
    with pytest.raises(InvalidInputError, match="not written by cliplens"):
        write_sidecar(tmp_path / "a.txt", "txt", "x", mode="overwrite")


def test_ledger_sees_another_writer(tmp_path):
    img = tmp_path / "a.png"
    write_sidecar(sidecar_path(img), "txt", "one", mode="overwrite")
    # another process records a new content it wrote
    data = b"two\n"
    (tmp_path / "a.png.txt").write_bytes(data)
    import hashlib
    with open(tmp_path / LEDGER_NAME, "a") as fh:
        fh.write(json.dumps({"name": "a.png.txt", "sha256": hashlib.sha256(data).hexdigest()}) + "\n" + '{"torn')
    assert written_by_cliplens(tmp_path / "a.png.txt")


def test_tables_are_strict_json(tmp_path):
    rows = [{"image": "a.png", "score": np.float32(np.nan), "tags": [{"tag": "red", "score": 0.5}]}]
    p = write_table(rows, tmp_path / "t.jsonl")
    assert json.loads(p.read_text()) == {"image": "a.png", "score": None, "tags": [{"tag": "red", "score": 0.5}]}
    c = write_table(rows, tmp_path / "t.csv").read_text()
    assert "red" in c and "0.5000" in c and "nan" not in c.lower()
    with pytest.raises(InvalidInputError, match="^out "):
        write_table(rows, tmp_path / "t.xlsx")


@pytest.mark.parametrize("fmt", [".npy", ".npz", ".jsonl", ".parquet"])
def test_save_embeddings_formats(tmp_path, fmt):
    class R:
        paths = ["a.png", "b.png"]
        hashes = ["h1", "h2"]
        vectors = np.eye(2, 3, dtype=np.float32)
    out = save_embeddings(R(), tmp_path / f"e{fmt}", model="m")
    assert out.is_file() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    if fmt == ".npy":
        assert np.load(out).shape == (2, 3) and (tmp_path / "e.npy.paths.txt").read_text() == "a.png\nb.png\n"
    if fmt == ".parquet":
        import pyarrow.parquet as pq
        t = pq.read_table(out)
        assert t.column("path").to_pylist() == R.paths and t.schema.metadata[b"model"] == b"m"


def test_unwritable_target_is_an_item_error_even_as_root(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where a folder should be")
    rep = write_sidecars([(tmp_path / "in" / "a.png", ["a"])], out_dir=blocker, roots=[tmp_path / "in"])
    assert [e.index for e in rep.errors] == [0] and "cannot write" in rep.errors[0].reason
    assert blocker.read_text() == "a file where a folder should be"
