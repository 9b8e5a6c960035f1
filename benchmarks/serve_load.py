"""Load test of `cliplens serve` on loopback: N concurrent clients on the score and search endpoints.

Starts a real server process (uvicorn, 127.0.0.1 only, a free port) with toyclip and an index of
the bundled toy-world fixtures, then runs a bounded number of requests from N concurrent clients
(asyncio + httpx) per endpoint, and reports throughput, p50/p99 latency and errors. For scale, the
same work is timed in-process (library calls, no HTTP): the ratio is what the HTTP layer costs.

    python benchmarks/serve_load.py --quick            # < 1 min on 2 CPU cores
    python benchmarks/serve_load.py --clients 16 --requests 100

Final line: one JSON object with `requests_per_s`, `p99_ms`, `errors` (all endpoints together)
and per-endpoint figures.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_index(tmp: Path, n_images: int) -> tuple[Path, list[Path], list[str]]:
    from cliplens.assets import fixtures_dir
    from cliplens.search import open_index

    fix = fixtures_dir(64)
    labels = [json.loads(x) for x in (fix / "labels.jsonl").read_text().splitlines() if x]
    gallery = tmp / "gallery"
    gallery.mkdir()
    files = []
    for r in labels[:n_images]:
        shutil.copy(fix / r["file"], gallery / r["file"])
        files.append(gallery / r["file"])
    with open_index(tmp / "idx", model="toyclip", create=True) as idx:
        idx.add([gallery], progress=False)
    return tmp / "idx", files, [r["caption"] for r in labels[:n_images]]


def start_server(index: Path, port: int, log: Path) -> subprocess.Popen:
    import httpx

    cmd = [sys.executable, "-m", "cliplens", "serve", "--host", "127.0.0.1", "--port", str(port), "--model", "toyclip",
           "--device", "cpu", "--index", str(index)]
    proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited:\n" + log.read_text()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start in 120 s")


async def run_clients(base: str, endpoint: str, clients: int, per_client: int, files: list[Path],
                      captions: list[str]) -> dict:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    blobs = [f.read_bytes() for f in files]

    async def one_client(c: int, http: httpx.AsyncClient) -> None:
        for i in range(per_client):
            k = (c * per_client + i) % len(files)
            t0 = time.perf_counter()
            try:
                if endpoint == "score":
                    r = await http.post("/api/score", files={"images": (files[k].name, blobs[k], "image/png")},
                                        data={"prompts": captions[(k + 1) % len(captions)]})
                else:
                    r = await http.post("/api/search", json={"query": captions[k], "top_k": 10})
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:120]}")
                else:
                    body = r.json()
                    if endpoint == "search" and not body["hits"]:
                        errors.append("empty search result")
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append((time.perf_counter() - t0) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(one_client(c, http) for c in range(clients)))
        wall = time.perf_counter() - t0
    lat = np.asarray(latencies)
    return {"requests": len(lat), "seconds": round(wall, 3), "requests_per_s": round(len(lat) / wall, 2),
            "p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "errors": len(errors), "error_samples": errors[:3], "latencies": lat}


def in_process(index: Path, files: list[Path], captions: list[str], n: int) -> dict:
    """The same work through the library directly (one thread, no HTTP)."""
    from cliplens import load_encoder
    from cliplens.judge import clip_score
    from cliplens.search import open_index, search

    enc = load_encoder("toyclip", device="cpu")
    idx = open_index(index)
    idx.use_encoder(enc)
    from PIL import Image

    out = {}
    for name in ("score", "search"):
        t0 = time.perf_counter()
        for i in range(n):
            k = i % len(files)
            if name == "score":
                clip_score(enc, [Image.open(files[k]).convert("RGB")], [captions[(k + 1) % len(captions)]])
            else:
                search(idx, captions[k], top=10)
        out[name] = round(n / (time.perf_counter() - t0), 2)
    idx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients per endpoint")
    ap.add_argument("--requests", type=int, default=60, help="requests per client per endpoint")
    ap.add_argument("--images", type=int, default=240, help="fixture images in the index (max 240)")
    ap.add_argument("--quick", action="store_true", help="4 clients x 15 requests (under a minute on 2 cores)")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.requests = 4, 15
    if not 1 <= args.clients <= 256 or not 1 <= args.requests <= 10_000:
        raise SystemExit("--clients must be 1..256 and --requests 1..10000 (the test is bounded on purpose)")
    os.environ.setdefault("CLIPLENS_OFFLINE", "1")
    os.environ.setdefault("CLIPLENS_QUIET", "1")
    tmp = Path(tempfile.mkdtemp(prefix="cliplens-serve-load-"))
    os.environ.setdefault("CLIPLENS_CACHE", str(tmp / "cache"))
    try:
        index, files, captions = build_index(tmp, min(args.images, 240))
        port = free_port()
        proc = start_server(index, port, tmp / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            results = {}
            for ep in ("score", "search"):
                asyncio.run(run_clients(base, ep, 2, 3, files, captions))  # warm-up (model, tables, thumbnails)
                results[ep] = asyncio.run(run_clients(base, ep, args.clients, args.requests, files, captions))
                r = results[ep]
                print(f"{ep:6s} {args.clients} clients x {args.requests}: {r['requests_per_s']:8.1f} req/s  "
                      f"p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  errors {r['errors']}"
                      + (f"  e.g. {r['error_samples'][0]}" if r["errors"] else ""), file=sys.stderr)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        inproc = in_process(index, files, captions, max(30, args.requests))
        all_lat = np.concatenate([results[e]["latencies"] for e in results])
        total_s = sum(results[e]["seconds"] for e in results)
        final = {
            "clients": args.clients, "requests_per_client": args.requests,
            "requests_per_s": round(len(all_lat) / total_s, 2),
            "p99_ms": round(float(np.percentile(all_lat, 99)), 2),
            "p50_ms": round(float(np.percentile(all_lat, 50)), 2),
            "errors": int(sum(results[e]["errors"] for e in results)),
        }
        for ep in results:
            for k in ("requests_per_s", "p50_ms", "p99_ms", "errors"):
                final[f"{ep}_{k}"] = results[ep][k]
            final[f"{ep}_inprocess_per_s"] = inproc[ep]
            final[f"{ep}_http_vs_inprocess"] = round(results[ep]["requests_per_s"] / inproc[ep], 3)
        print(json.dumps(final))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
