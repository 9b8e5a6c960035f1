"""Vocabularies (phrase lists) and label tables (their cached CLIP embeddings, ranked by matmul).

    >>> from cliplens import load_encoder
    >>> from cliplens.vocab import LabelTable, list_vocabularies, load_vocabulary
    >>> enc = load_encoder("toyclip")
    >>> table = LabelTable(enc, load_vocabulary("colour"), name="colour")
    >>> table.top_k(enc.encode_texts(["a red star"]), k=2).phrases        # doctest: +SKIP
    [['red', 'red and black']]

Used by the interrogator (prompt building) and by tagging (multi-label tags from a vocabulary).
"""
from __future__ import annotations

from typing import Any

from .lists import BUILTIN, CI_LISTS, ci_data_dir, list_vocabularies, load_vocabulary, parse_phrases

_TABLE_NAMES = ("LabelTable", "TopK", "labels_cache_dir", "phrases_hash")


def __getattr__(name: str) -> Any:
    """Label tables need torch: import them only when used, so phrase lists stay light (fast CLI start)."""
    if name in _TABLE_NAMES:
        from . import table

        return getattr(table, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["BUILTIN", "CI_LISTS", "LabelTable", "TopK", "ci_data_dir", "labels_cache_dir", "list_vocabularies",
           "load_vocabulary", "parse_phrases", "phrases_hash"]
