"""Safe image loading: every odd-but-real file becomes RGB, every broken one a clear error."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cliplens.errors import ImageLoadError
from cliplens.images import find_images, load_image, load_images, looks_like_image


def _png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def test_exif_orientation_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW when displayed
    p = tmp_path / "rot.jpg"
    img.save(p, exif=exif)
    assert load_image(p).size == (20, 40)


def test_palette_with_transparency_composited_on_white(tmp_path):
    img = Image.new("P", (8, 8), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.info["transparency"] = 0
    p = tmp_path / "pal.png"
    img.save(p, transparency=0)
    out = load_image(p)
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)


def test_rgba_la_cmyk_greyscale_and_16bit(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (0, 0, 255, 0))
    assert load_image(rgba).getpixel((1, 1)) == (255, 255, 255)
    assert load_image(Image.new("LA", (4, 4), (10, 255))).getpixel((0, 0)) == (10, 10, 10)
    cmyk = tmp_path / "c.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(cmyk)
    r, g, b = load_image(cmyk).getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60
    assert load_image(Image.new("L", (4, 4), 128)).getpixel((0, 0)) == (128, 128, 128)
    arr16 = np.full((6, 6), 65535, np.uint16)
    p16 = tmp_path / "deep.png"
    Image.fromarray(arr16).save(p16)
    assert load_image(p16).getpixel((0, 0)) == (255, 255, 255)
    assert load_image(Image.new("1", (4, 4), 1)).mode == "RGB"


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0)]]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, _ = load_image(p).getpixel((2, 2))
    assert r > 200 and g < 50


def test_arrays_bytes_and_pil():
    assert load_image(np.zeros((5, 7, 3), np.uint8)).size == (7, 5)
    assert load_image(np.zeros((3, 5, 7), np.float32)).size == (7, 5)  # CHW float
    assert load_image(_png_bytes(Image.new("RGB", (3, 3)))).size == (3, 3)
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((2, 2, 2, 2)))


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.png", b"", "empty file"),
        ("junk.png", b"this is not an image at all", "not an image"),
        ("truncated.png", None, "truncated|corrupt"),
    ],
)
def test_broken_files_name_the_file(tmp_path, name, data, reason):
    if data is None:
        full = _png_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)))
        data = full[: len(full) // 2]
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ImageLoadError, match=reason) as info:
        load_image(p)
    assert name in str(info.value)


def test_missing_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_decompression_bomb_refused(tmp_path):
    p = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(p)  # 144 Mpx, a few KB on disk
    with pytest.raises(ImageLoadError, match="pixel"):
        load_image(p, max_pixels=50_000_000)
    with pytest.raises(ImageLoadError, match="pixel"):
        load_image(Image.new("1", (100, 100)), max_pixels=500)


def test_url_refused_offline():
    with pytest.raises(ImageLoadError, match="offline"):
        load_image("https://example.com/cat.jpg")


def test_batch_reports_bad_and_keeps_good(tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (5, 5)).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    images, errors = load_images([good, bad, good])
    assert [im is not None for im in images] == [True, False, True]
    assert len(errors) == 1 and errors[0].source == str(bad)


def test_find_images_by_content_not_extension(tmp_path):
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "sub" / "no_extension", format="PNG")
    Image.new("RGB", (4, 4)).save(tmp_path / "a.jpg")
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / ".hidden" / "x.png")
    found = find_images([tmp_path])
    assert [p.name for p in found] == ["a.jpg", "no_extension"]
    assert looks_like_image(tmp_path / "a.jpg") and not looks_like_image(tmp_path / "notes.png")
    with pytest.raises(ImageLoadError):
        find_images([tmp_path / "missing"])
