"""Measured with toyclip and its renderer: composed CLIP keywords describe the rendered toy-world
scene better than the raw structured prompt string (JSON / Python dict / YAML) does."""
from __future__ import annotations

import pytest

from benchmarks.compose_toyeval import evaluate, toy_prompts


@pytest.mark.slow
def test_composed_keywords_beat_raw_prompt(toyclip):
    prompts = toy_prompts(24)
    assert len(prompts) >= 20 and {p.fmt for p in prompts} == {"json", "python", "yaml"}
    res = evaluate(toyclip, prompts)
    assert res["prompts"] == 24
    assert res["wins"] >= 0.75 * res["prompts"], res["rows"]   # most prompts
    assert res["mean_gain"] > 0.05
    assert res["top1"]["composed"] >= res["top1"]["raw"]
    # the composed text never carries syntax, and every object's shape word survives
    for p, row in zip(prompts, res["rows"]):
        assert not set('{}[]":') & set(row["composed"])
        assert all(o.shape in row["composed"] for o in p.scene.objects)
