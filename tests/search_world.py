"""A small folder of rendered toy-world images for the search tests (built once per session).

    world/red_circle.png              "a large red circle in the center, pixel art"
    world/blue_star.png               the source of the edited copies
    world/edits/star_small.png        resized
    world/edits/star_crop.png         cropped
    world/edits/star_q40.jpg          JPEG recompressed
    world/other/NN.png                unrelated scenes (no circles, rings or stars)
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

OTHER_SHAPES = ["square", "triangle", "heart", "cross", "hexagon", "diamond", "crescent"]
OTHER_COLOURS = ["green", "yellow", "orange", "purple", "pink", "white", "black", "brown"]


def build_world(tw, root: Path, n_other: int = 36) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "edits").mkdir(exist_ok=True)
    (root / "other").mkdir(exist_ok=True)
    red = tw.sample_scene(11, kind="single", shape="circle", colour="red", style="pixel art", size="large",
                          position="center", background="white")
    tw.render(red, 96).save(root / "red_circle.png")
    star = tw.sample_scene(12, kind="single", shape="star", colour="blue", style="flat", size="large",
                           position="center", background="beige")
    big = tw.render(star, 128)
    big.save(root / "blue_star.png")
    big.resize((72, 72)).save(root / "edits" / "star_small.png")
    big.crop((8, 8, 120, 120)).save(root / "edits" / "star_crop.png")
    buf = io.BytesIO()
    big.save(buf, format="JPEG", quality=40)
    (root / "edits" / "star_q40.jpg").write_bytes(buf.getvalue())
    rng = np.random.default_rng(5)
    colours = [c for c in OTHER_COLOURS if c in tw.WORLD.get("colours", OTHER_COLOURS)] or OTHER_COLOURS
    made = 0
    seed = 100
    while made < n_other:
        seed += 1
        shape = OTHER_SHAPES[made % len(OTHER_SHAPES)]
        colour = colours[int(rng.integers(len(colours)))]
        try:
            scene = tw.sample_scene(seed, kind="single", shape=shape, colour=colour)
        except Exception:  # noqa: BLE001  (an incompatible pin: try another seed)
            continue
        tw.render(scene, 64).save(root / "other" / f"{made:02d}.png")
        made += 1
    return {"root": root, "red": root / "red_circle.png", "star": root / "blue_star.png",
            "edits": sorted((root / "edits").iterdir())}
