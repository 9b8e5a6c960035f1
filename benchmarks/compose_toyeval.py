"""Measure the composer on the toy world: composed CLIP keywords vs the raw structured prompt.

Each prompt describes one toy-world scene (objects with shape, colour, size and position or a
count, a background, a style), written the way people keep prompts: JSON, a Python dict, YAML,
with different key spellings and nesting. The scene it describes is rendered, and toyclip's
image-text similarity of the composed CLIP text is compared with that of the raw prompt string
(what gets pasted into an encoder) and of a naive "values joined with commas" flattening.

    >>> prompts = toy_prompts(4)
    >>> prompts[0].fmt, prompts[1].fmt, prompts[2].fmt
    ('json', 'python', 'yaml')
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from cliplens.compose import compose
from cliplens.text.phrases import clean_phrase


@dataclass
class ToyPrompt:
    """A structured prompt (`raw` text in format `fmt`), its parsed `data`, and the scene it describes."""

    raw: str
    fmt: str
    data: Any
    scene: Any


def _objects(scene: Any, variant: int) -> list[dict]:
    keys = [("shape", "color", "size", "position"), ("Type", "Colour", "Size", "Location"),
            ("shape", "color", "size", "where"), ("object", "colour", "size", "placement")][variant]
    if scene.kind == "group":
        o = scene.objects[0]
        return [{keys[0]: o.shape, keys[1]: o.colour, keys[2]: o.size, "count": scene.count}]
    return [{keys[0]: o.shape, keys[1]: o.colour, keys[2]: o.size, keys[3]: o.position} for o in scene.objects]


def _yaml_dump(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def toy_prompts(n: int = 24, seed: int = 1000) -> list[ToyPrompt]:
    """`n` structured prompts over seeded toy-world scenes, cycling through 4 writing styles."""
    from cliplens.assets import toyworld

    tw = toyworld()
    out = []
    for i in range(n):
        scene = tw.sample_scene(seed + i)
        v = i % 4
        objs = _objects(scene, v)
        if v == 0:
            data = {"objects": objs, "background": scene.background, "style": scene.style}
            raw = json.dumps(data)
            fmt = "json"
        elif v == 1:
            data = {"Subject": objs, "BG": scene.background, "Medium": scene.style}
            raw = repr(data)
            fmt = "python"
        elif v == 2:
            data = {"items": objs, "background": {"color": scene.background}, "art style": scene.style}
            raw = _yaml_dump(data)
            fmt = "yaml"
        else:
            data = {"scene": {"elements": objs}, "backgroundColor": scene.background,
                    "rendering": {"style": scene.style}}
            raw = json.dumps(data, indent=2)
            fmt = "json"
        out.append(ToyPrompt(raw, fmt, data, scene))
    return out


def naive_flatten(data: Any) -> str:
    """The quick fix people try: every leaf value, cleaned, joined with commas (keys dropped)."""
    vals: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif x is not None:
            t = clean_phrase(str(x))
            if t:
                vals.append(t)

    walk(data)
    return ", ".join(vals)


def evaluate(encoder: Any, prompts: list[ToyPrompt], size: int | None = None) -> dict[str, Any]:
    """Similarities of each rendered scene with the raw prompt, the naive flattening and the composed text.

    Returns per-prompt rows and the summary: `wins` (composed > raw), `prompts`, `mean_gain`
    (mean composed - raw cosine), the same against the naive flattening, and image->text top-1
    retrieval accuracy among the prompts for each kind of text.
    """
    from cliplens.assets import toyworld

    tw = toyworld()
    size = size or int(encoder.image_size[0])
    images = [tw.render(p.scene, size) for p in prompts]
    composed = [compose(p.raw, "sd15").fields["text"] for p in prompts]
    raw = [p.raw for p in prompts]
    naive = [naive_flatten(p.data) for p in prompts]
    iv = encoder.encode_images(images)
    sims = {}
    for name, texts in (("raw", raw), ("naive", naive), ("composed", composed)):
        tv = encoder.encode_texts(texts, progress=False)
        m = iv @ tv.T
        sims[name] = (np.diag(m), float(np.mean(np.argmax(m, axis=1) == np.arange(len(prompts)))))
    d_raw = sims["composed"][0] - sims["raw"][0]
    d_naive = sims["composed"][0] - sims["naive"][0]
    rows = [{"fmt": p.fmt, "composed": c, "raw_sim": float(sims["raw"][0][i]), "naive_sim": float(sims["naive"][0][i]),
             "composed_sim": float(sims["composed"][0][i])} for i, (p, c) in enumerate(zip(prompts, composed))]
    return {
        "prompts": len(prompts),
        "wins": int(np.sum(d_raw > 0)),
        "mean_gain": float(np.mean(d_raw)),
        "wins_vs_naive": int(np.sum(d_naive > 0)),
        "mean_gain_vs_naive": float(np.mean(d_naive)),
        "mean_sim": {k: float(np.mean(v[0])) for k, v in sims.items()},
        "top1": {k: v[1] for k, v in sims.items()},
        "rows": rows,
    }
