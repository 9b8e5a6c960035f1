"""Fast CLIP tokenization: open_clip's pure-Python BPE, rebuilt on the Rust `tokenizers` library.

open_clip's `SimpleTokenizer` runs at ~25k short phrases/s on one core, which caps vocabulary
encoding (112k phrases) well below what a GPU does. The same vocabulary and merges loaded
into a `tokenizers.Tokenizer` give identical ids for plain printable-ASCII text, in parallel.
Texts outside that safe set (non-ASCII, HTML entities, '<' special-token look-alikes, which
open_clip cleans with ftfy/html) still go through the original tokenizer, and the Rust
tokenizer is checked against the original on a sample before it is trusted at all.

The open_clip backend owns this speed-up: `OpenClipEncoder.tokenize` uses it for big lists,
so every caller gets it through the public `Encoder.tokenize`.

    >>> ids = fast_tokenize(simple, ["a red circle"], enc.context_length, slow)   # doctest: +SKIP
    >>> ids.shape == (1, enc.context_length)                                # doctest: +SKIP
    True
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch

#: the CLIP pre-tokenization pattern (words, single digits, runs of punctuation, contractions)
_CLIP_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
_LOCK = threading.Lock()
_WS = str.maketrans("\t\n\r\x0b\x0c", "     ")
_BUILT: dict[int, object] = {}


def _safe(text: str) -> bool:
    """Texts for which open_clip's ftfy/html cleaning is the identity (up to whitespace)."""
    if not text.isascii() or "&" in text or "<" in text:
        return False
    return text.isprintable() or text.translate(_WS).isprintable()


def _build(simple) -> object | None:
    """A `tokenizers.Tokenizer` equivalent to open_clip's `SimpleTokenizer`, or None if it differs."""
    try:
        from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
    except ImportError:
        return None
    merges = [tuple(m) for m in sorted(simple.bpe_ranks, key=simple.bpe_ranks.get)]
    bpe = models.BPE(vocab=dict(simple.encoder), merges=merges, end_of_word_suffix="</w>", continuing_subword_prefix="")
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                           normalizers.Strip(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_CLIP_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    probe = ["a photo of a cat", "A Red  Circle, oil painting!", "hyper-realistic 8k render's glow", "x",
             "the quick brown fox jumps over 13 lazy dogs", "trending on artstation :: unreal engine 5",
             "watercolour\tsketch\nof a lighthouse", "   ", "ultra-detailed, (masterpiece:1.2), [bokeh]"]
    for text in probe:
        if tok.encode(text, add_special_tokens=False).ids != list(simple.encode(text)):
            return None
    return tok


def rust_tokenizer(simple) -> object | None:
    """The Rust twin of open_clip's `SimpleTokenizer` `simple` (built once), or None if unavailable."""
    if not hasattr(simple, "bpe_ranks") or not hasattr(simple, "encoder"):
        return None
    key = id(simple)
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = _build(simple)
        return _BUILT[key]


def fast_tokenize(simple, texts: Sequence[str], context_length: int,
                  slow: Callable[[Sequence[str]], torch.Tensor]) -> torch.Tensor:
    """Exactly `slow(texts)` (open_clip's tokenizer `simple`), faster: (n, context_length) int64 ids.

    Rows are `[start] + ids[:context-2] + [end]` zero-padded, as open_clip builds them.
    """
    tok = rust_tokenizer(simple)
    if tok is None:
        return slow(texts)
    ctx = context_length
    sot, eot = simple.sot_token_id, simple.eot_token_id
    out = torch.zeros((len(texts), ctx), dtype=torch.long)
    safe_idx = [i for i, t in enumerate(texts) if _safe(t)]
    other = sorted(set(range(len(texts))) - set(safe_idx))
    if safe_idx:
        encs = tok.encode_batch([texts[i] for i in safe_idx], add_special_tokens=False)  # type: ignore[attr-defined]
        lengths = np.fromiter((min(len(e.ids), ctx - 2) for e in encs), dtype=np.int64, count=len(encs))
        width = int(lengths.max()) if len(lengths) else 0
        body = np.zeros((len(encs), ctx), dtype=np.int64)
        body[:, 0] = sot
        if width:
            flat = np.fromiter(itertools.chain.from_iterable(e.ids[: ctx - 2] for e in encs), dtype=np.int64,
                               count=int(lengths.sum()))
            cols = np.arange(width)[None, :] < lengths[:, None]
            body[:, 1 : width + 1][cols] = flat
        body[np.arange(len(encs)), lengths + 1] = eot
        out[torch.as_tensor(safe_idx)] = torch.from_numpy(body)
    if other:
        out[other] = slow([texts[i] for i in other]).long()
    return out
