"""Non-English structured prompts (issue 15): keys in Chinese, Japanese and Korean are recognised, and T5
gets sentences in the prompt's own language, not fragments joined by commas."""
from __future__ import annotations

import pytest

from cliplens.compose import compose
from cliplens.compose.sentence import _ko_final_consonant

JA = {"キャラクター": "若い女性", "外見": {"髪": "黒いポニーテール", "服装": "黒縁メガネ"}, "動作": "音楽を聴いている",
      "スタイル": "写真"}
KO = {"캐릭터": "젊은 여성", "외모": {"머리": "검은 포니테일", "착용": "검은 안경"}, "행동": "음악을 듣고 있다", "스타일": "사진"}
ZH = {"角色": "年轻女子", "外观": {"头发": "黑色马尾", "穿着": "黑框眼镜"}, "动作": "听音乐", "风格": "真实照片"}


@pytest.mark.parametrize("prompt, subject", [(JA, "若い女性"), (KO, "젊은 여성"), (ZH, "年轻女子")])
def test_subject_key_is_recognised_and_comes_first(prompt, subject):
    r = compose(prompt, "flux")
    assert r.fields["clip_l"].startswith(subject)
    for value in ("写真", "사진", "真实照片"):
        if value in str(prompt):
            assert value in r.fields["t5xxl"] and value in r.fields["clip_l"]


def test_japanese_gets_sentences():
    t5 = compose(JA, "flux").fields["t5xxl"]
    assert t5 == "画面には若い女性が写っている。黒いポニーテールで、黒縁メガネを身に着けていて、音楽を聴いている。スタイルは写真。"


def test_korean_gets_sentences_with_the_right_particles():
    t5 = compose(KO, "flux").fields["t5xxl"]
    assert t5 == ("이미지에는 젊은 여성이 있다. 외모는 검은 포니테일이다. 검은 안경을 착용하고 있다. 음악을 듣고 있다. "
                  "스타일은 사진이다.")
    assert "，" not in t5 and "。" not in t5          # Korean punctuation is the Latin one
    t5 = compose({"주제": "고양이", "배경": "파란 벽"}, "flux").fields["t5xxl"]
    assert t5 == "이미지에는 고양이가 있다. 배경은 파란 벽이다."   # 고양이 ends in a vowel: 가; 벽 in a consonant: 이다


@pytest.mark.parametrize("word, final", [("여성", True), ("고양이", False), ("벽", True), ("사진", True), ("바다", False)])
def test_korean_final_consonant(word, final):
    assert _ko_final_consonant(word) is final


def test_non_english_input_warns_that_english_reads_better():
    assert any("English" in w for w in compose(KO, "flux").warnings)


def test_every_key_the_readme_lists_is_recognised():
    """README: "Japanese and Korean keys are recognised too (...)": each key it names maps to a slot."""
    import re
    from pathlib import Path

    from cliplens.compose.slots import SYNONYMS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"Japanese and Korean keys are recognised too \((.*?)\), and", readme, re.S).group(1)
    keys = [k.strip() for k in re.split(r"[,;/\n]", listed) if k.strip()]
    known = {syn for syns in SYNONYMS.values() for syn in syns}
    assert len(keys) >= 20 and not [k for k in keys if k not in known]
