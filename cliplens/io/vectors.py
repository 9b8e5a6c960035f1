"""Embedding files: vectors + the paths (and content hashes) they belong to, atomically written.

Formats by extension: ``.npy`` (float32 matrix; paths in ``<out>.paths.txt``), ``.npz`` (vectors,
paths, hashes), ``.parquet`` (path, hash, fixed-size-list embedding; model in the schema metadata),
``.jsonl`` (one object per vector).

    >>> save_embeddings(result, "photos.parquet", model="toyclip")  # doctest: +SKIP
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

from ..errors import InvalidInputError
from .atomic import atomic_write_bytes

VECTOR_SUFFIXES = (".npy", ".npz", ".parquet", ".jsonl")


def save_embeddings(result, out: str | os.PathLike, model: str = "") -> Path:
    """Write `result.vectors` (n x d) with `result.paths` and `result.hashes` to `out`.

    `result` is anything with those three attributes (e.g. an `EmbeddingResult`).
    """
    import numpy as np

    out = Path(out)
    suffix = out.suffix.lower()
    vectors = np.asarray(result.vectors, dtype=np.float32)
    paths = [str(p) for p in result.paths]
    hashes = [str(h) for h in getattr(result, "hashes", [""] * len(paths))]
    if suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, vectors)
        atomic_write_bytes(out, buf.getvalue())
        atomic_write_bytes(out.with_name(out.name + ".paths.txt"), "".join(p + "\n" for p in paths).encode("utf-8"))
    elif suffix == ".npz":
        buf = io.BytesIO()
        np.savez(buf, vectors=vectors, paths=np.array(paths), hashes=np.array(hashes))
        atomic_write_bytes(out, buf.getvalue())
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        table = pa.table({
            "path": pa.array(paths, pa.string()),
            "hash": pa.array(hashes, pa.string()),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim),
        })
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata({"model": model}), sink)
        atomic_write_bytes(out, sink.getvalue().to_pybytes())
    elif suffix == ".jsonl":
        data = "".join(json.dumps({"path": p, "hash": h, "embedding": [round(float(x), 7) for x in v]}) + "\n"
                       for p, h, v in zip(paths, hashes, vectors))
        atomic_write_bytes(out, data.encode("utf-8"))
    else:
        raise InvalidInputError(f"out {out}: use a .npy, .npz, .parquet or .jsonl file name")
    return out
