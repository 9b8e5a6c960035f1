"""CLIP as a judge: how well an image matches a text, best-of-N, and which words of a prompt show.

    >>> from cliplens import load_encoder
    >>> from cliplens.judge import clip_score, rank_images, keyword_feedback
    >>> enc = load_encoder("toyclip")
    >>> s = clip_score(enc, ["red.png"], ["a red circle"])                 # doctest: +SKIP
    >>> s.clip_s, s.summary()["clipscore_torchmetrics"]                   # doctest: +SKIP

Scales are named apart on purpose: `clip_s` is the paper's 2.5*max(cos, 0) per sample,
`clipscore_100` is torchmetrics' 100*cos (clamped only after the mean); see `judge.scores`.
"""
from __future__ import annotations

from .feedback import Feedback, KeywordScore, Unrequested, clean_phrase, keyword_feedback, split_phrases
from .imagevec import image_vectors
from .rank import Ranked, Ranking, keep_winners, rank_images, rank_prompts
from .scores import (PAPER_W, Manifest, PairScores, clip_score, folder_pairs, image_similarity, paper_clipscore,
                     read_manifest, refclipscore, similarity_matrix, torchmetrics_clipscore)
from .text import (LONG_PROMPT_POLICIES, PAPER_PREFIX, LongPromptWarning, TextEncoding, Truncation, encode_prompts,
                   split_into_windows, truncation_point)

__all__ = [
    "Feedback", "KeywordScore", "Unrequested", "clean_phrase", "keyword_feedback", "split_phrases",
    "image_vectors", "Ranked", "Ranking", "keep_winners", "rank_images", "rank_prompts",
    "PAPER_W", "Manifest", "PairScores", "clip_score", "folder_pairs", "image_similarity", "paper_clipscore",
    "read_manifest", "refclipscore", "similarity_matrix", "torchmetrics_clipscore",
    "LONG_PROMPT_POLICIES", "PAPER_PREFIX", "LongPromptWarning", "TextEncoding", "Truncation", "encode_prompts",
    "split_into_windows", "truncation_point",
]
