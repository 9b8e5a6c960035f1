"""`LabelTable`: a vocabulary's text embeddings, computed once, cached, ranked by one matmul.

Why a class: ranking 100k phrases against an image should cost one matrix product on the
device, not a per-call conversion of 100k numpy rows. The embeddings are computed once
through `Encoder.encode_texts` (length-sorted, padding trimmed), stored under
``<cache>/labels/`` as safetensors keyed by (model fingerprint, hash of the phrase list) and
written atomically; a file from another model or another list is never used.

    >>> from cliplens import load_encoder
    >>> from cliplens.vocab import LabelTable, load_vocabulary
    >>> enc = load_encoder("toyclip")
    >>> table = LabelTable(enc, load_vocabulary("mediums"), name="mediums")
    >>> top = table.top_k(enc.encode_images(["red.png"]), k=3)      # doctest: +SKIP
    >>> top.phrases[0], top.scores[0]                              # doctest: +SKIP
    (['pixel art', 'a logo', 'an icon'], array([0.31, 0.29, 0.27], dtype=float32))
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidInputError
from ..models.encoder import Encoder
from ..settings import atomic_write_bytes, cache_dir

#: bump when the way embeddings are computed changes, so old caches stop matching
CACHE_VERSION = "1"


def phrases_hash(phrases: Sequence[str]) -> str:
    """Hash of an ordered phrase list (the list half of the cache key).

    >>> phrases_hash(["a", "b"]) == phrases_hash(["a", "b"]) != phrases_hash(["b", "a"])
    True
    """
    h = hashlib.sha256(f"cliplens-labels-v{CACHE_VERSION}\n".encode())
    for p in phrases:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def labels_cache_dir() -> Path:
    """Where label-table embeddings live: ``<cache_dir>/labels``."""
    return cache_dir() / "labels"


@dataclass
class TopK:
    """Result of `LabelTable.top_k` for m query vectors: (m, k) arrays plus the phrases.

    >>> t = TopK(np.array([[0, 2]]), np.array([[0.3, 0.2]], np.float32), [["a", "c"]])
    >>> t.pairs(0)
    [('a', 0.3), ('c', 0.2)]
    """

    indices: np.ndarray
    scores: np.ndarray
    phrases: list[list[str]]

    def pairs(self, row: int = 0) -> list[tuple[str, float]]:
        """(phrase, cosine) pairs of one query row, best first."""
        return [(p, round(float(s), 6)) for p, s in zip(self.phrases[row], self.scores[row])]


def _as_query(features, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(features, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    elif isinstance(features, torch.Tensor):
        t = features.detach()
    else:
        raise InvalidInputError(f"image/text features must be a numpy array or torch tensor, got {type(features).__name__}")
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2:
        raise InvalidInputError(f"features must have shape (d,) or (m, d), got {tuple(t.shape)}")
    return t.to(device=device, dtype=dtype)


class LabelTable:
    """Phrases + their unit text embeddings, held as one (n, d) tensor on the encoder's device.

    Args:
        encoder: the CLIP `Encoder` that scores the phrases.
        phrases: the vocabulary (e.g. from `load_vocabulary`); order is kept.
        name: a short label used in cache file names and messages.
        cache: read/write the on-disk cache (False: always compute, write nothing).
        batch_size / progress: passed to `Encoder.encode_texts` when the table is computed.
    """

    def __init__(self, encoder: Encoder, phrases: Sequence[str], name: str = "labels", *, cache: bool = True,
                 batch_size: int = 512, progress: bool = False):
        if isinstance(phrases, str):
            raise InvalidInputError("phrases must be a list of strings, not one string")
        phrases = list(phrases)
        bad = [p for p in phrases if not isinstance(p, str) or not p.strip()]
        if bad:
            raise InvalidInputError(f"label table {name!r}: phrases must be non-empty strings (got {bad[0]!r})")
        if not phrases:
            raise InvalidInputError(f"label table {name!r} is empty: give at least one phrase")
        self.encoder = encoder
        self.phrases: list[str] = phrases
        self.name = name
        self.list_hash = phrases_hash(phrases)
        self.from_cache = False
        emb = self._load() if cache else None
        if emb is None:
            emb = encoder.encode_texts(phrases, batch_size=batch_size, progress=progress)
            if cache:
                self._save(emb)
        else:
            self.from_cache = True
        self._set(emb)

    # ------------------------------------------------------------------ construction helpers
    def _set(self, emb: np.ndarray) -> None:
        dev = self.encoder.device
        dtype = self.encoder.dtype if dev.type != "cpu" else torch.float32
        self.embeddings: torch.Tensor = torch.from_numpy(np.ascontiguousarray(emb, dtype=np.float32)).to(dev, dtype)
        self._index = None

    @classmethod
    def from_embeddings(cls, encoder: Encoder, phrases: Sequence[str], embeddings, name: str = "labels") -> "LabelTable":
        """A table over already computed unit embeddings (no cache involved): subsets and merges."""
        phrases = list(phrases)
        emb = embeddings.float().cpu().numpy() if isinstance(embeddings, torch.Tensor) else np.asarray(embeddings, np.float32)
        if emb.shape != (len(phrases), encoder.embed_dim):
            raise InvalidInputError(f"embeddings shape {emb.shape} does not match {len(phrases)} phrases x {encoder.embed_dim}")
        self = cls.__new__(cls)
        self.encoder, self.phrases, self.name = encoder, phrases, name
        self.list_hash = phrases_hash(phrases)
        self.from_cache = False
        self._set(emb)
        return self

    @classmethod
    def merge(cls, tables: Sequence["LabelTable"], name: str = "merged") -> "LabelTable":
        """One table holding every phrase of `tables` (same encoder), without re-encoding anything."""
        tables = [t for t in tables if len(t)]
        if not tables:
            raise InvalidInputError("nothing to merge: every table is empty")
        enc = tables[0].encoder
        if any(t.encoder is not enc for t in tables):
            raise InvalidInputError("cannot merge label tables of different encoders")
        self = cls.__new__(cls)
        self.encoder, self.name, self.from_cache = enc, name, all(t.from_cache for t in tables)
        self.phrases = [p for t in tables for p in t.phrases]
        self.list_hash = phrases_hash(self.phrases)
        self.embeddings = torch.cat([t.embeddings for t in tables])
        self._index = None
        return self

    def subset(self, indices: Sequence[int] | np.ndarray, name: str | None = None) -> "LabelTable":
        """The rows `indices` as a new table (shares nothing with the on-disk cache)."""
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64), device=self.embeddings.device)
        out = LabelTable.__new__(LabelTable)
        out.encoder, out.name, out.from_cache = self.encoder, name or self.name, False
        out.phrases = [self.phrases[int(i)] for i in idx.tolist()]
        out.list_hash = phrases_hash(out.phrases)
        out.embeddings = self.embeddings.index_select(0, idx)
        out._index = None
        return out

    # ------------------------------------------------------------------ cache
    @property
    def cache_path(self) -> Path:
        """The safetensors file for (encoder fingerprint, phrase list)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)[:40] or "labels"
        return labels_cache_dir() / f"{safe}-{self.encoder.fingerprint}-{self.list_hash[:24]}.safetensors"

    def _expected_meta(self) -> dict[str, str]:
        return {"format": f"cliplens-labels-v{CACHE_VERSION}", "fingerprint": self.encoder.fingerprint,
                "list_hash": self.list_hash, "count": str(len(self.phrases)), "dim": str(self.encoder.embed_dim)}

    def _load(self) -> np.ndarray | None:
        path = self.cache_path
        if not path.is_file():
            return None
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="np") as fh:
                meta = fh.metadata() or {}
                if any(meta.get(k) != v for k, v in self._expected_meta().items()):
                    return None
                emb = fh.get_tensor("embeddings")
        except Exception:  # noqa: BLE001 - a corrupt/partial cache is recomputed, never trusted
            return None
        if emb.shape != (len(self.phrases), self.encoder.embed_dim) or not np.isfinite(emb).all():
            return None
        return emb.astype(np.float32)

    def _save(self, emb: np.ndarray) -> None:
        from safetensors.numpy import save

        # fp16 models gain nothing from fp32 storage; fp32 models keep exact scores
        store = emb.astype(np.float16) if self.encoder.dtype in (torch.float16, torch.bfloat16) else emb
        data = save({"embeddings": np.ascontiguousarray(store)}, metadata=self._expected_meta())
        try:
            atomic_write_bytes(self.cache_path, data)
        except OSError:
            pass  # a read-only cache only costs time

    # ------------------------------------------------------------------ ranking
    def __len__(self) -> int:
        return len(self.phrases)

    def __repr__(self) -> str:
        return f"<LabelTable {self.name!r} n={len(self)} d={self.encoder.embed_dim}{' cached' if self.from_cache else ''}>"

    def numpy(self) -> np.ndarray:
        """The (n, d) embeddings as float32 numpy."""
        return self.embeddings.float().cpu().numpy()

    def scores(self, features) -> np.ndarray:
        """Cosine of every phrase with each query: (m, n) float32 (features must be unit vectors)."""
        q = _as_query(features, self.embeddings.device, self.embeddings.dtype)
        with torch.inference_mode():
            return (q @ self.embeddings.T).float().cpu().numpy()

    def top_k(self, features, k: int = 5, reverse: bool = False) -> TopK:
        """Exact top-k phrases for each query vector by one matrix product (least similar if `reverse`).

        `features`: (d,) or (m, d) unit vectors, numpy or torch. Returns `TopK` with (m, k) arrays.

        >>> table.top_k(image_vec, 3).pairs(0)          # doctest: +SKIP
        [('pixel art', 0.31), ('a logo', 0.29), ('an icon', 0.27)]
        """
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidInputError(f"k must be a positive integer, got {k!r}")
        q = _as_query(features, self.embeddings.device, self.embeddings.dtype)
        if q.shape[1] != self.embeddings.shape[1]:
            raise InvalidInputError(f"features have {q.shape[1]} dims but table {self.name!r} has {self.embeddings.shape[1]}")
        k = min(int(k), len(self))
        with torch.inference_mode():
            sims = q @ self.embeddings.T
            vals, idx = torch.topk(sims, k, dim=1, largest=not reverse)
        idx_np = idx.cpu().numpy()
        return TopK(idx_np, vals.float().cpu().numpy(), [[self.phrases[i] for i in row] for row in idx_np])

    def best(self, features, reverse: bool = False) -> tuple[str, float]:
        """The single best (or worst) phrase for one query vector, with its cosine."""
        t = self.top_k(features, 1, reverse=reverse)
        return t.phrases[0][0], float(t.scores[0, 0])

    def describe(self) -> dict:
        """Small JSON-able summary (name, size, cache file, whether it came from the cache)."""
        return {"name": self.name, "count": len(self), "dim": int(self.embeddings.shape[1]),
                "from_cache": self.from_cache, "cache_file": str(self.cache_path)}


def table_meta_json(table: LabelTable) -> str:
    """The table's cache metadata as JSON (handy in bug reports)."""
    return json.dumps(table._expected_meta(), sort_keys=True)
