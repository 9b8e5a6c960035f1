"""What a full-content weights fingerprint costs (issue 14 item 4): first load vs cached.

Writes a weight-sized file of random bytes (default 2 GiB, ViT-L/14 fp32-ish; `--quick`: 256 MiB)
in a temp folder and times, each in a fresh state:

* ``first``: `weights_digest` with an empty fingerprint cache (SHA-256 of every byte);
* ``cached``: the same call again (one `stat` and one small JSON read);
* ``old``: the previous signature (size + first and last MiB), for reference;
* ``changed``: after flipping one byte in the middle, the digest is recomputed and differs.

Seconds per GB are reported for the first hash. The OS page cache is warm (the file was just
written), which is the common case right after a download; a cold disk adds its read time.

    python benchmarks/fingerprint.py --quick     # ~10 s
    python benchmarks/fingerprint.py --size-mb 4096
The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def old_signature(path: Path, chunk: int = 1 << 20) -> str:
    """The signature cliplens used before: size + first and last MiB."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(chunk))
        if size > 2 * chunk:
            fh.seek(-chunk, 2)
            h.update(fh.read(chunk))
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="256 MiB file")
    ap.add_argument("--size-mb", type=int, default=None, help="file size in MiB (default 2048, quick 256)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each step (median)")
    args = ap.parse_args()
    size_mb = args.size_mb or (256 if args.quick else 2048)
    tmp = Path(tempfile.mkdtemp(prefix="cliplens-fp-"))
    os.environ["CLIPLENS_CACHE"] = str(tmp / "cache")
    from cliplens.models import fingerprint as fp

    try:
        f = tmp / "weights.safetensors"
        block = os.urandom(1 << 20)
        with open(f, "wb") as fh:
            for i in range(size_mb):
                fh.write(block[i % 7:] + block[: i % 7])
        gb = f.stat().st_size / 1e9

        def median(xs):
            return sorted(xs)[len(xs) // 2]

        firsts, cacheds, olds = [], [], []
        digest = ""
        for _ in range(args.repeats):
            shutil.rmtree(tmp / "cache", ignore_errors=True)
            t0 = time.perf_counter()
            digest = fp.weights_digest(f)
            firsts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = fp.weights_digest(f)
            cacheds.append(time.perf_counter() - t0)
            assert again == digest
            t0 = time.perf_counter()
            old_signature(f)
            olds.append(time.perf_counter() - t0)
        with open(f, "r+b") as fh:  # one byte in the middle: same size, same first/last MiB
            fh.seek(f.stat().st_size // 2)
            b = fh.read(1)
            fh.seek(-1, 1)
            fh.write(bytes([b[0] ^ 0xFF]))
        t0 = time.perf_counter()
        changed = fp.weights_digest(f)
        t_changed = time.perf_counter() - t0
        out = {
            "benchmark": "fingerprint", "size_gb": round(gb, 3),
            "first_s": round(median(firsts), 3), "first_s_per_gb": round(median(firsts) / gb, 3),
            "cached_s": round(median(cacheds), 6), "old_signature_s": round(median(olds), 6),
            "rehash_after_change_s": round(t_changed, 3), "digest_changed": changed != digest,
            "machine": f"{platform.machine()} {os.cpu_count()} cpus", "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"),
        }
        print(json.dumps(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
