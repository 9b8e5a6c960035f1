"""The `Interrogator`: image -> prompt, in every mode clip-interrogator has, plus `style` and `analyze`.

    >>> from cliplens.interrogate import Interrogator
    >>> it = Interrogator("toyclip", caption_model="toycaption")
    >>> r = it.interrogate("example.png", mode="best")     # doctest: +SKIP
    >>> r.prompt, round(r.similarity, 3)                                      # doctest: +SKIP
    ('a large red star on the left on a white background, pixel art, ...', 0.412)

Modes:
  best      greedy chain from the caption over the best-matching phrases, then the best of
            caption / classic / fast / chain by similarity to the image
  classic   caption, medium, artist, trending, movement, top flavors
  fast      caption + the top-ranked phrases of every style table, as many as fit
  negative  what the image is NOT (the least similar style phrases) plus the common defect terms;
            never a word or a near duplicate of anything a positive mode would say
  style     style only: no subject words, only medium/artist/movement/flavor phrases
  caption   the caption alone
  analyze   top-k of every table with scores (the prompt is the caption)

Every prompt follows the rules of `quality.py`: no content word twice (caption included), no two
near-duplicate phrases, and each part carries a confidence (weak parts are marked; artists are
guesses and need more confidence to appear at all; `min_confidence` drops weak parts).
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import defaults as D
from ..errors import InvalidInputError
from ..images import ImageInput, describe, load_image
from ..models import load_encoder, parse_spec
from ..models.encoder import Encoder
from ..results import Result, jsonable
from ..text.window import window
from .captioners import DEFAULT_CAPTION_MODEL, Captioner, load_captioner
from .chain import Chainer
from .quality import PhraseGuard, confidence, content_words, robust_stats
from .scoring import Features, MultiTable, Scorer
from .vocabsets import VocabSet, resolve_vocab

MODES = tuple(D.INTERROGATE_MODES)
#: modes that describe what the image IS (their parts are checked for weak confidence)
POSITIVE_MODES = ("best", "classic", "fast", "style", "caption", "analyze")
__all__ = ["MODES", "InterrogateResult", "Interrogator", "Part", "content_words"]


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None else round(float(x), nd)


@dataclass
class Part:
    """One piece of a prompt: its text, the table it came from, its own similarity to the image, and
    how sure that is.

    `confidence`: how far the phrase stands out from its table for this image (`quality.confidence`;
    None for the caption, which comes from the caption model). In negative prompts it says how
    surely the image is NOT this. `weak`: below `defaults.INTERROGATE_WEAK_CONFIDENCE` (a guess).
    `guess`: an artist name: CLIP finds a resemblance, never an attribution.
    """

    text: str
    table: str
    score: float
    confidence: float | None = None
    weak: bool = False
    guess: bool = False

    def to_dict(self) -> dict:
        return {"text": self.text, "table": self.table, "score": _r(self.score), "confidence": _r(self.confidence, 4),
                "weak": self.weak, "guess": self.guess}


@dataclass
class InterrogateResult(Result):
    """One image's prompt: what `interrogate.interrogate(enc, image)` returns; `to_dict()` is the JSON
    the CLI prints and the HTTP API returns.

    `seconds`: this image's own time; `prepare_seconds`: one-off setup of the call (loading models,
    building or loading label tables), reported apart so a first run's table building is not
    mistaken for interrogation time.
    """

    prompt: str = ""
    mode: str = ""
    similarity: float = 0.0
    caption: str | None = None
    parts: list[Part] = field(default_factory=list)
    tokens: int = 0
    candidates: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, list[tuple[str, float]]] | None = None
    image: str = ""
    model: str = ""
    caption_model: str = ""
    seconds: float = 0.0
    prepare_seconds: float = 0.0

    @property
    def weak_parts(self) -> list[Part]:
        return [p for p in self.parts if p.weak]

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["similarity"] = _r(self.similarity)
        d["candidates"] = {k: _r(v) for k, v in self.candidates.items()}
        if self.analysis is not None:
            d["analysis"] = {k: [[p, _r(s)] for p, s in v] for k, v in self.analysis.items()}
        d["parts"] = [p.to_dict() for p in self.parts]
        d["seconds"] = _r(self.seconds, 4)
        d["prepare_seconds"] = _r(self.prepare_seconds, 4)
        return jsonable(d)


def _auto_caption_model(model) -> str:
    """toycaption for the toy models (named or loaded), blip-large otherwise."""
    if isinstance(model, str):
        spec = model
    elif isinstance(model, Encoder):
        spec = str(model.name)
    elif isinstance(model, (list, tuple)) and model:
        spec = str(getattr(model[0], "name", ""))
    else:
        spec = ""
    return "toycaption" if spec.startswith("toyclip") else DEFAULT_CAPTION_MODEL


class Interrogator:
    """Image -> prompt with a CLIP (or SDXL's two) and an optional caption model.

    Args:
        model: preset/spec (sd15 | sd2 | sdxl | toyclip | SPEC), an `Encoder`, or a list of encoders.
            Presets with secondary encoders (sdxl) score with all of them.
        caption_model: short name (blip-large, git-large-coco, florence-2-base, toycaption...), hub id,
            folder, a loaded `Captioner`, ``"none"`` (rank the subject list instead), or ``"auto"``
            (toycaption for the toy models, blip-large otherwise). Loaded on first use only.
        vocab: None/"auto" (clip-interrogator's ~100k phrases for a real CLIP when that package is
            installed, else the built-in lists; see `default_vocab`), "builtin", "ci", or a list of
            files/names (replace the built-in style lists).
        weights: per-encoder weights (default equal).
        flavor_pool: phrases pre-selected per image (by phrase-image similarity) for the chains.
        shortlist: continuations scored exactly per chain step after the first (the first scores them
            all; later steps keep those with the best exact scores so far). ``shortlist=flavor_pool``
            with ``beam=1`` is the exact greedy chain (clip-interrogator's search).
        beam: prompts the chains keep per step (1: greedy, as clip-interrogator; more search wider,
            at about `beam` times the chain's cost after its first step). The defaults
            (``flavor_pool=8192, shortlist=384, beam=3``, cliplens.defaults) beat the exact greedy chain
            over 2,048 phrases on 10 of 10 fixtures with clip-interrogator's full vocabulary, at ~1.9x
            its time, and clip-interrogator's similarity on every benchmark image (BENCHMARKS.md).
        low_vram: smaller batches/pools, and the captioner leaves the GPU before CLIP works.
    """

    def __init__(self, model: str | Encoder | Sequence[Encoder] = "sd15", caption_model: str | Captioner | None = "auto",
                 vocab=None, *, device: str = "auto", precision: str = "auto", weights: Sequence[float] | None = None,
                 cache: bool = True, progress: bool = False, low_vram: bool = False,
                 flavor_pool: int = D.INTERROGATE_FLAVOR_POOL, shortlist: int = D.INTERROGATE_SHORTLIST,
                 beam: int = D.INTERROGATE_BEAM, caption_max_tokens: int = 32, batch_size: int = 64):
        self.model_spec = model
        self.device, self.precision = device, precision
        self.weights = weights
        self.cache, self.progress, self.low_vram = cache, progress, low_vram
        self.flavor_pool = 1024 if low_vram else flavor_pool
        self.shortlist = min(shortlist, 128) if low_vram else shortlist
        if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
            raise InvalidInputError(f"beam must be an integer >= 1, got {beam!r}")
        self.beam = beam
        self.batch_size = 8 if low_vram else batch_size
        self.caption_max_tokens = caption_max_tokens
        if caption_model == "auto":
            caption_model = _auto_caption_model(model)
        self._captioner_arg = caption_model
        self._captioner: Captioner | None = caption_model if isinstance(caption_model, Captioner) else None
        self.vocab: VocabSet = resolve_vocab(vocab, model)
        self._scorer: Scorer | None = None
        self._tables: dict[str, MultiTable | None] = {}
        self._chainer: Chainer | None = None
        self.opts = _Opts()
        self.last_prepare_seconds = 0.0
        self._memo: dict[tuple, dict[str, list[str]]] = {}

    # ------------------------------------------------------------------ lazy parts
    @property
    def caption_model_name(self) -> str:
        a = self._captioner_arg
        return a.name if isinstance(a, Captioner) else ("none" if a is None else str(a))

    @property
    def has_captioner(self) -> bool:
        return self.caption_model_name.lower() not in ("none", "")

    @property
    def captioner(self) -> Captioner | None:
        if self._captioner is None and self.has_captioner:
            self._captioner = load_captioner(self._captioner_arg, device=self.device, max_new_tokens=self.caption_max_tokens)
        return self._captioner

    def release_captioner(self) -> None:
        """Free the caption model (two-pass batch runs call this before the CLIP pass)."""
        if self._captioner is not None and not isinstance(self._captioner_arg, Captioner):
            self._captioner = None
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            m = self.model_spec
            if isinstance(m, Encoder):
                encs = [m]
            elif isinstance(m, (list, tuple)):
                encs = list(m)
            else:
                spec = parse_spec(m)
                encs = [load_encoder(spec, self.device, self.precision)]
                encs += [load_encoder(s, self.device, self.precision) for s in spec.secondary]
            self._scorer = Scorer(encs, self.weights)
        return self._scorer

    @property
    def encoders(self) -> list[Encoder]:
        return self.scorer.encoders

    @property
    def chainer(self) -> Chainer:
        if self._chainer is None:
            self._chainer = Chainer(self.scorer, shortlist=self.shortlist, beam=self.beam)
        return self._chainer

    def table(self, name: str) -> MultiTable | None:
        """The `MultiTable` for a role ('medium', 'artist', ..., a flavor list name, 'negative', 'subjects')."""
        if name not in self._tables:
            phrases = self.vocab.role_lists().get(name)
            self._tables[name] = MultiTable(self.scorer, phrases, name, cache=self.cache, progress=self.progress) \
                if phrases else None
        return self._tables[name]

    def _merged(self, names: Sequence[str], key: str) -> MultiTable | None:
        if key not in self._tables:
            self._tables[key] = MultiTable.merge([self.table(n) for n in names], name=key)
        return self._tables[key]

    @property
    def style_names(self) -> list[str]:
        return ["medium", "artist", "movement", *self.vocab.flavors]

    def flavor_table(self) -> MultiTable | None:
        """All prompt phrases (style tables + trending) as one table: the best/fast pool."""
        return self._merged([*self.style_names, "trending"], "all-flavors")

    def style_table(self) -> MultiTable | None:
        return self._merged(self.style_names, "style-flavors")

    def prepare(self) -> "Interrogator":
        """Build (or load from cache) every label table now instead of on first use."""
        for name in self.vocab.role_lists():
            self.table(name)
        self.flavor_table()
        self.style_table()
        return self

    # ------------------------------------------------------------------ helpers
    def caption_images(self, images: Sequence[ImageInput], batch_size: int = 8) -> list[str]:
        """Captions from the caption model (raises if it is ``none``)."""
        cap = self.captioner
        if cap is None:
            raise InvalidInputError("no caption model (caption_model='none'); pass captions or choose a caption model")
        return cap.caption([load_image(im) for im in images], batch_size=batch_size)

    def _phrase_table(self, phrase: str) -> str:
        if getattr(self, "_where", None) is None:
            self._where: dict[str, str] = {}
            for name, lst in self.vocab.role_lists().items():
                for p in lst:
                    self._where.setdefault(p, name)
        return self._where.get(phrase, "?")

    def cut_caption(self, caption: str) -> str:
        """`caption` cut at a word boundary to every encoder's token window (O(log n) tokenizer calls)."""
        for enc in self.scorer.encoders:
            caption = window(enc).cut(caption)[0]
        return caption

    def _fit(self, parts: list[str]) -> list[str]:
        """Longest prefix of `parts` whose ', '-joined text fits every encoder's window; a too-long
        first part (caption) is cut at a word boundary."""
        sc = self.scorer
        if not parts:
            return []
        first = self.cut_caption(parts[0]) if parts[0] else ""
        out = [first] if first else []
        for p in parts[1:]:
            if sc.fits(", ".join(out + [p])):
                out.append(p)
            else:
                break
        return out

    def _vec(self, phrase: str) -> np.ndarray | None:
        """Centred unit vector of a vocabulary phrase (for near-duplicate checks), None if not in the vocabulary."""
        return self._vecs([phrase])[0]

    def _vecs(self, phrases: Sequence[str]) -> list[np.ndarray | None]:
        """Centred unit vectors, all centred on the one prompt-phrase table (so every table compares alike)."""
        t = self.flavor_table()
        rows = [t.row_of(p) if t is not None else None for p in phrases]
        have = [r for r in rows if r is not None]
        got = iter(t.centred(have)) if have else iter(())
        return [next(got) if r is not None else None for r in rows]

    def _result(self, img: "_Img", mode: str, parts: list[str], caption: str | None,
                caption_first: bool, **extra) -> InterrogateResult:
        sc = self.scorer
        feats, row = img.feats, img.row
        parts = [p for p in parts if p]
        prompt = ", ".join(parts)
        tables = [("caption" if (caption_first and i == 0) else self._phrase_table(p)) for i, p in enumerate(parts)]
        scores: list[float | None] = []
        for p, t in zip(parts, tables):  # vocabulary phrases are scored from their stored embeddings
            mt = self.table(t) if t not in ("caption", "?") else None
            i = mt.row_of(p) if mt is not None else None
            scores.append(mt.phrase_score(feats, row, i) if i is not None else None)
        to_encode = ([prompt] if prompt else []) + [p for p, s in zip(parts, scores) if s is None]
        enc_sims = iter(sc.text_similarity(feats, row, to_encode).tolist())
        sim = next(enc_sims) if prompt else 0.0
        scores = [s if s is not None else next(enc_sims) for s in scores]
        negative = mode == "negative"
        out = []
        for p, t, s in zip(parts, tables, scores):
            c = img.conf(t, s)
            if c is not None and negative:
                c = -c
            out.append(Part(p, t, float(s), c, weak=(not negative and c is not None and c < self.opts.weak),
                            guess=(t == "artist")))
        return InterrogateResult(prompt=prompt, mode=mode, similarity=float(sim), caption=caption, parts=out,
                                 tokens=sc.count_tokens(prompt), **extra)

    def _allowed(self, table: str, conf: float | None) -> bool:
        """Confidence rule of positive prompts: `min_confidence` for all, more for artists."""
        if conf is None:
            return True
        floor = self.opts.min_confidence
        if table == "artist":
            floor = self.opts.artist_min if floor is None else max(floor, self.opts.artist_min)
        return floor is None or conf >= floor

    def _admit(self, img: "_Img", table: MultiTable | None, parts: list[str], guard: PhraseGuard, want: int, *,
               reverse: bool = False, scan: int = 512, keep=None) -> int:
        """Append to `parts` up to `want` phrases of `table`, best (or worst) first, that pass `guard`,
        the confidence rule (or `keep(table_name, conf)`) and still fit the window. Returns how many."""
        if table is None or want <= 0:
            return 0
        idx, vals = table.top_k(img.q, min(len(table), max(scan, want * 16)), reverse=reverse)
        vecs = self._vecs([table.phrases[int(i)] for i in idx[0]]) if guard.threshold is not None \
            else [None] * idx.shape[1]
        added = 0
        for i, s, v in zip(idx[0], vals[0], vecs):
            p = table.phrases[int(i)]
            name = table.source_names[int(table.sources[int(i)])]
            c = img.conf(name, float(s))
            if not (keep(name, c) if keep is not None else self._allowed(name, c)):
                continue
            if not guard.admits(p, v) or not self.scorer.fits(", ".join(parts + [p])):
                continue
            parts.append(p)
            guard.add(p, v)
            added += 1
            if added >= want:
                break
        return added

    def _guard(self, caption: str | None) -> PhraseGuard:
        return PhraseGuard(content_words(caption) if caption else (), self.opts.dedupe)

    # ------------------------------------------------------------------ modes
    def _classic_parts(self, img: "_Img", caption: str, max_flavors: int) -> list[str]:
        parts = self._fit([caption])
        guard = self._guard(parts[0] if parts else None)
        for name in ("medium", "artist", "trending", "movement"):
            self._admit(img, self.table(name), parts, guard, 1, scan=64)
        self._admit(img, self._merged(list(self.vocab.flavors), "flavor-lists"), parts, guard, max_flavors)
        return parts

    def _fast_parts(self, img: "_Img", caption: str, max_flavors: int) -> list[str]:
        parts = self._fit([caption])
        self._admit(img, self.flavor_table(), parts, self._guard(parts[0] if parts else None), max_flavors)
        return parts

    def _chain(self, img: "_Img", table: MultiTable | None, start: list[str], min_count: int, max_count: int,
               blocked: set[str] | None = None):
        """Greedy chain over the `flavor_pool` best phrases of `table` that pass the confidence rule."""
        if table is None:
            return None
        idx, vals = table.top_k(img.q, self.flavor_pool)
        confs = img.pool_conf(table, idx[0], vals[0])
        keep = [int(i) for i, c in zip(idx[0], confs)
                if self._allowed(table.source_names[int(table.sources[int(i)])], float(c))]
        return self.chainer.run(img.feats, img.row, table, np.asarray(keep, dtype=np.int64), [s for s in start if s],
                                min_count=min_count, max_count=max_count, blocked=blocked, dedupe=self.opts.dedupe)

    def _positive_options(self, img: "_Img", caption: str, min_flavors: int, max_flavors: int) -> dict[str, list[str]]:
        """best's candidates: caption alone, classic, fast, and the greedy chain from the caption.

        Remembered for the last few hundred images, so negative mode after best (the usual pair)
        does not run the chain twice."""
        key = (img.key(), caption, min_flavors, max_flavors, self.opts.min_confidence, self.opts.dedupe,
               self.flavor_pool, self.shortlist, self.beam, id(self._scorer))
        hit = self._memo.get(key)
        if hit is not None:
            return {k: list(v) for k, v in hit.items()}
        options = self._positive_options_uncached(img, caption, min_flavors, max_flavors)
        if len(self._memo) >= 256:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = {k: list(v) for k, v in options.items()}
        return options

    def _positive_options_uncached(self, img: "_Img", caption: str, min_flavors: int, max_flavors: int
                                   ) -> dict[str, list[str]]:
        cap_parts = self._fit([caption])
        options = {"caption": cap_parts,
                   "classic": self._classic_parts(img, caption, D.INTERROGATE_CLASSIC_FLAVORS),
                   "fast": self._fast_parts(img, caption, max_flavors)}
        chain = self._chain(img, self.flavor_table(), cap_parts, min_flavors, max_flavors)
        if chain is not None:
            options["chain"] = self._fit(chain.parts)
        return options

    def _negative_parts(self, img: "_Img", caption: str, min_flavors: int, max_flavors: int) -> list[str]:
        """What the image is not, then the usual defects; nothing a positive prompt of this image says.

        Every candidate prompt of best mode (caption, classic, fast, chain) is built first; none of
        their content words, and no near duplicate of their phrases, may enter the negative prompt.
        """
        pos = self._positive_options(img, caption, min_flavors, max_flavors)
        guard = PhraseGuard((), self.opts.dedupe)
        for option in pos.values():
            for p in option:
                guard.add(p, self._vec(p) if self.opts.dedupe is not None else None)
        parts: list[str] = []
        n_not = min(max_flavors, self.opts.negative_style)
        not_pool = self._merged(["medium", "movement", *self.vocab.flavors], "negative-style")
        # "not this": below the table's typical score, lowest first
        self._admit(img, not_pool, parts, guard, n_not, reverse=True, keep=lambda t, c: c is None or c < 0)
        neg = self.table("negative")
        if neg is not None:  # the usual defects, in the list's order, unless the image clearly shows one
            for p in neg.phrases:
                if len(parts) >= max_flavors:
                    break
                c = img.conf("negative", neg.phrase_score(img.feats, img.row, neg.row_of(p)))
                if c is not None and c >= self.opts.weak:
                    continue
                v = self._vec(p) if self.opts.dedupe is not None else None
                if guard.admits(p, v) and self.scorer.fits(", ".join(parts + [p])):
                    parts.append(p)
                    guard.add(p, v)
        return parts

    def _run_mode(self, img: "_Img", mode: str, caption: str | None, min_flavors: int, max_flavors: int | None,
                  top_k: int) -> InterrogateResult:
        sc = self.scorer
        if max_flavors is None:
            max_flavors = D.INTERROGATE_CLASSIC_FLAVORS if mode == "classic" else D.INTERROGATE_MAX_FLAVORS
        if mode == "caption":
            return self._result(img, mode, self._fit([caption]), caption, True)
        if mode == "classic":
            return self._result(img, mode, self._classic_parts(img, caption, max_flavors), caption, True)
        if mode == "fast":
            return self._result(img, mode, self._fast_parts(img, caption, max_flavors), caption, True)
        if mode == "best":
            options = self._positive_options(img, caption, min_flavors, max_flavors)
            names = list(options)
            sims = sc.text_similarity(img.feats, img.row, [", ".join(options[n]) for n in names])
            cands = {n: float(s) for n, s in zip(names, sims)}
            winner = names[int(np.argmax(sims))]
            return self._result(img, mode, options[winner], caption, True, candidates=cands)
        if mode == "negative":
            return self._result(img, mode, self._negative_parts(img, caption, min_flavors, max_flavors), None, False)
        if mode == "style":
            exclude = content_words(caption) if caption else set()
            chain = self._chain(img, self.style_table(), [], min_flavors, max_flavors, blocked=exclude)
            parts = self._fit(chain.parts) if chain is not None else []
            return self._result(img, mode, parts, caption, False)
        if mode == "analyze":
            analysis = {}
            for name in self.vocab.role_lists():
                t = self.table(name)
                if t is not None:
                    analysis[name] = t.ranked(img.feats, img.row, top_k)
            return self._result(img, mode, self._fit([caption]) if caption else [], caption, True, analysis=analysis)
        raise InvalidInputError(f"mode must be one of: {', '.join(MODES)}; got {mode!r}")

    # ------------------------------------------------------------------ public API
    def needs_caption(self, mode: str) -> bool:
        """Whether `mode` wants a caption (all but style use it; negative needs it to know what to avoid)."""
        return mode in ("best", "classic", "fast", "caption", "analyze", "style", "negative")

    def interrogate(self, image: ImageInput, mode: str = D.INTERROGATE_MODE, caption: str | None = None, *,
                    min_flavors: int = D.INTERROGATE_MIN_FLAVORS, max_flavors: int | None = None,
                    top_k: int = D.TOP_K, **options) -> InterrogateResult:
        """Interrogate one image (path, bytes, PIL, array). `caption` skips the caption model.

        >>> Interrogator("toyclip").interrogate("img.png", mode="fast").prompt     # doctest: +SKIP
        """
        return self.interrogate_many([image], mode, None if caption is None else [caption], min_flavors=min_flavors,
                                     max_flavors=max_flavors, top_k=top_k, **options)[0]

    def _release_scorer(self) -> None:
        """Low-VRAM runs: drop CLIP and its tables (reloaded from the disk cache) before the captioner loads."""
        self._scorer, self._tables, self._chainer = None, {}, None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def interrogate_many(self, images: Sequence[ImageInput], mode: str = D.INTERROGATE_MODE,
                         captions: Sequence[str | None] | None = None, *, min_flavors: int = D.INTERROGATE_MIN_FLAVORS,
                         max_flavors: int | None = None, top_k: int = D.TOP_K, features: Features | None = None,
                         min_confidence: float | None = D.INTERROGATE_MIN_CONFIDENCE,
                         dedupe: float | None = D.INTERROGATE_DEDUPE_SIMILARITY) -> list[InterrogateResult]:
        """Interrogate several images: captions and image features are computed in batches.

        `captions[i]` (if given and not None) is used instead of the caption model for image i.
        `max_flavors`: None = the mode's default (3 flavors in classic, 32 elsewhere).
        `min_confidence`: leave out parts less confident than this (None: keep all, mark weak ones).
        `dedupe`: centred-embedding cosine above which two phrases are duplicates (None: word rule only).
        With `low_vram`, the caption model runs and leaves memory before CLIP is loaded.
        """
        if mode not in MODES:
            raise InvalidInputError(f"mode must be one of: {', '.join(MODES)}; got {mode!r}")
        if isinstance(images, (str, bytes, os.PathLike)) or not isinstance(images, Sequence):
            images = [images]
        for name, v, lo in (("min_flavors", min_flavors, 0), ("max_flavors", max_flavors, 1), ("top_k", top_k, 1)):
            if name == "max_flavors" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InvalidInputError(f"{name} must be an integer >= {lo}, got {v!r}")
        for name, v in (("min_confidence", min_confidence), ("dedupe", dedupe)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v)):
                raise InvalidInputError(f"{name} must be a number or None, got {v!r}")
        self.opts = _Opts(min_confidence=None if min_confidence is None else float(min_confidence),
                          dedupe=None if dedupe is None else float(dedupe))
        images = list(images)
        if captions is not None and len(captions) != len(images):
            raise InvalidInputError(f"got {len(captions)} captions for {len(images)} images")
        caps: list[str | None] = [None] * len(images) if captions is None else list(captions)
        for c in caps:
            if c is not None and (not isinstance(c, str) or not c.strip()):
                raise InvalidInputError("caption must be a non-empty string")
        caps = [" ".join(c.split()) if c else None for c in caps]
        pil = [load_image(im) for im in images]
        t_prep = time.perf_counter()
        want_caps = self.needs_caption(mode) and self.has_captioner and any(c is None for c in caps)
        t_cap = 0.0
        if want_caps and self.low_vram:  # one model in memory at a time: caption first, then CLIP
            if self._scorer is not None:
                self._release_scorer()
            t = time.perf_counter()
            todo = [i for i, c in enumerate(caps) if c is None]
            got = self.captioner.caption([pil[i] for i in todo], batch_size=self.batch_size)
            for i, c in zip(todo, got):
                caps[i] = c or None
            t_cap = time.perf_counter() - t
            self.release_captioner()
            want_caps = False
        # load models and label tables first, so `seconds` measures interrogation, not one-off setup
        _ = self.scorer
        if want_caps:
            _ = self.captioner
        if mode != "caption":
            self.prepare()
        self.last_prepare_seconds = time.perf_counter() - t_prep - t_cap
        t0 = time.perf_counter()
        if want_caps:
            todo = [i for i, c in enumerate(caps) if c is None]
            got = self.captioner.caption([pil[i] for i in todo], batch_size=self.batch_size)
            for i, c in zip(todo, got):
                caps[i] = c or None
        feats = features if features is not None else self.scorer.image_features(pil, batch_size=self.batch_size)
        if self.needs_caption(mode) and mode != "style":
            subj = self.table("subjects")
            for i, c in enumerate(caps):
                if c is None:  # caption-less: the closest subject phrase stands in for a caption
                    caps[i] = subj.ranked(feats, i, 1)[0][0] if subj is not None else ""
        caps = [self.cut_caption(c) if c else c for c in caps]  # once: every mode then works on the cut caption
        t_shared = (time.perf_counter() - t0 + t_cap) / max(1, len(images))
        out = []
        for i, im in enumerate(images):
            t = time.perf_counter()
            r = self._run_mode(_Img(self, feats, i), mode, caps[i], min_flavors, max_flavors, top_k)
            r.image = describe(im) if not isinstance(im, (str, os.PathLike)) else str(im)
            r.model = self.model_name
            r.caption_model = self.caption_model_name
            r.seconds = time.perf_counter() - t + t_shared
            r.prepare_seconds = self.last_prepare_seconds
            out.append(r)
        return out

    @property
    def model_name(self) -> str:
        m = self.model_spec
        if isinstance(m, str):
            return m
        encs = [m] if isinstance(m, Encoder) else list(m)
        return "+".join(getattr(e, "name", type(e).__name__) for e in encs)


@dataclass
class _Opts:
    """Per-call prompt rules (set by `interrogate_many`)."""

    min_confidence: float | None = D.INTERROGATE_MIN_CONFIDENCE
    dedupe: float | None = D.INTERROGATE_DEDUPE_SIMILARITY
    weak: float = D.INTERROGATE_WEAK_CONFIDENCE
    artist_min: float = D.INTERROGATE_ARTIST_MIN_CONFIDENCE
    negative_style: int = D.INTERROGATE_NEGATIVE_STYLE_PHRASES


class _Img:
    """One image row being interrogated: its features, and each table's typical score for it (lazily)."""

    def __init__(self, it: Interrogator, feats: Features, row: int):
        self.it, self.feats, self.row = it, feats, row
        self.q = [f[row : row + 1] for f in feats]
        self._stats: dict[str, tuple[float, float, int] | None] = {}

    def key(self) -> str:
        """Identity of this image's features (for remembering work across modes)."""
        import hashlib

        h = hashlib.sha1()
        for f in self.q:
            h.update(f.detach().float().cpu().numpy().tobytes())
        return h.hexdigest()

    def stats(self, name: str) -> tuple[float, float, int] | None:
        """(median, robust sd, n) of table `name`'s scores for this image."""
        if name not in self._stats:
            t = self.it.table(name) if name not in ("caption", "?") else None
            if t is None:
                self._stats[name] = None
            else:
                s = t.scores(self.q)[0].float().cpu().numpy()
                med, sd = robust_stats(s)
                self._stats[name] = (med, sd, len(s))
        return self._stats[name]

    def conf(self, name: str, score: float | None) -> float | None:
        st = self.stats(name)
        if st is None or score is None:
            return None
        return confidence((float(score) - st[0]) / st[1], st[2])

    def pool_conf(self, table: MultiTable, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """Confidence of rows `idx` (scores `vals`) of a merged table, each against its own source table."""
        out = np.empty(len(idx), dtype=np.float64)
        for k, (i, v) in enumerate(zip(idx, vals)):
            c = self.conf(table.source_names[int(table.sources[int(i)])], float(v))
            out[k] = np.nan if c is None else c
        return out
