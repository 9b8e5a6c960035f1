"""PNG pictures for results people would rather look at than read (rendering is the CLI's job).

Three reusable renderers, each writing a real PNG (atomically) and returning its path:

- `contact_sheet`: a grid of thumbnails, each with a caption (rank, score, file name...).
  Used by `cliplens rank --plot` and by search results.
- `heatmap`: an images x texts similarity matrix with the values written in the cells.
- `bar_chart`: horizontal bars, e.g. per-keyword feedback (present/absent colouring).

The contact sheet is drawn with Pillow only (fast, no matplotlib import for big grids);
heat-map and bar chart use matplotlib's non-interactive Agg backend, so no display is needed.

    >>> from cliplens.cli.plots import contact_sheet
    >>> contact_sheet(["a.png", "b.png"], ["#1 0.312", "#2 0.287"], "sheet.png")  # doctest: +SKIP
    PosixPath('sheet.png')
"""
from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import ImageLoadError, InvalidInputError
from ..images import ImageInput, describe, load_image
from ..io.atomic import atomic_write_bytes

__all__ = ["contact_sheet", "heatmap", "bar_chart"]

_MAX_SHEET_ITEMS = 2000


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _check_out(out_path: str | os.PathLike) -> Path:
    out = Path(out_path)
    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"plot file {out}: give a file name ending in .png")
    if out.exists() and out.is_dir():
        raise InvalidInputError(f"plot file {out} is a folder; give a .png file name")
    return out


def _save_png(img: Image.Image, out: Path) -> Path:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    atomic_write_bytes(out, buf.getvalue())
    return out


