"""`cliplens index ...`, `cliplens search` and `cliplens dedupe`: the visual search engine from the shell."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .. import defaults
from ..errors import InvalidInputError
from .app import app
from .common import JsonOpt, OnErrorOpt, QuietOpt, TopKOpt, console, err_console, print_json, show_progress

index_app = typer.Typer(help="Build and maintain a search index (a folder bound to one model).", no_args_is_help=True)
app.add_typer(index_app, name="index")

IndexOpt = Annotated[Optional[Path], typer.Option("--index", "-i", help="Index folder (default: $CLIPLENS_INDEX, "
                                                  "else <cache>/index).")]
ModelIdxOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Model for a new index (default sd15); for "
                                                    "an existing one it must be the model it was built with.")]


def _open(index: Optional[Path], model: Optional[str], create: bool = False, store: Optional[str] = None,
          ann: str = "auto", device: str = "auto"):
    from ..models import load_encoder
    from ..search import open_index
    from ..search.index import MANIFEST, default_index_dir

    root = index or default_index_dir()
    enc = None
    if model is not None or (create and not (root / MANIFEST).exists()):
        from ..models.spec import DEFAULT_MODEL

        enc = load_encoder(model or DEFAULT_MODEL, device=device)
    return open_index(root, create=create, store=store, ann=ann, encoder=enc)


def _show(path: str) -> str:
    """A path relative to the current folder when it lies below it (tables stay readable)."""
    import os

    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _report(report, json_out: bool) -> None:
    """An `AddReport`: `--json` prints `report.to_dict()`; else one summary line, then one line per bad file."""
    if json_out:
        print_json(report.to_dict())
        return
    d = report.to_dict()
    console.print(f"[green]{report.index}[/green]: {d['images']} images  (+{d['added']} added, {d['updated']} updated, "
                  f"{d['moved']} moved, -{d['removed']} removed, {d['unchanged']} unchanged; "
                  f"{d['embedded']} embedded ({d['cached']} from cache) in {d['seconds']:.1f}s)", highlight=False,
                  soft_wrap=True)
    for e in report.errors:
        err_console.print(f"[yellow]skipped[/yellow] {_show(e.source)}: {e.reason}", highlight=False, soft_wrap=True)
    if report.errors:
        err_console.print(f"{len(report.errors)} file(s) could not be indexed (listed above); the rest are saved",
                          soft_wrap=True)


def _embedder(idx, ray: bool, ray_address: Optional[str], workers: int, batch_size: int, no_cache: bool,
              device: str):
    if not ray:
        return None
    from ..search.ray_embed import ray_embedder

    return ray_embedder(idx.model, idx.fingerprint, batch_size=batch_size, workers=workers, address=ray_address,
                        use_cache=not no_cache, device=device)


RayOpt = Annotated[bool, typer.Option("--ray", help="Embed on Ray Data (a local Ray, or --ray-address).")]
RayAddrOpt = Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster address (e.g. ray://head:10001 "
                                                   "or auto); implies --ray.")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Ray model actors (one CPU/GPU slot each).")]
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Images per embedding batch and per commit.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not use the embedding cache.")]
DevOpt = Annotated[str, typer.Option("--device", help="auto | cpu | cuda | cuda:N | mps.")]


@index_app.command("add")
def index_add(
    paths: Annotated[list[Path], typer.Argument(help="Image files and/or folders (searched recursively; images "
                                                "are recognised by content).")],
    index: IndexOpt = None,
    model: ModelIdxOpt = None,
    store: Annotated[Optional[str], typer.Option("--store", help="For a new index: embedded (default), "
                                                 "milvus://HOST:19530, or milvus-lite:FILE.db.")] = None,
    ann: Annotated[str, typer.Option("--ann", help="For a new embedded index: auto (exact search below 50k images, "
                                     "faiss IVF above) | exact | ivf | hnsw (usearch).")] = "auto",
    batch_size: BatchOpt = defaults.INDEX_BATCH_SIZE,
    no_cache: NoCacheOpt = False,
    ray: RayOpt = False,
    ray_address: RayAddrOpt = None,
    workers: WorkersOpt = 2,
    device: DevOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Index new and changed images; forget deleted ones; recognise moved ones by content hash.

    Example: [bold]cliplens index add photos/ --index photos.idx --model toyclip[/bold]

    Safe to interrupt (even kill -9): re-run the same command and it resumes.
    """
    idx = _open(index, model, create=True, store=store, ann=ann, device=device)
    emb = _embedder(idx, ray or bool(ray_address), ray_address, workers, batch_size, no_cache, device)
    report = idx.add(paths, batch_size=batch_size, progress=show_progress(quiet), use_cache=not no_cache, embedder=emb)
    _report(report, json_out)


