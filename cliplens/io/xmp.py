"""XMP packets with keywords in ``dc:subject``: what Lightroom, darktable, digiKam and Bridge read.

`build_xmp` merges into an existing packet (other metadata kept, only missing keywords added);
`xmp_keywords` reads them back. Where the file goes and whether it may be written is
`cliplens.io.sidecars`' job.

    >>> xmp_keywords(build_xmp(["red", "circle"]))
    ['red', 'circle']
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..errors import InvalidInputError

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
}


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
            raise InvalidInputError(f"the existing XMP sidecar is not valid XML ({exc}); left alone: fix it or move it away") from None
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
