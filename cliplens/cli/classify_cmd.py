"""`cliplens classify | tag`: zero-shot labels and multi-label tags (call `classify.classify` / `classify.tag`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import (DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, ModelOpt, OnErrorOpt, PrecisionOpt, QuietOpt, console,
                     get_encoder, print_json, show_progress)
from .items import expand, print_item_errors, require_some

PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Also render a PNG picture of the result here.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one row per image to a .csv or .jsonl file.")]
SidecarOpt = Annotated[Optional[Literal["txt", "xmp"]], typer.Option(
    "--sidecar", help="Write results beside each image: txt (caption file 'tag1, tag2') or xmp (keywords).")]
SidecarModeOpt = Annotated[Literal["append", "overwrite", "skip"], typer.Option(
    "--sidecar-mode", help="When a sidecar exists: append (keep its text, add missing tags) | overwrite (only a "
    "sidecar cliplens wrote and nobody edited since) | skip.")]
NamingOpt = Annotated[Literal["full", "stem"], typer.Option(
    "--naming", help="Sidecar names: full (a.png -> a.png.txt / a.png.xmp, never shared) | stem (a.txt / a.xmp: "
    "kohya_ss, Lightroom; refused when two images would share one).")]


def _write_sidecars(items: list[tuple[str, list[str]]], sidecar: Optional[str], mode: str, naming: str, inputs):
    """Sidecars through `cliplens.io` (clash check, never over a file cliplens did not write)."""
    if sidecar is None:
        return None
    from ..io import write_sidecars

    return write_sidecars(items, sidecar, mode=mode, naming=naming, inputs=inputs)


def _report_writes(report, sidecar: Optional[str], out: Optional[Path], plot_path: Optional[str]) -> None:
    if report is not None:
        console.print(f"[green]wrote[/green] {len(report.written)} {sidecar} sidecars"
                      + (f", {len(report.skipped)} left as they were" if report.skipped else ""))
        print_item_errors(report.errors)
    if out is not None:
        console.print(f"[green]wrote[/green] {out}")
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


def _labels(labels: Optional[str], labels_file: Optional[Path]) -> list[str]:
    if (labels is None) == (labels_file is None):
        raise InvalidInputError("give --labels a,b,c or --labels-file FILE (one label a line)")
    if labels_file is not None:
        try:
            text = labels_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"labels file {labels_file}: cannot read it ({exc})") from None
        return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [x.strip() for x in (labels or "").split(",") if x.strip()]


def _cli_extras(d: dict, report, plot_path, out) -> dict:
    d["sidecars"] = None if report is None else report.to_dict()
    d["plot"] = plot_path
    d["out"] = str(out) if out else None
    return d


@app.command("classify")
def classify_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files and/or folders.")],
    labels: Annotated[Optional[str], typer.Option("--labels", "-l", help="Comma-separated labels.")] = None,
    labels_file: Annotated[Optional[Path], typer.Option("--labels-file", help="Labels, one a line.")] = None,
    templates: Annotated[str, typer.Option("--templates", "-t", help="imagenet7 (default: OpenAI's 7-template "
                         "ensemble) | imagenet80 | short | photo | none | a file (one template a line, {} = label) | "
                         "a template with {}.")] = defaults.CLASSIFY_TEMPLATES,
    top_k: Annotated[int, typer.Option("--top-k", "--top", "-k", min=1, help="Labels listed per image.")] = defaults.CLASSIFY_TOP_K,
    min_prob: Annotated[Optional[float], typer.Option("--min-prob", min=0.0, max=1.0, help="'none of these' when the "
                        "top probability is lower.")] = None,
    none_margin: Annotated[Optional[float], typer.Option("--none-margin", help="'none of these' when the top label's "
                           "cosine beats a neutral text by less than this.")] = None,
    out: OutOpt = None,
    sidecar: SidecarOpt = None,
    sidecar_mode: SidecarModeOpt = defaults.SIDECAR_MODE,
    naming: NamingOpt = defaults.SIDECAR_NAMING,
    plot: PlotOpt = None,
    on_error: OnErrorOpt = defaults.ON_ERROR,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Zero-shot classification: the most likely of your labels for each image (template ensembles).

    Example: [bold]cliplens classify photos/ --labels circle,square,star,heart --model toyclip[/bold]
    """
    from ..classify import NONE_LABEL, classify

    labs = _labels(labels, labels_file)
    files = expand(images)
    enc = get_encoder(model, device, precision)
    res = classify(enc, files, labs, templates=templates, top_k=top_k, min_prob=min_prob, none_margin=none_margin,
                   on_error=on_error, progress=show_progress(quiet))
    require_some(res, sum(1 for p in res.results if not p.error), "classified")
    d = res.to_dict()
    if out is not None:
        from ..io import write_table

        write_table(d["results"], out)
    report = _write_sidecars([(p.image, [p.label]) for p in res.results if p.label and p.label != NONE_LABEL],
                             sidecar, sidecar_mode, naming, files)
    plot_path = None
    if plot is not None:
        import numpy as np

        from .plots import heatmap

        ok = [p for p in res.results if not p.error][:80]
        m = np.array([[p.scores[lab] for lab in res.labels] for p in ok])
        plot_path = str(heatmap(m, [Path(p.image).name for p in ok], res.labels, plot, value_label="probability",
                                title=f"zero-shot probabilities ({res.template_count} templates)"))
    if json_out:
        print_json(_cli_extras(d, report, plot_path, out))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"zero-shot ({len(res.labels)} labels x {res.template_count} templates, {enc.name})")
    table.add_column("image", overflow="fold")
    table.add_column("label")
    table.add_column(f"top {top_k}", overflow="fold")
    for p in res.results:
        if not p.error:
            table.add_row(escape(Path(p.image).name), escape(p.label),
                          escape(", ".join(f"{lab} {pr:.3f}" for lab, pr in p.top)))
    console.print(table)
    print_item_errors(res.errors)
    _report_writes(report, sidecar, out, plot_path)


