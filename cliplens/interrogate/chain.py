"""The greedy phrase chain behind `best`, `negative` and `style` modes, made fast.

Each step appends to the current prompt the phrase that raises (or, for negative prompts,
lowers) its similarity to the image most. Per step:

1. candidates that would overflow the 75-token window are dropped (exact token counts);
2. if more than `shortlist` remain, only the `shortlist` best by their exact score at an earlier
   step are kept (the first step scores every continuation; appending a phrase shifts most
   continuations' scores alike, so that order carries over; `shortlist` >= the pool: exact);
3. the shortlist is scored exactly with the prefix KV cache (`PrefixScorer`): the prompt is
   encoded once and only each phrase's own tokens run through the text tower;
4. the few best are re-scored by encoding the full joined strings (guards against the rare
   case where tokens merge across the ", " join), and the winner is taken.

No phrase may repeat a content word already in the prompt (caption included) or be a near
duplicate (centred embedding cosine above `dedupe`) of a chosen phrase: after each pick the
pool loses what the pick made redundant (see `quality.py`).

It stops like clip-interrogator's chain: after `min_count` steps, as soon as no phrase improves
the prompt, at `max_count` phrases, or when nothing more fits the window. The best prompt seen
along the way is returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .prefix import PrefixScorer
from .quality import content_words
from .scoring import Features, MultiTable, Scorer


@dataclass
class ChainResult:
    prompt: str
    similarity: float
    parts: list[str]
    steps: int
    scored: int = 0  # continuations scored exactly (for benchmarks)
    trace: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class _State:
    """One prompt being grown: its parts and text, (signed) similarity, used content words, the pool
    rows still allowed, each continuation's latest exact score, and its (text, similarity) path."""

    parts: list[str]
    text: str
    score: float
    used: set[str]
    remaining: list[int]
    known: dict[int, float]
    trace: list[tuple[str, float]]


