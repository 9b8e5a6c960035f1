"""README outputs cannot drift: every `<!-- run: CMD -->` block equals what CMD prints today.

The convention is documented at the top of scripts/readme_outputs.py. The fast blocks of the real
README are checked here; `[slow]` ones only by `python scripts/readme_outputs.py --check --all`.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("readme_outputs", ROOT / "scripts" / "readme_outputs.py")
ro = importlib.util.module_from_spec(_spec)
sys.modules["readme_outputs"] = ro
_spec.loader.exec_module(ro)

SAMPLE = """# demo

<!-- run[setup]: echo hello > made.txt -->

<!-- run: cat made.txt && echo "took 1.25s, 300 images/s" -->
```text
stale
```

<!-- run[output]: echo only-output -->
```
old
```

<!-- run[slow]: echo slow one -->
```
never checked by default
```

<!-- run: echo a \\
  b -->
```console
```
"""


def test_regenerates_blocks_keeping_fences_and_prose(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(SAMPLE)
    changed = ro.process(readme, check=False, log=lambda *_: None)
    assert len(changed) == 4                           # every shown block was stale
    text = readme.read_text()
    assert "$ cat made.txt && echo \"took 1.25s, 300 images/s\"\nhello\ntook 1.25s, 300 images/s\n```" in text
    assert "```\nonly-output\n```" in text            # [output]: no $ line
    assert "$ echo slow one\nslow one" in text        # a full run includes slow blocks
    assert "```console\n$ echo a \\\n  b\na b\n```" in text   # multi-line command, fence info kept
    assert text.startswith("# demo\n\n<!-- run[setup]")
    assert ro.process(readme, check=True, log=lambda *_: None) == []   # and now it checks clean


def test_check_ignores_timings_but_not_content(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(SAMPLE)
    ro.process(readme, check=False, log=lambda *_: None)
    text = readme.read_text()
    readme.write_text(text.replace("took 1.25s, 300 images/s", "took 9.9s, 12 images/s"))
    assert ro.process(readme, check=True, log=lambda *_: None) == []
    readme.write_text(text.replace("\nhello\n", "\ngoodbye\n"))
    drift = ro.process(readme, check=True, log=lambda *_: None)
    assert len(drift) == 1 and "-goodbye" in drift[0] and "+hello" in drift[0]
    assert "goodbye" in readme.read_text()            # --check never writes


def test_slow_blocks_skipped_by_check_and_setup_always_runs(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(SAMPLE)
    ran: list[str] = []
    ro.process(readme, check=True, log=ran.append)
    assert not any("slow one" in line for line in ran)
    assert any("(setup)" in line for line in ran)
    listing = [b.cmd for b in ro.parse(SAMPLE)]
    assert listing[0] == "echo hello > made.txt" and not ro.parse(SAMPLE)[0].shown


def test_scratch_dir_and_repo_paths_are_written_as_dot(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- run[output]: pwd; ls -d assets -->\n```\n```\n")
    ro.process(readme, check=False, log=lambda *_: None)
    assert readme.read_text() == "<!-- run[output]: pwd; ls -d assets -->\n```\n.\nassets\n```\n"


@pytest.mark.slow
def test_readme_fast_blocks_are_current():
    drift = ro.process(ROOT / "README.md", check=True, log=lambda *_: None)
    assert not drift, "README outputs drifted (run `python scripts/readme_outputs.py`):\n" + "\n".join(drift)


def test_a_session_shows_each_command_with_its_output(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- run:\n$ echo one\n$ echo two \\\n  three\n-->\n```console\n```\n")
    ro.process(readme, check=False, log=lambda *_: None)
    assert "```console\n$ echo one\none\n$ echo two \\\n  three\ntwo three\n```" in readme.read_text()
