"""Search benchmark: index build speed with toyclip, and ANN latency/recall at 100k and 1M vectors.

    python benchmarks/search.py            # full: 100k and 1M synthetic 768-d vectors (~10 min on 2 cores)
    python benchmarks/search.py --quick    # < 1 min: 10k and 50k vectors, fewer images

What is measured (one query at a time, like a user typing queries):
- `index_images_per_s`: `Index.add` over freshly rendered toy-world images (embedding cache off),
  toyclip on this CPU, from file walk to committed rows.
- query latency p50/p99 and recall@10 against exact search for the embedded store's large-index
  structure (faiss IVF, fp16 vectors, nprobe as the store sets it), and the same queries through
  clip-retrieval's approach, a faiss flat (exact) inner-product index.
- the whole `EmbeddedStore` (SQLite + IVF, including its per-query freshness check) at the smallest size.

Synthetic vectors are *clustered* like real embeddings (a shared mean direction, topics > sub-topics
with ~100 vectors per sub-topic and Zipf-like sizes; half the queries image-like, half text-like:
noisier and shifted off the data by a shared "modality gap" direction):
uniform random vectors in 768-d have no near neighbours at all and would be a pathological ANN case.
The final line is JSON with p50_ms_1m, p99_ms_1m, recall_at_10_1m, index_images_per_s.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DIM = 768


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def clustered(n: int, seed: int, centers: np.ndarray, mean: np.ndarray, weights: np.ndarray,
              noise: float = 1.0, chunk: int = 100_000, shift: np.ndarray | None = None) -> np.ndarray:
    """n unit vectors (float16) drawn around `centers` (Zipf-like sizes) plus a shared direction."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), np.float16)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        k = rng.choice(len(centers), size=m, p=weights)
        x = 0.5 * mean + centers[k] + noise * rng.standard_normal((m, DIM), dtype=np.float32) / np.sqrt(DIM)
        if shift is not None:
            x += shift
        out[s : s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


NOISE = 1.0  # within-sub-topic spread (--noise); larger = less clustered = harder for any ANN


def make_data(n: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_clusters = max(10, n // 100)
    # two levels, like real collections (topics > sub-topics > images): sub-centres scatter around
    # topic centres, so neighbourhoods overlap instead of forming clean, isolated balls
    topics = rng.standard_normal((max(2, n_clusters // 20), DIM), dtype=np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    centers = topics[rng.integers(len(topics), size=n_clusters)] + 0.9 * rng.standard_normal(
        (n_clusters, DIM), dtype=np.float32) / np.sqrt(DIM)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    mean = rng.standard_normal(DIM).astype(np.float32)
    mean /= np.linalg.norm(mean)
    w = 1.0 / np.arange(1, n_clusters + 1) ** 0.5
    w = rng.permutation(w / w.sum())
    data = clustered(n, seed + 1, centers, mean, w, noise=NOISE)
    # half the queries look like images (same distribution); half like texts: noisier and shifted
    # by one shared direction (CLIP's "modality gap"), so they sit off the data manifold
    gap = rng.standard_normal(DIM).astype(np.float32)
    gap *= 0.5 / np.linalg.norm(gap)
    half = n_queries // 2
    queries = np.concatenate([clustered(half, seed + 2, centers, mean, w, noise=NOISE),
                              clustered(n_queries - half, seed + 3, centers, mean, w, noise=2 * NOISE, shift=gap)])
    queries = queries.astype(np.float32)
    return data, queries


def exact_top10(data16: np.ndarray, queries: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    """Ground truth by blockwise brute force on the (fp16-stored) vectors."""
    best_s = np.full((len(queries), 10), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 10), np.int64)
    for s in range(0, len(data16), chunk):
        sims = queries @ data16[s : s + chunk].astype(np.float32).T
        cand_s = np.concatenate([best_s, sims], axis=1)
        cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(s, s + sims.shape[1]), sims.shape)], axis=1)
        top = np.argpartition(-cand_s, 10, axis=1)[:, :10]
        best_s = np.take_along_axis(cand_s, top, 1)
        best_i = np.take_along_axis(cand_i, top, 1)
    return best_i


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10].tolist()) & set(t.tolist())) / 10 for f, t in zip(found, truth)]))


