"""Embedding throughput: model-only, end to end from JPEG files, and vocabulary phrases.

What it measures, for one main model (default: random ViT-L/14 fp16 batch 256 on CUDA,
random ViT-B/32 fp32 batch 64 on CPU), all in one run on the same machine:

* model-only images/s and texts/s (77 tokens) of cliplens' runner against a plain
  transformers `CLIPModel` forward pass of the same architecture (the peer, issue 9 (a));
* `Encoder.encode_images` / `encode_texts` (the plain library API, issue 2's first figure),
  also for the bundled toyclip on CPU;
* end-to-end images/s: a folder of generated 512x512 JPEGs -> `embed_images` (fresh cache,
  so every file is computed) -> a saved .npy file (issue 9 (b));
* phrases/s for short vocabulary phrases through `encode_texts_fast` (tokenization included),
  against `Encoder.encode_texts` on the same phrases;
* the fast path's agreement with the plain path (min cosine over a sample of the files).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/embed.py --quick          # CPU, < 1 min
    python benchmarks/embed.py --device cuda                               # H100: ViT-L/14 fp16 b256, 10k JPEGs, 112k phrases

The last line of output is one JSON object with images_per_s, texts_per_s, e2e_images_per_s
and phrases_per_s (plus the peer figures and details).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cliplens import load_encoder  # noqa: E402
from cliplens.embed import ModelRunner, embed_images, encode_texts_fast  # noqa: E402
from cliplens.io import save_embeddings  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, n_items: int, device: torch.device, min_iters: int = 3, min_seconds: float = 2.0, warmup: int = 2) -> float:
    """Items/s of `fn()` (which processes `n_items`), after warm-up, over >= min_iters and >= min_seconds."""
    for _ in range(warmup):
        fn()
    sync(device)
    iters, start = 0, time.perf_counter()
    while iters < min_iters or time.perf_counter() - start < min_seconds:
        fn()
        iters += 1
    sync(device)
    return n_items * iters / (time.perf_counter() - start)


# ---------------------------------------------------------------------------- data
def _make_jpeg(args: tuple[int, Path, int]) -> None:
    seed, path, size = args
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)
    arr = np.asarray(small, dtype=np.int16) + rng.integers(-12, 13, (size, size, 3), dtype=np.int16)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=90)


def make_jpeg_folder(folder: Path, n: int, size: int = 512) -> Path:
    """`n` distinct size x size JPEGs (smooth colour fields + grain, ~50-80 KB each), made in parallel."""
    folder.mkdir(parents=True, exist_ok=True)
    have = sorted(folder.glob("*.jpg"))
    if len(have) == n:
        return folder
    for f in have:
        f.unlink()
    jobs = [(i, folder / f"img_{i:06d}.jpg", size) for i in range(n)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        list(ex.map(_make_jpeg, jobs, chunksize=64))
    return folder


_ADJ = ("red blue green yellow purple orange black white golden silver dark bright misty foggy neon pastel vintage "
        "ancient futuristic tiny giant glowing rusty wooden glass marble cinematic dramatic soft moody vivid "
        "surreal minimalist ornate gothic baroque cyberpunk steampunk rainy snowy sunny cosy eerie serene").split()
_NOUN = ("cat dog fox owl horse dragon castle forest river mountain lake city street portrait landscape flower "
         "tree robot ship car train bridge tower garden desert ocean beach cloud moon star galaxy temple "
         "lighthouse village market kitchen library cathedral knight wizard girl boy woman man skull crown").split()
_STYLE = ("oil painting|watercolor|pencil sketch|digital art|concept art|photograph|studio lighting|bokeh|"
          "8k|highly detailed|trending on artstation|unreal engine|octane render|film grain|35mm|matte painting|"
          "ukiyo-e|art nouveau|impressionism|pop art|low poly|isometric|pixel art|charcoal drawing").split("|")


def make_phrases(n: int, seed: int = 0) -> list[str]:
    """`n` distinct short vocabulary phrases (1-5 words), like an interrogator's label tables."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        k = rng.random()
        if k < 0.3:
            p = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}"
        elif k < 0.6:
            p = f"{rng.choice(_ADJ)} {rng.choice(_ADJ)} {rng.choice(_NOUN)}"
        elif k < 0.8:
            p = f"{rng.choice(_STYLE)} of a {rng.choice(_NOUN)}"
        else:
            p = f"{rng.choice(_NOUN)} {rng.choice(_STYLE)} {rng.randint(1, 999)}"
        out.add(p)
    return sorted(out)


