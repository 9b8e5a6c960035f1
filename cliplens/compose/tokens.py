"""Token counts with the real tokenizers: CLIP BPE and T5 sentencepiece.

CLIP: the bundled tokenizer files (``assets/models/toyclip/hf``: OpenAI CLIP's own vocab.json and
merges.txt, so counts are exactly those of SD1/SDXL/SD3/Flux CLIP-L), or any `Encoder`'s
tokenizer. T5: a tokenizer found locally (an explicit path, ``CLIPLENS_T5_TOKENIZER``, or the
Hugging Face cache with ``local_files_only``); without one, an *estimate* that says so.
No model weights are loaded: composing stays fast.

    >>> clip = clip_tokens()
    >>> clip.count("a red circle")
    3
    >>> t5 = t5_tokens()          # doctest: +SKIP
    >>> t5.count("A red circle."), t5.exact, t5.source  # doctest: +SKIP
    (5, False, 'estimate (no T5 tokenizer found locally ...)')
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..errors import InvalidInputError

CLIP_WINDOW = 75  # content tokens of one 77-token CLIP window (plus BOS/EOS)
#: where a T5-XXL tokenizer may already sit in the HF cache (repo, file inside it)
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

    Exact for tokenizers that never merge across whitespace (CLIP BPE, sentencepiece words).
    """
    total = 0
    for m in re.finditer(r"\S+", text):
        total += count(m.group(0))
        if total > limit:
            return text[:m.start()].rstrip(), text[m.start():]
    return text, ""


def openai_clean(text: str) -> str:
    """The text clean-up OpenAI CLIP's tokenizer does before BPE (ftfy, HTML entities, whitespace).

    ftfy turns full-width punctuation into ASCII ("，" -> ","), which changes CJK token counts, so
    counts only match SD's CLIP when the same clean-up runs first.

    >>> openai_clean("a  cat &amp; dog，")
    'a cat & dog,'
    """
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:  # pragma: no cover - ftfy ships with open_clip
        pass
    text = html.unescape(html.unescape(text))
    return re.sub(r"\s+", " ", text).strip()


class ClipTokens:
    """CLIP BPE counting and cutting; wraps a fast HF tokenizer (after OpenAI's clean-up) or an `Encoder`."""

    def __init__(self, tokenizer: Any = None, encoder: Any = None, name: str = ""):
        if tokenizer is None and encoder is None:
            raise ValueError("give a tokenizer or an encoder")
        self._tok = tokenizer
        self._enc = encoder
        self.name = name or (getattr(encoder, "name", "") if encoder is not None else "clip")

    def ids(self, text: str) -> list[int]:
        """BPE ids without start/end tokens, untruncated."""
        if self._enc is not None:
            return list(self._enc.token_ids(text))
        return list(self._tok(openai_clean(text), add_special_tokens=False)["input_ids"])

    def count(self, text: str) -> int:
        """Number of content tokens (a window holds 75)."""
        return len(self.ids(text)) if text else 0

    def cut(self, text: str, limit: int = CLIP_WINDOW) -> tuple[str, str]:
        """(text that fits `limit` tokens, the rest): the rest is what CLIP silently ignores.

        With the bundled tokenizer both parts are of the cleaned text (see `openai_clean`).
        """
        if self._enc is None and getattr(self._tok, "is_fast", False):
            text = openai_clean(text)
            enc = self._tok(text, add_special_tokens=False, return_offsets_mapping=True)
            offs = enc["offset_mapping"]
            if len(offs) <= limit:
                return text, ""
            at = offs[limit][0]
            return text[:at].rstrip(), text[at:]
        return _cut_by_words(text, self.count, limit)


@lru_cache(maxsize=4)
def _hf_clip_tokenizer(folder: str) -> Any:
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(folder)
    tok.model_max_length = 1 << 30  # we count long texts on purpose: no "sequence too long" warnings
    return tok


def clip_tokens(source: Any = None) -> ClipTokens:
    """CLIP token counter: None -> the bundled OpenAI CLIP BPE; an `Encoder`; or a tokenizer folder.

    >>> clip_tokens().count("listening to music")
    3
    """
    if source is None:
        from ..assets import toy_model_dir

        folder = toy_model_dir("toyclip") / "hf"
        return ClipTokens(_hf_clip_tokenizer(str(folder)), name="openai-clip-bpe")
    if hasattr(source, "token_ids"):
        return ClipTokens(encoder=source, name=str(getattr(source, "name", "encoder")))
    path = Path(str(source))
    if not (path / "vocab.json").is_file() or not (path / "merges.txt").is_file():
        raise InvalidInputError(f"{path} holds no CLIP tokenizer (vocab.json + merges.txt)")
    return ClipTokens(_hf_clip_tokenizer(str(path)), name=str(path))


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
        from transformers import AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - one message for every loader failure
            sp_file = path / "spiece.model"
            if sp_file.is_file():
                return _load_t5(sp_file)
            raise InvalidInputError(f"cannot load a T5 tokenizer from {path}: {exc}") from exc
        return T5Tokens(True, f"transformers {path}", lambda t: len(tok(t)["input_ids"]), tok)
    raise InvalidInputError(f"T5 tokenizer {path} not found: give a folder with spiece.model/tokenizer.json, "
                            "a spiece.model file or a tokenizer.json file")


def _cached_t5_dir() -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        return None
    for repo, sub in T5_CACHE_CANDIDATES:
        for fname in ("tokenizer.json", "spiece.model"):
            hit = try_to_load_from_cache(repo, f"{sub}/{fname}" if sub else fname)
            if isinstance(hit, str):
                return Path(hit).parent
    return None


@lru_cache(maxsize=8)
def _t5_from_path(path: str) -> T5Tokens:
    return _load_t5(Path(path).expanduser())


_ESTIMATE = T5Tokens(False, f"estimate (no T5 tokenizer found locally; pass --t5-tokenizer PATH or set {T5_ENV})",
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
