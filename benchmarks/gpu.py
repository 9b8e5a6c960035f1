"""Every GPU figure in one prepared run: embedding, interrogation and guidance on one GPU.

GPU time is scarce (a lent H200, ~15 minutes including start-up), so this is the ONE command to
run there. It runs three stages, each in its own process with its own time limit, so a stage that
crashes or overruns costs only itself, and writes every finished stage to the JSON file at once
(a run cut short keeps what it measured):

1. ``embed``: `benchmarks/embed.py --device cuda` on a random ViT-L/14 fp16, batch 256: model-only
   images/s and texts/s against transformers' plain `CLIPModel` forward pass in the same process,
   end to end from 10,000 generated JPEGs with nvjpeg and with CPU decoding, 112k phrases/s.
2. ``interrogate``: `benchmarks/interrogate_vs_clip_interrogator.py` on a random ViT-L/14 with
   clip-interrogator's full vocabulary (~112k labels): table preparation, fast and best mode,
   against clip-interrogator 0.6.0 on the same model in the same process.
3. ``guide``: steps/s of `cliplens.guide` at 512x512 with 32 cutouts on a random ViT-L/14.

    python benchmarks/gpu.py --out benchmarks/results/gpu.json      # on the GPU machine, ~8 min
    python benchmarks/gpu.py --smoke                                # CPU, tiny sizes, same code paths (tests)

Without CUDA (and without ``--smoke``) it stops at once with one line saying so. The last line
printed is one JSON object: every stage's figures under its name, plus ``gpu``, ``date``,
``stages_ok`` and ``stages_failed``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: stage -> (seconds allowed on the GPU, seconds allowed in --smoke on 2 CPU cores)
LIMITS = {"embed": (260, 420), "interrogate": (170, 420), "guide": (70, 300)}


def log(msg: str) -> None:
    print(f"[gpu {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stage_commands(smoke: bool, model: str) -> dict[str, list[str]]:
    """The command line of each stage (the GPU configuration, or tiny CPU sizes for --smoke)."""
    py = sys.executable
    if smoke:
        return {
            "embed": [py, str(HERE / "embed.py"), "--device", "cpu", "--model", model, "--quick", "--images", "8",
                      "--phrases", "64", "--batch-size", "4"],
            "interrogate": [py, str(HERE / "interrogate_vs_clip_interrogator.py"), "--images", "1", "--flavors", "400",
                            "--artists", "40", "--max-flavors", "8", "--flavor-pool", "64", "--shortlist", "64",
                            "--model", model, "--device", "cpu", "--modes", "fast,best"],
            "guide": [py, str(Path(__file__).resolve()), "--stage", "guide", "--model", model, "--device", "cpu",
                      "--size", "64", "--cutouts", "2", "--steps", "3"],
        }
    return {
        "embed": [py, str(HERE / "embed.py"), "--device", "cuda", "--model", model, "--batch-size", "256",
                  "--images", "10000", "--phrases", "112000"],
        "interrogate": [py, str(HERE / "interrogate_vs_clip_interrogator.py"), "--images", "2", "--model", model,
                        "--device", "cuda", "--modes", "fast,best"],
        "guide": [py, str(Path(__file__).resolve()), "--stage", "guide", "--model", model, "--device", "cuda",
                  "--size", "512", "--cutouts", "32", "--steps", "30"],
    }


def last_json_line(text: str) -> dict | None:
    """The last line of `text` that parses as a JSON object (every benchmark ends with one)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def run_stage(name: str, cmd: list[str], limit: int) -> dict:
    """Run one stage with a time limit; its figures, or why it failed (with the tail of its log)."""
    log(f"{name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))} (limit {limit}s)")
    t0 = time.perf_counter()
    env = {**os.environ, "CLIPLENS_QUIET": "1", "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-1500:]
        tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        return {"ok": False, "reason": f"over its {limit}s limit", "wall_s": round(time.perf_counter() - t0, 1),
                "log_tail": tail}
    wall = round(time.perf_counter() - t0, 1)
    figures = last_json_line(proc.stdout)
    if proc.returncode != 0 or figures is None:
        return {"ok": False, "reason": f"exit code {proc.returncode}" + ("" if figures else ", no JSON line"),
                "wall_s": wall, "log_tail": proc.stderr[-1500:]}
    log(f"{name}: done in {wall}s")
    return {"ok": True, "wall_s": wall, **figures}


def cfg_param() -> str:
    """The default image parametrisation, the one a user gets (and the one timed)."""
    from cliplens import defaults

    return defaults.GUIDE_PARAM


def guide_stage(args: argparse.Namespace) -> dict:
    """Steps/s of CLIP guidance: one warm-up run, then a timed run of `--steps` steps."""
    import torch

    from cliplens import load_encoder
    from cliplens import guide

    enc = load_encoder(args.model, device=args.device)
    prompt = "a large red circle on a white background, flat"

    def run(steps: int) -> float:
        cfg = guide.GuideConfig(size=(args.size, args.size), steps=steps, cutouts=args.cutouts,
                                search_rounds=0)   # steps/s of the gradient loop alone
        if enc.device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        guide.generate(enc, prompt, cfg)
        if enc.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t

    run(2)  # warm-up: allocations, kernels, cutout grids
    seconds = run(args.steps)
    out = {"model": args.model, "device": str(enc.device), "size": args.size, "cutouts": args.cutouts,
           "param": cfg_param(), "steps": args.steps, "steps_per_s": round(args.steps / seconds, 3)}
    if args.size == 512 and args.cutouts == 32:
        out["steps_per_s_512"] = out["steps_per_s"]
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--smoke", action="store_true", help="CPU, tiny sizes, same code paths (for the test suite)")
    ap.add_argument("--quick", action="store_true", help="same as --smoke (every benchmark takes --quick)")
    ap.add_argument("--out", type=Path, default=None, help="JSON file with every figure (default: a temp file)")
    ap.add_argument("--stages", default="embed,interrogate,guide", help="comma-separated subset")
    ap.add_argument("--model", default=None, help="default: openclip:ViT-L-14/random (GPU), toyclip (--smoke)")
    ap.add_argument("--stage", choices=["guide"], help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=512, help=argparse.SUPPRESS)
    ap.add_argument("--cutouts", type=int, default=32, help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=30, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    smoke = args.smoke or args.quick

    if args.stage == "guide":
        args.model = args.model or "toyclip"
        result = guide_stage(args)
        print(json.dumps(result))
        return result

    import torch

    if not smoke and not torch.cuda.is_available():
        print("error: no CUDA device is visible (torch.cuda.is_available() is False): run this on the GPU "
              "machine, or pass --smoke for the CPU check", file=sys.stderr)
        sys.exit(2)
    model = args.model or ("toyclip" if smoke else "openclip:ViT-L-14/random")
    out_path = args.out or Path(tempfile.mkdtemp(prefix="cliplens-gpu-")) / "gpu.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "smoke": smoke,
                    "model": model, "torch": torch.__version__, "machine": platform.machine(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    commands = stage_commands(smoke, model)
    wanted = [s for s in args.stages.split(",") if s]
    unknown = set(wanted) - set(commands)
    if unknown:
        ap.error(f"unknown stages: {', '.join(sorted(unknown))} (choose from {', '.join(commands)})")
    t0 = time.perf_counter()
    for name in wanted:
        limit = LIMITS[name][1 if smoke else 0]
        result[name] = run_stage(name, commands[name], limit)
        if not result[name]["ok"]:
            log(f"{name}: FAILED ({result[name]['reason']}); going on with the next stage")
        out_path.write_text(json.dumps(result, indent=2) + "\n")  # partial results survive a cut-off
    result["stages_ok"] = [n for n in wanted if result[n]["ok"]]
    result["stages_failed"] = [n for n in wanted if not result[n]["ok"]]
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out_path} ({len(result['stages_ok'])}/{len(wanted)} stages ok, {result['wall_s']}s)")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