def timed_queries(fn, queries: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    out, lat = [], []
    fn(queries[:1])  # warm-up
    for q in queries:
        t = time.perf_counter()
        out.append(fn(q[None, :]))
        lat.append(time.perf_counter() - t)
    return out, np.asarray(lat) * 1e3


def bench_size(n: int, n_queries: int, flat_queries: int, hnsw: bool, store: bool) -> dict:
    import faiss

    from cliplens.search.ann import HnswIndex, IvfIndex

    res: dict = {"n": n}
    t = time.perf_counter()
    data, queries = make_data(n, n_queries)
    res["gen_s"] = time.perf_counter() - t
    t = time.perf_counter()
    truth = exact_top10(data, queries)
    res["exact_s"] = time.perf_counter() - t
    log(f"[{n}] data {res['gen_s']:.1f}s, ground truth {res['exact_s']:.1f}s")

    flat = faiss.IndexFlatIP(DIM)  # clip-retrieval's approach for small/medium collections
    for s in range(0, n, 100_000):
        flat.add(data[s : s + 100_000].astype(np.float32))
    per_threads = {}
    threads0 = faiss.omp_get_max_threads()
    for th in sorted({1, threads0}):  # report the peer at its best thread count
        faiss.omp_set_num_threads(th)
        found, lat = timed_queries(lambda q, index=flat: index.search(q, 10)[1][0], queries[:flat_queries])
        per_threads[th] = {"p50_ms": float(np.median(lat)), "p99_ms": float(np.percentile(lat, 99)),
                           "recall_at_10": recall(found, truth[:flat_queries]), "queries": flat_queries, "threads": th}
        log(f"[{n}] faiss flat ({th} thread{'s' if th > 1 else ''}): p50 {per_threads[th]['p50_ms']:.2f} ms")
    faiss.omp_set_num_threads(threads0)
    res["flat"] = min(per_threads.values(), key=lambda r: r["p50_ms"])
    res["flat_by_threads"] = per_threads
    del flat
    gc.collect()

    ivf = IvfIndex(DIM)
    t = time.perf_counter()
    rng = np.random.default_rng(1)
    sample = data[np.sort(rng.choice(n, min(n, 64 * IvfIndex.nlist_for(n)), replace=False))].astype(np.float32)
    ivf.train(sample, n_expected=n)
    train_s = time.perf_counter() - t
    for s in range(0, n, 100_000):
        ivf.add(np.arange(s, min(n, s + 100_000)), data[s : s + 100_000].astype(np.float32))
    build_s = time.perf_counter() - t
    default_nprobe = ivf.nprobe
    sweep = {}
    for nprobe in sorted({8, 16, default_nprobe, 64}):
        ivf.nprobe = nprobe
        found, lat = timed_queries(lambda q, index=ivf: index.search(q, 10)[0].ids, queries)
        sweep[nprobe] = {"p50_ms": float(np.median(lat)), "p99_ms": float(np.percentile(lat, 99)),
                         "recall_at_10": recall(found, truth)}
        log(f"[{n}] ivf nlist={ivf._index.nlist} nprobe={nprobe}: p50 {sweep[nprobe]['p50_ms']:.2f} ms "
            f"p99 {sweep[nprobe]['p99_ms']:.2f} ms recall@10 {sweep[nprobe]['recall_at_10']:.3f}")
    res["ivf"] = {**sweep[default_nprobe], "nprobe": default_nprobe, "nlist": int(ivf._index.nlist),
                  "train_s": train_s, "build_s": build_s, "sweep": sweep}
    del ivf, sample
    gc.collect()

    if hnsw:
        h = HnswIndex(DIM)
        t = time.perf_counter()
        for s in range(0, n, 100_000):
            h.add(np.arange(s, min(n, s + 100_000)), data[s : s + 100_000].astype(np.float32))
        hb = time.perf_counter() - t
        found, lat = timed_queries(lambda q: h.search(q, 10)[0].ids, queries)
        res["hnsw"] = {"p50_ms": float(np.median(lat)), "p99_ms": float(np.percentile(lat, 99)),
                       "recall_at_10": recall(found, truth), "build_s": hb, **h.params}
        log(f"[{n}] usearch hnsw: build {hb:.0f}s p50 {res['hnsw']['p50_ms']:.2f} ms "
            f"recall {res['hnsw']['recall_at_10']:.3f}")
        del h

    if store:
        from cliplens.search.embedded import EmbeddedStore

        tmp = Path(tempfile.mkdtemp(prefix="cl-bench-store-"))
        try:
            st = EmbeddedStore(tmp, DIM, ann="ivf")
            t = time.perf_counter()
            for s in range(0, n, 20_000):
                st.add(np.arange(s, min(n, s + 20_000)), data[s : s + 20_000].astype(np.float32))
            st.flush()
            sb = time.perf_counter() - t
            reader = EmbeddedStore(tmp, DIM, ann="ivf")  # a fresh reader loads the saved IVF
            t = time.perf_counter()
            reader.search(queries[:1], 10)
            load_s = time.perf_counter() - t
            found, lat = timed_queries(lambda q: reader.search(q, 10)[0].ids, queries)
            res["store"] = {"p50_ms": float(np.median(lat)), "p99_ms": float(np.percentile(lat, 99)),
                            "recall_at_10": recall(found, truth), "build_s": sb, "open_s": load_s,
                            "disk_mb": sum(f.stat().st_size for f in tmp.iterdir()) / 1e6}
            log(f"[{n}] EmbeddedStore(ivf): build {sb:.1f}s open {load_s:.1f}s p50 {res['store']['p50_ms']:.2f} ms "
                f"recall {res['store']['recall_at_10']:.3f}")
            st.close()
            reader.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return res


def bench_index_build(n_images: int) -> dict:
    """Index freshly rendered toy-world images with toyclip (embedding cache off)."""
    from cliplens import load_encoder
    from cliplens.assets import toyworld
    from cliplens.search import open_index

    tw = toyworld()
    tmp = Path(tempfile.mkdtemp(prefix="cl-bench-index-"))
    try:
        for i in range(n_images):
            img, _, _ = tw.make_example(seed=500_000 + i, size=128)
            img.save(tmp / "imgs" / f"{i:05d}.png") if (tmp / "imgs").exists() else ((tmp / "imgs").mkdir(),
                                                                                     img.save(tmp / "imgs" / f"{i:05d}.png"))
        enc = load_encoder("toyclip", device="cpu")
        idx = open_index(tmp / "idx", encoder=enc, create=True)
        t = time.perf_counter()
        rep = idx.add([tmp / "imgs"], progress=False, use_cache=False)
        secs = time.perf_counter() - t
        assert rep.added == n_images, rep.to_dict()
        return {"images": n_images, "seconds": secs, "images_per_s": n_images / secs}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    global NOISE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    ap.add_argument("--sizes", type=str, default=None, help="comma-separated vector counts")
    ap.add_argument("--queries", type=int, default=None)
    ap.add_argument("--hnsw", action="store_true", help="also build usearch HNSW (slow to build on 2 cores)")
    ap.add_argument("--noise", type=float, default=NOISE, help="within-cluster spread of the synthetic data")
    args = ap.parse_args()
    NOISE = args.noise
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([10_000, 50_000] if args.quick
                                                                         else [100_000, 1_000_000])
    n_queries = args.queries or (100 if args.quick else 300)
    import faiss

    log(f"faiss threads: {faiss.omp_get_max_threads()}, cpus: {os.cpu_count()}")
    t0 = time.perf_counter()
    build = bench_index_build(60 if args.quick else 300)
    log(f"index build: {build['images_per_s']:.1f} images/s ({build['images']} images, {build['seconds']:.1f}s)")
    results = [bench_size(n, n_queries, min(n_queries, 50 if n >= 1_000_000 else 100), args.hnsw,
                          store=(n == sizes[0])) for n in sizes]
    big = next((r for r in results if r["n"] == 1_000_000), None)
    summary = {
        "p50_ms_1m": big["ivf"]["p50_ms"] if big else None,
        "p99_ms_1m": big["ivf"]["p99_ms"] if big else None,
        "recall_at_10_1m": big["ivf"]["recall_at_10"] if big else None,
        "index_images_per_s": build["images_per_s"],
        "flat_p50_ms_1m": big["flat"]["p50_ms"] if big else None,
        "speedup_vs_flat_1m": (big["flat"]["p50_ms"] / big["ivf"]["p50_ms"]) if big else None,
        "quick": args.quick,
        "noise": NOISE,
        "sizes": results,
        "index_build": build,
        "total_s": time.perf_counter() - t0,
    }
    print(json.dumps(summary, default=float))


if __name__ == "__main__":
    main()