def _wrap(text: str, font, max_width: int, draw: ImageDraw.ImageDraw, max_lines: int) -> list[str]:
    """Greedy word wrap by pixel width; over-long words are cut, the last line ends in an ellipsis."""
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        cur = ""
        for word in para.split(" "):
            cand = f"{cur} {word}".strip() if cur else word
            if draw.textlength(cand, font=font) <= max_width:
                cur = cand
                continue
            if cur:
                lines.append(cur)
            while draw.textlength(word, font=font) > max_width and len(word) > 1:
                cut = len(word)
                while cut > 1 and draw.textlength(word[:cut], font=font) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            cur = word
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > max_width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _thumbnail(src: ImageInput, size: int) -> tuple[Image.Image, str | None]:
    """A `size`x`size` tile with the image fitted inside; unreadable images become a grey tile."""
    tile = Image.new("RGB", (size, size), (236, 236, 236))
    try:
        img = load_image(src)
    except ImageLoadError as exc:
        d = ImageDraw.Draw(tile)
        d.line([(0, 0), (size, size)], fill=(190, 60, 60), width=2)
        d.line([(0, size), (size, 0)], fill=(190, 60, 60), width=2)
        return tile, exc.reason
    img = img.copy()
    img.thumbnail((size, size), Image.Resampling.BICUBIC if max(img.size) > size else Image.Resampling.NEAREST)
    if max(img.size) < size:  # small renders (64 px toy images) are scaled up crisply
        scale = size / max(img.size)
        img = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))),
                         Image.Resampling.NEAREST)
    tile.paste(img, ((size - img.size[0]) // 2, (size - img.size[1]) // 2))
    return tile, None


def contact_sheet(
    images_or_paths: Sequence[ImageInput],
    labels: Sequence[str] | None,
    out_path: str | os.PathLike,
    *,
    columns: int | None = None,
    thumb: int = 160,
    title: str | None = None,
    scores: Sequence[float] | None = None,
    label_lines: int = 3,
    highlight: Sequence[bool] | None = None,
) -> Path:
    """Write a PNG grid of thumbnails with a caption under each; returns the PNG path.

    `labels[i]` is drawn under image i (wrapped to `label_lines` lines); when `scores` is given
    a thin bar under each tile shows the score relative to the best/worst on the sheet, so a
    ranking can be read at a glance. `highlight[i]` draws a green frame (e.g. the kept top-k).
    Unreadable images are drawn as a crossed-out tile with the reason, never an exception:
    a sheet of 200 results should not fail because one file vanished.

    >>> contact_sheet(["cat.png", "dog.png"], ["#1 cat 0.31", "#2 dog 0.27"], "out.png", columns=2)  # doctest: +SKIP
    PosixPath('out.png')
    """
    out = _check_out(out_path)
    items = list(images_or_paths) if not isinstance(images_or_paths, (str, bytes, Image.Image)) else [images_or_paths]
    n = len(items)
    if n == 0:
        raise InvalidInputError("contact sheet: no images to draw")
    if n > _MAX_SHEET_ITEMS:
        raise InvalidInputError(f"contact sheet: {n} images is too many for one sheet (limit {_MAX_SHEET_ITEMS}); "
                                "pass the top results only")
    labs = [""] * n if labels is None else [str(x) for x in labels]
    if len(labs) != n:
        raise InvalidInputError(f"contact sheet: {n} images but {len(labs)} labels")
    if scores is not None and len(scores) != n:
        raise InvalidInputError(f"contact sheet: {n} images but {len(scores)} scores")
    if highlight is not None and len(highlight) != n:
        raise InvalidInputError(f"contact sheet: {n} images but {len(highlight)} highlight flags")
    if not 16 <= int(thumb) <= 1024:
        raise InvalidInputError(f"contact sheet: thumb={thumb} px; use 16..1024")
    cols = int(columns) if columns else min(n, max(1, math.ceil(math.sqrt(n * 1.3))))
    if cols < 1:
        raise InvalidInputError("contact sheet: columns must be >= 1")
    rows = math.ceil(n / cols)
    font_px = max(10, min(16, thumb // 11))
    font = _font(font_px)
    title_font = _font(font_px + 4)
    pad = 8
    line_h = font_px + 3
    bar_h = 5 if scores is not None else 0
    cell_w = thumb + pad
    cell_h = thumb + bar_h + 4 + line_h * label_lines + pad
    title_h = (font_px + 4 + 2 * pad) if title else 0
    W, H = cols * cell_w + pad, rows * cell_h + pad + title_h
    sheet = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    if title:
        t = _wrap(title, title_font, W - 2 * pad, draw, 1)[0]
        draw.text((pad, pad), t, fill=(20, 20, 20), font=title_font)
    lo = hi = 0.0
    if scores is not None:
        arr = np.asarray(scores, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
    for i, src in enumerate(items):
        r, c = divmod(i, cols)
        x0, y0 = pad + c * cell_w, title_h + pad + r * cell_h
        tile, problem = _thumbnail(src, thumb)
        sheet.paste(tile, (x0, y0))
        if highlight is not None and highlight[i]:
            draw.rectangle([x0 - 3, y0 - 3, x0 + thumb + 2, y0 + thumb + 2], outline=(30, 160, 60), width=3)
        y = y0 + thumb + 2
        if scores is not None:
            s = float(scores[i])
            frac = 1.0 if hi <= lo else (s - lo) / (hi - lo) if math.isfinite(s) else 0.0
            draw.rectangle([x0, y, x0 + thumb - 1, y + bar_h - 1], fill=(225, 225, 225))
            draw.rectangle([x0, y, x0 + max(1, int(round(frac * (thumb - 1)))), y + bar_h - 1], fill=(60, 110, 200))
            y += bar_h
        text = labs[i] if problem is None else f"{labs[i]} [unreadable: {problem}]".strip()
        for j, line in enumerate(_wrap(text, font, thumb, draw, label_lines)):
            draw.text((x0, y + 2 + j * line_h), line, fill=(30, 30, 30) if problem is None else (170, 40, 40), font=font)
    return _save_png(sheet, out)


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _fig_to_png(fig, out: Path) -> Path:
    plt = _mpl()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out


def _short(s: str, n: int = 40) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def heatmap(
    matrix: np.ndarray | Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    out_path: str | os.PathLike,
    *,
    title: str | None = None,
    value_label: str = "cosine",
    annotate: bool | None = None,
    mark_row_max: bool = True,
) -> Path:
    """Write a PNG heat-map of a (rows x cols) score matrix, e.g. images x prompts; returns the path.

    Values are written in the cells when the matrix is small enough to read (<= 400 cells, or
    `annotate=True`); the best column of each row is outlined, so "which prompt fits which image"
    is visible without reading numbers.

    >>> heatmap([[0.31, 0.12], [0.08, 0.29]], ["red.png", "blue.png"], ["red", "blue"], "h.png")  # doctest: +SKIP
    PosixPath('h.png')
    """
    out = _check_out(out_path)
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise InvalidInputError(f"heat-map: need a non-empty 2-D matrix, got shape {m.shape}")
    if len(row_labels) != m.shape[0] or len(col_labels) != m.shape[1]:
        raise InvalidInputError(f"heat-map: matrix is {m.shape[0]}x{m.shape[1]} but got "
                                f"{len(row_labels)} row and {len(col_labels)} column labels")
    if m.shape[0] * m.shape[1] > 250_000:
        raise InvalidInputError(f"heat-map: {m.shape[0]}x{m.shape[1]} is too large to draw; pass fewer rows/columns")
    plt = _mpl()
    rows, cols = m.shape
    fig_w = min(40.0, 2.5 + 0.9 * cols)
    fig_h = min(40.0, 1.5 + 0.45 * rows)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    im = ax.imshow(m, cmap="viridis", aspect="auto")
    ax.set_xticks(range(cols))
    ax.set_xticklabels([_short(c, 30) for c in col_labels], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(rows))
    ax.set_yticklabels([_short(r, 40) for r in row_labels], fontsize=8)
    fig.colorbar(im, ax=ax, label=value_label, fraction=0.046, pad=0.03)
    if annotate is None:
        annotate = rows * cols <= 400
    if annotate:
        finite = m[np.isfinite(m)]
        mid = float((finite.min() + finite.max()) / 2) if finite.size else 0.0
        for i in range(rows):
            for j in range(cols):
                v = m[i, j]
                ax.text(j, i, f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}", ha="center", va="center", fontsize=7,
                        color="black" if v > mid else "white")
    if mark_row_max and cols > 1:
        import matplotlib.patches as patches

        for i in range(rows):
            if np.isfinite(m[i]).any():
                j = int(np.nanargmax(m[i]))
                ax.add_patch(patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.6))
    if title:
        ax.set_title(_short(title, 90), fontsize=10)
    return _fig_to_png(fig, out)


def bar_chart(
    values: Sequence[float],
    labels: Sequence[str],
    out_path: str | os.PathLike,
    *,
    title: str | None = None,
    xlabel: str = "score",
    present: Sequence[bool | None] | None = None,
    threshold: float | None = None,
) -> Path:
    """Write a horizontal bar chart PNG (first item on top); returns the path.

    `present[i]` colours bar i green (True), grey-red (False) or blue (None) — the per-keyword
    feedback view: "glasses: present, white carpet: absent". `threshold` draws a dashed line.

    >>> bar_chart([0.04, -0.01], ["red", "white carpet"], "kw.png", present=[True, False])  # doctest: +SKIP
    PosixPath('kw.png')
    """
    out = _check_out(out_path)
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if vals.size == 0:
        raise InvalidInputError("bar chart: no values to draw")
    if len(labels) != vals.size:
        raise InvalidInputError(f"bar chart: {vals.size} values but {len(labels)} labels")
    if present is not None and len(present) != vals.size:
        raise InvalidInputError(f"bar chart: {vals.size} values but {len(present)} present flags")
    if vals.size > 500:
        raise InvalidInputError(f"bar chart: {vals.size} bars is too many to read; pass the top 500 at most")
    plt = _mpl()
    colours = []
    for i in range(vals.size):
        p = None if present is None else present[i]
        colours.append("#3a9d5d" if p is True else "#c0504d" if p is False else "#4472c4")
    fig, ax = plt.subplots(figsize=(7.0, 0.9 + 0.38 * vals.size))
    y = np.arange(vals.size)
    ax.barh(y, np.nan_to_num(vals), color=colours)
    ax.set_yticks(y)
    ax.set_yticklabels([_short(lab, 45) for lab in labels], fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", linewidth=0.8)
    if threshold is not None:
        ax.axvline(float(threshold), color="gray", linestyle="--", linewidth=1.0)
    span = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
    for yi, v in zip(y, vals):
        ax.text(v + (0.01 * span if v >= 0 else -0.01 * span), yi, f"{v:+.3f}", va="center",
                ha="left" if v >= 0 else "right", fontsize=8)
    ax.set_xlabel(xlabel)
    lim = span * 1.25 if span > 0 else 1.0
    ax.set_xlim(min(-0.05 * lim, float(np.nanmin(vals)) * 1.25 if np.isfinite(vals).any() else 0), lim)
    if title:
        ax.set_title(_short(title, 90), fontsize=10)
    return _fig_to_png(fig, out)


def describe_sources(sources: Sequence[ImageInput]) -> list[str]:
    """Short human names for image sources (file names for paths), for sheet labels."""
    return [Path(describe(s)).name if isinstance(s, (str, os.PathLike)) else describe(s) for s in sources]
