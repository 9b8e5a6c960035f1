"""`cliplens score | rank | feedback | classify | tag`: CLIP as a judge and a labeller, from the shell."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from ..errors import InvalidInputError
from ..images import find_images
from .app import app
from .common import (DEFAULT_MODEL_NAME, DeviceOpt, JsonOpt, ModelOpt, PrecisionOpt, QuietOpt, console, err_console,
                     get_encoder, print_json)

PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Also render a PNG picture of the result here.")]
LongOpt = Annotated[str, typer.Option("--long", help="Prompts over 75 tokens: warn (truncate + report) | truncate | "
                                      "chunks (score every 75-token window) | error.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one row per image to a .csv or .jsonl file.")]
SidecarOpt = Annotated[Optional[str], typer.Option("--sidecar", help="Write results beside each image: txt "
                                                   "(caption file, 'tag1, tag2') or xmp (keywords for photo managers).")]
SidecarModeOpt = Annotated[str, typer.Option("--sidecar-mode", help="When a sidecar exists: append | overwrite | skip.")]
XmpNamingOpt = Annotated[str, typer.Option("--xmp-naming", help="basename (photo.xmp, Lightroom) | extension "
                                           "(photo.jpg.xmp, darktable).")]


def _expand(paths: list[Path]) -> list[str]:
    """Files as given, folders expanded (recursively, images recognised by content)."""
    if not paths:
        raise InvalidInputError("no images given: pass image files and/or folders")
    out: list[str] = []
    for p in paths:
        if p.is_dir():
            found = [str(f) for f in find_images([p])]
            if not found:
                raise InvalidInputError(f"no images found in folder {p}")
            out.extend(found)
        else:
            out.append(str(p))  # missing/broken files are reported per item by the library
    return out


def _warn_lines(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        err_console.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False, soft_wrap=True)


def _print_errors(errors: list[dict]) -> None:
    for e in errors:
        err_console.print(f"[yellow]skipped[/yellow] {e['image']}: {e['reason']}", highlight=False)


def _write_sidecars(rows: list[dict], sidecar: Optional[str], mode: str, naming: str) -> list[str]:
    from ..classify import write_txt_sidecars, write_xmp_sidecars

    if sidecar is None:
        return []
    if sidecar == "txt":
        return [str(p) for p in write_txt_sidecars(rows, mode=mode)]
    if sidecar == "xmp":
        return [str(p) for p in write_xmp_sidecars(rows, naming=naming, mode=mode)]
    raise InvalidInputError(f"--sidecar {sidecar}: use txt or xmp")


# ------------------------------------------------------------------------------------------ score
@app.command("score")
def score_cmd(
    images: Annotated[Optional[list[Path]], typer.Argument(help="Image files and/or folders.")] = None,
    prompt: Annotated[Optional[list[str]], typer.Option("--prompt", "-p", help="The prompt (one for all images, or "
                      "repeat once per image). Without it, each image's .txt sidecar is its prompt.")] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="CSV/JSONL with image, prompt[, refs] columns.")] = None,
    ref: Annotated[Optional[list[str]], typer.Option("--ref", help="Reference caption(s) for RefCLIPScore (repeatable).")] = None,
    paper_prefix: Annotated[bool, typer.Option("--paper-prefix", help="Prefix prompts with 'A photo depicts' as the "
                            "CLIPScore paper does.")] = False,
    long: LongOpt = "warn",
    out: OutOpt = None,
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the image embedding cache.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score images against prompts: cosine, CLIP-S (paper, 0..2.5) and CLIPScore (torchmetrics, 0..100).

    Example: [bold]cliplens score assets/toyworld/fixtures/64 --prompt "a red circle" --model toyclip[/bold]

    CLIP-S is 2.5*max(cos, 0) per image, averaged; torchmetrics' CLIPScore is max(mean(100*cos), 0):
    they differ whenever some cosine is negative. With --ref, RefCLIP-S is reported too.
    """
    from ..judge import clip_score, read_manifest

    refs = None
    if manifest is not None:
        if images or prompt:
            raise InvalidInputError("give either --manifest or images with --prompt, not both")
        m = read_manifest(manifest)
        files, prompts, refs = m.images, m.prompts, m.references
    else:
        files = _expand(images or [])
        if prompt:
            prompts = list(prompt)
            if len(prompts) not in (1, len(files)):
                raise InvalidInputError(f"{len(files)} images but {len(prompts)} --prompt values: give one prompt, "
                                        "or one per image")
        else:
            prompts = []
            for f in files:
                side = Path(f).with_suffix(".txt")
                if not side.is_file():
                    raise InvalidInputError(f"no prompt for {f}: give --prompt, or put its prompt in {side.name} beside it")
                prompts.append(side.read_text(encoding="utf-8").strip())
    if ref:
        refs = [list(ref)] * len(files)
    enc = get_encoder(model, device, precision)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = clip_score(enc, files, prompts, references=refs, paper_prefix=paper_prefix, long_prompts=long,
                       on_error="skip", use_cache=not no_cache, progress=not quiet)
    rows = s.rows()
    summary = s.summary()
    if summary["pairs"] == 0:
        raise InvalidInputError("no image could be scored: " + "; ".join(f"{e['image']}: {e['reason']}" for e in s.errors[:3]))
    if out is not None:
        from ..classify import write_table

        write_table(rows, out)
    plot_path = None
    if plot is not None:
        plot_path = str(_score_plot(enc, s, plot))
    if json_out:
        print_json({"model": enc.name, "summary": summary, "results": rows, "errors": s.errors,
                    "plot": plot_path, "out": str(out) if out else None})
        return
    _warn_lines(caught)
    table = Table(title=f"scores ({enc.name})")
    for col in ("image", "prompt", "cosine", "CLIP-S", "100*cos"):
        table.add_column(col, overflow="fold", justify="right" if col[0] in "cC1" and col != "image" else "left")
    if refs is not None:
        table.add_column("RefCLIP-S", justify="right")
    for r in rows[:200]:
        if r.get("error"):
            continue
        cells = [Path(r["image"]).name, r["prompt"][:120], f"{r['cosine']:.4f}", f"{r['clip_s']:.4f}", f"{r['clipscore_100']:.2f}"]
        if refs is not None:
            cells.append(f"{r['refclip_s']:.4f}")
        table.add_row(*cells)
    console.print(table)
    if len(rows) > 200:
        console.print(f"... {len(rows) - 200} more rows (use --out or --json)")
    line = (f"{summary['pairs']} pairs: mean cosine {summary['cosine_mean']:.4f}, CLIP-S (paper, per-sample clamp) "
            f"{summary['clip_s_mean']:.4f}, CLIPScore (torchmetrics, clamp after mean) {summary['clipscore_torchmetrics']:.2f}"
            if summary["pairs"] else "no pairs could be scored")
    if "refclip_s_mean" in summary:
        line += f", RefCLIP-S {summary['refclip_s_mean']:.4f}"
    console.print(line)
    _print_errors(s.errors)
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