class Chainer:
    """Runs greedy chains for one `Scorer`; keeps one `PrefixScorer` per encoder."""

    def __init__(self, scorer: Scorer, shortlist: int = 256, rescore: int = 4, beam: int = 1):
        self.scorer = scorer
        self.shortlist = shortlist
        self.rescore = rescore
        self.beam = beam
        self.prefix = [PrefixScorer(enc) for enc in scorer.encoders]
        self._ids: list[dict[str, list[int]]] = [{} for _ in scorer.encoders]
        self._batch_ok: list[bool | None] = [None for _ in scorer.encoders]  # batched tokenize agrees with token_ids
        self._wcache: dict[str, frozenset[str]] = {}

    def _prefetch_ids(self, phrases: list[str]) -> None:
        """Token ids of every not-yet-seen phrase, by one batched `Encoder.tokenize` per encoder (the
        backends tokenize big lists several times faster than phrase by phrase). The batch's rows are
        trusted only after they agree with `token_ids` on a sample; rows that hit the window (maybe
        truncated) or lack the expected start/end tokens are tokenized one by one."""
        for e, enc in enumerate(self.scorer.encoders):
            cache = self._ids[e]
            todo = list(dict.fromkeys(p for p in phrases if p not in cache))
            if len(todo) < 32 or self._batch_ok[e] is False:
                continue
            bos, eot = self.prefix[e].bos_id, self.prefix[e].eot_id
            rows = enc.tokenize(todo).cpu().numpy()
            got: dict[str, list[int]] = {}
            for p, row in zip(todo, rows):
                hits = np.flatnonzero(row[1:] == eot) if eot is not None else ()
                if row[0] == bos and len(hits) and hits[0] + 2 < len(row):
                    got[p] = row[1 : hits[0] + 1].tolist()
            if self._batch_ok[e] is None:
                sample = list(got)[:8]
                self._batch_ok[e] = bool(sample) and all(got[p] == enc.token_ids(p) for p in sample)
                if not self._batch_ok[e]:
                    continue
            cache.update(got)

    def _token_ids(self, e: int, phrase: str) -> list[int]:
        cache = self._ids[e]
        ids = cache.get(phrase)
        if ids is None:
            ids = cache[phrase] = self.scorer.encoders[e].token_ids(phrase)
        return ids

    def run(self, feats: Features, row: int, pool: MultiTable, pool_idx: np.ndarray, start: list[str] | None = None,
            *, min_count: int = 8, max_count: int = 32, reverse: bool = False, blocked: set[str] | None = None,
            dedupe: float | None = None, beam: int | None = None) -> ChainResult:
        """Chain phrases `pool.phrases[pool_idx]` onto `start` (a list of parts, may be empty) for image `row`.

        `blocked`: content words no phrase may repeat (besides those of `start` and of each pick);
        `dedupe`: centred-embedding cosine above which a phrase counts as a duplicate of a pick.
        `beam`: prompts kept per step (None: the Chainer's `beam`). 1 is the plain greedy chain;
        more keep the best `beam` distinct prompts of every step's continuations (each prompt
        continues with its own shortlist), so a first pick that only looks second best can win.
        """
        sc = self.scorer
        beam = max(1, int(self.beam if beam is None else beam))
        sign = -1.0 if reverse else 1.0
        img = [f[row] for f in feats]
        parts = list(start or [])
        words = {int(i): self._words(pool.phrases[int(i)]) for i in pool_idx}
        used = set(blocked or ())
        for p in parts:
            used |= content_words(p)
        remaining = [i for i in words if words[i] and not words[i] & used]
        self._prefetch_ids([pool.phrases[i] for i in remaining])
        # centred unit vectors of the pool rows (near-duplicate rule), one matrix; `at` maps row -> line
        at = {i: k for k, i in enumerate(remaining)}
        vecs = pool.centred(remaining) if dedupe is not None and remaining else None

        def take(st: _State, pick: int, text: str, s: float) -> _State:
            """`st` with `pick` appended: its words used, and what it made redundant out of the pool."""
            u = st.used | words[pick]
            keep = [i for i in st.remaining if i != pick and not words[i] & u]
            if vecs is not None and keep and pick in at:
                sims = vecs[[at[i] for i in keep]] @ vecs[at[pick]]
                keep = [i for i, x in zip(keep, sims) if x <= dedupe]
            return _State(st.parts + [pool.phrases[pick]], text, s, u, keep, dict(st.known),
                          st.trace + [(text, sign * s)])

        phrase_scores = pool.scores([f[row : row + 1] for f in feats])[0].cpu().numpy()
        root = _State(parts, "", 0.0, used, remaining, {}, [])
        if not parts:
            if not remaining:
                return ChainResult("", 0.0, [], 0)
            first = max(remaining, key=lambda i: sign * phrase_scores[i])
            root = take(root, first, "", 0.0)
        root.text = ", ".join(root.parts)
        root.score = sign * float(sc.text_similarity(feats, row, [root.text])[0])
        root.trace = [(root.text, sign * root.score)]
        best = root
        n_enc = len(sc.encoders)
        max_tok = [enc.max_text_tokens for enc in sc.encoders]
        comma = [self._token_ids(e, ",") for e in range(n_enc)]
        scored = 0
        steps = 0
        n_tok = np.array([[len(self._token_ids(e, pool.phrases[i])) for i in remaining] for e in range(n_enc)],
                         dtype=np.int64).reshape(n_enc, len(remaining))  # [encoder, line of `at`]
        beams = [root]
        for step in range(max_count):
            grown: list[tuple[float, _State, int, str]] = []
            for st in beams:
                prompt_ids = [sc.encoders[e].token_ids(st.text) for e in range(n_enc)]
                room = [max_tok[e] - len(prompt_ids[e]) - len(comma[e]) for e in range(n_enc)]
                rem = np.asarray(st.remaining, dtype=np.int64)
                lines = np.fromiter((at[i] for i in st.remaining), dtype=np.int64, count=len(rem))
                ok = np.all(n_tok[:, lines] <= np.asarray(room, dtype=np.int64)[:, None], axis=0)
                cand = rem[ok]
                if not len(cand):
                    continue
                if len(cand) > self.shortlist:
                    cand = self._shortlist(cand, st.known)
                conts_phr = [pool.phrases[i] for i in cand]
                per = []
                for e in range(n_enc):
                    feats_e = self.prefix[e].encode_continuations(
                        prompt_ids[e] + comma[e], [self._token_ids(e, p) for p in conts_phr],
                        texts=[f"{st.text}, {p}" for p in conts_phr])
                    per.append(feats_e.float() @ img[e].float().to(feats_e.device))
                approx = sign * sc.combine(per).cpu().numpy()
                st.known.update(zip(cand.tolist(), approx.tolist()))
                scored += len(cand)
                top = np.argsort(-approx, kind="stable")[: max(self.rescore, beam)]
                texts = [f"{st.text}, {conts_phr[j]}" for j in top]
                exact = sign * sc.text_similarity(feats, row, texts)
                order = np.argsort(-exact, kind="stable")[:beam]
                grown += [(float(exact[j]), st, int(cand[top[j]]), texts[j]) for j in order]
            if not grown:
                break
            steps += 1
            grown.sort(key=lambda g: -g[0])
            if grown[0][0] > best.score:
                s0, st0, pick0, text0 = grown[0]
                best = _State(st0.parts + [pool.phrases[pick0]], text0, s0, set(), [], {}, [])
            # a prompt carries on while it improves on its parent, or unconditionally for min_count steps
            nxt: list[_State] = []
            seen: set[frozenset[int | str]] = set()
            for s_new, st, pick, text in grown:
                if len(nxt) >= beam:
                    break
                key = frozenset(st.parts + [pool.phrases[pick]])
                if key in seen or not (s_new > st.score or step < min_count):
                    continue
                seen.add(key)
                nxt.append(take(st, pick, text, s_new))
            if not nxt:
                break
            beams = nxt
        trace = next((b.trace for b in beams if b.text == best.text), beams[0].trace)
        return ChainResult(best.text, sign * best.score, best.parts, steps, scored, trace)

    def _words(self, phrase: str) -> frozenset[str]:
        w = self._wcache.get(phrase)
        if w is None:
            w = self._wcache[phrase] = frozenset(content_words(phrase))
        return w

    def _shortlist(self, cand: np.ndarray, known: dict[int, float]) -> np.ndarray:
        """The `shortlist` continuations of `cand` worth scoring exactly this step.

        Continuations scored exactly at an earlier step are ordered by that (stale) score: adding a
        phrase to the prompt shifts most continuations' scores alike, so the order carries over far
        better than any vector estimate. If any continuation has never been scored (the first step),
        every continuation is scored: that exact pass is what later steps order by.
        """
        if any(int(i) not in known for i in cand):
            return cand
        stale = np.fromiter((known[int(i)] for i in cand), dtype=np.float64, count=len(cand))
        keep = np.argsort(-stale, kind="stable")[: self.shortlist]
        return cand[np.sort(keep)]
