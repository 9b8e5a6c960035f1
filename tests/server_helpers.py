"""Shared helpers for the server tests: a root folder of toy images with traps around it."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

from PIL import Image

from cliplens.assets import fixtures_dir


def make_root(tmp: Path, n: int = 6) -> dict[str, Path]:
    """`tmp/root` with n fixture images, a sub-folder, a symlink escaping the root, and a secret outside."""
    root = tmp / "root"
    (root / "sub").mkdir(parents=True)
    files = sorted(fixtures_dir(64).glob("*.png"))[:n]
    for i, f in enumerate(files):
        shutil.copy(f, (root / "sub" if i % 2 else root) / f.name)
    secret = tmp / "secret.png"
    shutil.copy(files[0], secret)  # a real image, so only the root check can refuse it
    (tmp / "secret.txt").write_text("top secret\n")
    (root / "escape.png").symlink_to(secret)
    (root / "escape_dir").symlink_to(tmp, target_is_directory=True)
    return {"root": root, "secret": secret, "files": files}


def png_bytes(size: tuple[int, int] = (32, 32), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()