def make_prompts(n: int, seed: int = 1) -> list[str]:
    """Typical generation prompts (~15-30 tokens) for the plain `encode_texts` figure."""
    rng = random.Random(seed)
    return [", ".join([f"a {rng.choice(_ADJ)} {rng.choice(_NOUN)} in a {rng.choice(_ADJ)} {rng.choice(_NOUN)}"]
                      + rng.sample(_STYLE, rng.randint(2, 4))) for _ in range(n)]


# ---------------------------------------------------------------------------- peer
def hf_twin(encoder, device: torch.device, dtype: torch.dtype):
    """A randomly initialised transformers CLIPModel with the open_clip model's architecture."""
    import open_clip
    from transformers import CLIPConfig, CLIPModel

    cfg = open_clip.get_model_config(encoder.spec.name)
    if cfg is None:
        return None
    v, t = cfg["vision_cfg"], cfg["text_cfg"]
    act = "quick_gelu" if cfg.get("quick_gelu") else "gelu"
    vheads = v["width"] // v.get("head_width", 64)
    conf = CLIPConfig(
        text_config=dict(hidden_size=t["width"], intermediate_size=int(t["width"] * t.get("mlp_ratio", 4)),
                         num_hidden_layers=t["layers"], num_attention_heads=t["heads"], vocab_size=t["vocab_size"],
                         max_position_embeddings=t["context_length"], hidden_act=act),
        vision_config=dict(hidden_size=v["width"], intermediate_size=int(v["width"] * v.get("mlp_ratio", 4)),
                           num_hidden_layers=v["layers"], num_attention_heads=vheads, image_size=v["image_size"],
                           patch_size=v["patch_size"], hidden_act=act),
        projection_dim=cfg["embed_dim"],
    )
    conf._attn_implementation = "sdpa"
    return CLIPModel(conf).eval().to(device=device, dtype=dtype)


def _pooled(out):
    return out if isinstance(out, torch.Tensor) else out.pooler_output


# ---------------------------------------------------------------------------- sections
def interleaved(steps: dict, device: torch.device, rounds: int, min_seconds: float) -> dict[str, float]:
    """Median items/s of each `name: (fn, n_items)`, measured in alternating rounds.

    Alternating ours and the peer's round by round (instead of one block each) keeps a busy
    shared machine from favouring whichever ran in the quieter minute.
    """
    for fn, _ in steps.values():
        fn()
    sync(device)
    rates: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(rounds):
        for name, (fn, n) in steps.items():
            iters, t0 = 0, time.perf_counter()
            while iters < 1 or time.perf_counter() - t0 < min_seconds:
                fn()
                iters += 1
            sync(device)
            rates[name].append(n * iters / (time.perf_counter() - t0))
    return {k: float(np.median(v)) for k, v in rates.items()}


def model_steps(enc, batch: int, compile_: bool) -> tuple[dict, dict]:
    """Step functions for cliplens' runner (eager, compiled) on device-resident batches."""
    dev = enc.device
    h, w = enc.image_size
    pixels = torch.randn(batch, 3, h, w, device=dev).to(enc.dtype)
    info: dict = {}
    eager = ModelRunner(enc)
    steps = {"images_per_s_eager": (lambda: eager.submit(pixels).result(), batch)}
    if compile_:
        runner = ModelRunner(enc, compile=True, batch_size=batch)
        t0 = time.perf_counter()
        runner.submit(pixels).result()
        info["compile_s"] = round(time.perf_counter() - t0, 1)
        info["compiled"] = runner.compiled
        if runner.compiled:
            steps["images_per_s_compiled"] = (lambda: runner.submit(pixels).result(), batch)
    ids = torch.randint(1, 49000, (batch, enc.context_length))
    ids[:, 0], ids[:, -1] = 49406, 49407
    ids_dev = ids.to(dev)

    def text_step():
        with torch.inference_mode():
            feats = enc.encode_token_tensor(ids_dev)
            return torch.nn.functional.normalize(feats.float(), dim=-1).cpu()

    steps["texts_per_s"] = (text_step, batch)
    return steps, info


