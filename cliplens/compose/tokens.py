"""Token counts with the real tokenizers: CLIP BPE and T5 sentencepiece.

CLIP: the OpenAI CLIP BPE shipped as package data (`cliplens.text.bpe`, the table SD1/SDXL/SD3/Flux
CLIP-L use), any `Encoder`'s tokenizer, or a tokenizer folder (vocab.json + merges.txt). Windows,
counts and cuts come from `cliplens.text.window`, the one place a window size is written down.
T5: a tokenizer found locally (an explicit path, ``CLIPLENS_T5_TOKENIZER``, or the Hugging Face
cache); without one, an *estimate* that says so. No torch, no model weights: composing stays fast.

    >>> clip = clip_tokens()
    >>> clip.count("a red circle"), clip.budget
    (3, 75)
    >>> t5 = t5_tokens()          # doctest: +SKIP
    >>> t5.count("A red circle."), t5.exact, t5.source  # doctest: +SKIP
    (5, False, 'estimate (no T5 tokenizer found locally ...)')
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..errors import InvalidInputError
from ..text.bpe import clip_bpe
from ..text.window import TokenWindow, window

#: where a T5-XXL tokenizer may already sit in the HF cache (repo, folder inside it)
T5_CACHE_CANDIDATES = (
    ("black-forest-labs/FLUX.1-dev", "tokenizer_2"),
    ("black-forest-labs/FLUX.1-schnell", "tokenizer_2"),
    ("stabilityai/stable-diffusion-3-medium-diffusers", "tokenizer_3"),
    ("stabilityai/stable-diffusion-3.5-large", "tokenizer_3"),
    ("stabilityai/stable-diffusion-3.5-medium", "tokenizer_3"),
    ("google/t5-v1_1-xxl", ""),
    ("google/t5-v1_1-xl", ""),
    ("google/t5-v1_1-base", ""),
    ("google-t5/t5-base", ""),
    ("google-t5/t5-small", ""),
)
T5_ENV = "CLIPLENS_T5_TOKENIZER"


def _cut_by_words(text: str, count: Callable[[str], int], limit: int) -> tuple[str, str]:
    """Split `text` before the first whitespace-separated word whose tokens pass `limit`.

    Exact for tokenizers that never merge across whitespace (sentencepiece words).
    """
    total = 0
    for m in re.finditer(r"\S+", text):
        total += count(m.group(0))
        if total > limit:
            return text[:m.start()].rstrip(), text[m.start():]
    return text, ""


class ClipTokens:
    """CLIP token counting and cutting for one encoder's window (`budget` content tokens)."""

    def __init__(self, source: Any, name: str = "", ids: Any = None):
        self.window: TokenWindow = window(source)
        self.budget = self.window.budget
        self.name = name or self.window.name or "clip"
        self._ids = ids  # when `source` counts token strings, the callable that gives their ids

    def ids(self, text: str) -> list[int]:
        """Content ids without start/end tokens, untruncated."""
        return list((self._ids or self.window.ids)(text)) if text else []

    def count(self, text: str) -> int:
        """Number of content tokens (compare with `budget`)."""
        return self.window.count(text)

    def cut(self, text: str, limit: int | None = None) -> tuple[str, str]:
        """(text that fits `limit` tokens (default: the window), the rest): the rest is what CLIP ignores."""
        return self.window.cut(text, limit)


def clip_tokens(source: Any = None) -> ClipTokens:
    """CLIP token counter: None -> the bundled OpenAI CLIP BPE; an `Encoder`; or a tokenizer folder.

    >>> clip_tokens().count("listening to music")
    3
    """
    if source is None:
        bpe = clip_bpe()  # counting needs the BPE tokens only: the vocabulary loads on the first ids() call
        return ClipTokens(bpe.tokens, name="openai-clip-bpe", ids=bpe)
    if isinstance(source, ClipTokens):
        return source
    if hasattr(source, "token_ids"):
        return ClipTokens(source, name=str(getattr(source, "name", "encoder")))
    path = Path(str(source)).expanduser()
    if not (path / "vocab.json").is_file() or not (path / "merges.txt").is_file():
        raise InvalidInputError(f"{path} holds no CLIP tokenizer (vocab.json + merges.txt)")
    bpe = clip_bpe(str(path))
    return ClipTokens(bpe.tokens, name=str(path), ids=bpe)


