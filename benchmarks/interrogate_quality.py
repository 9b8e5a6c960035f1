"""Interrogator prompt quality on new toy-world renders: would a prompt writer keep these prompts?

`interrogate_metrics(quick)` renders >= 40 toy-world scenes from seeds the fixtures do not use,
interrogates each with toyclip (best, fast and negative modes) and reports, as one dict:

* ``negative_in_positive``: negative-prompt parts that share a content word with (or equal) a part
  of the same image's positive (best) prompt (goal 0);
* ``repeated_words_best`` / ``repeated_words_fast``: content words repeated inside a prompt beyond
  the caption's own repetitions, summed over images (goal 0);
* ``judge_negative_lower``: images where the held-out judge (toyclip-judge, never used to build
  prompts) finds the negative prompt LESS similar to the image than the positive one (goal: all),
  with the mean judge similarities of both;
* ``weak_artist_parts`` / ``artist_parts``: artists in positive prompts, and how many are marked weak.

C2's `benchmarks/prompt_quality.py` imports this function; run alone it prints one JSON line:

    python benchmarks/interrogate_quality.py --quick
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import os  # noqa: E402

#: the held-out judge from ../shared beside the repository; CLIPLENS_JUDGE points elsewhere
JUDGE = "hf:" + os.environ.get("CLIPLENS_JUDGE", str(Path(__file__).resolve().parents[2] / "shared" / "models"
                                                      / "toyclip-judge" / "hf"))
SEED0 = 880_000  # the fixtures use 1_300_000_000+; these scenes are new


def _repeats_beyond_caption(parts: list[str]) -> int:
    """Content words shared by two parts of a prompt (the caption is one part, so words the caption
    repeats inside itself are its own business and do not count)."""
    from cliplens.interrogate.quality import repeated_words

    return len(repeated_words(parts))


def interrogate_metrics(quick: bool = True, n_images: int | None = None, judge: str = JUDGE) -> dict:
    """Quality figures of the interrogator on new toy-world renders (see module doc). `quick`: 40
    images at 96 px with short chains (2-8 phrases, pool 512, shortlist 64); full: 80 images at 160 px,
    the default (exact) chain."""
    import numpy as np

    from cliplens import load_encoder
    from cliplens.assets import toyworld
    from cliplens.interrogate import Interrogator, interrogate
    from cliplens.interrogate.quality import content_words

    tw = toyworld()
    n = n_images or (40 if quick else 80)
    size = 96 if quick else 160
    renders = [tw.make_example(seed=SEED0 + i, size=size)[0] for i in range(n)]
    enc = load_encoder("toyclip", device="cpu")
    it = Interrogator(enc, caption_model="toycaption", device="cpu", shortlist=64 if quick else 2048,
                      flavor_pool=512 if quick else 2048)
    kw = dict(min_flavors=2, max_flavors=8) if quick else {}
    t0 = time.perf_counter()
    best = interrogate(it, renders, mode="best", **kw)
    fast = interrogate(it, renders, mode="fast", **kw)
    neg = interrogate(it, renders, mode="negative", **kw)
    seconds = time.perf_counter() - t0
    overlap = 0
    for b, g in zip(best.results, neg.results):
        pos_words = set().union(*(content_words(p.text) for p in b.parts)) if b.parts else set()
        pos_texts = {p.text for p in b.parts}
        overlap += sum(1 for p in g.parts if p.text in pos_texts or content_words(p.text) & pos_words)
    rep_best = sum(_repeats_beyond_caption([p.text for p in r.parts]) for r in best.results)
    rep_fast = sum(_repeats_beyond_caption([p.text for p in r.parts]) for r in fast.results)
    jenc = load_encoder(judge, device="cpu")
    img = jenc.encode_images(renders)
    pos_t = jenc.encode_texts([r.prompt for r in best.results])
    neg_t = jenc.encode_texts([r.prompt or " " for r in neg.results])
    s_pos = np.sum(img * pos_t, axis=1)
    s_neg = np.sum(img * neg_t, axis=1)
    artists = [p for r in best.results + fast.results for p in r.parts if p.table == "artist"]
    return {
        "benchmark": "interrogate_quality", "quick": quick, "images": n, "size": size, "seed0": SEED0,
        "negative_in_positive": overlap,
        "repeated_words_best": rep_best, "repeated_words_fast": rep_fast,
        "judge_negative_lower": int(np.sum(s_neg < s_pos)), "judge_images": n,
        "judge_positive_mean": round(float(s_pos.mean()), 4), "judge_negative_mean": round(float(s_neg.mean()), 4),
        "judge_margin_min": round(float(np.min(s_pos - s_neg)), 4),
        "artist_parts": len(artists), "weak_artist_parts": sum(p.weak for p in artists),
        "weak_parts_best": sum(p.weak for r in best.results for p in r.parts),
        "parts_best": sum(len(r.parts) for r in best.results),
        "toyclip_similarity_best_mean": round(float(np.mean([r.similarity for r in best.results])), 4),
        "errors": len(best.errors) + len(fast.errors) + len(neg.errors),
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 small renders, shorter chains")
    ap.add_argument("--images", type=int, default=None, help="number of renders (default 40 quick / 80 full)")
    ap.add_argument("--out", type=Path, default=None, help="also append the JSON line to this file")
    a = ap.parse_args(argv)
    res = interrogate_metrics(a.quick, a.images)
    line = json.dumps(res)
    print(line)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    ok = res["negative_in_positive"] == 0 and res["judge_negative_lower"] == res["judge_images"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