def peer_steps(enc, batch: int) -> tuple[dict, dict, object]:
    """Step functions for a plain transformers forward pass of the same architecture."""
    dev, dtype = enc.device, enc.dtype
    model = hf_twin(enc, dev, dtype)
    if model is None:
        return {}, {"peer": "none (not a named open_clip architecture)"}, None
    h, w = enc.image_size
    pixels = torch.randn(batch, 3, h, w, device=dev).to(dtype)
    ids = torch.randint(1, 49000, (batch, 77), device=dev)
    ids[:, -1] = 49407

    def img():
        with torch.inference_mode():
            return _pooled(model.get_image_features(pixel_values=pixels)).float().cpu()

    def txt():
        with torch.inference_mode():
            return _pooled(model.get_text_features(input_ids=ids)).float().cpu()

    info = {"peer": f"transformers {__import__('transformers').__version__} CLIPModel (sdpa), same architecture, random init"}
    return {"hf_images_per_s": (img, batch), "hf_texts_per_s": (txt, batch)}, info, model


def api_figures(enc, pil_images: list, prompts: list[str], batch: int) -> dict:
    """Issue 2's first figure: the plain Encoder API on decoded images and typical prompts."""
    dev = enc.device
    n_img = len(pil_images)
    return {
        "encode_images_per_s": timed(lambda: enc.encode_images(pil_images, batch_size=batch), n_img, dev,
                                     min_iters=1, min_seconds=0.0, warmup=1),
        "encode_texts_per_s": timed(lambda: enc.encode_texts(prompts, batch_size=batch), len(prompts), dev,
                                    min_iters=1, min_seconds=0.0, warmup=1),
    }


def end_to_end(enc, folder: Path, batch: int, compile_: bool, decode: str, workers: int | None, tmp: Path) -> dict:
    files = sorted(folder.glob("*.jpg"))
    warm = files[: min(len(files), (2 if compile_ else 1) * batch)]
    embed_images(enc, warm, batch_size=batch, use_cache=False, progress=False, compile=compile_, decode=decode,
                 workers=workers)
    sync(enc.device)
    cache_root = tmp / "cache"
    shutil.rmtree(cache_root, ignore_errors=True)
    out = tmp / "e2e.npy"
    t0 = time.perf_counter()
    res = embed_images(enc, [folder], batch_size=batch, use_cache=True, cache_root=cache_root, progress=True,
                       compile=compile_, decode=decode, workers=workers)
    save_embeddings(res, out, model=enc.name)
    dt = time.perf_counter() - t0
    assert res.computed == len(files) and not res.errors, (res.computed, res.errors[:3])
    # the cache makes a second pass free of model calls: time it too
    t1 = time.perf_counter()
    again = embed_images(enc, [folder], batch_size=batch, use_cache=True, cache_root=cache_root, progress=False,
                         decode=decode, workers=workers)
    dt_cached = time.perf_counter() - t1
    sample = files[: min(64, len(files))]
    plain = enc.encode_images([str(p) for p in sample], batch_size=batch)
    fast = res.vectors[: len(sample)]
    return {"e2e_images_per_s": len(files) / dt, "e2e_seconds": round(dt, 2), "e2e_files": len(files),
            "e2e_cached_rerun_images_per_s": len(files) / dt_cached, "cached_rerun_model_calls": again.computed,
            "fast_vs_plain_min_cosine": float((plain * fast).sum(1).min()), "saved": out.name}


