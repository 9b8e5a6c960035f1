"""Does the guide draw the prompt? Each parametrisation, judged by a model that did not guide.

toyclip guides; the held-out toyclip-judge (trained independently on the same toy world) is
never used to guide, only to judge. For each of 24 toy-world prompts of our own (shapes,
colours, backgrounds, counts, styles; not the test fixtures) the toy-world renderer gives the
scene's true values and a true render. For every parametrisation (and the naive loop) the
benchmark generates one image per prompt and reports:

- ``shape_acc`` / ``colour_acc`` / ``background_acc``: how often the judge's zero-shot choice over
  the world's label sets (the world's own evaluation templates) equals the prompt's value;
- ``cosine_ratio``: the judge's mean cosine of the image with its prompt, divided by the mean
  cosine of the true renders with the same prompts (1.0 = as convincing as the real thing);
- ``s_per_image``: wall seconds per generated image on this machine.

    python benchmarks/guide.py --quick     # 6 prompts, shapes + naive, a few minutes on 2 busy cores
    python benchmarks/guide.py             # 24 prompts, every parametrisation (BENCHMARKS.md)

The last line printed is JSON: the default parametrisation's ``prompts``, ``shape_acc``,
``colour_acc``, ``background_acc``, ``cosine_ratio``, ``s_per_image``, plus every row in ``params``.
The full run also writes the contact sheet docs/guide_contact_sheet.png (true | naive | default).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from cliplens import defaults, load_encoder
from cliplens.assets import toyworld
from cliplens.guide import generate

_WORKER: dict = {}

ROOT = Path(__file__).resolve().parent.parent
JUDGE_DIR = Path(os.environ.get("CLIPLENS_JUDGE", ROOT.parent / "shared" / "models" / "toyclip-judge" / "hf"))
SHEET = ROOT / "docs" / "guide_contact_sheet.png"


@dataclass(frozen=True)
class Spec:
    """One held-out prompt: the scene's values (what the judge must see) and its wording."""

    shape: str
    colour: str
    background: str
    style: str = "flat"
    count: int = 1
    size: str = "large"
    position: str | None = None

    def prompt(self) -> str:
        tw = toyworld()
        if self.count > 1:
            obj = f"{tw.COUNT_WORDS[self.count]} {self.colour} {tw.PLURALS[self.shape]}"
        else:
            obj = f"a {self.size} {self.colour} {self.shape}"
            if self.position:
                obj += " " + tw.POSITION_PHRASES[self.position][0]
        return f"{obj} on a {self.background} background, {self.style}"

    def render(self, seed: int, size: int) -> Image.Image:
        tw = toyworld()
        scene = tw.sample_scene(np.random.default_rng(seed), kind="single" if self.count == 1 else "group",
                                n=self.count, shape=self.shape, colour=self.colour, background=self.background,
                                style=self.style, size=self.size, position=self.position or "center")
        return tw.render(scene, size)


