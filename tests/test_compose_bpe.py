"""The torch-free CLIP tokenizer (cliplens.text.bpe) and the fast, repo-free prompt tools (issue 13)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cliplens.text.bpe import clip_bpe

ROOT = Path(__file__).resolve().parent.parent
STRINGS = [
    "a red circle", "Hello, World!!", "japanese young woman in her 20's.", "35mm film photo", "1234567 digits",
    "角色：日本年轻女性，听音乐", "café naïve résumé", "emoji 😀🎨 test", "a  cat &amp; dog，", "(glasses:1.2), [blue]",
    "BREAK it's we'll they've", "ＦＵＬＬ　ｗｉｄｔｈ", "<|startoftext|> hi <|endoftext|>", "ünïcödé ßtraße", "don't STOP",
    "x" * 300, "tabs\tand\nnewlines", "안녕하세요 세계", "日本の女性、ポニーテール", "---***...", "3.14159e10",
    "مرحبا بالعالم", "Привет мир", "“curly quotes” and ‘single’", "a photo of a cat, masterpiece, best quality, 8k",
    "black framed glasses, white wireless headphones, sitting on a white carpet", "", " ", "\u200bzero width",
]


def test_counts_equal_open_clip():
    """Same ids as OpenAI's own BPE (open_clip's SimpleTokenizer) on every string, unicode included."""
    open_clip_tok = pytest.importorskip("open_clip.tokenizer")
    ref = open_clip_tok.SimpleTokenizer()
    tok = clip_bpe()
    for s in STRINGS:
        assert tok(s) == ref.encode(s), s


def test_cut_at_token_boundary():
    """The composer cuts through cliplens.text.window with the bundled BPE: the last word that fits."""
    from cliplens.compose import clip_tokens

    c = clip_tokens()
    text = ", ".join(f"item{i}" for i in range(60))
    kept, rest = c.cut(text, 75)
    assert c.count(kept) <= 75 < c.count(kept + " " + rest.split()[0])
    assert kept + " " + rest == text
    assert c.cut("a red circle", 75) == ("a red circle", "")
    assert c.ids("a red circle") == [320, 736, 7117] and c.count("a red circle") == 3


def test_load_reads_only_the_merges():
    """Counting needs no vocabulary: the ids table loads on the first id request only."""
    from cliplens.text.bpe import ClipBPE, _data

    tok = ClipBPE(_data("clip_vocab.json"), _data("clip_merges.txt"))
    assert tok.count("a red circle") == 3 and tok._vocab is None
    assert tok("a red circle") == [320, 736, 7117] and tok._vocab is not None


def test_data_is_package_data_not_the_repo():
    """The tokenizer files ship inside the package; nothing here reads the repository's assets/."""
    data = ROOT / "cliplens" / "text" / "data"
    assert (data / "clip_vocab.json").is_file() and (data / "clip_merges.txt").is_file()
    for f in [ROOT / "cliplens" / "text" / "bpe.py", *sorted((ROOT / "cliplens" / "compose").glob("*.py")),
              ROOT / "cliplens" / "cli" / "compose_cmd.py"]:
        src = f.read_text()
        assert "assets" not in src and "toy_model_dir" not in src, f


def test_prompt_tools_do_not_import_torch():
    """`cliplens prompt lint` / `prompt compose` without --model: no torch, transformers or open_clip."""
    code = (
        "import sys\n"
        "from cliplens.cli import main\n"
        "for argv in (['prompt', 'lint', 'a cat, [blue], (glasses:1.2)'],\n"
        "             ['prompt', 'compose', '{\"subject\": \"castle\", \"count\": 3}', '--json']):\n"
        "    sys.argv = ['cliplens', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'open_clip', 'fastapi') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"CLIPLENS_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout, out.stdout[-500:]
    assert "three castles" in out.stdout
