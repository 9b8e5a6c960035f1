"""Plots are real PNGs: decode them and check size/content; bad input gives clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cliplens.errors import InvalidInputError
from cliplens.cli.plots import bar_chart, contact_sheet, heatmap


def _decode(path) -> Image.Image:
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    img = Image.open(path)
    img.load()
    return img.convert("RGB")


def test_contact_sheet_decodes_and_shows_images(fixture_labels, tmp_path):
    paths = [r["path"] for r in fixture_labels[:5]]
    out = contact_sheet(paths, [f"#{i + 1} {0.3 - i / 100:.3f}" for i in range(5)], tmp_path / "s.png",
                        columns=3, thumb=64, title="ranked", scores=[0.3, 0.29, 0.28, 0.27, 0.26],
                        highlight=[True, True, False, False, False])
    img = _decode(out)
    assert img.size[0] == 3 * (64 + 8) + 8
    arr = np.asarray(img)
    # the first tile holds the (upscaled) first fixture image: its pixels are not the white page
    first = np.asarray(Image.open(paths[0]).convert("RGB"))  # 64 px fixtures: pasted 1:1
    # the tile sits below the title; find it by matching the image's exact pixels in the first column
    hits = [y for y in range(arr.shape[0] - 64) if np.array_equal(arr[y:y + 64, 8:72], first)]
    assert hits, "first image not found on the sheet"


def test_contact_sheet_marks_unreadable_and_accepts_pil(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    good = Image.new("RGB", (20, 30), (255, 0, 0))
    out = contact_sheet([good, str(bad), tmp_path / "missing.png"], ["red", "bad", "gone"], tmp_path / "x.png")
    img = _decode(out)
    arr = np.asarray(img)
    # pure red pixels of the PIL input are on the sheet
    assert ((arr[..., 0] == 255) & (arr[..., 1] == 0) & (arr[..., 2] == 0)).sum() > 100


def test_contact_sheet_bad_inputs(tmp_path):
    with pytest.raises(InvalidInputError, match="no images"):
        contact_sheet([], [], tmp_path / "a.png")
    with pytest.raises(InvalidInputError, match="labels"):
        contact_sheet([Image.new("RGB", (4, 4))], ["a", "b"], tmp_path / "a.png")
    with pytest.raises(InvalidInputError, match=".png"):
        contact_sheet([Image.new("RGB", (4, 4))], ["a"], tmp_path / "a.jpg")


def test_heatmap_and_bar_chart_decode(tmp_path):
    m = np.array([[0.3, 0.1, 0.05], [0.02, 0.28, 0.1]])
    img = _decode(heatmap(m, ["a.png", "b.png"], ["red", "blue", "green"], tmp_path / "h.png", title="t"))
    assert img.size[0] > 100 and img.size[1] > 80
    assert np.asarray(img).std() > 10
    img = _decode(bar_chart([0.05, -0.02, 0.0], ["red", "white carpet", "x"], tmp_path / "b.png",
                            present=[True, False, None], threshold=0.01, title="feedback"))
    arr = np.asarray(img).astype(int)
    green = (arr[..., 1] - arr[..., 0] > 60) & (arr[..., 1] - arr[..., 2] > 40)
    red = (arr[..., 0] - arr[..., 1] > 80) & (arr[..., 0] - arr[..., 2] > 80)
    assert green.sum() > 50 and red.sum() > 50


def test_heatmap_bar_bad_inputs(tmp_path):
    with pytest.raises(InvalidInputError, match="labels"):
        heatmap(np.zeros((2, 2)), ["a"], ["b", "c"], tmp_path / "h.png")
    with pytest.raises(InvalidInputError, match="2-D"):
        heatmap(np.zeros(3), ["a"], ["b"], tmp_path / "h.png")
    with pytest.raises(InvalidInputError, match="no values"):
        bar_chart([], [], tmp_path / "b.png")