@app.command("tag")
def tag_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files and/or folders.")],
    vocab: Annotated[list[str], typer.Option("--vocab", "-v", help="Tag vocabulary: a built-in name or a file, one "
                     "tag a line (repeatable).")],
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Default threshold (margin score: 0.0 = "
                         "beats a neutral text).")] = None,
    thresholds: Annotated[Optional[Path], typer.Option("--thresholds", help="Per-tag thresholds: JSON {tag: t} or "
                          "'tag,threshold' lines.")] = None,
    score: Annotated[Literal["margin", "cosine", "z"], typer.Option("--score", help="margin | cosine | z.")] = defaults.TAG_SCORE,
    template: Annotated[str, typer.Option("--template", help="How a tag is phrased for CLIP, e.g. 'a photo of {}'.")] = defaults.TAG_TEMPLATE,
    top_k: Annotated[int, typer.Option("--top-k", "--max-tags", "-k", min=1, help="At most this many tags per image.")] = defaults.TAG_TOP_K,
    out: OutOpt = None,
    sidecar: SidecarOpt = None,
    sidecar_mode: SidecarModeOpt = defaults.SIDECAR_MODE,
    naming: NamingOpt = defaults.SIDECAR_NAMING,
    plot: PlotOpt = None,
    on_error: OnErrorOpt = defaults.ON_ERROR,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Multi-label tags from a vocabulary, with per-tag thresholds; CSV/JSONL, .txt or XMP sidecars.

    Example: [bold]cliplens tag photos/ --vocab colour --vocab mediums --sidecar xmp --model toyclip[/bold]
    """
    from ..classify import tag
    from ..vocab import load_vocabulary

    files = expand(images)
    phrases = list(dict.fromkeys(p for v in vocab for p in load_vocabulary(v)))
    enc = get_encoder(model, device, precision)
    res = tag(enc, files, phrases, threshold=threshold, thresholds=thresholds, score=score, template=template,
              top_k=top_k, on_error=on_error, progress=show_progress(quiet))
    require_some(res, sum(1 for r in res.results if not r.error), "tagged")
    d = res.to_dict()
    if out is not None:
        from ..io import write_table

        write_table(d["results"], out)
    report = _write_sidecars([(r.image, [t for t, _ in r.tags]) for r in res.results if not r.error and r.tags],
                             sidecar, sidecar_mode, naming, files)
    plot_path = None
    if plot is not None:
        from .plots import contact_sheet

        ok = [r for r in res.results if not r.error][:200]
        plot_path = str(contact_sheet([r.image for r in ok], [", ".join(t for t, _ in r.tags) or "(no tags)" for r in ok],
                                      plot, title=f"tags ({res.vocabulary_size}-phrase vocabulary, {score})"))
    if json_out:
        print_json(_cli_extras(d, report, plot_path, out))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"tags ({res.vocabulary_size} phrases, score={score}, {enc.name})")
    table.add_column("image", overflow="fold")
    table.add_column("tags", overflow="fold")
    for r in res.results:
        if not r.error:
            table.add_row(escape(Path(r.image).name), escape(", ".join(f"{t} ({s:+.3f})" for t, s in r.tags) or "-"))
    console.print(table)
    print_item_errors(res.errors)
    _report_writes(report, sidecar, out, plot_path)
