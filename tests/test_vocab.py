"""Vocabularies and label tables: loading, cache reuse/invalidation, exact top-k."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from cliplens.errors import InvalidInputError
from cliplens.vocab import (BUILTIN, LabelTable, ci_data_dir, labels_cache_dir, list_vocabularies, load_vocabulary,
                            parse_phrases, phrases_hash)


def test_every_builtin_vocabulary_loads_clean():
    names = list_vocabularies()
    for name in BUILTIN:
        assert name in names
        phrases = load_vocabulary(name)
        assert len(phrases) >= 15, name
        assert len(set(phrases)) == len(phrases), f"{name} has duplicates"
        assert all(p == p.strip() and p and not p.startswith("#") for p in phrases)


def test_parse_phrases_drops_comments_blanks_duplicates():
    assert parse_phrases("a\n# c\n\n b\r\na\n") == ["a", "b"]


def test_user_file(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("\ufeffneon glow\n# comment\nneon glow\nwatercolor\n", encoding="utf-8")
    assert load_vocabulary(f) == ["neon glow", "watercolor"]
    assert load_vocabulary(str(f)) == ["neon glow", "watercolor"]
    f.write_text("changed\n")  # cache is keyed on mtime/size: the edit is seen
    os.utime(f, ns=(1, 10**9))
    assert load_vocabulary(f) == ["changed"]


@pytest.mark.parametrize("content,msg", [(b"", "no phrases"), (b"# only a comment\n\n", "no phrases"),
                                         (b"\xff\xfe\x00\x01bad", "not UTF-8"), (b"a\x00b", "binary")])
def test_bad_user_files(tmp_path, content, msg):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(InvalidInputError, match=msg):
        load_vocabulary(f)


def test_unknown_names_and_folders(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown vocabulary"):
        load_vocabulary("no-such-list")
    with pytest.raises(InvalidInputError, match="folder"):
        load_vocabulary(tmp_path)
    with pytest.raises(InvalidInputError, match="empty"):
        load_vocabulary("  ")
    with pytest.raises(InvalidInputError, match="ci:"):
        load_vocabulary("ci:nonsense")


@pytest.mark.skipif(ci_data_dir() is None, reason="clip-interrogator not installed")
def test_ci_lists_read_from_installed_package():
    flavors = load_vocabulary("ci:flavors")
    assert len(flavors) > 90_000
    artists = load_vocabulary("ci:artists")
    assert len(artists) > 5000
    trending = load_vocabulary("ci:trending")
    assert "trending on Artstation" in trending and len(trending) == 72
    assert "ci:mediums" in list_vocabularies()


def test_label_table_cache_reuse_and_invalidation(tiny_encoder, toyclip):
    phrases = ["a red circle", "a blue square", "pixel art", "neon glow"]
    t1 = LabelTable(tiny_encoder, phrases, name="t")
    assert not t1.from_cache and t1.cache_path.is_file()
    t2 = LabelTable(tiny_encoder, phrases, name="t")
    assert t2.from_cache
    assert torch.equal(t1.embeddings, t2.embeddings)
    # another list -> other file, computed fresh
    t3 = LabelTable(tiny_encoder, phrases[::-1], name="t")
    assert not t3.from_cache and t3.cache_path != t1.cache_path
    # another model -> never the tiny model's cache
    t4 = LabelTable(toyclip, phrases, name="t")
    assert not t4.from_cache and t4.cache_path != t1.cache_path
    assert t4.embeddings.shape[1] == toyclip.embed_dim
    # a cache file copied over another key's name is rejected by its metadata
    t4.cache_path.write_bytes(t1.cache_path.read_bytes())
    t5 = LabelTable(toyclip, phrases, name="t")
    assert not t5.from_cache
    np.testing.assert_allclose(t5.numpy(), toyclip.encode_texts(phrases), atol=1e-6)
    # a truncated (corrupt) cache is recomputed, not trusted
    t1.cache_path.write_bytes(t1.cache_path.read_bytes()[:50])
    t6 = LabelTable(tiny_encoder, phrases, name="t")
    assert not t6.from_cache
    np.testing.assert_allclose(t6.numpy(), t1.numpy(), atol=1e-6)
    # cache=False writes nothing
    before = set(labels_cache_dir().iterdir())
    LabelTable(tiny_encoder, ["only in memory"], name="nocache", cache=False)
    assert set(labels_cache_dir().iterdir()) == before


def test_no_temp_files_left(tiny_encoder):
    LabelTable(tiny_encoder, ["x1", "x2"], name="tmpcheck")
    assert not [p for p in labels_cache_dir().iterdir() if p.name.endswith(".tmp")]


def test_top_k_is_exact(toyclip, fixture_labels):
    phrases = load_vocabulary("colour") + load_vocabulary("mediums")
    table = LabelTable(toyclip, phrases, name="exact")
    feats = toyclip.encode_images([r["path"] for r in fixture_labels[:8]])
    brute = feats @ toyclip.encode_texts(phrases).T
    top = table.top_k(feats, k=5)
    assert top.indices.shape == (8, 5) and top.scores.shape == (8, 5)
    for i in range(8):
        expect = np.argsort(-brute[i], kind="stable")[:5]
        np.testing.assert_allclose(top.scores[i], brute[i, expect], atol=1e-5)
        assert top.phrases[i] == [phrases[j] for j in top.indices[i]]
    worst = table.top_k(feats[0], k=3, reverse=True)
    np.testing.assert_allclose(worst.scores[0], np.sort(brute[0])[:3], atol=1e-5)
    assert table.best(feats[0])[0] == top.phrases[0][0]
    np.testing.assert_allclose(table.scores(feats), brute, atol=1e-5)
    # torch input and k > n
    assert table.top_k(torch.from_numpy(feats[:1]), k=10_000).indices.shape == (1, len(phrases))


def test_merge_and_subset(tiny_encoder):
    a = LabelTable(tiny_encoder, ["one", "two"], name="a")
    b = LabelTable(tiny_encoder, ["three"], name="b")
    m = LabelTable.merge([a, b])
    assert m.phrases == ["one", "two", "three"] and m.embeddings.shape[0] == 3
    s = m.subset([2, 0])
    assert s.phrases == ["three", "one"]
    torch.testing.assert_close(s.embeddings[0], b.embeddings[0])


def test_label_table_bad_inputs(tiny_encoder):
    with pytest.raises(InvalidInputError):
        LabelTable(tiny_encoder, [], name="e")
    with pytest.raises(InvalidInputError):
        LabelTable(tiny_encoder, "a string", name="e")
    with pytest.raises(InvalidInputError):
        LabelTable(tiny_encoder, ["ok", ""], name="e")
    t = LabelTable(tiny_encoder, ["ok"], name="e")
    with pytest.raises(InvalidInputError, match="dims"):
        t.top_k(np.zeros(7, np.float32), 1)
    with pytest.raises(InvalidInputError, match="k must"):
        t.top_k(np.zeros(tiny_encoder.embed_dim, np.float32), 0)
    with pytest.raises(InvalidInputError):
        t.top_k([0.1, 0.2], 1)


def test_phrases_hash_depends_on_order_and_content():
    assert phrases_hash(["a", "b"]) != phrases_hash(["ab"])
    assert phrases_hash(["a", "b"]) != phrases_hash(["b", "a"])


def test_default_vocabulary_choice(monkeypatch):
    """Real CLIPs get clip-interrogator's broad lists when that package is installed; toys the built-in ones."""
    from cliplens.interrogate import vocabsets

    assert vocabsets.default_vocab("toyclip").name == "builtin"
    monkeypatch.setattr(vocabsets, "ci_data_dir", lambda: None)
    assert vocabsets.default_vocab("sd15").name == "builtin"  # not installed: the built-in lists
    assert vocabsets.resolve_vocab("builtin", "sd15").name == "builtin"
