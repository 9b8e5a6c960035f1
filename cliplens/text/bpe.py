"""CLIP's byte-pair tokenizer without torch: OpenAI's own vocab and merges, shipped as package data.

Prompt tools (`cliplens prompt lint`, `prompt compose`) need exact CLIP token counts but no model,
so they must not pay for importing torch/transformers/open_clip (seconds, hundreds of MB). This
module rebuilds OpenAI CLIP's tokenizer from `data/clip_vocab.json` + `data/clip_merges.txt` with
the Rust `tokenizers` library, after the same clean-up open_clip does (ftfy, HTML entities,
whitespace). Counts equal open_clip's `SimpleTokenizer` (tests/test_compose_bpe.py checks it).

    >>> tok = clip_bpe()
    >>> len(tok("a red circle"))
    3
    >>> tok.cut("one two three", 2)
    ('one two', 'three')
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from importlib import resources
from typing import Any

#: OpenAI CLIP's pre-tokenizer regex (open_clip.tokenizer.SimpleTokenizer.pat, without the specials)
_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
_WS = re.compile(r"\s+")
_PLAIN = re.compile(r"[ -%'-~\t\n]*")  # printable ASCII without "&" (HTML entities)


def openai_clean(text: str) -> str:
    """The clean-up OpenAI CLIP's tokenizer runs before BPE: ftfy, HTML entities, whitespace.

    ftfy turns full-width punctuation into ASCII ("，" -> ","), which changes CJK token counts, so
    counts only match SD's CLIP when the same clean-up runs first. ftfy is optional (it ships with
    open_clip); without it only HTML entities and whitespace are normalised.

    >>> openai_clean("a  cat &amp; dog")
    'a cat & dog'
    """
    if not _PLAIN.fullmatch(text):  # ftfy leaves plain printable ASCII as it is: skip its 0.1 s import
        try:
            import ftfy
        except ImportError:  # pragma: no cover - a torch-free install may lack ftfy
            pass
        else:
            text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return _WS.sub(" ", text).strip()


def _data(name: str) -> str:
    return str(resources.files("cliplens.text") / "data" / name)


class ClipBPE:
    """A callable tokenizer: `tok(text) -> list[int]` (content ids, no BOS/EOS, never truncated).

    Also `cut(text, limit) -> (fits, rest)` at an exact token boundary, using character offsets.
    """

    name = "openai-clip-bpe"

    def __init__(self, tokenizer: Any):
        self._tk = tokenizer

    def __call__(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self._tk.encode(openai_clean(text), add_special_tokens=False).ids)

    def count(self, text: str) -> int:
        """Content tokens of `text` (a CLIP window holds 75 plus BOS/EOS)."""
        return len(self(text))

    def cut(self, text: str, limit: int) -> tuple[str, str]:
        """(part of the cleaned text that fits `limit` tokens, the rest CLIP would ignore)."""
        text = openai_clean(text)
        enc = self._tk.encode(text, add_special_tokens=False)
        if len(enc.ids) <= limit:
            return text, ""
        at = enc.offsets[limit][0]
        return text[:at].rstrip(), text[at:]

    def decode(self, ids: list[int]) -> str:
        """Text of `ids` (word ends become spaces, as in OpenAI's decoder)."""
        return self._tk.decode(ids).replace("</w>", " ").strip()


def clip_bpe(folder: str | None = None) -> ClipBPE:
    """The bundled OpenAI CLIP tokenizer, or the one in `folder` (vocab.json + merges.txt).

    Loaded once per folder (~0.2 s); needs only the `tokenizers` package.
    """
    if folder is None:
        return _load(_data("clip_vocab.json"), _data("clip_merges.txt"), ClipBPE.name)
    from pathlib import Path

    p = Path(folder)
    return _load(str(p / "vocab.json"), str(p / "merges.txt"), str(p))


@lru_cache(maxsize=4)
def _load(vocab: str, merges: str, name: str) -> ClipBPE:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    bpe = models.BPE.from_file(vocab, merges, unk_token=EOS, continuing_subword_prefix="", end_of_word_suffix="</w>",
                               fuse_unk=False)
    tk = Tokenizer(bpe)
    tk.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                          normalizers.Lowercase()])
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_PAT), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tk.decoder = decoders.ByteLevel()
    tok = ClipBPE(tk)
    tok.name = name
    return tok