def _score_plot(enc, s, plot: Path) -> Path:
    """Heat-map of every scored image against every distinct prompt (images x prompts cosine)."""
    from ..judge import similarity_matrix
    from ..plots import heatmap

    prompts = list(dict.fromkeys(s.prompts))[:40]
    ok = [im for im, c in zip(s.images, s.cosine) if not np.isnan(c)]
    imgs = list(dict.fromkeys(ok))[:60]
    if not imgs:
        raise InvalidInputError("nothing to plot: no image could be scored")
    m, _ = similarity_matrix(enc, imgs, prompts, long_prompts="truncate")
    return heatmap(m, [Path(i).name for i in imgs], prompts, plot, title=f"cosine, images x prompts ({enc.name})")


# ------------------------------------------------------------------------------------------ rank
@app.command("rank")
def rank_cmd(
    images: Annotated[list[Path], typer.Argument(help="Candidate images (files/folders), or ONE image with --candidate.")],
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="Rank the images for this prompt.")] = None,
    candidate: Annotated[Optional[list[str]], typer.Option("--candidate", "-c", help="Rank these prompts for one "
                         "image instead (repeatable).")] = None,
    top: Annotated[Optional[int], typer.Option("--top", "-k", help="Keep the best K.")] = None,
    copy_to: Annotated[Optional[Path], typer.Option("--copy-to", help="Copy the kept images here as 001_name.png...")] = None,
    symlink: Annotated[bool, typer.Option("--symlink", help="With --copy-to: symlink instead of copying.")] = False,
    long: LongOpt = "warn",
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Best-of-N: rank N images for a prompt (or N prompts for an image), keep the top K.

    Example: [bold]cliplens rank assets/toyworld/fixtures/64 --prompt "a red circle" --top 4 --copy-to best/ --model toyclip[/bold]
    """
    from ..judge import keep_winners, rank_images, rank_prompts

    if (prompt is None) == (not candidate):
        raise InvalidInputError("give --prompt (rank images) or --candidate prompts (rank prompts for one image)")
    enc = get_encoder(model, device, precision)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if prompt is not None:
            files = _expand(images)
            ranking = rank_images(enc, prompt, files, top=top, long_prompts=long, progress=not quiet)
        else:
            if len(images) != 1 or images[0].is_dir():
                raise InvalidInputError("with --candidate, give exactly one image file")
            if copy_to is not None:
                raise InvalidInputError("--copy-to keeps images; it does not apply when ranking prompts")
            ranking = rank_prompts(enc, str(images[0]), list(candidate or []), top=top, long_prompts=long)
    copied = []
    if copy_to is not None:
        copied = [str(p) for p in keep_winners(ranking, copy_to, mode="symlink" if symlink else "copy")]
    plot_path = None
    if plot is not None:
        from ..plots import bar_chart, contact_sheet

        if ranking.kind == "images":
            plot_path = str(contact_sheet([r.item for r in ranking.items],
                                          [f"#{r.rank} {r.cosine:.4f} {Path(r.item).name}" for r in ranking.items],
                                          plot, scores=[r.cosine for r in ranking.items],
                                          title=f"best of {ranking.total} for: {prompt}"))
        else:
            plot_path = str(bar_chart([r.cosine for r in ranking.items], [r.item for r in ranking.items], plot,
                                      title=f"prompts ranked for {images[0].name}", xlabel="cosine"))
    if json_out:
        d = ranking.to_dict()
        d.update({"model": enc.name, "copied": copied, "plot": plot_path})
        print_json(d)
        return
    _warn_lines(caught)
    table = Table(title=f"{'images' if ranking.kind == 'images' else 'prompts'} ranked for {ranking.query!r}")
    table.add_column("rank", justify="right")
    table.add_column("image" if ranking.kind == "images" else "prompt", overflow="fold")
    table.add_column("cosine", justify="right")
    table.add_column("CLIP-S", justify="right")
    for r in ranking.items:
        table.add_row(str(r.rank), Path(r.item).name if ranking.kind == "images" else r.item, f"{r.cosine:.4f}", f"{r.clip_s:.4f}")
    console.print(table)
    _print_errors(ranking.errors)
    if copied:
        console.print(f"[green]{'linked' if symlink else 'copied'}[/green] {len(copied)} images to {copy_to}")
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


# ------------------------------------------------------------------------------------------ feedback
@app.command("feedback")
def feedback_cmd(
    image: Annotated[Path, typer.Argument(help="The image.")],
    prompt: Annotated[str, typer.Argument(help="The prompt it was made from.")],
    phrase: Annotated[Optional[list[str]], typer.Option("--phrase", help="Check these phrases instead of splitting "
                      "the prompt (repeatable).")] = None,
    vocab: Annotated[Optional[list[str]], typer.Option("--vocab", help="Vocabulary (built-in name or file; repeatable) "
                     "for 'shows but not asked for'.")] = None,
    unrequested: Annotated[int, typer.Option("--unrequested", help="How many unrequested phrases to list.")] = 8,
    margin: Annotated[float, typer.Option("--margin", help="Presence needed for 'present' (cosine over a neutral "
                      "text).")] = 0.0,
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Which words of the prompt show in the image (and what shows that was not asked for).

    Example: [bold]cliplens feedback red.png "red, circle, blue, watercolor" --vocab colour --model toyclip[/bold]

    presence = cos(image, phrase) - cos(image, "a picture"): positive means present.
    contribution = how much the whole prompt's score drops without the phrase.
    """
    from ..judge import keyword_feedback

    if unrequested < 0:
        raise InvalidInputError("--unrequested must be >= 0")
    vocabulary = None
    if vocab:
        from ..vocab import load_vocabulary

        vocabulary = list(dict.fromkeys(p for v in vocab for p in load_vocabulary(v)))
    enc = get_encoder(model, device, precision)
    fb = keyword_feedback(enc, str(image), prompt, phrases=phrase, vocabulary=vocabulary, unrequested_k=unrequested,
                          margin=margin)
    plot_path = None
    if plot is not None:
        from ..plots import bar_chart

        plot_path = str(bar_chart([k.presence for k in fb.keywords], [k.phrase for k in fb.keywords], plot,
                                  present=[k.verdict == "present" for k in fb.keywords], threshold=margin,
                                  title=f"{image.name}: which words show", xlabel="presence (cosine over a neutral text)"))
    if json_out:
        d = fb.to_dict()
        d.update({"model": enc.name, "plot": plot_path})
        print_json(d)
        return
    table = Table(title=f"{image.name} vs {prompt!r} (cosine {fb.prompt_cosine:.4f})")
    for col in ("phrase", "verdict", "presence", "contribution"):
        table.add_column(col, justify="left" if col in ("phrase", "verdict") else "right")
    for k in fb.keywords:
        colour = "green" if k.verdict == "present" else "red"
        table.add_row(k.phrase, f"[{colour}]{k.verdict}[/{colour}]", f"{k.presence:+.4f}", f"{k.contribution:+.4f}")
    console.print(table)
    if fb.unrequested:
        console.print("shows but not asked for: " + ", ".join(f"{u.phrase} (+{u.gain:.4f})" for u in fb.unrequested))
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


