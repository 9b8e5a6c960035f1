"""Prompt quality (issue 15): would a prompt writer keep what the composer and interrogator write?

Composer half (this file): 32 structured prompts written for this benchmark (not the test fixtures),
in the shapes people keep prompts in (flat JSON, nested appearance/outfit, counts, weather, units,
object lists, keyword strings with emphasis, Chinese keys), composed for flux (T5 sentences) and
sd15 (one CLIP text). It counts, over all outputs:

* ``bare_number_unit``: a bare number + noun-less unit ("3 count", "2 number") (goal 0);
* ``missing_article``: a singular count noun (from a list of common ones) whose noun phrase starts
  without a determiner, number or possessive in the T5 text, e.g. "wearing white headphone" or
  "This is 35mm film photo" (goal 0; a simple checker, see `missing_articles`);
* ``values_missing_t5``: structured values with a content word absent from the T5 text (goal 0);
* ``values_missing_clip``: the same for the CLIP text, values the composer reported as dropped
  (past the window) excepted (goal 0); ``values_dropped_clip`` says how many were dropped;
* ``t5_sentences_without_verb``: T5 sentences with no verb (fragments) (goal 0).

Interrogator half: `interrogate_metrics(quick)` from benchmarks/interrogate_quality.py (C1), merged
under ``interrogate`` (skip it with --no-interrogate).

    python benchmarks/prompt_quality.py --quick      # one JSON line at the end
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

PROMPTS: list[Any] = [
    {"subject": "castle", "count": 3, "setting": "misty valley", "style": "oil painting"},
    {"subject": "lighthouse", "weather": "rain", "time of day": "dusk", "style": "35mm film photo"},
    {"character": "old fisherman", "appearance": {"beard": "white", "eyes": "grey"}, "outfit": "yellow raincoat",
     "action": "mending a net", "details": "wooden boat"},
    {"Character": "young woman", "Appearance": {"hair": "red curly hair"},
     "wearing": "white wireless headphone, denim jacket", "Action": "sitting on wooden bench, reading book",
     "style": "professional real photo"},
    {"subject": "robot", "count": "two", "action": "playing chess", "setting": "library", "lighting": "warm lamp light"},
    {"objects": [{"shape": "cube", "color": "red", "size": "large"}, {"shape": "sphere", "color": "blue", "count": 2}],
     "background": "white", "style": "3d render"},
    {"subject": "fox", "setting": "snowy forest", "weather": "snow", "camera": "close-up", "mood": "calm"},
    {"subject": "astronaut", "outfit": "orange spacesuit, helmet", "action": "floating above earth",
     "style": "8k wallpaper"},
    {"main character": "knight", "appearance": {"age": 40}, "outfit": ["silver armor", "red cape", "leather boot"],
     "action": "riding horse", "setting": "battlefield"},
    {"subject": "cat", "details": "blue collar", "setting": "windowsill", "lighting": "morning sunlight",
     "style": "watercolor"},
    {"subject": "chef", "outfit": "white apron, tall hat", "action": "tossing pizza dough", "setting": "busy kitchen"},
    {"subject": "dragon", "appearance": {"scales": "emerald", "wings": "huge"}, "action": "breathing fire",
     "background": "stormy sky", "style": "fantasy illustration"},
    {"subject": "child", "outfit": "yellow boot, raincoat", "action": "jumping in puddle", "weather": "rain"},
    {"subject": "bicycle", "count": 4, "setting": "canal bridge", "style": "35mm film photo", "mood": "nostalgic"},
    {"subject": "violinist", "action": "playing on stage", "lighting": "spotlight", "camera": "wide shot",
     "details": "grand piano"},
    {"subject": "teapot", "appearance": {"material": "porcelain", "pattern": "floral"}, "setting": "wooden table",
     "style": "still life painting"},
    {"subject": "surfer", "action": "riding wave", "weather": "sun", "camera": "low angle", "quality": "high"},
    {"subject": "owl", "count": 2, "setting": "oak branch", "time of day": "night", "style": "charcoal drawing"},
    {"subject": "man", "appearance": {"beard": "black", "hair": "short"}, "outfit": "grey suit, red tie",
     "action": "holding umbrella", "weather": "rain"},
    {"subject": "market stall", "details": "ripe mango, wicker basket", "setting": "street market",
     "lighting": "golden hour"},
    {"subject": "girl", "outfit": "school uniform, white sock", "action": "waiting at bus stop", "style": "anime"},
    {"subject": "hot air balloon", "count": 5, "setting": "desert canyon", "time of day": "sunrise"},
    {"subject": "skateboarder", "action": "grinding rail", "camera": "fisheye lens", "style": "film photo"},
    {"subject": "wolf", "action": "howling at moon", "setting": "frozen lake", "weather": "fog"},
    "a cat, (glasses:1.2), [blue], masterpiece",
    "red fox, snowy forest, watercolor painting, soft light, best quality",
    "(portrait of an old sailor:1.3), white beard, pipe, oil painting, dramatic lighting",
    {"角色": "日本年轻女性", "外貌": "黑色马尾辫，黑框眼镜", "服装": "白色无线耳机", "动作": "听音乐，坐在白色地毯上",
     "风格": "专业真实照片"},
    {"角色": "老人", "动作": "在公园下棋", "场景": "秋天的公园", "光线": "柔和的午后阳光", "风格": "胶片摄影"},
    {"主体": "小猫", "颜色": "橙色和白色", "背景": "木地板", "构图": "特写", "表情": "好奇"},
    {"subject": "train", "setting": "mountain pass", "weather": "snow", "camera": "aerial view",
     "style": "oil painting", "negative": "blurry, lowres"},
    {"subject": "dancer", "outfit": "red dress, silver earring", "action": "spinning on stage",
     "lighting": "stage lights", "style": "35mm film photo"},
]

SINGULAR_COUNT_NOUNS = {
    "castle", "lighthouse", "photo", "painting", "fisherman", "net", "boat", "raincoat", "woman", "man", "bench",
    "book", "jacket", "headphone", "robot", "library", "cube", "sphere", "render", "fox", "forest", "astronaut",
    "spacesuit", "helmet", "knight", "cape", "boot", "horse", "battlefield", "cat", "collar", "windowsill",
    "chef", "apron", "hat", "kitchen", "dragon", "sky", "illustration", "child", "puddle", "bicycle", "bridge",
    "violinist", "stage", "piano", "teapot", "table", "surfer", "wave", "owl", "branch", "drawing", "suit", "tie",
    "umbrella", "stall", "mango", "basket", "market", "girl", "uniform", "sock", "stop", "balloon", "canyon",
    "skateboarder", "rail", "lens", "wolf", "moon", "lake", "carpet", "beard", "dress", "earring", "train", "pass",
    "dancer", "wallpaper", "glove", "shoe", "sailor", "pipe", "portrait",
}
DETERMINERS = {"a", "an", "the", "this", "that", "his", "her", "their", "its", "my", "your", "our", "one", "two",
               "three", "four", "five", "six", "seven", "eight", "nine", "ten", "each", "every", "some", "no", "another"}
FUNCTION_WORDS = {"is", "are", "was", "were", "with", "and", "or", "on", "in", "at", "of", "by", "to", "from", "under",
                  "over", "above", "near", "wearing", "features", "includes", "shows", "holding", "riding", "reading",
                  "playing", "mending", "tossing", "breathing", "jumping", "waiting", "grinding", "howling", "sitting",
                  "floating", "spinning", "set", "against", "there", "also", "it", "she", "he", "they", "as", "for"}
#: set phrases that take no article in English ("playing on stage"): not counted as missing articles
IDIOMS = {"on stage", "at home", "in bed", "on fire", "at sea", "by hand", "at school", "at work", "in town"}
_BARE_UNIT = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten) (count|number|quantity|amount|"
                        r"total|pieces?|items?)\b", re.I)
_VERB = re.compile(r"\b(is|are|was|were|has|have|shows|includes|features|\w+ing)\b", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")


def missing_articles(text: str) -> list[str]:
    """Singular count nouns whose noun phrase has no determiner ("wearing white headphone").

    Walks back from the noun over its modifiers to the first function word or sentence/comma
    boundary; the word there must be a determiner (or a possessive "'s"). A noun followed by
    another word of its phrase ("castle walls") is not checked.
    """
    out = []
    for sent in re.split(r"[.!?;,]", text):
        words = re.findall(r"[A-Za-z0-9']+", sent)
        low = [w.lower() for w in words]
        for i, w in enumerate(low):
            if w not in SINGULAR_COUNT_NOUNS:
                continue
            if i + 1 < len(low) and low[i + 1] not in FUNCTION_WORDS and low[i + 1] not in DETERMINERS:
                continue  # a compound ("film photo" is checked at "photo", "castle walls" not at "castle")
            j = i - 1
            while j >= 0 and low[j] not in FUNCTION_WORDS and low[j] not in DETERMINERS and not low[j].endswith("'s"):
                j -= 1
            if (j < 0 or low[j] in FUNCTION_WORDS) and " ".join(low[max(0, j):i + 1]) not in IDIOMS:
                out.append(" ".join(words[max(0, j):i + 1]))
    return out


def _leaves(data: Any, key: str = "") -> list[str]:
    """Every text value of a structured prompt (parameters and negatives left out)."""
    if isinstance(data, dict):
        out = []
        for k, v in data.items():
            if str(k).lower() in ("negative", "count", "number", "age"):
                continue
            out.extend(_leaves(v, str(k)))
        return out
    if isinstance(data, list):
        return [x for v in data for x in _leaves(v, key)]
    if isinstance(data, str):
        from cliplens.text.phrases import split_phrases

        return split_phrases(data)
    return []


def _content_words(value: str) -> list[str]:
    if _CJK.search(value):
        return [value]
    stop = {"a", "an", "the", "of", "on", "in", "at", "and", "with", "to", "high"}
    return [w for w in re.findall(r"[a-z0-9']+", value.lower()) if w not in stop]


def _present(word: str, text: str) -> bool:
    if _CJK.search(word):
        return word in text
    stem = word.rstrip("s")
    return bool(re.search(rf"\b{re.escape(stem)}(s|es)?\b", text.lower())) or word in text.lower()


def composer_metrics() -> dict[str, Any]:
    """The composer figures described in the module doc, with the offending outputs listed."""
    from cliplens.compose import compose

    bare, articles, miss_t5, miss_clip, dropped, no_verb = [], [], [], [], 0, []
    t0 = time.perf_counter()
    for n, p in enumerate(PROMPTS):
        raw = p if isinstance(p, str) else json.dumps(p, ensure_ascii=False)
        flux = compose(raw, "flux")
        sd15 = compose(raw, "sd15")
        t5, clip = flux.fields["t5xxl"], sd15.fields["text"]
        for text in (t5, clip, flux.fields["clip_l"]):
            bare += [f"#{n}: {m.group(0)}" for m in _BARE_UNIT.finditer(text)]
        articles += [f"#{n}: {a}" for a in missing_articles(t5)]
        if not _CJK.search(t5):
            no_verb += [f"#{n}: {s}" for s in re.split(r"(?<=[.!?])\s+", t5) if s and not _VERB.search(s)]
        values = _leaves(p) if not isinstance(p, str) else _leaves(p)
        gone = " ".join(sd15.dropped.get("text", []))
        dropped += len(sd15.dropped.get("text", []))
        for v in values:
            words = _content_words(v)
            if not all(_present(w, t5) for w in words):
                miss_t5.append(f"#{n}: {v}")
            if not all(_present(w, clip) for w in words) and not all(_present(w, gone) for w in words):
                miss_clip.append(f"#{n}: {v}")
    ms = 1000 * (time.perf_counter() - t0) / (2 * len(PROMPTS))
    return {"prompts": len(PROMPTS), "bare_number_unit": len(bare), "missing_article": len(articles),
            "values_missing_t5": len(miss_t5), "values_missing_clip": len(miss_clip), "values_dropped_clip": dropped,
            "t5_sentences_without_verb": len(no_verb), "ms_per_compose": round(ms, 2),
            "examples": {"bare_number_unit": bare[:5], "missing_article": articles[:5], "values_missing_t5": miss_t5[:5],
                         "values_missing_clip": miss_clip[:5], "t5_sentences_without_verb": no_verb[:5]}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="quick interrogator half (40 renders, short chains)")
    ap.add_argument("--no-interrogate", action="store_true", help="composer half only (seconds, no model)")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"benchmark": "prompt_quality", "quick": bool(args.quick),
                           "composer": composer_metrics()}
    c = out["composer"]
    print(f"composer, {c['prompts']} prompts: bare number+unit {c['bare_number_unit']}, missing articles "
          f"{c['missing_article']}, values missing from T5 {c['values_missing_t5']}, from CLIP "
          f"{c['values_missing_clip']} (dropped past the window: {c['values_dropped_clip']})", file=sys.stderr)
    if not args.no_interrogate:
        try:
            from benchmarks.interrogate_quality import interrogate_metrics
        except ImportError as exc:  # C1's half not in this tree
            out["interrogate"] = {"skipped": f"benchmarks/interrogate_quality.py not importable: {exc}"}
        else:
            out["interrogate"] = interrogate_metrics(quick=args.quick)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
