"""Naive CLIP guidance vs the full method, judged by a model that did not guide.

With toyclip guiding, both methods generate an image per toy-world prompt for the same number
of steps; the held-out toyclip-judge (trained independently on the same world) then scores
each image against its prompt. The naive loop's images fool only the model that made them, so
a method that makes real pictures should win on the judge. Also measures steps/s at 512x512
with 32 cutouts on this machine, and writes a contact sheet (naive row over full row).

    python benchmarks/guide.py --quick          # 3 prompts, few steps, < 1 minute on CPU
    python benchmarks/guide.py                  # 12 prompts, the figures in BENCHMARKS.md

Prints one final JSON line with `wins`, `prompts`, `steps_per_s_512` and the per-prompt scores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from cliplens import load_encoder
from cliplens.guide import generate

ROOT = Path(__file__).resolve().parent.parent
JUDGE_DIR = ROOT.parent / "shared" / "models" / "toyclip-judge" / "hf"

PROMPTS = [
    "a large red circle on a white background, flat",
    "a large blue square on a black background",
    "a large yellow star on a navy background",
    "a large green triangle on a beige background",
    "a large purple heart on a white background",
    "a large orange ring on a gray background",
    "a large white cross on a teal background",
    "a large pink diamond on a black background",
    "a large blue hexagon on a white background",
    "a large yellow crescent on a navy background",
    "three red circles on a white background",
    "a large green star on a black background, neon",
]


def judge_scores(judge, images: list[Image.Image], prompts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of each image with its own prompt, and whether the judge ranks its prompt first."""
    iv = judge.encode_images(images)
    tv = judge.encode_texts(prompts)
    sims = iv @ tv.T
    own = np.diag(sims)
    top1 = sims.argmax(1) == np.arange(len(prompts))
    return own, top1


def speed_512(enc, cutouts: int = 32, steps: int = 4) -> float:
    """Steps per second of the full method at 512x512 with `cutouts` views (after one warm-up step)."""
    generate("a large red circle", enc, size=512, steps=1, cutouts=cutouts, seed=0, score_every=0)
    t0 = time.perf_counter()
    res = generate("a large red circle", enc, size=512, steps=steps, cutouts=cutouts, seed=0, score_every=0)
    return res.steps_done / (time.perf_counter() - t0)


def contact_sheet(rows: list[list[Image.Image]], labels: list[str], thumb: int, out: Path) -> None:
    """A small grid: one column per prompt, one row per method, labelled on the left."""
    pad = 70
    cols = len(rows[0])
    sheet = Image.new("RGB", (pad + cols * thumb, len(rows) * thumb), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (row, label) in enumerate(zip(rows, labels)):
        draw.text((4, r * thumb + thumb // 2 - 6), label, fill="black")
        for c, im in enumerate(row):
            sheet.paste(im.resize((thumb, thumb), Image.Resampling.LANCZOS), (pad + c * thumb, r * thumb))
    out.parent.mkdir(parents=True, exist_ok=True)
    # palette PNG: the naive row is incompressible noise, and the sheet lives in the repository
    sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 prompts, 40 steps, 4 cutouts (CPU < 1 minute)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--cutouts", type=int, default=None)
    ap.add_argument("--prompts", type=int, default=None, help="use the first N prompts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a full-method GuideConfig setting (tuning)")
    ap.add_argument("--naive-lr", type=float, default=None)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--sheet", type=Path, default=None,
                    help="contact sheet PNG (default: results/guide_contact_sheet.png; --quick: a temp file)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    if args.sheet is None:
        args.sheet = (Path(tempfile.gettempdir()) / "guide_contact_sheet_quick.png" if args.quick
                      else ROOT / "benchmarks" / "results" / "guide_contact_sheet.png")
    steps = args.steps or (40 if args.quick else 100)
    cutouts = args.cutouts or (4 if args.quick else 8)
    prompts = PROMPTS[: args.prompts or (3 if args.quick else len(PROMPTS))]
    overrides: dict = {}
    for kv in args.set:
        k, v = kv.split("=", 1)
        overrides[k] = json.loads(v) if v[:1] in "-0123456789.[tfn" else v

    if not JUDGE_DIR.is_dir():
        print(f"toyclip-judge not found at {JUDGE_DIR}: this benchmark needs the held-out judge "
              "(../shared/models/toyclip-judge/hf next to the repository); nothing measured.", file=sys.stderr)
        print(json.dumps({"wins": None, "prompts": len(prompts), "steps_per_s_512": None,
                          "skipped": "toyclip-judge missing"}))
        return

    enc = load_encoder("toyclip", device=args.device)
    judge = load_encoder(f"hf:{JUDGE_DIR}", device=args.device)
    naive_imgs, full_imgs, rows = [], [], []
    t_start = time.perf_counter()
    for i, p in enumerate(prompts):
        nv = generate(p, enc, size=args.size, steps=steps, mode="naive", seed=args.seed + i, lr=args.naive_lr,
                      score_every=0)
        fu = generate(p, enc, size=args.size, steps=steps, mode="full", cutouts=cutouts, seed=args.seed + i,
                      score_every=0, **overrides)
        naive_imgs.append(nv.image)
        full_imgs.append(fu.image)
        rows.append({"prompt": p, "guide_naive": nv.scores[0]["score"], "guide_full": fu.scores[0]["score"],
                     "s_naive": round(nv.seconds, 2), "s_full": round(fu.seconds, 2)})
        print(f"[{i + 1}/{len(prompts)}] {p!r}: guide naive {nv.scores[0]['score']:.3f} full "
              f"{fu.scores[0]['score']:.3f} ({nv.seconds:.1f}s / {fu.seconds:.1f}s)", file=sys.stderr)
    jn, tn = judge_scores(judge, naive_imgs, prompts)
    jf, tf = judge_scores(judge, full_imgs, prompts)
    for r, a, b, ta, tb in zip(rows, jn, jf, tn, tf):
        r.update(judge_naive=float(a), judge_full=float(b), judge_top1_naive=bool(ta), judge_top1_full=bool(tb))
        print(f"judge  naive {a:+.3f}  full {b:+.3f}  {'WIN ' if b > a else 'loss'}  {r['prompt']}", file=sys.stderr)
    wins = int((jf > jn).sum())
    sps = None if args.no_speed else speed_512(enc, cutouts=32, steps=2 if args.quick else 4)
    contact_sheet([naive_imgs, full_imgs], ["naive", "full"], 96, args.sheet)
    summary = {
        "wins": wins, "prompts": len(prompts), "steps_per_s_512": None if sps is None else round(sps, 3),
        "steps_per_s_512_device": f"cpu ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})",
        "judge_mean_naive": round(float(jn.mean()), 4), "judge_mean_full": round(float(jf.mean()), 4),
        "judge_top1_naive": int(tn.sum()), "judge_top1_full": int(tf.sum()),
        "guide_mean_naive": round(float(np.mean([r["guide_naive"] for r in rows])), 4),
        "guide_mean_full": round(float(np.mean([r["guide_full"] for r in rows])), 4),
        "steps": steps, "size": args.size, "cutouts": cutouts, "overrides": overrides,
        "seconds": round(time.perf_counter() - t_start, 1), "python": platform.python_version(),
        "torch": torch.__version__, "rows": rows, "sheet": str(args.sheet),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