SPECS = [
    Spec("circle", "red", "white"), Spec("square", "blue", "black"), Spec("triangle", "green", "beige"),
    Spec("star", "yellow", "navy"), Spec("heart", "purple", "white"), Spec("cross", "white", "teal"),
    Spec("hexagon", "orange", "gray"), Spec("diamond", "pink", "black"), Spec("ring", "blue", "white"),
    Spec("crescent", "yellow", "navy"),
    Spec("circle", "green", "black", "outlined"), Spec("square", "red", "beige", "striped"),
    Spec("star", "orange", "black", "neon"), Spec("heart", "red", "white", "gradient"),
    Spec("triangle", "blue", "gray", "dotted"), Spec("hexagon", "purple", "beige", "watercolor"),
    Spec("diamond", "yellow", "teal", "pixel art"), Spec("circle", "white", "navy", "blurry"),
    Spec("circle", "red", "white", count=3), Spec("square", "blue", "beige", count=2),
    Spec("star", "yellow", "black", count=3), Spec("triangle", "green", "white", count=2),
    Spec("square", "orange", "white", position="left"), Spec("circle", "pink", "navy", position="top"),
]
#: --quick: a spread of shapes, colours, backgrounds, a style and a count
QUICK = [0, 3, 5, 8, 12, 18]
#: a second held-out set (--specs fresh), written after the name prior was designed and run once,
#: unchanged: the prior was built from the failures seen on SPECS, so SPECS is not fully held out
#: for it; these are. Other pairings, brown and black figures, small figures, the styles SPECS
#: leaves out (grainy, dark, high contrast), groups of the other shapes, the right and the bottom.
FRESH = [
    Spec("heart", "brown", "beige"), Spec("ring", "red", "gray"), Spec("crescent", "white", "teal"),
    Spec("diamond", "green", "white"), Spec("hexagon", "blue", "beige"), Spec("cross", "orange", "navy"),
    Spec("star", "pink", "teal"), Spec("triangle", "black", "white"), Spec("square", "yellow", "gray"),
    Spec("circle", "purple", "beige"),
    Spec("star", "red", "white", size="small"), Spec("square", "green", "navy", size="small"),
    Spec("ring", "yellow", "black", "grainy"), Spec("cross", "blue", "white", "dark"),
    Spec("heart", "pink", "navy", "high contrast"), Spec("crescent", "orange", "black", "outlined"),
    Spec("hexagon", "red", "white", "striped"), Spec("diamond", "purple", "navy", "neon"),
    Spec("heart", "red", "beige", count=2), Spec("ring", "green", "white", count=3),
    Spec("diamond", "blue", "teal", count=2), Spec("cross", "white", "black", count=3),
    Spec("triangle", "yellow", "navy", position="right"), Spec("star", "white", "gray", position="bottom"),
]


def zero_shot(judge, images: list[Image.Image], specs: list[Spec]) -> dict[str, np.ndarray]:
    """Per image, whether the judge's zero-shot pick for shape / colour / background is the prompt's."""
    tw = toyworld()
    iv = judge.encode_images(images)
    out = {}
    for attr, labels, tpl in (("shape", tw.SHAPES, tw.EVAL_TEMPLATES["shape"]),
                              ("colour", list(tw.COLOURS), tw.EVAL_TEMPLATES["colour"]),
                              ("background", list(tw.BACKGROUNDS), tw.EVAL_TEMPLATES["background"])):
        tv = judge.encode_texts([tpl.format(x) for x in labels])
        pick = (iv @ tv.T).argmax(1)
        out[attr] = np.array([labels[int(k)] == getattr(s, attr) for k, s in zip(pick, specs)])
    return out


def own_cosines(judge, images: list[Image.Image], prompts: list[str]) -> np.ndarray:
    return np.einsum("ij,ij->i", judge.encode_images(images), judge.encode_texts(prompts))


