"""Spec parsing, presets, and the errors a user sees when a model is not available."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cliplens import load_encoder
from cliplens.errors import ModelNotFoundError, ModelSpecError
from cliplens.models import PRESETS, parse_spec
from cliplens.models.spec import detect_backend


def test_presets_map_sd_family():
    assert parse_spec("sd15").name == "ViT-L-14" and parse_spec("sd15").pretrained == "openai"
    assert parse_spec("sd2").pretrained == "laion2b_s32b_b79k" and parse_spec("sd2").name == "ViT-H-14"
    sdxl = parse_spec("sdxl")
    assert (sdxl.name, sdxl.pretrained) == ("ViT-bigG-14", "laion2b_s39b_b160k")
    assert sdxl.secondary == ("openclip:ViT-L-14/openai",)
    assert {"toyclip", "toyclip-hf", "toyclip-onnx"} <= set(PRESETS)


def test_spec_forms(tiny_dirs):
    assert parse_spec("hf:openai/clip-vit-large-patch14").backend == "hf"
    assert parse_spec("openai/clip-vit-base-patch32").backend == "hf"
    assert parse_spec("hf-hub:laion/CLIP-ViT-H-14-laion2B-s32B-b79K").backend == "openclip"
    assert parse_spec("openclip:ViT-B-32/random").pretrained == "random"
    for kind in ("openclip", "hf", "onnx"):
        assert parse_spec(str(tiny_dirs[kind])).backend == kind  # recognised by contents
    assert detect_backend(tiny_dirs["siglip"]) == "hf"


@pytest.mark.parametrize("bad", ["", "nosuch:thing", "definitely-not-a-model"])
def test_bad_specs(bad):
    with pytest.raises(ModelSpecError):
        parse_spec(bad)


def test_unknown_architecture_and_tag():
    with pytest.raises(ModelSpecError, match="architecture"):
        load_encoder("openclip:ViT-Nope/openai", device="cpu")
    with pytest.raises(ModelSpecError, match="known tags"):
        load_encoder("openclip:ViT-B-32/not-a-tag", device="cpu")


def test_folder_without_model(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(ModelSpecError, match="holds no model"):
        load_encoder(str(tmp_path), device="cpu")


def test_missing_pretrained_offline_is_actionable():
    t0 = time.monotonic()
    with pytest.raises(ModelNotFoundError) as info:
        load_encoder("sd15", device="cpu")
    msg = str(info.value)
    assert "sd15" in msg and "cache" in msg and "toyclip" in msg
    assert time.monotonic() - t0 < 10


def test_missing_hf_model_offline_is_actionable():
    with pytest.raises(ModelNotFoundError) as info:
        load_encoder("hf:openai/clip-vit-base-patch32", device="cpu")
    assert "offline" in str(info.value) and "'toyclip'" in str(info.value) and "--" not in str(info.value)


def test_random_init_architecture_loads():
    enc = load_encoder("openclip:RN50/random", device="cpu")
    assert enc.encode_texts(["hello"]).shape == (1, 1024)


def test_no_hang_without_network_and_without_offline_flag(tmp_path):
    """With no network and no offline flag, loading a hub model fails within seconds, in one line."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLIPLENS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(CLIPLENS_NETWORK_TIMEOUT="2", HF_HOME=str(tmp_path / "hf"))
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "cliplens", "similarity", "a", "b", "--model", "sd15"],
                          env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 2
    if "could not download" not in proc.stderr:  # a sandbox with a network would download instead
        assert "not available offline" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert elapsed < 60, elapsed


def test_hf_folder_without_a_model_is_one_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        load_encoder(f"hf:{empty}", device="cpu")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="could not be loaded"):
        load_encoder(f"hf:{bad}", device="cpu")


def test_cli_hf_folder_without_a_model_exits_2_without_traceback(tmp_path):
    from typer.testing import CliRunner

    from cliplens.cli import app

    (tmp_path / "img.png").write_bytes(b"")
    res = CliRunner().invoke(app, ["embed", str(tmp_path), "--out", str(tmp_path / "o.npy"), "--model", f"hf:{tmp_path}"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "no config.json" in res.output


def test_weights_digest_sees_every_byte_and_is_cached(tmp_path, monkeypatch):
    from cliplens.models import fingerprint as fp
    from cliplens.models.encoder import file_signature

    f = tmp_path / "w.safetensors"
    data = bytearray(os.urandom(5 << 20))  # 5 MiB: bigger than the old first+last-MiB window
    f.write_bytes(bytes(data))
    first = file_signature(f)
    calls = []
    real = fp.full_digest
    monkeypatch.setattr(fp, "full_digest", lambda p: calls.append(p) or real(p))
    assert file_signature(f) == first and calls == [], "second look: from the cache, no re-hash"
    data[len(data) // 2] ^= 0xFF  # one byte in the middle, same size
    st = f.stat()
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime...
    second = file_signature(f)
    assert second != first and len(calls) == 1      # ...the write changed ctime: hashed again
    assert second == fp.full_digest(f)


def test_encoder_fingerprint_changes_when_weights_change_in_the_middle(tiny_dirs, tmp_path):
    import shutil

    from cliplens.models import clear_cache

    folder = tmp_path / "oc"
    shutil.copytree(tiny_dirs["openclip"], folder)
    before = load_encoder(f"openclip:{folder}", device="cpu").fingerprint
    ckpt = next(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt"))
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0x01
    ckpt.write_bytes(bytes(data))
    clear_cache()
    after = load_encoder(f"openclip:{folder}", device="cpu").fingerprint
    assert after != before