def phrases(enc, items: list[str], batch: int, rounds: int) -> dict:
    """Short vocabulary phrases: `encode_texts_fast` vs `Encoder.encode_texts`, same phrases, alternating."""
    rates = interleaved({"phrases_per_s": (lambda: encode_texts_fast(enc, items, batch_size=batch), len(items)),
                         "plain_phrases_per_s": (lambda: enc.encode_texts(items, batch_size=batch), len(items))},
                        enc.device, rounds, 0.0)
    a = encode_texts_fast(enc, items[:512], batch_size=batch)
    b = enc.encode_texts(items[:512], batch_size=batch)
    return {**rates, "phrases": len(items), "phrases_fast_vs_plain_min_cosine": float((a * b).sum(1).min())}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--model", default=None, help="main model (default: ViT-L-14/random on cuda, ViT-B-32/random on cpu)")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--images", type=int, default=None, help="JPEG files for the end-to-end run")
    ap.add_argument("--phrases", type=int, default=None, help="short phrases for phrases/s")
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                    help="torch.compile the image tower (default: on for cuda)")
    ap.add_argument("--decode", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-peer", action="store_true", help="skip the transformers baseline")
    ap.add_argument("--data-dir", type=Path, default=None, help="where to generate the JPEGs (reused if complete)")
    ap.add_argument("--quick", action="store_true", help="small sizes (CPU run < 1 min)")
    args = ap.parse_args(argv)

    from cliplens.models import resolve_device

    dev = resolve_device(args.device)
    cuda = dev.type == "cuda"
    model = args.model or ("openclip:ViT-L-14/random" if cuda else "openclip:ViT-B-32/random")
    batch = args.batch_size or (256 if cuda else (8 if args.quick else 64))
    n_images = args.images or (10_000 if cuda and not args.quick else (1000 if cuda else (16 if args.quick else 256)))
    n_phrases = args.phrases or (112_000 if cuda and not args.quick else (20_000 if cuda else (200 if args.quick else 1000)))
    compile_ = cuda if args.compile is None else args.compile
    min_s = 3.0 if cuda else (0.0 if args.quick else 1.0)
    tmp = Path(tempfile.mkdtemp(prefix="cliplens-bench-embed-"))
    folder = args.data_dir or tmp / "jpegs"
    log(f"generating {n_images} 512x512 JPEGs in {folder} ...")
    make_jpeg_folder(folder, n_images)

    enc = load_encoder(model, device=dev, precision=args.precision)
    log(f"model {enc!r}, batch {batch}, compile {compile_}")
    result: dict = {"model": model, "device": str(dev), "dtype": str(enc.dtype).removeprefix("torch."), "batch_size": batch,
                    "torch": torch.__version__, "machine": platform.processor() or platform.machine()}
    if cuda:
        from cliplens.embed.decode import nvjpeg_available

        result["gpu"] = torch.cuda.get_device_name(dev)
        result["nvjpeg"] = nvjpeg_available(str(dev))
    log("model-only, with the transformers peer in alternating rounds ...")
    steps, info = model_steps(enc, batch, compile_)
    result.update(info)
    hf_model = None
    if not args.no_peer:
        psteps, pinfo, hf_model = peer_steps(enc, batch)
        steps.update(psteps)
        result.update(pinfo)
    result.update(interleaved(steps, dev, rounds=1 if args.quick else 3, min_seconds=min_s))
    result["images_per_s"] = max(result["images_per_s_eager"], result.get("images_per_s_compiled", 0.0))
    del hf_model, steps
    if cuda:
        torch.cuda.empty_cache()
    if "hf_images_per_s" in result:
        result["images_vs_hf"] = round(result["images_per_s"] / result["hf_images_per_s"], 2)
        result["texts_vs_hf"] = round(result["texts_per_s"] / result["hf_texts_per_s"], 2)
    log("end to end ...")
    result.update(end_to_end(enc, folder, batch, compile_, args.decode, args.workers, tmp))
    if cuda and args.decode == "auto":  # which decoder wins on this machine: nvjpeg or the CPU threads?
        log("end to end, CPU decoding ...")
        alt = end_to_end(enc, folder, batch, compile_, "cpu", args.workers, tmp)
        result["e2e_images_per_s_cpu_decode"] = alt["e2e_images_per_s"]
    log("phrases ...")
    result.update(phrases(enc, make_phrases(n_phrases), 256 if not cuda else batch * 4, rounds=1 if args.quick else 2))

    from PIL import Image

    files = sorted(folder.glob("*.jpg"))[: (batch if cuda else min(batch, 8 if args.quick else 32))]
    pil = [Image.open(f).convert("RGB") for f in files]
    prompts = make_prompts(len(pil) * (4 if cuda else 1))
    log("plain Encoder API ...")
    result.update(api_figures(enc, pil, prompts, batch))
    if not cuda:  # issue 2 also wants the bundled toy model on this CPU
        toy = load_encoder("toyclip", device=dev)
        toy_row = api_figures(toy, pil, prompts, 64)
        toy_row.update({k: v for k, v in phrases(toy, make_phrases(n_phrases), 256, rounds=1).items()
                        if k.endswith("per_s")})
        result["toyclip"] = {k: round(v, 1) for k, v in toy_row.items()}
    if not args.data_dir:
        shutil.rmtree(tmp, ignore_errors=True)
    for k, v in list(result.items()):
        if isinstance(v, float):
            result[k] = round(v, 4 if "cosine" in k else 1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
