"""Write labels and tags where people use them: CSV, JSONL, ``.txt`` caption sidecars, XMP sidecars.

- CSV / JSONL: one row per image (a table for spreadsheets, JSON for pipelines).
- ``.txt`` sidecars: ``photo.png`` -> ``photo.txt`` holding ``tag1, tag2, ...``, the layout LoRA
  trainers (kohya_ss, OneTrainer) read. ``mode``: overwrite | append (keeps existing tags first,
  adds new ones) | skip (leave existing files alone).
- XMP sidecars: keywords in ``dc:subject`` (an ``rdf:Bag``), which Lightroom, darktable, digiKam
  and Bridge read as keywords. ``photo.xmp`` by default (Adobe's naming) or ``photo.png.xmp``
  (darktable's) with ``naming="extension"``. An existing sidecar is merged: its other metadata is
  kept and only missing keywords are added.

Every file is written atomically (temp file + rename), so a crash never leaves half a sidecar.

    >>> rows = [{"image": "a.png", "tags": ["red", "circle"]}]
    >>> write_txt_sidecars(rows)            # doctest: +SKIP  (writes a.txt: "red, circle")
"""
from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidInputError
from ..settings import atomic_write_bytes

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
}
SIDECAR_MODES = ("overwrite", "append", "skip")


def _tags_of(row: dict) -> list[str]:
    tags = row.get("tags", [])
    out = []
    for t in tags:
        out.append(t["tag"] if isinstance(t, dict) else t[0] if isinstance(t, (tuple, list)) else str(t))
    return out


def _image_path(row: dict) -> Path:
    im = row.get("image")
    if not im or str(im).startswith("<"):
        raise InvalidInputError(f"sidecars need image files; {im!r} is not a file path")
    return Path(str(im))


def write_jsonl(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """One JSON object per line."""
    out = Path(path)
    data = "".join(json.dumps(r, ensure_ascii=False, default=float) + "\n" for r in rows)
    atomic_write_bytes(out, data.encode("utf-8"))
    return out


def write_csv(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """A CSV table; tags become ``tag1; tag2`` (+ a ``tag_scores`` column), other lists/dicts JSON."""
    out = Path(path)
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
                if k == "tags":
                    cols.append("tag_scores")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        flat = {}
        for k, v in r.items():
            if k == "tags":
                flat[k] = "; ".join(_tags_of(r))
                flat["tag_scores"] = "; ".join(f"{t['score']:.4f}" for t in v if isinstance(t, dict) and "score" in t)
            elif isinstance(v, (list, dict)):
                flat[k] = json.dumps(v, ensure_ascii=False, default=float)
            else:
                flat[k] = v
        w.writerow(flat)
    atomic_write_bytes(out, buf.getvalue().encode("utf-8"))
    return out


def write_table(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """CSV or JSONL by the file extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return write_csv(rows, path)
    if suffix in (".jsonl", ".ndjson"):
        return write_jsonl(rows, path)
    raise InvalidInputError(f"--out {path}: use a .csv or .jsonl file name")


def write_txt_sidecars(rows: Sequence[dict], mode: str = "overwrite", out_dir: str | os.PathLike | None = None,
                       separator: str = ", ") -> list[Path]:
    """Write ``<image stem>.txt`` caption files beside the images (or into `out_dir`)."""
    if mode not in SIDECAR_MODES:
        raise InvalidInputError(f"sidecar mode {mode!r}: use {', '.join(SIDECAR_MODES)}")
    written = []
    for r in rows:
        if r.get("error"):
            continue
        img = _image_path(r)
        side = (Path(out_dir) / img.name if out_dir else img).with_suffix(".txt")
        tags = _tags_of(r)
        if side.exists():
            if mode == "skip":
                continue
            if mode == "append":
                old = [t.strip() for t in side.read_text(encoding="utf-8").replace("\n", ",").split(",") if t.strip()]
                tags = old + [t for t in tags if t not in old]
        atomic_write_bytes(side, (separator.join(tags) + "\n").encode("utf-8"))
        written.append(side)
    return written


def xmp_path(image: str | os.PathLike, naming: str = "basename") -> Path:
    """Sidecar name: ``photo.xmp`` (basename, Adobe) or ``photo.jpg.xmp`` (extension, darktable)."""
    p = Path(image)
    if naming == "basename":
        return p.with_suffix(".xmp")
    if naming == "extension":
        return p.with_name(p.name + ".xmp")
    raise InvalidInputError(f"xmp naming {naming!r}: use 'basename' or 'extension'")


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def _register_namespaces(data: bytes) -> None:
    for name, uri in NS.items():
        ET.register_namespace(name, uri)
    try:
        for _, (prefix, uri) in ET.iterparse(io.BytesIO(data), events=("start-ns",)):
            if prefix and prefix not in NS:
                ET.register_namespace(prefix, uri)
    except ET.ParseError:
        pass


def xmp_keywords(data: bytes | str) -> list[str]:
    """The ``dc:subject`` keywords of an XMP packet.

    >>> xmp_keywords(build_xmp(["red", "circle"]))
    ['red', 'circle']
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise InvalidInputError(f"not a valid XMP file ({exc})") from None
    return [li.text or "" for subj in root.iter(_q("dc", "subject")) for li in subj.iter(_q("rdf", "li"))]


def build_xmp(keywords: Sequence[str], existing: bytes | None = None) -> bytes:
    """An XMP packet with `keywords` in dc:subject, merged into `existing` when given."""
    for name, uri in NS.items():
        ET.register_namespace(name, uri)
    if existing:
        _register_namespaces(existing)
        try:
            root = ET.fromstring(existing)
        except ET.ParseError as exc:
            raise InvalidInputError(f"existing XMP sidecar is not valid XML ({exc}); move it away or fix it") from None
    else:
        root = ET.Element(_q("x", "xmpmeta"))
    rdf = root if root.tag == _q("rdf", "RDF") else root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    subject = None
    for desc in rdf.findall(_q("rdf", "Description")):
        subject = desc.find(_q("dc", "subject"))
        if subject is not None:
            break
    if subject is None:
        descs = rdf.findall(_q("rdf", "Description"))
        desc = descs[0] if descs else ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
        subject = ET.SubElement(desc, _q("dc", "subject"))
    bag = subject.find(_q("rdf", "Bag"))
    if bag is None:
        bag = ET.SubElement(subject, _q("rdf", "Bag"))
    have = {li.text for li in bag.findall(_q("rdf", "li"))}
    for k in keywords:
        if k not in have:
            ET.SubElement(bag, _q("rdf", "li")).text = k
            have.add(k)
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>\n').encode("utf-8")


def write_xmp_sidecars(rows: Sequence[dict], naming: str = "basename", mode: str = "append") -> list[Path]:
    """Write keywords into XMP sidecars; ``append`` merges into existing ones, ``overwrite`` replaces, ``skip`` skips."""
    if mode not in SIDECAR_MODES:
        raise InvalidInputError(f"sidecar mode {mode!r}: use {', '.join(SIDECAR_MODES)}")
    written = []
    for r in rows:
        if r.get("error"):
            continue
        side = xmp_path(_image_path(r), naming)
        existing = None
        if side.exists():
            if mode == "skip":
                continue
            if mode == "append":
                existing = side.read_bytes()
        atomic_write_bytes(side, build_xmp(_tags_of(r), existing))
        written.append(side)
    return written
