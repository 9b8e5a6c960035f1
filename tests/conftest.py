"""Shared fixtures: hermetic settings, tiny random models for each backend, the toy models.

Tests never touch the network or the user's cache: CLIPLENS_OFFLINE=1 and CLIPLENS_CACHE
points into a per-session temp folder.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="cliplens-tests-"))
os.environ["CLIPLENS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["CLIPLENS_CACHE"] = str(_SESSION_TMP / "cache")
os.environ["CLIPLENS_QUIET"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402

from cliplens.assets import fixtures_dir, toy_model_dir, toyworld  # noqa: E402

import tiny_models  # noqa: E402

ASSETS_FIXTURES_64 = fixtures_dir(64)
ASSETS_FIXTURES_224 = fixtures_dir(224)


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    """Folders of tiny random models: {'openclip', 'hf', 'siglip', 'onnx'} (built once per session)."""
    root = tmp_path_factory.mktemp("tiny")
    hf = tiny_models.build_hf(root / "hf")
    return {
        "openclip": tiny_models.build_openclip(root / "openclip"),
        "hf": hf,
        "siglip": tiny_models.build_siglip(root / "siglip"),
        "onnx": tiny_models.build_onnx(root / "onnx", hf),
    }


@pytest.fixture(scope="session")
def tiny_encoder(tiny_dirs):
    """The tiny open_clip encoder (fast, differentiable): for plumbing tests of every capability."""
    from cliplens import load_encoder

    return load_encoder(f"openclip:{tiny_dirs['openclip']}", device="cpu")


@pytest.fixture(scope="session")
def toyclip():
    """The bundled, trained toyclip through open_clip: for tests whose answer needs real alignment."""
    from cliplens import load_encoder

    return load_encoder("toyclip", device="cpu")


@pytest.fixture(scope="session")
def tw():
    """The toy-world renderer module (assets/toyworld/toyworld.py)."""
    return toyworld()


@pytest.fixture(scope="session")
def fixture_labels() -> list[dict]:
    """Labels of the 240 64-px fixture images, each with an absolute 'path'."""
    rows = [json.loads(line) for line in (ASSETS_FIXTURES_64 / "labels.jsonl").read_text().splitlines() if line]
    for r in rows:
        r["path"] = str(ASSETS_FIXTURES_64 / r["file"])
    return rows


@pytest.fixture(scope="session")
def toycaption_dir() -> Path:
    return toy_model_dir("toycaption") / "hf"
