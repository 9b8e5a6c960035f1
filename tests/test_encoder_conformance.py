"""Every backend passes the same conformance suite; toyclip agrees across backends."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cliplens import load_encoder
from cliplens.models import clear_cache

BACKENDS = ["openclip", "hf", "siglip", "onnx"]
TEXTS = ["a red circle", "", "three blue rings, navy background, pixel art",
         "a very long prompt " + "with many many words " * 20, "日本語のテキスト", "x"]


@pytest.fixture(scope="module", params=BACKENDS)
def enc(request, tiny_dirs):
    return load_encoder(str(tiny_dirs[request.param]), device="cpu")


def _images(n: int, size: int = 40) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (size, size + 7, 3), dtype=np.uint8)) for _ in range(n)]


def test_shapes_dtype_and_normalisation(enc):
    t = enc.encode_texts(TEXTS)
    i = enc.encode_images(_images(3))
    assert t.shape == (len(TEXTS), enc.embed_dim) and i.shape == (3, enc.embed_dim)
    assert t.dtype == np.float32 and i.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(i, axis=1), 1.0, atol=1e-5)
    assert enc.encode_texts([]).shape == (0, enc.embed_dim)


def test_deterministic(enc):
    np.testing.assert_array_equal(enc.encode_texts(TEXTS), enc.encode_texts(TEXTS))
    ims = _images(2)
    np.testing.assert_array_equal(enc.encode_images(ims), enc.encode_images(ims))


def test_batching_invariance_text(enc):
    """Encoding 1 item or 64 (with other lengths mixed in) gives the same vector within 1e-5."""
    many = [TEXTS[i % len(TEXTS)] + f" {i}" * (i % 7) for i in range(64)]
    batched = enc.encode_texts(many, batch_size=64)
    singles = np.concatenate([enc.encode_texts([t], batch_size=1) for t in many])
    np.testing.assert_allclose(batched, singles, atol=1e-5)


def test_batching_invariance_images(enc):
    ims = _images(64, size=24)
    batched = enc.encode_images(ims, batch_size=64)
    singles = np.concatenate([enc.encode_images([im], batch_size=1) for im in ims[:8]])
    np.testing.assert_allclose(batched[:8], singles, atol=1e-5)


def test_tokens(enc):
    ids = enc.tokenize(["a red circle", "x " * 200])
    assert ids.shape == (2, enc.context_length) and ids.dtype == torch.long
    assert enc.count_tokens("a red circle") == 3
    assert enc.count_tokens("x " * 200) == 200  # counted, not truncated
    assert enc.max_text_tokens == enc.context_length - 2


def test_padding_trim_matches_full_context(enc):
    """The length-trimmed forward pass equals the full 77-token one (the speed trick is exact)."""
    ids = enc.tokenize(["a red circle on the left", "a star"])
    with torch.inference_mode():
        full = enc.encode_token_tensor(ids)
        if enc.trims_padding:
            trimmed = enc.encode_token_tensor(ids[:, : int(enc.sequence_lengths(ids).max())])
            torch.testing.assert_close(full, trimmed, atol=1e-5, rtol=1e-4)


def test_fingerprint_stable_and_distinct(tiny_dirs):
    a = load_encoder(str(tiny_dirs["openclip"]), device="cpu")
    b = load_encoder(str(tiny_dirs["hf"]), device="cpu")
    assert a.fingerprint == a.fingerprint and len(a.fingerprint) == 16
    assert a.fingerprint != b.fingerprint


def test_process_cache_returns_same_object(tiny_dirs):
    a = load_encoder(str(tiny_dirs["hf"]), device="cpu")
    assert load_encoder(f"hf:{tiny_dirs['hf']}", device="cpu") is a


def test_onnx_has_no_gradient_path(tiny_dirs):
    from cliplens.errors import CapabilityError

    enc = load_encoder(str(tiny_dirs["onnx"]), device="cpu")
    with pytest.raises(CapabilityError, match="differentiable"):
        enc.encode_unit_images(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize("kind", ["openclip", "hf"])
def test_gradient_path_flows_to_pixels(tiny_dirs, kind):
    enc = load_encoder(str(tiny_dirs[kind]), device="cpu")
    x = torch.rand(2, 3, 50, 70, requires_grad=True)
    target = torch.from_numpy(enc.encode_texts(["a red circle"]))
    (enc.encode_unit_images(x) @ target.T).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_gradient_path_matches_numpy_path(toyclip, tw):
    """encode_unit_images on a model-sized image equals encode_images (same preprocessing when no resize)."""
    img = tw.render(tw.sample_scene(3), 64)
    x = torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        a = toyclip.encode_unit_images(x).numpy()
    np.testing.assert_allclose(a, toyclip.encode_images([img]), atol=1e-5)


# ---------------------------------------------------------------- reference agreement
def test_openclip_backend_matches_open_clip(tiny_dirs):
    import open_clip

    enc = load_encoder(str(tiny_dirs["openclip"]), device="cpu")
    ref, _, preprocess = open_clip.create_model_and_transforms(
        "tinyclip", pretrained=str(tiny_dirs["openclip"] / "open_clip_model.safetensors"))
    ref.eval()
    tok = open_clip.get_tokenizer("tinyclip")
    ims = _images(3)
    with torch.no_grad():
        t_ref = ref.encode_text(tok(TEXTS), normalize=True).numpy()
        i_ref = ref.encode_image(torch.stack([preprocess(im) for im in ims]), normalize=True).numpy()
    np.testing.assert_allclose(enc.encode_texts(TEXTS), t_ref, atol=1e-5)
    np.testing.assert_allclose(enc.encode_images(ims), i_ref, atol=1e-5)


def test_hf_backend_matches_transformers(tiny_dirs):
    from transformers import CLIPModel, CLIPProcessor

    enc = load_encoder(str(tiny_dirs["hf"]), device="cpu")
    ref = CLIPModel.from_pretrained(tiny_dirs["hf"]).eval()
    proc = CLIPProcessor.from_pretrained(tiny_dirs["hf"])
    ims = _images(3)
    with torch.no_grad():
        t = ref.get_text_features(**proc(text=TEXTS, padding=True, truncation=True, return_tensors="pt")).pooler_output
        i = ref.get_image_features(**proc(images=ims, return_tensors="pt")).pooler_output
    np.testing.assert_allclose(enc.encode_texts(TEXTS), torch.nn.functional.normalize(t, dim=-1).numpy(), atol=1e-5)
    np.testing.assert_allclose(enc.encode_images(ims), torch.nn.functional.normalize(i, dim=-1).numpy(), atol=1e-5)


def test_onnx_backend_matches_onnxruntime(tiny_dirs):
    import onnxruntime as ort

    enc = load_encoder(str(tiny_dirs["onnx"]), device="cpu")
    sess = ort.InferenceSession(str(tiny_dirs["onnx"] / "text_encoder.onnx"), providers=["CPUExecutionProvider"])
    ids = enc.tokenize(TEXTS).numpy()
    ref = sess.run(None, {"input_ids": ids})[0]
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(enc.encode_texts(TEXTS), ref, atol=1e-5)


# ---------------------------------------------------------------- toyclip, all backends
TOY_SPECS = ["toyclip", "toyclip-hf", "toyclip-onnx"]


@pytest.mark.parametrize("spec", TOY_SPECS)
def test_toyclip_red_circle(spec, tw):
    """Real alignment: a rendered red circle is closer to 'a red circle' than to 'a blue square'."""
    enc = load_encoder(spec, device="cpu")
    for size in (64, 224):
        img = tw.render(tw.sample_scene(11, shape="circle", colour="red", style="flat", background="white", kind="single"), size)
        sims = enc.encode_images([img]) @ enc.encode_texts(["a red circle", "a blue square"]).T
        assert sims[0, 0] > sims[0, 1] + 0.05, (spec, size, sims)


def test_toyclip_backends_agree_on_same_ids_and_pixels(tw):
    encs = [load_encoder(s, device="cpu") for s in TOY_SPECS]
    ids = encs[0].tokenize(["a red circle", "three blue rings, navy background", "pixel art"])
    imgs = [tw.render(tw.sample_scene(s), 64) for s in range(4)]
    pixels = encs[1].preprocess(imgs)  # transformers' preprocessing, fed to every backend
    with torch.inference_mode():
        texts = [torch.nn.functional.normalize(e.encode_token_tensor(ids), dim=-1).numpy() for e in encs]
        images = [torch.nn.functional.normalize(e.encode_pixel_tensor(pixels), dim=-1).numpy() for e in encs]
    for other in texts[1:]:
        np.testing.assert_allclose(texts[0], other, atol=1e-4)
    for other in images[1:]:
        np.testing.assert_allclose(images[0], other, atol=1e-4)
    # their own preprocessing of a 64-px image (no resize needed) agrees too
    own = [e.encode_images(imgs) for e in encs]
    for other in own[1:]:
        np.testing.assert_allclose(own[0], other, atol=1e-4)


def test_toyclip_zero_shot_shapes_on_fixtures(toyclip, fixture_labels):
    singles = [r for r in fixture_labels if r["kind"] == "single"][:60]
    shapes = sorted({o["shape"] for r in fixture_labels for o in r["objects"]})
    t = toyclip.encode_texts([f"a photo of a {s}" for s in shapes])
    i = toyclip.encode_images([r["path"] for r in singles])
    pred = np.array(shapes)[(i @ t.T).argmax(1)]
    acc = np.mean([p == r["objects"][0]["shape"] for p, r in zip(pred, singles)])
    assert acc >= 0.9, acc


def test_clear_cache_reloads(tiny_dirs):
    a = load_encoder(str(tiny_dirs["onnx"]), device="cpu")
    clear_cache()
    b = load_encoder(str(tiny_dirs["onnx"]), device="cpu")
    assert a is not b and a.fingerprint == b.fingerprint


def test_causal_text_tower_reproduces_the_text_features():
    """`Encoder.causal_text_tower()` (used for prefix KV caching) gives the same features as the
    encoder, for the backends that have one; ONNX has none."""
    import torch

    from cliplens import load_encoder
    from cliplens.assets import toy_model_dir

    encs = [load_encoder("toyclip", device="cpu"), load_encoder(f"hf:{toy_model_dir('toyclip') / 'hf'}", device="cpu")]
    for enc in encs:
        tower = enc.causal_text_tower()
        assert tower is not None, enc.backend
        ids = enc.tokenize(["a red circle on a blue square"])
        n = int(enc.sequence_lengths(ids)[0])
        ids = ids[:, :n]
        with torch.inference_mode():
            x = tower.embed(ids, 0)
            mask = torch.ones(n, n, dtype=torch.bool).tril()
            for layer in tower.layers:
                h = layer.ln1(x)
                q, k, v = (t.view(1, n, layer.heads, -1).transpose(1, 2) for t in layer.qkv(h))
                a = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                x = x + layer.ls1(layer.out(a.transpose(1, 2).reshape(1, n, -1)))
                x = x + layer.ls2(layer.mlp(layer.ln2(x)))
            got = tower.project(x[:, n - 1])
            want = enc.encode_token_tensor(ids)
        assert torch.allclose(got.float(), want.float(), atol=1e-4), (enc.backend, (got - want).abs().max())
    onnx = load_encoder(f"onnx:{toy_model_dir('toyclip') / 'onnx'}", device="cpu")
    assert onnx.causal_text_tower() is None
