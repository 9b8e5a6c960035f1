"""cliplens' Interrogator vs clip-interrogator 0.6.0 on the same CLIP, vocabulary and captions.

Both get: the same open_clip model object (toyclip by default), clip-interrogator's own lists
(read from its installed package), and the same fixed caption per image (the fixture's label), so
only the prompt-building differs. Measured per mode (best, classic, fast, negative): wall time per
image after warm-up, and the final prompt's cosine similarity to the image (same model for both).
Label-table preparation is timed cold (empty caches) for both.

    python benchmarks/interrogate_vs_clip_interrogator.py --quick          # ~1-2 min on 2 busy CPU cores
    python benchmarks/interrogate_vs_clip_interrogator.py --images 5 --model openclip:ViT-L-14/random --device cuda
    python benchmarks/interrogate_vs_clip_interrogator.py --full-vocab --modes best --images 2   # all 111,908 labels
    python benchmarks/interrogate_vs_clip_interrogator.py --full-vocab --modes best --images 2 --ci-cache DIR  # ci tables prepared before

The last line printed is one JSON object: <mode>_speedup (clip-interrogator time / ours),
<mode>_ms_ours, <mode>_ms_ci, <mode>_sim_ours, <mode>_sim_ci (medians over images), the same
per image (<mode>_ms_each_*, <mode>_sims_*), labels, and table_prep_speedup (not with --ci-cache).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TMP = Path(tempfile.mkdtemp(prefix="cliplens-bench-interrogate-"))
os.environ["CLIPLENS_CACHE"] = str(TMP / "cache")  # cold label tables for a fair preparation timing
os.environ.setdefault("CLIPLENS_OFFLINE", "1")
os.environ.setdefault("CLIPLENS_QUIET", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cliplens import defaults as D  # noqa: E402

MODES = ("fast", "classic", "negative", "best")


def ci_data_subset(n_flavors: int | None, n_artists: int | None) -> str:
    """clip-interrogator's data folder, or a temp copy with the first N flavors/artists (quick runs)."""
    from cliplens.vocab import ci_data_dir

    src = ci_data_dir()
    if n_flavors is None and n_artists is None:
        return str(src)
    dst = TMP / "ci-data"
    dst.mkdir(exist_ok=True)
    for f in src.iterdir():
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        if f.name == "flavors.txt" and n_flavors:
            lines = lines[:n_flavors]
        if f.name == "artists.txt" and n_artists:
            lines = lines[:n_artists]
        (dst / f.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(dst)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 images, 4k flavors, 300 artists, pool 256, 12 flavors")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--model", default="toyclip", help="an open_clip spec (clip-interrogator only runs open_clip)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--max-flavors", type=int, default=32)
    ap.add_argument("--flavor-pool", type=int, default=2048,
                    help="phrases pre-selected per image for the chains (clip-interrogator's flavor_intermediate_count)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ", ".join(MODES))
    ap.add_argument("--flavors", type=int, default=None, help="use only the first N flavors (default: all)")
    ap.add_argument("--artists", type=int, default=None, help="use only the first N artists (default: all)")
    ap.add_argument("--full-vocab", action="store_true",
                    help="clip-interrogator's whole vocabulary (111,908 labels), also with --quick")
    ap.add_argument("--our-pool", type=int, default=None,
                    help="ours: phrases pre-selected per image for the chains (default: the library's, "
                         "cliplens.defaults.INTERROGATE_FLAVOR_POOL; with --quick, --flavor-pool)")
    ap.add_argument("--beam", type=int, default=D.INTERROGATE_BEAM,
                    help="ours: prompts kept per chain step (default: the library's; 1: greedy, as clip-interrogator)")
    ap.add_argument("--also", default=None, metavar="POOL:SHORTLIST:BEAM",
                    help="best mode only: also time our Interrogator with these settings on the same images, against "
                         "the same clip-interrogator run (keys best_alt_*)")
    ap.add_argument("--ci-cache", default=None, metavar="DIR",
                    help="clip-interrogator's cache_path from an earlier run with the same model and lists: its label "
                         "tables are loaded, not prepared (the 112k tables take ~25 min cold on 2 busy cores); "
                         "table_prep_s_ci then measures loading and no table_prep_speedup is reported")
    ap.add_argument("--shortlist", type=int, default=D.INTERROGATE_SHORTLIST,
                    help="ours: continuations scored exactly per chain step (default: the library's; = pool: exact)")
    args = ap.parse_args()

    try:
        import clip_interrogator as ci_mod
    except ImportError as exc:
        print(f"clip-interrogator is not installed ({exc}); pip install clip-interrogator==0.6.0 requests", file=sys.stderr)
        sys.exit(1)
    from cliplens import load_encoder
    from cliplens.assets import fixtures_dir, toy_model_dir
    from cliplens.interrogate import Interrogator, ci_vocab
    from cliplens.models.openclip_backend import _local_folder

    n_images = 2 if args.quick else args.images
    n_flavors, n_artists = (4000, 300) if args.quick else (args.flavors, args.artists)
    if args.full_vocab:
        n_flavors, n_artists = None, None
    max_flavors = min(args.max_flavors, 12) if args.quick else args.max_flavors
    pool = min(args.flavor_pool, 256) if args.quick else args.flavor_pool

    enc = load_encoder(args.model, device=args.device, precision=args.precision)
    if enc.backend != "openclip":
        sys.exit("clip-interrogator needs an open_clip model; use e.g. --model toyclip or openclip:ViT-L-14/random")
    arch = _local_folder(Path(enc.spec.name))[0] if Path(enc.spec.name).exists() else enc.spec.name

    rows = [json.loads(x) for x in (fixtures_dir(224) / "labels.jsonl").read_text().splitlines()][:n_images]
    from PIL import Image

    images = [Image.open(fixtures_dir(224) / r["file"]).convert("RGB") for r in rows]
    captions = [r["caption"] for r in rows]

    def sync():
        if enc.device.type == "cuda":
            torch.cuda.synchronize()

    # ---------------------------------------------------------------- table preparation (cold)
    data_path = ci_data_subset(n_flavors, n_artists)
    from transformers import AutoModelForCausalLM, AutoProcessor

    cap_dir = toy_model_dir("toycaption") / "hf"
    cfg = ci_mod.Config(clip_model_name=f"{arch}/bench", caption_model_name="git-toycaption", device=str(enc.device),
                        cache_path=args.ci_cache or str(TMP / "ci-cache"), download_cache=False, quiet=True, data_path=data_path)
    cfg.clip_model, cfg.clip_preprocess = enc.model, enc._preprocess
    cfg.flavor_intermediate_count = pool
    cfg.caption_model = AutoModelForCausalLM.from_pretrained(cap_dir)
    cfg.caption_processor = AutoProcessor.from_pretrained(cap_dir)
    sync()
    t = time.perf_counter()
    ci = ci_mod.Interrogator(cfg)
    sync()
    ci_prep = time.perf_counter() - t

    if n_flavors or n_artists:  # our vocabulary = the same (subset) lists
        from cliplens.vocab import parse_phrases

        vs = ci_vocab()
        flav = parse_phrases((Path(data_path) / "flavors.txt").read_text(encoding="utf-8", errors="replace"))
        arts = parse_phrases((Path(data_path) / "artists.txt").read_text(encoding="utf-8", errors="replace"))
        vs.flavors = {"flavors": flav}
        vs.artist = [f"by {a}" for a in arts] + [f"inspired by {a}" for a in arts]
    else:
        vs = ci_vocab()
    n_labels = len(vs.medium) + len(vs.artist) + len(vs.movement) + len(vs.trending) + len(vs.flavors["flavors"]) + len(vs.negative)
    our_pool = args.our_pool or (pool if args.quick else D.INTERROGATE_FLAVOR_POOL)
    ours = Interrogator(enc, caption_model="none", vocab=vs, device=args.device, flavor_pool=our_pool,
                        shortlist=args.shortlist, beam=args.beam)
    sync()
    t = time.perf_counter()
    ours.prepare()
    sync()
    our_prep = time.perf_counter() - t
    print(f"table prep ({n_labels} labels): clip-interrogator {ci_prep:.1f}s{' (loaded from --ci-cache)' if args.ci_cache else ''}, "
          f"cliplens {our_prep:.1f}s -> {ci_prep / our_prep:.1f}x", file=sys.stderr)

    # ---------------------------------------------------------------- per mode, image by image
    img_feats = torch.from_numpy(enc.encode_images(images)).to(enc.device)

    def sim(i: int, prompt: str) -> float:
        return float(torch.from_numpy(enc.encode_texts([prompt])[0]).to(enc.device) @ img_feats[i])

    def run_ci(mode: str, i: int) -> str:
        im, cap = images[i], captions[i]
        if mode == "best":
            return ci.interrogate(im, caption=cap, max_flavors=max_flavors)
        if mode == "classic":
            return ci.interrogate_classic(im, caption=cap)
        if mode == "fast":
            return ci.interrogate_fast(im, caption=cap, max_flavors=max_flavors)
        return ci.interrogate_negative(im, max_flavors=max_flavors)

    def run_ours(mode: str, i: int, it=None) -> str:
        return (it or ours).interrogate(images[i], mode=mode, caption=captions[i], max_flavors=max_flavors).prompt

    alt = None
    if args.also:
        a_pool, a_short, a_beam = (int(x) for x in args.also.split(":"))
        alt = Interrogator(enc, caption_model="none", vocab=vs, device=args.device, flavor_pool=a_pool,
                           shortlist=a_short, beam=a_beam)
        alt._tables = ours._tables  # same label tables, already prepared
        run_ours("fast", 0, alt)

    # warm-up both (first calls allocate, fill tokenizer caches...)
    run_ci("fast", 0)
    run_ours("fast", 0)
    out: dict = {"model": args.model, "device": str(enc.device), "images": n_images, "labels": n_labels,
                 "max_flavors": max_flavors, "flavor_pool": pool, "our_pool": our_pool, "beam": args.beam,
                 "shortlist": args.shortlist, "also": args.also, "quick": args.quick, "full_vocab": not (n_flavors or n_artists)}
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        ap.error(f"unknown modes: {', '.join(sorted(unknown))}")
    for mode in modes:
        t_ci, t_us, s_ci, s_us, t_alt, s_alt = [], [], [], [], [], []
        for i in range(n_images):
            sync()
            t = time.perf_counter()
            p_ci = run_ci(mode, i)
            sync()
            t_ci.append(time.perf_counter() - t)
            t = time.perf_counter()
            p_us = run_ours(mode, i)
            sync()
            t_us.append(time.perf_counter() - t)
            s_ci.append(sim(i, p_ci))
            s_us.append(sim(i, p_us))
            print(f"[{mode}] image {i}: ci {t_ci[-1]:.2f}s sim {s_ci[-1]:.4f} | ours {t_us[-1]:.3f}s sim {s_us[-1]:.4f}\n"
                  f"    ci:   {p_ci}\n    ours: {p_us}", file=sys.stderr)
            if alt is not None and mode == "best":
                t = time.perf_counter()
                p_alt = run_ours(mode, i, alt)
                sync()
                t_alt.append(time.perf_counter() - t)
                s_alt.append(sim(i, p_alt))
                print(f"    alt ({args.also}): {t_alt[-1]:.3f}s sim {s_alt[-1]:.4f}: {p_alt}", file=sys.stderr)
        out[f"{mode}_speedup"] = round(sum(t_ci) / sum(t_us), 2)
        out[f"{mode}_ms_ours"] = round(1000 * statistics.median(t_us), 1)
        out[f"{mode}_ms_ci"] = round(1000 * statistics.median(t_ci), 1)
        out[f"{mode}_sim_ours"] = round(float(np.median(s_us)), 4)
        out[f"{mode}_sim_ci"] = round(float(np.median(s_ci)), 4)
        out[f"{mode}_sims_ours"] = [round(x, 4) for x in s_us]  # per image
        out[f"{mode}_sims_ci"] = [round(x, 4) for x in s_ci]
        out[f"{mode}_ms_each_ours"] = [round(1000 * x, 1) for x in t_us]
        out[f"{mode}_ms_each_ci"] = [round(1000 * x, 1) for x in t_ci]
        if t_alt:
            out["best_alt_speedup"] = round(sum(t_ci) / sum(t_alt), 2)
            out["best_alt_ms_ours"] = round(1000 * statistics.median(t_alt), 1)
            out["best_alt_sim_ours"] = round(float(np.median(s_alt)), 4)
            out["best_alt_sims_ours"] = [round(x, 4) for x in s_alt]
            out["best_alt_ms_each_ours"] = [round(1000 * x, 1) for x in t_alt]
    out["table_prep_s_ours"] = round(our_prep, 2)
    out["table_prep_s_ci"] = round(ci_prep, 2)
    out["ci_tables_reused"] = bool(args.ci_cache)
    if not args.ci_cache:
        out["table_prep_speedup"] = round(ci_prep / our_prep, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