# ---------------------------------------------------------------------------------------------- T5
def estimate_t5_count(text: str) -> int:
    """Rough T5 sentencepiece count (+1 for </s>): ~1 piece per short word, more for long ones,
    one per digit, punctuation mark and CJK character. Only used when no tokenizer is available."""
    n = 0
    for piece in re.findall(r"[A-Za-z]+|\d|[^\w\s]|[^\x00-\x7f]", text):
        if piece.isascii() and piece.isalpha():
            n += 1 + max(0, (len(piece) - 5) // 4)
        else:
            n += 1
    return n + 1


@dataclass
class T5Tokens:
    """T5 token counting: `exact` says whether a real tokenizer was used; `source` says which."""

    exact: bool
    source: str
    _count: Callable[[str], int]
    _tok: Any = None

    def count(self, text: str) -> int:
        """Tokens including the closing </s> (what the model's limit counts)."""
        return self._count(text)

    def cut(self, text: str, limit: int) -> tuple[str, str]:
        """(text that fits `limit` tokens including </s>, the rest that is cut off)."""
        if self._tok is not None and getattr(self._tok, "is_fast", False):
            enc = self._tok(text, add_special_tokens=False, return_offsets_mapping=True)
            offs = enc["offset_mapping"]
            if len(offs) <= limit - 1:
                return text, ""
            at = offs[limit - 1][0]
            return text[:at].rstrip(), text[at:]
        return _cut_by_words(text, lambda w: self._count(w) - 1, limit - 1)


def _load_t5(path: Path) -> T5Tokens:
    if path.is_file() and path.suffix == ".model":
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(path))
        return T5Tokens(True, f"sentencepiece {path}", lambda t: len(sp.encode(t)) + 1)
    if path.is_file() and path.suffix == ".json":
        from tokenizers import Tokenizer

        tk = Tokenizer.from_file(str(path))
        eos = tk.token_to_id("</s>")

        def count(t: str) -> int:
            ids = tk.encode(t, add_special_tokens=False).ids
            return len(ids) + (1 if eos is not None else 0)

        return T5Tokens(True, f"tokenizers {path}", count)
    if path.is_dir():
        for fname in ("tokenizer.json", "spiece.model"):
            if (path / fname).is_file():
                try:
                    return _load_t5(path / fname)
                except Exception:  # noqa: BLE001 - fall back to transformers below
                    pass
        from transformers import AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - one message for every loader failure
            sp_file = path / "spiece.model"
            if sp_file.is_file():
                return _load_t5(sp_file)
            raise InvalidInputError(f"cannot load a T5 tokenizer from {path}: {exc}") from exc
        return T5Tokens(True, f"transformers {path}", lambda t: len(tok(t)["input_ids"]), tok)
    raise InvalidInputError(f"T5 tokenizer {path} not found: t5_tokenizer must be a folder with "
                            "spiece.model/tokenizer.json, a spiece.model file or a tokenizer.json file")


def _hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _cached_t5_dir() -> Path | None:
    """A T5 tokenizer folder already in the Hugging Face cache (read directly: no hub import, no network)."""
    root = _hub_cache()
    if not root.is_dir():
        return None
    for repo, sub in T5_CACHE_CANDIDATES:
        snaps = root / ("models--" + repo.replace("/", "--")) / "snapshots"
        if not snaps.is_dir():
            continue
        for snap in sorted(snaps.iterdir(), reverse=True):
            folder = snap / sub if sub else snap
            if any((folder / f).is_file() for f in ("tokenizer.json", "spiece.model")):
                return folder
    return None


@lru_cache(maxsize=8)
def _t5_from_path(path: str) -> T5Tokens:
    return _load_t5(Path(path).expanduser())


_ESTIMATE = T5Tokens(False, f"estimate (no T5 tokenizer found locally; give t5_tokenizer or set {T5_ENV})",
                     estimate_t5_count)


def t5_tokens(path: str | os.PathLike | None = None) -> T5Tokens:
    """The T5 counter: `path` (folder, spiece.model or tokenizer.json), then ``CLIPLENS_T5_TOKENIZER``,
    then the HF cache (Flux/SD3/T5 repos, local files only); otherwise a labelled estimate."""
    if path:
        return _t5_from_path(str(path))
    env = os.environ.get(T5_ENV)
    if env:
        return _t5_from_path(env)
    found = _cached_t5_dir()
    if found is not None:
        try:
            return _t5_from_path(str(found))
        except InvalidInputError:
            pass
    return _ESTIMATE
