"""CLIP's byte-pair tokenizer without torch: OpenAI's own vocab and merges, shipped as package data.

Prompt tools (`cliplens prompt lint`, `prompt compose`) need exact CLIP token counts but no model,
so they must not pay for importing torch/transformers/open_clip (seconds, hundreds of MB). This
module runs OpenAI CLIP's tokenizer from `data/clip_vocab.json` + `data/clip_merges.txt`: the
same clean-up open_clip does (ftfy, HTML entities, whitespace, lower case), OpenAI's pre-tokenizer
regex (run by the `tokenizers` library) and OpenAI's merge loop. Counts and ids equal open_clip's
`SimpleTokenizer` (tests/test_compose_bpe.py checks it). Loading reads only the merge table (the
Rust BPE model took ~5x longer to build, most of a prompt tool's start-up).

    >>> tok = clip_bpe()
    >>> tok("a red circle"), tok.count("a red circle")
    ([320, 736, 7117], 3)
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

#: OpenAI CLIP's pre-tokenizer regex (open_clip.tokenizer.SimpleTokenizer.pat, without the specials)
_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
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


@lru_cache(maxsize=1)
def _byte_chars() -> list[str]:
    """OpenAI's reversible byte -> printable character table (`bytes_to_unicode`)."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


class ClipBPE:
    """OpenAI CLIP's byte-pair encoder: `tok(text) -> list[int]` content ids (no BOS/EOS, never truncated).

    The merge table is read once (~50k pairs, a few tens of ms); the vocabulary (ids) only when ids
    are asked for: counting needs the tokens, not their numbers. The pre-tokenizer (OpenAI's regex,
    with Unicode classes) runs in the Rust `tokenizers` library; the merges run here, exactly as in
    OpenAI's reference code, with a per-word cache.
    """

    name = "openai-clip-bpe"

    def __init__(self, vocab: str, merges: str, name: str = ""):
        from tokenizers import Regex, pre_tokenizers

        with open(merges, encoding="utf-8") as f:
            lines = f.read().split("\n")
        start = 1 if lines and lines[0].startswith("#version") else 0
        if lines and not lines[-1]:
            lines.pop()
        # keyed by the merge file's own "a b" lines: no per-line split, the table loads in ~10 ms
        self._ranks = dict(zip(lines[start:], range(len(lines) - start)))
        self._vocab_path = vocab
        self._vocab: dict[str, int] | None = None
        self._split = pre_tokenizers.Split(Regex(_PAT), behavior="removed", invert=True)
        self._cache: dict[str, tuple[str, ...]] = {}
        if name:
            self.name = name

    def _bpe(self, word: str) -> tuple[str, ...]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        parts = [*word[:-1], word[-1] + "</w>"]
        ranks = self._ranks
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + " " + parts[i + 1])
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            first, second = parts[at], parts[at + 1]
            merged: list[str] = []
            i = 0
            while i < len(parts):  # merge every occurrence of the pair, left to right
                if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        out = tuple(parts)
        if len(self._cache) < 100_000:
            self._cache[word] = out
        return out

    def tokens(self, text: str) -> list[str]:
        """BPE tokens of `text` (strings such as 'red</w>'), after OpenAI's clean-up and lower-casing."""
        if not text:
            return []
        clean = unicodedata.normalize("NFC", openai_clean(text).lower())
        chars = _byte_chars()
        out: list[str] = []
        for piece, _ in self._split.pre_tokenize_str(clean):
            out.extend(self._bpe("".join(chars[b] for b in piece.encode("utf-8"))))
        return out

    def __call__(self, text: str) -> list[int]:
        if self._vocab is None:
            with open(self._vocab_path, encoding="utf-8") as f:
                self._vocab = json.load(f)
        vocab = self._vocab
        return [vocab[t] for t in self.tokens(text)]

    def count(self, text: str) -> int:
        """Content tokens of `text` (a CLIP window holds 75 plus BOS/EOS)."""
        return len(self.tokens(text))


def clip_bpe(folder: str | None = None) -> ClipBPE:
    """The bundled OpenAI CLIP tokenizer, or the one in `folder` (vocab.json + merges.txt). Loaded once."""
    if folder is None:
        return _load(_data("clip_vocab.json"), _data("clip_merges.txt"), ClipBPE.name)
    from pathlib import Path

    p = Path(folder)
    return _load(str(p / "vocab.json"), str(p / "merges.txt"), str(p))


@lru_cache(maxsize=4)
def _load(vocab: str, merges: str, name: str) -> ClipBPE:
    return ClipBPE(vocab, merges, name)
