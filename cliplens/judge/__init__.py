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

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (issue 13): `import cliplens.judge` is cheap; each name imports its submodule on first use.
#: public name -> submodule that defines it
_WHERE = {
    "Feedback": ".feedback", "KeywordScore": ".feedback", "Unrequested": ".feedback",
    "keyword_feedback": ".feedback", "Ranked": ".rank", "Ranking": ".rank", "keep_winners": ".rank",
    "rank": ".rank", "rank_images": ".rank", "rank_prompts": ".rank", "PAPER_W": ".scores", "Manifest": ".scores",
    "PairScores": ".scores", "ScoreResult": ".scores", "clip_score": ".scores", "folder_pairs": ".scores",
    "paper_clipscore": ".scores", "read_manifest": ".scores", "refclipscore": ".scores",
    "sidecar_prompts": ".scores", "torchmetrics_clipscore": ".scores", "SimilarityResult": ".similarity",
    "similarity": ".similarity", "LONG_PROMPT_POLICIES": ".text", "PAPER_PREFIX": ".text",
    "LongPromptWarning": ".text", "TextEncoding": ".text", "Truncation": ".text", "encode_prompts": ".text",
    "split_into_windows": ".text", "truncation_point": ".text",
}

__all__ = [
    "Feedback", "KeywordScore", "Unrequested", "keyword_feedback",
    "Ranked", "Ranking", "keep_winners", "rank", "rank_images", "rank_prompts",
    "PAPER_W", "Manifest", "PairScores", "ScoreResult", "clip_score", "folder_pairs", "paper_clipscore",
    "read_manifest", "refclipscore", "sidecar_prompts", "torchmetrics_clipscore", "SimilarityResult", "similarity",
    "LONG_PROMPT_POLICIES", "PAPER_PREFIX", "LongPromptWarning", "TextEncoding", "Truncation", "encode_prompts",
    "split_into_windows", "truncation_point",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .feedback import Feedback, KeywordScore, Unrequested, keyword_feedback  # noqa: F401
    from .rank import Ranked, Ranking, keep_winners, rank, rank_images, rank_prompts  # noqa: F401
    from .scores import (PAPER_W, Manifest, PairScores, ScoreResult, clip_score, folder_pairs, paper_clipscore,
                         read_manifest, refclipscore, sidecar_prompts, torchmetrics_clipscore)
    from .similarity import SimilarityResult, similarity  # noqa: F401
    from .text import (LONG_PROMPT_POLICIES, PAPER_PREFIX, LongPromptWarning, TextEncoding, Truncation, encode_prompts,
                       split_into_windows, truncation_point)


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
