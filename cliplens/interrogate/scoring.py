"""Scoring with one or several CLIPs at once (SDXL conditions on two): weighted cosine, token fit.

`Scorer` holds the encoders and their weights; `MultiTable` is one vocabulary embedded by each
of them (a `LabelTable` per encoder), ranked by the weighted sum of per-encoder cosines, so the
sdxl preset picks phrases that both of SDXL's text encoders agree on.

    >>> scorer = Scorer([load_encoder("toyclip")])                     # doctest: +SKIP
    >>> feats = scorer.image_features([img])                           # doctest: +SKIP
    >>> scorer.text_similarity(feats, 0, ["a red star", "a blue ring"])  # doctest: +SKIP
    array([0.31, 0.05], dtype=float32)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import InvalidInputError
from ..models.encoder import Encoder
from ..vocab import LabelTable

Features = list[torch.Tensor]  # one (m, d_e) unit tensor per encoder


class Scorer:
    """Several encoders scored together: similarity = sum_e weight_e * cos_e (weights sum to 1)."""

    def __init__(self, encoders: Sequence[Encoder], weights: Sequence[float] | None = None):
        if not encoders:
            raise InvalidInputError("at least one encoder is needed")
        self.encoders = list(encoders)
        w = np.ones(len(self.encoders)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.encoders),) or (w < 0).any() or w.sum() <= 0:
            raise InvalidInputError(f"need one non-negative weight per encoder, got {list(w)}")
        self.weights = (w / w.sum()).tolist()
        self._comma = [enc.token_ids(",") for enc in self.encoders]

    @property
    def primary(self) -> Encoder:
        return self.encoders[0]

    @property
    def max_tokens(self) -> int:
        """Content tokens every encoder's window holds (75 for CLIP)."""
        return min(enc.max_text_tokens for enc in self.encoders)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` under the strictest tokenizer of the set."""
        return max(enc.count_tokens(text) for enc in self.encoders)

    def fits(self, text: str) -> bool:
        return all(len(enc.token_ids(text)) <= enc.max_text_tokens for enc in self.encoders)

    def image_features(self, images, batch_size: int = 64, progress: bool = False) -> Features:
        """Unit image features from every encoder: list of (m, d_e) tensors on each encoder's device."""
        return [torch.from_numpy(enc.encode_images(images, batch_size=batch_size, progress=progress)).to(enc.device)
                for enc in self.encoders]

    def text_features(self, texts: Sequence[str]) -> Features:
        return [torch.from_numpy(enc.encode_texts(list(texts))).to(enc.device) for enc in self.encoders]

    def combine(self, per_encoder: Sequence[torch.Tensor]) -> torch.Tensor:
        """Weighted sum of per-encoder score tensors (same shape), float32 on the first encoder's device."""
        dev = per_encoder[0].device
        total = per_encoder[0].float() * self.weights[0]
        for w, s in zip(self.weights[1:], per_encoder[1:]):
            total = total + s.float().to(dev) * w
        return total

    def similarity_of(self, feats: Features, row: int, text_feats: Features) -> np.ndarray:
        """Weighted cosine between image `row` and each text feature row: (n,) float32."""
        per = [tf.float() @ f[row].float() for f, tf in zip(feats, text_feats)]
        return self.combine(per).cpu().numpy()

    def text_similarity(self, feats: Features, row: int, texts: Sequence[str]) -> np.ndarray:
        """Exact weighted cosine of image `row` with each text (encoded in full)."""
        if not texts:
            return np.zeros(0, np.float32)
        return self.similarity_of(feats, row, self.text_features(texts))


class MultiTable:
    """One phrase list embedded by every encoder of a `Scorer` (a `LabelTable` each)."""

    def __init__(self, scorer: Scorer, phrases: Sequence[str], name: str, *, tables: Sequence[LabelTable] | None = None,
                 cache: bool = True, progress: bool = False):
        self.scorer = scorer
        self.name = name
        if tables is None:
            tables = [LabelTable(enc, phrases, name=name, cache=cache, progress=progress) for enc in scorer.encoders]
        self.tables = list(tables)
        self.phrases: list[str] = list(self.tables[0].phrases)
        #: the role table each row came from (a merged table keeps its parts' names) and their names
        self.source_names: list[str] = [name]
        self.sources = np.zeros(len(self.phrases), dtype=np.int64)
        self._mean: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.phrases)

    def __repr__(self) -> str:
        return f"<MultiTable {self.name!r} n={len(self)} encoders={len(self.tables)}>"

    @classmethod
    def merge(cls, tables: Sequence["MultiTable"], name: str) -> "MultiTable | None":
        """Concatenate tables (same scorer), keeping each phrase's first occurrence."""
        tables = [t for t in tables if t is not None and len(t)]
        if not tables:
            return None
        scorer = tables[0].scorer
        merged = [LabelTable.merge([t.tables[e] for t in tables], name=name) for e in range(len(scorer.encoders))]
        names: list[str] = []
        src = []
        for t in tables:
            for nm in t.source_names:
                if nm not in names:
                    names.append(nm)
            remap = np.array([names.index(nm) for nm in t.source_names], dtype=np.int64)
            src.append(remap[t.sources])
        sources = np.concatenate(src)
        seen: dict[str, int] = {}
        for i, p in enumerate(merged[0].phrases):
            seen.setdefault(p, i)
        if len(seen) != len(merged[0]):
            keep = sorted(seen.values())
            merged = [m.subset(keep, name=name) for m in merged]
            sources = sources[keep]
        out = cls(scorer, merged[0].phrases, name, tables=merged)
        out.source_names, out.sources = names, sources
        return out

    def subset(self, indices: Sequence[int], name: str | None = None) -> "MultiTable":
        sub = [t.subset(indices, name=name) for t in self.tables]
        out = MultiTable(self.scorer, sub[0].phrases, name or self.name, tables=sub)
        out.source_names, out.sources = list(self.source_names), self.sources[np.asarray(indices, dtype=np.int64)]
        return out

    def centred(self, indices: Sequence[int]) -> np.ndarray:
        """Unit rows `indices` of the first encoder's embeddings after removing the table's mean vector.

        CLIP text vectors share a large common direction, so raw cosines between phrases are all
        high; centred ones tell near duplicates (> 0.95) from merely related phrases.
        """
        E = self.tables[0].embeddings
        if self._mean is None:
            self._mean = E.float().mean(0)
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64), device=E.device)
        X = E.index_select(0, idx).float() - self._mean
        return torch.nn.functional.normalize(X, dim=-1).cpu().numpy()

    def scores(self, feats: Features) -> torch.Tensor:
        """(m, n) weighted cosines of every image row with every phrase (on the first encoder's device)."""
        with torch.inference_mode():
            per = [f.to(t.embeddings.dtype) @ t.embeddings.T for f, t in zip(feats, self.tables)]
            return self.scorer.combine(per)

    def top_k(self, feats: Features, k: int, reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k (indices, scores), each (m, k), by one matrix product per encoder."""
        k = max(1, min(int(k), len(self)))
        s = self.scores(feats)
        vals, idx = torch.topk(s, k, dim=1, largest=not reverse)
        return idx.cpu().numpy(), vals.cpu().numpy()

    def row_of(self, phrase: str) -> int | None:
        """Index of `phrase` in this table, or None."""
        if getattr(self, "_pos", None) is None:
            self._pos = {p: i for i, p in enumerate(self.phrases)}
        return self._pos.get(phrase)

    def phrase_score(self, feats: Features, row: int, i: int) -> float:
        """Weighted cosine of image `row` with phrase `i`, from the stored embeddings (no encoding)."""
        per = [t.embeddings[i].float() @ f[row].float().to(t.embeddings.device) for f, t in zip(feats, self.tables)]
        return float(self.scorer.combine([p.reshape(1) for p in per])[0])

    def ranked(self, feats: Features, row: int, k: int, reverse: bool = False) -> list[tuple[str, float]]:
        """(phrase, score) pairs for one image row, best (or worst) first."""
        idx, vals = self.top_k([f[row : row + 1] for f in feats], k, reverse=reverse)
        return [(self.phrases[int(i)], float(v)) for i, v in zip(idx[0], vals[0])]
