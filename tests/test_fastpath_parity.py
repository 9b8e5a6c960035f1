"""The fast path equals the plain path (issue 12): for any image size, aspect ratio and mode, the
vector from `cliplens.embed` (decode threads, backend-exact resize, device crop/normalise) is the
vector of the backend's own `encode_images`, within 1e-4 cosine, on every bundled backend."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cliplens import load_encoder
from cliplens.assets import toy_model_dir
from cliplens.embed import image_vectors

MODES = ["RGB", "L", "RGBA", "P", "I;16", "CMYK", "LA"]
BACKENDS = {
    "openclip": lambda: load_encoder("toyclip", device="cpu"),
    "hf": lambda: load_encoder(f"hf:{toy_model_dir('toyclip') / 'hf'}", device="cpu"),
    "onnx": lambda: load_encoder(f"onnx:{toy_model_dir('toyclip') / 'onnx'}", device="cpu"),
}


def _image(seed: int, h: int, w: int, mode: str) -> Image.Image:
    rng = np.random.default_rng(seed)
    # smooth colour fields plus noise: resampling differences show up, as they do on real pictures
    small = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    arr = np.asarray(small, np.int16) + rng.integers(-20, 21, (h, w, 3))
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if mode == "I;16":
        return Image.fromarray(np.asarray(im.convert("L"), np.uint16) * 257)
    if mode == "P":
        return im.convert("P", palette=Image.ADAPTIVE, colors=64)
    if mode in ("RGBA", "LA"):
        im = im.convert(mode)
        alpha = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
        im.putalpha(alpha)
        return im
    return im.convert(mode)


@pytest.fixture(scope="module", params=list(BACKENDS))
def encoder(request):
    enc = BACKENDS[request.param]()
    assert enc.preprocess_spec is not None, f"{request.param}: the fast path must cover this backend"
    return enc


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), h=st.integers(1, 300), w=st.integers(1, 300), mode=st.sampled_from(MODES),
       as_bytes=st.booleans())
def test_fast_vector_equals_plain_vector(encoder, seed, h, w, mode, as_bytes):
    im = _image(seed, h, w, mode)
    plain = encoder.encode_images([im])[0]
    src = im
    if as_bytes:
        buf = io.BytesIO()
        im.save(buf, "PNG" if mode != "CMYK" else "TIFF")
        src = buf.getvalue()
    res = image_vectors(encoder, [src], use_cache=False, on_error="raise")
    assert res.indices == [0]
    cos = float(res.vectors[0] @ plain)
    assert cos >= 1 - 1e-4, (encoder.backend, h, w, mode, cos)


def test_fixed_sizes_and_modes_all_backends(encoder):
    """The quick version of the property (not marked slow): one batch of awkward images per backend."""
    sizes = [(64, 64), (63, 65), (480, 640), (640, 480), (17, 900), (1, 1), (300, 7)]
    ims = [_image(i, h, w, MODES[i % len(MODES)]) for i, (h, w) in enumerate(sizes)]
    plain = encoder.encode_images(ims)
    res = image_vectors(encoder, ims, use_cache=False)
    assert res.indices == list(range(len(ims)))
    cos = (plain * res.vectors).sum(1)
    assert (cos >= 1 - 1e-4).all(), cos
