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


class Chainer:
    """Runs greedy chains for one `Scorer`; keeps one `PrefixScorer` per encoder."""

    def __init__(self, scorer: Scorer, shortlist: int = 256, rescore: int = 4):
        self.scorer = scorer
        self.shortlist = shortlist
        self.rescore = rescore
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
            dedupe: float | None = None) -> ChainResult:
        """Chain phrases `pool.phrases[pool_idx]` onto `start` (a list of parts, may be empty) for image `row`.

        `blocked`: content words no phrase may repeat (besides those of `start` and of each pick);
        `dedupe`: centred-embedding cosine above which a phrase counts as a duplicate of a pick.
        """
        sc = self.scorer
        sign = -1.0 if reverse else 1.0
        img = [f[row] for f in feats]
        parts = list(start or [])
        words = {int(i): self._words(pool.phrases[int(i)]) for i in pool_idx}
        used = set(blocked or ())
        for p in parts:
            used |= content_words(p)
        remaining = [i for i in words if words[i] and not words[i] & used]
        self._prefetch_ids([pool.phrases[i] for i in remaining])
        vec = dict(zip(remaining, pool.centred(remaining))) if dedupe is not None and remaining else {}

        def take(pick: int) -> None:
            nonlocal remaining
            used.update(words[pick])
            keep = [i for i in remaining if i != pick and not words[i] & used]
            if vec and keep:
                sims = np.stack([vec[i] for i in keep]) @ vec[pick]
                keep = [i for i, s in zip(keep, sims) if s <= dedupe]
            remaining = keep

        phrase_scores = pool.scores([f[row : row + 1] for f in feats])[0].cpu().numpy()
        if not parts:
            if not remaining:
                return ChainResult("", 0.0, [], 0)
            first = max(remaining, key=lambda i: sign * phrase_scores[i])
            parts = [pool.phrases[first]]
            take(first)
        text = ", ".join(parts)
        tf = sc.text_features([text])
        curr_s = sign * float(sc.similarity_of(feats, row, tf)[0])
        best = (text, curr_s, list(parts))
        trace = [(text, sign * curr_s)]
        n_enc = len(sc.encoders)
        max_tok = [enc.max_text_tokens for enc in sc.encoders]
        comma = [self._token_ids(e, ",") for e in range(n_enc)]
        scored = 0
        steps = 0
        known: dict[int, float] = {}  # each continuation's latest exact (signed) score, from an earlier step
        n_tok = {i: [len(self._token_ids(e, pool.phrases[i])) for e in range(n_enc)] for i in remaining}
        for step in range(max_count):
            prompt_ids = [sc.encoders[e].token_ids(text) for e in range(n_enc)]
            room = [max_tok[e] - len(prompt_ids[e]) - len(comma[e]) for e in range(n_enc)]
            fits = [i for i in remaining if all(n <= r for n, r in zip(n_tok[i], room))]
            if not fits:
                break
            steps += 1
            cand = np.asarray(fits)
            if len(cand) > self.shortlist:
                cand = self._shortlist(cand, known)
            conts_phr = [pool.phrases[i] for i in cand]
            per = []
            for e in range(n_enc):
                feats_e = self.prefix[e].encode_continuations(
                    prompt_ids[e] + comma[e], [self._token_ids(e, p) for p in conts_phr],
                    texts=[f"{text}, {p}" for p in conts_phr])
                per.append(feats_e.float() @ img[e].float().to(feats_e.device))
            approx = sign * sc.combine(per).cpu().numpy()
            known.update(zip(cand.tolist(), approx.tolist()))
            scored += len(cand)
            top = np.argsort(-approx, kind="stable")[: self.rescore]
            texts = [f"{text}, {conts_phr[j]}" for j in top]
            tfs = sc.text_features(texts)
            exact = sign * sc.similarity_of(feats, row, tfs)
            j = int(np.argmax(exact))
            new_text, new_s, pick = texts[j], float(exact[j]), int(cand[top[j]])
            if new_s > best[1]:
                best = (new_text, new_s, parts + [pool.phrases[pick]])
            if new_s > curr_s or step < min_count:
                parts = parts + [pool.phrases[pick]]
                text, curr_s = new_text, new_s
                take(pick)
                trace.append((text, sign * curr_s))
            else:
                break
        return ChainResult(best[0], sign * best[1], best[2], steps, scored, trace)

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
