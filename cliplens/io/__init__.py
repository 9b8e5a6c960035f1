"""Every file cliplens writes for a user: sidecars (.txt/.xmp), tables (.csv/.jsonl), vectors.

One home so the safety rules hold everywhere: sidecars named from the full file name, no write
over a file cliplens did not write, atomic writes, strict JSON. Light to import (numpy/pyarrow
load only when vectors are saved).

    >>> from cliplens.io import sidecar_path
    >>> sidecar_path("a.png").name
    'a.png.txt'
"""
from .atomic import atomic_write_bytes, atomic_write_text
from .sidecars import (LEDGER_NAME, NAMINGS, SIDECAR_MODES, SidecarClashError, SidecarReport, find_sidecar,
                       plan_sidecars, sidecar_path, write_sidecar, write_sidecars, written_by_cliplens)
from .tables import TABLE_SUFFIXES, write_csv, write_jsonl, write_table
from .vectors import VECTOR_SUFFIXES, save_embeddings
from .xmp import build_xmp, xmp_keywords

__all__ = ["atomic_write_bytes", "atomic_write_text", "LEDGER_NAME", "NAMINGS", "SIDECAR_MODES",
           "SidecarClashError", "SidecarReport", "find_sidecar", "plan_sidecars", "sidecar_path", "write_sidecar",
           "write_sidecars", "written_by_cliplens", "TABLE_SUFFIXES", "write_csv", "write_jsonl", "write_table",
           "VECTOR_SUFFIXES", "save_embeddings", "build_xmp", "xmp_keywords"]
