"""CLIP as a judge: how well an image matches a text, best-of-N, which words of a prompt show,
and plain similarity between any texts and images. One call per job, each returning a
`cliplens.results.Result`:

    similarity(enc, a, b)                 -> SimilarityResult   (`cliplens similarity`, /api/similarity)
    clip_score(enc, images, prompts)      -> ScoreResult        (`cliplens score`, /api/score)
    rank(enc, query, candidates)          -> Ranking            (`cliplens rank`, /api/rank)
    keyword_feedback(enc, image, prompt)  -> Feedback           (`cliplens feedback`, /api/feedback)

    >>> from cliplens import load_encoder
    >>> from cliplens.judge import clip_score
    >>> enc = load_encoder("toyclip")                                       # doctest: +SKIP
    >>> s = clip_score(enc, ["red.png"], ["a red circle"])                 # doctest: +SKIP
    >>> s.clip_s, s.summary()["clipscore_torchmetrics"]                   # doctest: +SKIP

Scales are named apart on purpose: `clip_s` is the paper's 2.5*max(cos, 0) per sample (0..2.5),
`clipscore_100` is torchmetrics' 100*cos (0..100, clamped only after the mean); see `judge.scores`.
"""
from __future__ import annotations

from .feedback import Feedback, KeywordScore, Unrequested, keyword_feedback
from .rank import Ranked, Ranking, keep_winners, rank, rank_images, rank_prompts
from .scores import (PAPER_W, Manifest, PairScores, ScoreResult, clip_score, folder_pairs, paper_clipscore,
                     read_manifest, refclipscore, sidecar_prompts, torchmetrics_clipscore)
from .similarity import SimilarityResult, similarity
from .text import (LONG_PROMPT_POLICIES, PAPER_PREFIX, LongPromptWarning, TextEncoding, Truncation, encode_prompts,
                   split_into_windows, truncation_point)

__all__ = [
    "Feedback", "KeywordScore", "Unrequested", "keyword_feedback",
    "Ranked", "Ranking", "keep_winners", "rank", "rank_images", "rank_prompts",
    "PAPER_W", "Manifest", "PairScores", "ScoreResult", "clip_score", "folder_pairs", "paper_clipscore",
    "read_manifest", "refclipscore", "sidecar_prompts", "torchmetrics_clipscore", "SimilarityResult", "similarity",
    "LONG_PROMPT_POLICIES", "PAPER_PREFIX", "LongPromptWarning", "TextEncoding", "Truncation", "encode_prompts",
    "split_into_windows", "truncation_point",
]
