"""The `Interrogator`: image -> prompt, in every mode clip-interrogator has, plus `style` and `analyze`.

    >>> from cliplens.interrogate import Interrogator
    >>> it = Interrogator("toyclip", caption_model="toycaption")
    >>> r = it.interrogate("assets/examples/toyworld.png", mode="best")     # doctest: +SKIP
    >>> r.prompt, round(r.similarity, 3)                                      # doctest: +SKIP
    ('a large red star on the left on a white background, pixel art, ...', 0.412)

Modes:
  best      greedy chain from the caption over the best-matching phrases, then the best of
            caption / classic / fast / chain by similarity to the image
  classic   caption, medium, artist, trending, movement, top flavors
  fast      caption + the top-ranked phrases of every style table, as many as fit
  negative  chain of the *least* similar phrases plus common negative terms (a negative prompt)
  style     style only: no subject words, only medium/artist/movement/flavor phrases
  caption   the caption alone
  analyze   top-k of every table with scores (the prompt is the caption)
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import InvalidInputError
from ..images import ImageInput, describe, load_image
from ..models import load_encoder, parse_spec
from ..models.encoder import Encoder
from .captioners import DEFAULT_CAPTION_MODEL, Captioner, load_captioner
from .chain import Chainer
from .scoring import Features, MultiTable, Scorer
from .vocabsets import VocabSet, resolve_vocab

MODES = ("best", "classic", "fast", "negative", "style", "caption", "analyze")

#: words that say nothing about the subject (kept when style mode filters out caption words)
_STOP = set("a an the of on in at to and or with by for from into onto over under near is are its it this that "
            "there side some two three four left right top bottom center centre background".split())


def content_words(text: str) -> set[str]:
    """Lower-cased words of `text` that carry meaning (for keeping subjects out of style prompts).

    >>> sorted(content_words("a large red star on the left, white background"))
    ['large', 'red', 'star', 'white']
    """
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


@dataclass
class Part:
    """One piece of a prompt: the text, the table it came from, and its own similarity to the image."""

    text: str
    table: str
    score: float


@dataclass
class InterrogateResult:
    """What `Interrogator.interrogate` returns; `to_dict()` gives the JSON the CLI prints."""

    prompt: str
    mode: str
    similarity: float
    caption: str | None
    parts: list[Part] = field(default_factory=list)
    tokens: int = 0
    candidates: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, list[tuple[str, float]]] | None = None
    image: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["similarity"] = round(float(self.similarity), 6)
        d["candidates"] = {k: round(float(v), 6) for k, v in self.candidates.items()}
        if self.analysis is not None:
            d["analysis"] = {k: [[p, round(float(s), 6)] for p, s in v] for k, v in self.analysis.items()}
        d["parts"] = [{"text": p.text, "table": p.table, "score": round(float(p.score), 6)} for p in self.parts]
        d["seconds"] = round(self.seconds, 4)
        return d


def _auto_caption_model(model) -> str:
    spec = model if isinstance(model, str) else ""
    return "toycaption" if spec.startswith("toyclip") else DEFAULT_CAPTION_MODEL


class Interrogator:
    """Image -> prompt with a CLIP (or SDXL's two) and an optional caption model.

    Args:
        model: preset/spec (sd15 | sd2 | sdxl | toyclip | SPEC), an `Encoder`, or a list of encoders.
            Presets with secondary encoders (sdxl) score with all of them.
        caption_model: short name (blip-large, git-large-coco, florence-2-base, toycaption...), hub id,
            folder, a loaded `Captioner`, ``"none"`` (rank the subject list instead), or ``"auto"``
            (toycaption for the toy models, blip-large otherwise). Loaded on first use only.
        vocab: None/"builtin", "ci" (clip-interrogator's lists), or a list of files/names (replace the
            built-in style lists).
        weights: per-encoder weights (default equal).
        flavor_pool: phrases pre-selected per image (by phrase-image similarity) for the chains.
        shortlist: continuations scored exactly per chain step (the rest are cut by an estimate); the
            default equals the default pool, so the greedy chain is exact; 256 is ~7x faster for ~0.002 less similarity.
        low_vram: smaller batches/pools, and the captioner leaves the GPU before CLIP works.
    """

    def __init__(self, model: str | Encoder | Sequence[Encoder] = "sd15", caption_model: str | Captioner | None = "auto",
                 vocab=None, *, device: str = "auto", precision: str = "auto", weights: Sequence[float] | None = None,
                 cache: bool = True, progress: bool = False, low_vram: bool = False, flavor_pool: int = 2048,
                 shortlist: int = 2048, caption_max_tokens: int = 32, batch_size: int = 64):
        self.model_spec = model
        self.device, self.precision = device, precision
        self.weights = weights
        self.cache, self.progress, self.low_vram = cache, progress, low_vram
        self.flavor_pool = 1024 if low_vram else flavor_pool
        self.shortlist = min(shortlist, 128) if low_vram else shortlist
        self.batch_size = 8 if low_vram else batch_size
        self.caption_max_tokens = caption_max_tokens
        if caption_model == "auto":
            caption_model = _auto_caption_model(model)
        self._captioner_arg = caption_model
        self._captioner: Captioner | None = caption_model if isinstance(caption_model, Captioner) else None
        self.vocab: VocabSet = resolve_vocab(vocab)
        self._scorer: Scorer | None = None
        self._tables: dict[str, MultiTable | None] = {}
        self._chainer: Chainer | None = None

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
            self._chainer = Chainer(self.scorer, shortlist=self.shortlist)
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

    def _fit(self, parts: list[str]) -> list[str]:
        """Longest prefix of `parts` whose ', '-joined text fits every encoder's window; a too-long
        first part (caption) is cut word by word."""
        sc = self.scorer
        if not parts:
            return []
        first = parts[0]
        while first and not sc.fits(first):
            first = first.rsplit(" ", 1)[0] if " " in first else first[: len(first) // 2]
        out = [first] if first else []
        for p in parts[1:]:
            if sc.fits(", ".join(out + [p])):
                out.append(p)
            else:
                break
        return out

    def _result(self, feats: Features, row: int, mode: str, parts: list[str], caption: str | None,
                caption_first: bool, **extra) -> InterrogateResult:
        sc = self.scorer
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
        return InterrogateResult(prompt=prompt, mode=mode, similarity=float(sim), caption=caption,
                                 parts=[Part(p, t, float(s)) for p, t, s in zip(parts, tables, scores)],
                                 tokens=sc.count_tokens(prompt), **extra)

    # ------------------------------------------------------------------ modes
    def _classic_parts(self, feats: Features, row: int, caption: str, max_flavors: int = 3) -> list[str]:
        parts = [caption]
        for name in ("medium", "artist", "trending", "movement"):
            t = self.table(name)
            if t is not None:
                parts.append(t.ranked(feats, row, 1)[0][0])
        flav = self._merged(list(self.vocab.flavors), "flavor-lists")
        if flav is not None:
            parts += [p for p, _ in flav.ranked(feats, row, max_flavors)]
        return self._fit(list(dict.fromkeys(parts)))

    def _fast_parts(self, feats: Features, row: int, caption: str, max_flavors: int) -> list[str]:
        t = self.flavor_table()
        tops = [p for p, _ in t.ranked(feats, row, max_flavors)] if t is not None else []
        return self._fit(list(dict.fromkeys([caption, *tops])))

    def _chain(self, feats: Features, row: int, table: MultiTable | None, start: list[str], min_count: int,
               max_count: int, reverse: bool = False, exclude: set[str] | None = None, extra: str | None = None):
        """Chain over the `flavor_pool` best (or worst) phrases of `table`, plus every phrase of table `extra`."""
        pool = table
        chosen: list[str] = []
        if table is not None:
            idx, _ = table.top_k([f[row : row + 1] for f in feats], self.flavor_pool, reverse=reverse)
            chosen = [table.phrases[i] for i in idx[0]]
        extra_t = self.table(extra) if extra else None
        if extra_t is not None:
            names = [n for n in (table.name.split("|") if table is not None else []) if n] + [extra]
            pool = self._merged(list(self.vocab.flavors) + [extra], f"{table.name if table else ''}|{extra}") \
                if table is not None and table.name == "flavor-lists" else self._merged(names, "|".join(names))
            chosen = list(dict.fromkeys(chosen + extra_t.phrases))
        if pool is None:
            return None
        if exclude:
            chosen = [p for p in chosen if not (content_words(p) & exclude)]
        pos = {p: i for i, p in enumerate(pool.phrases)}
        idx = np.array([pos[p] for p in chosen], dtype=np.int64)
        return self.chainer.run(feats, row, pool, idx, [s for s in start if s], min_count=min_count,
                                max_count=max_count, reverse=reverse)

    def _run_mode(self, feats: Features, row: int, mode: str, caption: str | None, min_flavors: int, max_flavors: int,
                  top_k: int) -> InterrogateResult:
        sc = self.scorer
        if mode == "caption":
            return self._result(feats, row, mode, self._fit([caption]), caption, True)
        if mode == "classic":
            return self._result(feats, row, mode, self._classic_parts(feats, row, caption), caption, True)
        if mode == "fast":
            return self._result(feats, row, mode, self._fast_parts(feats, row, caption, max_flavors), caption, True)
        if mode == "best":
            cap_parts = self._fit([caption])
            chain = self._chain(feats, row, self.flavor_table(), cap_parts, min_flavors, max_flavors)
            options = {"caption": cap_parts, "classic": self._classic_parts(feats, row, caption),
                       "fast": self._fast_parts(feats, row, caption, max_flavors)}
            if chain is not None:
                options["chain"] = self._fit(chain.parts)
            names = list(options)
            sims = sc.text_similarity(feats, row, [", ".join(options[n]) for n in names])
            cands = {n: float(s) for n, s in zip(names, sims)}
            winner = names[int(np.argmax(sims))]
            return self._result(feats, row, mode, options[winner], caption, True, candidates=cands)
        if mode == "negative":
            chain = self._chain(feats, row, self._merged(list(self.vocab.flavors), "flavor-lists"), [], min_flavors,
                                max_flavors, reverse=True, extra="negative")
            parts = self._fit(chain.parts) if chain is not None else []
            return self._result(feats, row, mode, parts, None, False)
        if mode == "style":
            exclude = content_words(caption) if caption else set()
            chain = self._chain(feats, row, self.style_table(), [], min_flavors, max_flavors, exclude=exclude)
            parts = self._fit(chain.parts) if chain is not None else []
            return self._result(feats, row, mode, parts, caption, False)
        if mode == "analyze":
            analysis = {}
            for name in self.vocab.role_lists():
                t = self.table(name)
                if t is not None:
                    analysis[name] = t.ranked(feats, row, top_k)
            res = self._result(feats, row, mode, self._fit([caption]) if caption else [], caption, True)
            res.analysis = analysis
            return res
        raise InvalidInputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")

    # ------------------------------------------------------------------ public API
    def needs_caption(self, mode: str) -> bool:
        """Whether `mode` wants a caption (negative does not; style uses one only to drop subject words)."""
        return mode in ("best", "classic", "fast", "caption", "analyze", "style")

    def interrogate(self, image: ImageInput, mode: str = "best", caption: str | None = None, *, min_flavors: int = 8,
                    max_flavors: int = 32, top_k: int = 10) -> InterrogateResult:
        """Interrogate one image (path, bytes, PIL, array). `caption` skips the caption model.

        >>> Interrogator("toyclip").interrogate("img.png", mode="fast").prompt     # doctest: +SKIP
        """
        return self.interrogate_many([image], mode, None if caption is None else [caption], min_flavors=min_flavors,
                                     max_flavors=max_flavors, top_k=top_k)[0]

    def interrogate_many(self, images: Sequence[ImageInput], mode: str = "best",
                         captions: Sequence[str | None] | None = None, *, min_flavors: int = 8, max_flavors: int = 32,
                         top_k: int = 10, features: Features | None = None) -> list[InterrogateResult]:
        """Interrogate several images: captions and image features are computed in batches.

        `captions[i]` (if given and not None) is used instead of the caption model for image i.
        """
        if mode not in MODES:
            raise InvalidInputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
        if isinstance(images, (str, bytes, os.PathLike)) or not isinstance(images, Sequence):
            images = [images]
        for name, v in (("min_flavors", min_flavors), ("max_flavors", max_flavors), ("top_k", top_k)):
            if not isinstance(v, int) or v < (0 if name == "min_flavors" else 1):
                raise InvalidInputError(f"{name} must be a {'non-negative' if name == 'min_flavors' else 'positive'} "
                                        f"integer, got {v!r}")
        images = list(images)
        if captions is not None and len(captions) != len(images):
            raise InvalidInputError(f"got {len(captions)} captions for {len(images)} images")
        caps: list[str | None] = [None] * len(images) if captions is None else list(captions)
        for c in caps:
            if c is not None and (not isinstance(c, str) or not c.strip()):
                raise InvalidInputError("a supplied caption must be a non-empty string")
        caps = [c.strip() if c else None for c in caps]
        pil = [load_image(im) for im in images]
        # load models and label tables first, so `seconds` measures interrogation, not one-off setup
        self.scorer
        if self.needs_caption(mode) and self.has_captioner and any(c is None for c in caps):
            self.captioner
        if mode != "caption":
            self.prepare()
        t0 = time.perf_counter()
        if self.needs_caption(mode) and self.has_captioner:
            todo = [i for i, c in enumerate(caps) if c is None]
            if todo:
                got = self.captioner.caption([pil[i] for i in todo], batch_size=self.batch_size)
                for i, c in zip(todo, got):
                    caps[i] = c or None
        feats = features if features is not None else self.scorer.image_features(pil, batch_size=self.batch_size)
        if self.needs_caption(mode) and mode != "style":
            subj = self.table("subjects")
            for i, c in enumerate(caps):
                if c is None:  # caption-less: the closest subject phrase stands in for a caption
                    caps[i] = subj.ranked(feats, i, 1)[0][0] if subj is not None else ""
        t_shared = (time.perf_counter() - t0) / max(1, len(images))
        out = []
        for i, im in enumerate(images):
            t = time.perf_counter()
            r = self._run_mode(feats, i, mode, caps[i], min_flavors, max_flavors, top_k)
            r.image = describe(im) if not isinstance(im, (str, os.PathLike)) else str(im)
            r.seconds = time.perf_counter() - t + t_shared
            out.append(r)
        return out
