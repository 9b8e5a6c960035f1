"""A claim in the README is a test: the guide section's defaults, primitive list and benchmark table
say what `cliplens.defaults`, `cliplens.guide.vector` and the recorded run in BENCHMARKS.md say."""
from __future__ import annotations

import json
import re
from pathlib import Path

from cliplens import defaults
from cliplens.guide.vector import KINDS, NAMES

ROOT = Path(__file__).resolve().parent.parent


def _section(path: Path, title: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end >= 0 else len(text)]


GUIDE = _section(ROOT / "README.md", "## Guide:")
BENCH = _section(ROOT / "BENCHMARKS.md", "## guide:")
FLAT = " ".join(GUIDE.split())


def _claim(pattern: str, text: str = FLAT) -> re.Match:
    m = re.search(pattern, text)
    assert m, f"README's guide section no longer says {pattern!r}: update this test with the README"
    return m


def test_defaults_quoted_are_the_library_defaults():
    m = _claim(r"`cliplens/defaults.py`: (\d+) px, (\d+) steps, (\d+) cutouts, `(\w+)`, up to (\d+) figures, "
               r"(\d+) search rounds on (\d+) views, name prior ([\d.]+), seed (\d+)\)")
    assert (int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5]), int(m[6]), int(m[7]), float(m[8]), int(m[9])) == (
        defaults.GUIDE_SIZE, defaults.GUIDE_STEPS, defaults.GUIDE_CUTOUTS, defaults.GUIDE_PARAM, defaults.GUIDE_SHAPES,
        defaults.GUIDE_SEARCH_ROUNDS, defaults.GUIDE_SEARCH_VIEWS, defaults.GUIDE_SEARCH_PRIOR, defaults.GUIDE_SEED)
    assert float(_claim(r"`--search-prior`, default ([\d.]+)")[1]) == defaults.GUIDE_SEARCH_PRIOR


def test_primitive_list_and_menu_names_are_the_library_ones():
    listed = [x.strip() for x in _claim(r"the basic shapes of a drawing program: ([a-z, ]+); filled or outlined")[1].split(",")]
    assert listed == list(KINDS)
    words = {"thirteen": 13, "twelve": 12, "fourteen": 14}
    assert words[_claim(r"Those (\w+) include the toy world's ten shapes")[1]] == len(KINDS)
    for primitive, other in (("rhombus", "diamond"), ("plus", "cross"), ("moon", "crescent")):
        assert other in [n for n, _ in NAMES[primitive]]
    _claim(r'a rhombus is also a "diamond", the plus sign a "cross", the moon a "crescent"')


def _table(text: str, header: str) -> dict[str, list[str]]:
    """Rows of the first markdown table whose header line starts with `header`: method -> cells."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(header))
    rows = {}
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        cells = [c.strip().replace("*", "") for c in ln.strip("|").split("|")]
        rows[cells[0].split(" (")[0]] = cells[1:]
    return rows


def test_benchmark_table_is_the_recorded_run():
    readme = _table(GUIDE, "| method | shape acc.")
    bench = _table(BENCH, "| method | prompts | shape acc.")
    assert set(readme) >= {"naive", "pixels", "fourier", "pyramid", "shapes", "true render"}
    for method, cells in readme.items():
        assert method in bench, method
        assert [c for c in cells if c] == [c for c in bench[method][1:] if c], method  # same figures (prompts aside)
    # the final JSON line recorded in BENCHMARKS has the keys and the table's figures
    line = json.loads(_claim(r"Final JSON line[^`]*`(\{.*?\})`", BENCH)[1])
    assert {"prompts", "shape_acc", "colour_acc", "background_acc", "cosine_ratio", "s_per_image"} <= set(line)
    assert line["param"] == defaults.GUIDE_PARAM
    row = readme[defaults.GUIDE_PARAM]
    assert row[:3] == [f"{round(100 * line[k])} %" for k in ("shape_acc", "colour_acc", "background_acc")]
    assert row[3].startswith(f"{line['cosine_ratio']:.2f} ") and row[4] == f"{line['s_per_image']:.1f}"