@index_app.command("update")
def index_update(
    index: IndexOpt = None,
    batch_size: BatchOpt = defaults.INDEX_BATCH_SIZE,
    no_cache: NoCacheOpt = False,
    ray: RayOpt = False,
    ray_address: RayAddrOpt = None,
    workers: WorkersOpt = 2,
    device: DevOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-scan every folder added before.

    Example: [bold]cliplens index update --index photos.idx[/bold]
    """
    idx = _open(index, None)
    emb = _embedder(idx, ray or bool(ray_address), ray_address, workers, batch_size, no_cache, device)
    report = idx.update(batch_size=batch_size, progress=show_progress(quiet), use_cache=not no_cache, embedder=emb)
    _report(report, json_out)


@index_app.command("remove")
def index_remove(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to forget (they may still exist on disk).")],
    index: IndexOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forget files or whole folders (the files themselves are not touched).

    Example: [bold]cliplens index remove photos/old --index photos.idx[/bold]
    """
    idx = _open(index, None)
    n = idx.remove(paths)
    if json_out:
        print_json({"index": str(idx.root), "removed": n, "images": len(idx)})
    else:
        console.print(f"removed {n} entries; {len(idx)} images left in {idx.root}")


@index_app.command("info")
def index_info(index: IndexOpt = None, json_out: JsonOpt = False) -> None:
    """What an index holds: model, store, counts, folders, size on disk.

    Example: [bold]cliplens index info --index photos.idx[/bold]
    """
    info = _open(index, None).info()
    if json_out:
        print_json(info)
        return
    t = Table(show_header=False, box=None)
    for k, v in info.items():
        t.add_row(k, ", ".join(v) if isinstance(v, list) else str(v))
    console.print(t)


def _filters(folders, min_size, max_size, min_width, min_height, after, before):
    from ..search import Filters, parse_bytes, parse_date

    return Filters(folders=list(folders or []), min_bytes=parse_bytes(min_size) if min_size else None,
                   max_bytes=parse_bytes(max_size) if max_size else None, min_width=min_width, min_height=min_height,
                   after=parse_date(after) if after else None, before=parse_date(before) if before else None)


InOpt = Annotated[Optional[list[Path]], typer.Option("--in", help="Only files in this folder (repeatable).")]
MinSizeOpt = Annotated[Optional[str], typer.Option("--min-size", help="Minimum file size, e.g. 50KB.")]
MaxSizeOpt = Annotated[Optional[str], typer.Option("--max-size", help="Maximum file size, e.g. 5MB.")]
MinWOpt = Annotated[Optional[int], typer.Option("--min-width", min=1, help="Minimum width in pixels.")]
MinHOpt = Annotated[Optional[int], typer.Option("--min-height", min=1, help="Minimum height in pixels.")]
AfterOpt = Annotated[Optional[str], typer.Option("--after", help="Modified on/after this date (YYYY-MM-DD).")]
BeforeOpt = Annotated[Optional[str], typer.Option("--before", help="Modified before this date (YYYY-MM-DD).")]
PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Write a contact sheet PNG of the results.")]


@app.command("search", context_settings={"allow_interspersed_args": True})
def search_cmd(
    query: Annotated[list[str], typer.Argument(help="Text, @image, or arithmetic: '(golden retriever:2)' + "
                                               "@pool.jpg - fruit. A bare word naming an image file is an image too.",
                                               metavar="QUERY...")],
    index: IndexOpt = None,
    model: ModelIdxOpt = None,
    top_k: TopKOpt = defaults.SEARCH_TOP_K,
    threshold: Annotated[Optional[float], typer.Option("--threshold", "-t", min=-1.0, max=1.0,
                                                       help="Drop results below this cosine similarity.")] = None,
    folders: InOpt = None,
    min_size: MinSizeOpt = None,
    max_size: MaxSizeOpt = None,
    min_width: MinWOpt = None,
    min_height: MinHOpt = None,
    after: AfterOpt = None,
    before: BeforeOpt = None,
    on_error: OnErrorOpt = defaults.ON_ERROR,
    plot: PlotOpt = None,
    device: DevOpt = "auto",
    json_out: JsonOpt = False,
) -> None:
    """Search an index by text, image, or both combined with + and -.

    Example: [bold]cliplens search "a red circle, pixel art" --index photos.idx --top-k 5[/bold]

    Example: [bold]cliplens search "(a blue star:2)" + @red.png - "pixel art" --index photos.idx[/bold]
    """
    from ..search import search

    idx = _open(index, model, device=device)
    flt = _filters(folders, min_size, max_size, min_width, min_height, after, before)
    result = search(idx, query, top_k=top_k, threshold=threshold, filters=flt, on_error=on_error, detect_files=True)
    hits = result.hits
    for e in result.errors:
        err_console.print(f"[yellow]skipped query term[/yellow] {e.source}: {e.reason}", highlight=False,
                          soft_wrap=True)
    if plot:
        from .plots import contact_sheet

        if hits:
            contact_sheet([h.path for h in hits], [f"#{h.rank} {h.score:.3f} {Path(h.path).name}" for h in hits],
                          plot, scores=[h.score for h in hits],
                          title="search: " + " ".join(f"{'+' if t.weight >= 0 else '-'}({t.value}:{abs(t.weight):g})"
                                                      for t in result.terms))
            err_console.print(f"contact sheet: {plot}", highlight=False)
        else:
            err_console.print("[yellow]no results: no contact sheet written[/yellow]")
    if json_out:
        print_json(result.to_dict())
        return
    t = Table()
    t.add_column("#", justify="right")
    t.add_column("score", justify="right")
    t.add_column("path", overflow="fold")
    t.add_column("size", justify="right")
    for h in hits:
        t.add_row(str(h.rank), f"{h.score:.3f}", _show(h.path), f"{h.width}x{h.height}")
    console.print(t)


@app.command("dedupe")
def dedupe_cmd(
    index: IndexOpt = None,
    threshold: Annotated[float, typer.Option("--threshold", "-t", min=-1.0, max=1.0, help="Cosine similarity above "
                                             "which two images are duplicates.")] = defaults.DEDUPE_THRESHOLD,
    folders: InOpt = None,
    move_to: Annotated[Optional[Path], typer.Option("--move-to", help="Move all but one image per group "
                                                    "here.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Delete all but one image per group.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Really move/delete (default: dry run).")] = False,
    plot: PlotOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find groups of near-duplicate images; optionally move or delete all but the best of each.

    Example: [bold]cliplens dedupe --index photos.idx --threshold 0.95[/bold]

    Example: [bold]cliplens dedupe --index photos.idx --move-to dupes/ --apply[/bold]

    Keeps the image with the most pixels (then the largest file, then the oldest) in each group.
    """
    from ..search import Filters, apply_duplicates, dedupe

    if move_to and delete:
        raise InvalidInputError("choose one of --move-to DIR and --delete")
    idx = _open(index, None)
    result = dedupe(idx, threshold=threshold, filters=Filters(folders=list(folders or [])),
                    progress=show_progress(quiet))
    groups = result.groups
    action = "move" if move_to else "delete" if delete else "report"
    plan = apply_duplicates(idx, groups, action=action, to=move_to, dry_run=not apply)
    if plot and groups:
        from .plots import contact_sheet

        items, labels, flags = [], [], []
        for gi, g in enumerate(groups[:30], 1):
            items.append(g.keep.path)
            labels.append(f"group {gi}: keep {Path(g.keep.path).name}")
            flags.append(True)
            for e, s in g.others:
                items.append(e.path)
                labels.append(f"group {gi}: {s:.3f} {Path(e.path).name}")
                flags.append(False)
        contact_sheet(items[:400], labels[:400], plot, highlight=flags[:400],
                      title=f"near-duplicates >= {threshold} (kept: green frame)")
    summary = {**result.to_dict(), "action": action, "dry_run": not apply, "actions": plan}
    if json_out:
        print_json(summary)
        return
    for gi, g in enumerate(groups, 1):
        console.print(f"[bold]group {gi}[/bold]  keep {_show(g.keep.path)}", highlight=False)
        for e, s in g.others:
            console.print(f"    {s:.3f}  {_show(e.path)}", highlight=False)
    verb = {"move": "moved", "delete": "deleted", "report": ""}[action]
    n = summary["duplicates"]
    console.print(f"{len(groups)} groups, {n} duplicates" + (f"; {'would be ' if not apply else ''}{verb}"
                                                              + (f" to {move_to}" if move_to else "") if verb else "")
                  + (" (dry run: add --apply)" if verb and not apply else ""))