def _init_worker(device: str, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    _WORKER["enc"] = load_encoder("toyclip", device=device)


def _run_one(task: tuple) -> tuple:
    """One generated image (in a worker process): (method, index, PNG bytes, seconds, guide score)."""
    method, i, prompt, kw, overrides = task
    enc = _WORKER["enc"]
    if method == "naive":
        res = generate(enc, prompt, mode="naive", **kw)
    else:
        res = generate(enc, prompt, mode="full", param=method, **{**kw, **overrides})
    buf = io.BytesIO()
    res.image.save(buf, format="PNG")
    return method, i, buf.getvalue(), res.seconds, res.scores[0]["score"]


def contact_sheet(rows: list[list[Image.Image]], labels: list[str], thumb: int, out: Path) -> None:
    """One column per prompt, one row per method (labelled on the left)."""
    pad = 64
    cols = len(rows[0])
    sheet = Image.new("RGB", (pad + cols * (thumb + 2), len(rows) * (thumb + 2)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (row, label) in enumerate(zip(rows, labels)):
        draw.text((4, r * (thumb + 2) + thumb // 2 - 6), label, fill="black")
        for c, im in enumerate(row):
            sheet.paste(im.resize((thumb, thumb), Image.Resampling.LANCZOS), (pad + c * (thumb + 2), r * (thumb + 2)))
    out.parent.mkdir(parents=True, exist_ok=True)
    # palette PNG: the sheet lives in the repository
    sheet.quantize(colors=192, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)


def parse_sets(items: list[str]) -> dict:
    out: dict = {}
    for kv in items:
        k, v = kv.split("=", 1)
        out[k] = json.loads(v) if v[:1] in "-0123456789.[tfn" else v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 prompts, the default parametrisation and naive")
    ap.add_argument("--params", default=None,
                    help="comma list of methods: naive and/or parametrisations (default: all; --quick: naive,<default>)")
    ap.add_argument("--steps", type=int, default=None, help=f"default {defaults.GUIDE_STEPS} (--quick: 60)")
    ap.add_argument("--size", type=int, default=64, help="generated side in pixels (the toy models see 64)")
    ap.add_argument("--cutouts", type=int, default=None, help=f"default {defaults.GUIDE_CUTOUTS} (--quick: 4)")
    ap.add_argument("--prompts", type=str, default=None, help="N (first N) or a comma list of prompt indices")
    ap.add_argument("--specs", choices=("main", "fresh"), default="main",
                    help="prompt set: main (SPECS, BENCHMARKS.md's table) or fresh (FRESH, a second held-out set)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a GuideConfig setting for every full-mode run (tuning)")
    ap.add_argument("--sheet", type=Path, default=None, help=f"contact sheet PNG (full run default: {SHEET})")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--save-dir", type=Path, default=None, help="also save every generated image here")
    ap.add_argument("--workers", type=int, default=1, help="generate in this many processes (1 torch thread each)")
    ap.add_argument("--others", type=int, default=None, metavar="K",
                    help="run methods other than naive and the default on only K of the prompts (spread evenly)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    default = defaults.GUIDE_PARAM
    methods = (args.params.split(",") if args.params else
               (["naive", default] if args.quick else ["naive", "pixels", "fourier", "pyramid", "shapes"]))
    steps = args.steps or (60 if args.quick else defaults.GUIDE_STEPS)
    cutouts = args.cutouts or (4 if args.quick else defaults.GUIDE_CUTOUTS)
    if args.prompts:
        idx = list(range(int(args.prompts))) if args.prompts.isdigit() else [int(i) for i in args.prompts.split(",")]
    else:
        idx = QUICK if args.quick else list(range(len(SPECS)))
    pool = FRESH if args.specs == "fresh" else SPECS
    if not args.prompts and not args.quick:
        idx = list(range(len(pool)))
    specs = [pool[i] for i in idx]
    prompts = [s.prompt() for s in specs]
    overrides = parse_sets(args.set)
    sheet_path = args.sheet or (None if (args.quick or args.prompts or args.specs != "main") else SHEET)

    if not JUDGE_DIR.is_dir():
        print(f"toyclip-judge not found at {JUDGE_DIR} (set CLIPLENS_JUDGE): this benchmark needs the held-out "
              "judge; nothing measured.", file=sys.stderr)
        print(json.dumps({"prompts": len(specs), "skipped": "toyclip-judge missing"}))
        return

    enc = load_encoder("toyclip", device=args.device)
    judge = load_encoder(f"hf:{JUDGE_DIR}", device=args.device)
    truth = [s.render(args.seed + i, args.size) for i, s in zip(idx, specs)]
    true_cos = own_cosines(judge, truth, prompts)
    true_zs = zero_shot(judge, truth, specs)
    print(f"true renders: shape {true_zs['shape'].mean():.0%} colour {true_zs['colour'].mean():.0%} "
          f"background {true_zs['background'].mean():.0%}, judge cosine {true_cos.mean():+.3f}", file=sys.stderr)

    t_start = time.perf_counter()
    def subset(m: str) -> list[int]:
        """Positions (into `prompts`) that method `m` runs on."""
        n = len(prompts)
        if args.others is None or m in ("naive", default) or args.others >= n:
            return list(range(n))
        return sorted({round(k * n / args.others) for k in range(args.others)})

    tasks = [(m, j, prompts[j], dict(size=args.size, steps=steps, seed=args.seed + idx[j], score_every=0,
                                     **({} if m == "naive" else {"cutouts": cutouts})), overrides)
             for m in methods for j in subset(m)]
    done: dict = {}

    def record(out: tuple) -> None:
        m, j, png, secs, score = out
        done[(m, j)] = (Image.open(io.BytesIO(png)).convert("RGB"), secs)
        print(f"  {m:8s} [{j + 1}/{len(prompts)}] {secs:5.1f}s guide {score:+.3f}  {prompts[j]}", file=sys.stderr)

    if args.workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                 initargs=(args.device, args.threads or 1)) as pool:
            for out in pool.map(_run_one, tasks):
                record(out)
    else:
        _WORKER["enc"] = enc
        for t in tasks:
            record(_run_one(t))
    rows, images = {}, {}
    for m in methods:
        js = subset(m)
        imgs = [done[(m, j)][0] for j in js]
        secs = [done[(m, j)][1] for j in js]
        cos = own_cosines(judge, imgs, [prompts[j] for j in js])
        zs = zero_shot(judge, imgs, [specs[j] for j in js])
        rows[m] = {"prompts": len(js), "shape_acc": round(float(zs["shape"].mean()), 4), "colour_acc": round(float(zs["colour"].mean()), 4),
                   "background_acc": round(float(zs["background"].mean()), 4),
                   "cosine_ratio": round(float(cos.mean() / true_cos[js].mean()), 4),
                   "judge_cosine": round(float(cos.mean()), 4), "s_per_image": round(float(np.mean(secs)), 2),
                   "misses": [prompts[j] for j, a, b, c in zip(js, zs["shape"], zs["colour"], zs["background"])
                              if not (a and b and c)]}
        images[m] = imgs
        r = rows[m]
        print(f"{m:8s} ({r['prompts']} prompts) shape {r['shape_acc']:.0%} colour {r['colour_acc']:.0%} background {r['background_acc']:.0%} "
              f"cosine ratio {r['cosine_ratio']:.2f} ({r['judge_cosine']:+.3f}) {r['s_per_image']:.1f} s/image",
              file=sys.stderr)
        if args.save_dir:
            args.save_dir.mkdir(parents=True, exist_ok=True)
            for j, im in zip(js, imgs):
                im.save(args.save_dir / f"{m}_{idx[j]:02d}.png")

    if sheet_path is not None and "naive" in images and default in images:
        contact_sheet([truth, images["naive"], images[default]], ["true", "naive", default], 64, sheet_path)
    best = default if default in rows else methods[-1]
    summary = {
        "param": best, **{k: v for k, v in rows[best].items() if k != "misses"},
        "true_render": {"shape_acc": round(float(true_zs["shape"].mean()), 4),
                        "colour_acc": round(float(true_zs["colour"].mean()), 4),
                        "background_acc": round(float(true_zs["background"].mean()), 4),
                        "judge_cosine": round(float(true_cos.mean()), 4)},
        "params": rows, "steps": steps, "size": args.size, "cutouts": cutouts, "overrides": overrides,
        "device": f"{args.device} ({os.cpu_count()} cores, {args.workers} worker(s), torch threads "
                  f"{args.threads or (1 if args.workers > 1 else torch.get_num_threads())})",
        "specs": args.specs, "seconds": round(time.perf_counter() - t_start, 1), "python": platform.python_version(),
        "torch": torch.__version__, "sheet": None if sheet_path is None else str(sheet_path),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
