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
    assert "offline" in str(info.value) and "--model toyclip" in str(info.value)


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