# ------------------------------------------------------------------------------------------ classify
def _labels(labels: Optional[str], labels_file: Optional[Path]) -> list[str]:
    if (labels is None) == (labels_file is None):
        raise InvalidInputError("give --labels a,b,c or --labels-file FILE (one label a line)")
    if labels_file is not None:
        if not labels_file.is_file():
            raise InvalidInputError(f"labels file {labels_file} not found")
        return [ln.strip() for ln in labels_file.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    return [x.strip() for x in (labels or "").split(",") if x.strip()]


def _require_some(results, verb: str) -> None:
    """Refuse a run in which no image worked (each result has `.image` and `.error`)."""
    if all(r.error for r in results):
        raise InvalidInputError(f"no image could be {verb}: " + "; ".join(f"{r.image}: {r.error}" for r in results[:3]))


def _print_results(table: Table, results, cells, sidecars: list[str], sidecar: Optional[str],
                   plot_path: Optional[str]) -> None:
    """One table row per result (`cells(r)` -> the columns after the file name), skipped ones to stderr."""
    for r in results:
        if r.error:
            err_console.print(f"[yellow]skipped[/yellow] {r.image}: {r.error}", highlight=False)
            continue
        table.add_row(Path(r.image).name, *cells(r))
    console.print(table)
    if sidecars:
        console.print(f"[green]wrote[/green] {len(sidecars)} {sidecar} sidecars")
    if plot_path:
        console.print(f"[green]plot[/green] {plot_path}")


@app.command("classify")
def classify_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files and/or folders.")],
    labels: Annotated[Optional[str], typer.Option("--labels", "-l", help="Comma-separated labels.")] = None,
    labels_file: Annotated[Optional[Path], typer.Option("--labels-file", help="Labels, one a line.")] = None,
    templates: Annotated[str, typer.Option("--templates", "-t", help="imagenet80 | imagenet7 | short | photo | none | "
                         "a file (one template a line, {} = label) | a template with {}.")] = "imagenet80",
    top: Annotated[int, typer.Option("--top", "-k", help="Labels listed per image.")] = 3,
    min_prob: Annotated[Optional[float], typer.Option("--min-prob", help="'none of these' when the top probability "
                        "is lower.")] = None,
    none_margin: Annotated[Optional[float], typer.Option("--none-margin", help="'none of these' when the top label's "
                           "cosine beats a neutral text by less than this.")] = None,
    out: OutOpt = None,
    sidecar: SidecarOpt = None,
    sidecar_mode: SidecarModeOpt = "append",
    xmp_naming: XmpNamingOpt = "basename",
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Zero-shot classification: the most likely of your labels for each image (template ensembles).

    Example: [bold]cliplens classify assets/toyworld/fixtures/224 --labels circle,square,star,heart --model toyclip[/bold]
    """
    from ..classify import NONE_LABEL, ZeroShotClassifier, write_table

    labs = _labels(labels, labels_file)
    files = _expand(images)
    enc = get_encoder(model, device, precision)
    clf = ZeroShotClassifier(enc, labs, templates=templates, progress=not quiet)
    preds = clf.predict(files, top_k=top, min_prob=min_prob, none_margin=none_margin, progress=not quiet)
    _require_some(preds, "classified")
    rows = [p.to_dict() for p in preds]
    if out is not None:
        write_table(rows, out)
    side_rows = [{"image": p.image, "tags": [p.label], "error": p.error} for p in preds if p.label and p.label != NONE_LABEL]
    sidecars = _write_sidecars(side_rows, sidecar, sidecar_mode, xmp_naming)
    plot_path = None
    if plot is not None:
        from ..plots import heatmap

        ok = [p for p in preds if not p.error][:80]
        if not ok:
            raise InvalidInputError("nothing to plot: no image could be classified")
        m = np.array([[p.scores[lab] for lab in clf.labels] for p in ok])
        plot_path = str(heatmap(m, [Path(p.image).name for p in ok], clf.labels, plot, value_label="probability",
                                title=f"zero-shot probabilities ({len(clf.templates)} templates)"))
    if json_out:
        print_json({"model": enc.name, "labels": clf.labels, "templates": len(clf.templates), "results": rows,
                    "sidecars": sidecars, "plot": plot_path, "out": str(out) if out else None})
        return
    table = Table(title=f"zero-shot ({len(clf.labels)} labels x {len(clf.templates)} templates, {enc.name})")
    table.add_column("image", overflow="fold")
    table.add_column("label")
    table.add_column(f"top {top}", overflow="fold")
    _print_results(table, preds, lambda p: (p.label, ", ".join(f"{l} {pr:.3f}" for l, pr in p.top)),
                   sidecars, sidecar, plot_path)


# ------------------------------------------------------------------------------------------ tag
@app.command("tag")
def tag_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files and/or folders.")],
    vocab: Annotated[list[str], typer.Option("--vocab", "-v", help="Tag vocabulary: a built-in name or a file, one "
                     "tag a line (repeatable).")],
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Default threshold (margin score: 0.0 = "
                         "beats a neutral text).")] = None,
    thresholds: Annotated[Optional[Path], typer.Option("--thresholds", help="Per-tag thresholds: JSON {tag: t} or "
                          "'tag,threshold' lines.")] = None,
    score: Annotated[str, typer.Option("--score", help="margin | cosine | z.")] = "margin",
    template: Annotated[str, typer.Option("--template", help="How a tag is phrased for CLIP, e.g. 'a photo of {}'.")] = "{}",
    max_tags: Annotated[Optional[int], typer.Option("--max-tags", help="At most this many tags per image.")] = None,
    out: OutOpt = None,
    sidecar: SidecarOpt = None,
    sidecar_mode: SidecarModeOpt = "append",
    xmp_naming: XmpNamingOpt = "basename",
    plot: PlotOpt = None,
    model: ModelOpt = DEFAULT_MODEL_NAME,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Multi-label tags from a vocabulary, with per-tag thresholds; CSV/JSONL, .txt or XMP sidecars.

    Example: [bold]cliplens tag photos/ --vocab colour --vocab mediums --sidecar xmp --model toyclip[/bold]
    """
    from ..classify import Tagger, write_table
    from ..vocab import load_vocabulary

    files = _expand(images)
    phrases = list(dict.fromkeys(p for v in vocab for p in load_vocabulary(v)))
    enc = get_encoder(model, device, precision)
    tagger = Tagger(enc, phrases, threshold=threshold, thresholds=thresholds, score=score, template=template)
    results = tagger.tag(files, max_tags=max_tags, progress=not quiet)
    _require_some(results, "tagged")
    rows = [r.to_dict() for r in results]
    if out is not None:
        write_table(rows, out)
    sidecars = _write_sidecars(rows, sidecar, sidecar_mode, xmp_naming)
    plot_path = None
    if plot is not None:
        from ..plots import contact_sheet

        ok = [r for r in results if not r.error][:200]
        if not ok:
            raise InvalidInputError("nothing to plot: no image could be tagged")
        plot_path = str(contact_sheet([r.image for r in ok], [", ".join(t for t, _ in r.tags) or "(no tags)" for r in ok],
                                      plot, title=f"tags ({len(tagger.tags)}-phrase vocabulary, {score})"))
    if json_out:
        print_json({"model": enc.name, "vocabulary_size": len(tagger.tags), "score": score, "results": rows,
                    "sidecars": sidecars, "plot": plot_path, "out": str(out) if out else None})
        return
    table = Table(title=f"tags ({len(tagger.tags)} phrases, score={score}, {enc.name})")
    table.add_column("image", overflow="fold")
    table.add_column("tags", overflow="fold")
    _print_results(table, results, lambda r: (", ".join(f"{t} ({s:+.3f})" for t, s in r.tags) or "-",),
                   sidecars, sidecar, plot_path)
