"""Nested prompt data -> an ordered list of `Item`s, each tagged with a canonical slot.

Keys are matched in any case and spelling (``Character``, ``main_character``, ``outfitDetails``)
against synonym lists; a nested key that names a slot overrides its parent's slot, any other
nested key inherits it. Short values under noun keys keep their connection to the key
(``{"hair": "black"}`` -> "black hair", ``{"background": "navy"}`` -> "navy background"), and
dicts describing an object (shape/colour/size/position/count) become one noun phrase.

    >>> s = structure({"Character": "woman", "Appearance": {"hair": "black", "wearing": "glasses"}})
    >>> [(i.slot, i.text) for i in s.items]
    [('subject', 'woman'), ('appearance', 'black hair'), ('outfit', 'glasses')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..text.phrases import clean_phrase, extract_weights, split_phrases
from .text import has_cjk

#: canonical slots, in the order a person would describe a picture
SLOTS = ("subject", "objects", "appearance", "outfit", "action", "setting", "background", "colors", "style",
         "lighting", "camera", "mood", "quality", "details", "negative")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "subject": ("subject", "subjects", "character", "characters", "person", "people", "who", "main subject",
                "figure", "protagonist", "hero", "animal", "creature", "main", "main character", "focus",
                "主体", "人物", "主題", "被写体", "キャラクター", "인물", "주제", "角色", "主角", "对象", "主题", "人物角色",
                "キャラ", "主人公", "登場人物", "캐릭터", "주인공", "대상", "피사체"),
    "objects": ("objects", "object", "items", "item", "props", "prop", "elements", "things", "shapes", "entities",
                "物体", "物品", "元素", "道具"),
    "appearance": ("appearance", "looks", "look", "features", "physical", "physique", "body", "face", "hair",
                   "hairstyle", "hair style", "eyes", "eye", "skin", "makeup", "expression", "age", "build",
                   "外貌", "外見", "外観", "髪", "외모", "外观", "长相", "发型", "头发", "眼睛", "表情", "妆容", "年龄", "身材",
                   "肤色", "五官", "髪型", "髪の毛", "目", "顔", "容姿", "見た目", "年齢", "体型", "머리", "머리카락", "헤어",
                   "헤어스타일", "눈", "얼굴", "표정", "나이", "체형", "피부"),
    "outfit": ("outfit", "wearing", "wears", "clothes", "clothing", "attire", "dress", "costume", "wardrobe",
               "apparel", "garment", "garments", "accessories", "accessory", "服装", "衣装", "服", "의상", "衣服", "穿着",
               "着装", "配饰", "饰品", "服饰", "服装・小物", "着用", "アクセサリー", "小物", "옷",
               "착용", "복장", "액세서리", "패션"),
    "action": ("action", "actions", "pose", "poses", "activity", "doing", "gesture", "motion", "movement",
               "posture", "动作", "動作", "ポーズ", "행동", "姿势", "姿态", "行为", "活动", "行動", "しぐさ",
               "동작", "포즈", "자세", "활동"),
    "setting": ("setting", "scene", "location", "place", "environment", "where", "backdrop", "surroundings",
                "landscape", "venue", "weather", "time of day", "season", "场景", "背景设定", "場所", "シーン", "環境", "天気",
                "季節", "장소", "환경", "장면", "날씨", "계절",
                "地点", "环境", "位置", "天气", "时间", "季节"),
    "background": ("background", "bg", "background color", "background colour", "背景", "背景色", "배경", "배경색"),
    "colors": ("colors", "colours", "color palette", "colour palette", "palette", "color scheme",
               "colour scheme", "颜色", "色", "色彩", "色调", "配色", "色調", "カラー", "색", "색상", "색감"),
    "style": ("style", "styles", "medium", "art style", "artstyle", "aesthetic", "genre", "art", "technique",
              "art medium", "风格", "スタイル", "画風", "스타일", "画风", "艺术风格", "媒介", "类型", "タッチ", "화풍",
              "장르"),
    "lighting": ("lighting", "light", "lights", "illumination", "光", "照明", "조명", "光线", "光照", "灯光", "ライティング",
                 "光源", "빛"),
    "camera": ("camera", "shot", "angle", "camera angle", "lens", "composition", "framing", "view",
               "perspective", "shot type", "viewpoint", "构图", "構図", "カメラ", "镜头", "视角", "角度", "景别", "机位", "アングル",
               "視点", "구도", "카메라", "앵글", "시점"),
    "mood": ("mood", "atmosphere", "emotion", "vibe", "feeling", "tone", "ambience", "ambiance", "气氛", "雰囲気", "氛围", "情绪",
             "ムード", "분위기", "감정",
             "感觉"),
    "quality": ("quality", "quality tags", "resolution", "detail level", "画质", "品質", "质量", "品质", "画質", "품질",
                "화질"),
    "details": ("details", "detail", "description", "prompt", "text", "notes", "misc", "other", "extra", "extras",
                "tags", "keywords", "content", "info", "caption", "positive", "positive prompt", "细节", "描述", "其他",
                "备注", "内容", "标签", "关键词", "詳細", "説明", "その他", "タグ", "キーワード", "세부", "설명", "기타", "태그",
                "키워드"),
    "negative": ("negative", "negative prompt", "negatives", "avoid", "exclude", "excluded", "neg", "do not",
                 "dont", "don't", "without", "unwanted", "负面", "ネガティブ", "负面提示词", "反向提示词", "避免", "不要",
                 "ネガティブプロンプト", "除外", "부정", "네거티브", "제외"),
}
_LOOKUP = {syn: slot for slot, syns in SYNONYMS.items() for syn in syns}

#: keys whose short values read as "<value> <key>" ("black" + hair -> "black hair")
NOUN_KEYS = {"hair", "eyes", "eye", "skin", "face", "makeup", "expression", "background", "bg", "lighting", "light",
             "shot", "angle", "lens", "hat", "shirt", "jacket", "dress", "shoes", "pants", "skirt", "coat", "beard",
             "lips", "nails", "sky", "weather", "floor", "wall", "walls", "water", "car", "tree", "trees", "clouds",
             "texture", "pattern", "material", "fur", "feathers", "wings", "glasses", "bag", "scarf",
             "time", "season", "body", "build", "palette", "tone"}
_QUALITY_LEVELS = {"high", "low", "best", "ultra", "top", "good", "great", "max", "maximum", "medium", "ultra high",
                   "very high", "highest", "normal", "worst"}
_KEY_ALIASES = {"bg": "background", "bg color": "background color", "bg colour": "background colour"}
#: attribute keys of a noun: {"background": {"color": "navy"}} -> "navy background"
NOUN_ATTRS = {"color", "colour", "style", "type", "length", "size", "shape", "material", "texture", "pattern", "shade",
              "tone", "cut", "kind", "hue"}
#: generation parameters: kept aside (ComfyUI nodes use some of them), never text
PARAM_KEYS = {"seed", "steps", "cfg", "cfg scale", "guidance", "guidance scale", "sampler", "scheduler", "width",
              "height", "model", "checkpoint", "lora", "loras", "denoise", "batch size", "aspect ratio", "ar",
              "clip skip", "vae", "size px", "resolution px", "crop w", "crop h", "target width", "target height"}
#: keys that make a dict an object description (noun + attributes)
OBJECT_NOUN_KEYS = ("shape", "object", "noun", "kind", "type", "item", "what", "thing", "category", "name", "species")
OBJECT_ATTR_KEYS = {
    "count": ("count", "number", "quantity", "amount", "n", "how many"),
    "size": ("size", "scale"),
    "color": ("color", "colour", "colors", "colours", "hue"),
    "material": ("material", "texture", "pattern", "finish"),
    "position": ("position", "location", "where", "placement", "pos", "place", "at"),
}
_OBJ_ATTR = {syn: attr for attr, syns in OBJECT_ATTR_KEYS.items() for syn in syns}
COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
               10: "ten"}
_WORD_COUNTS = {v: k for k, v in COUNT_WORDS.items()}
_PLURAL_IRREGULAR = {"man": "men", "woman": "women", "person": "people", "child": "children", "mouse": "mice",
                     "foot": "feet", "tooth": "teeth", "goose": "geese", "leaf": "leaves", "knife": "knives",
                     "wolf": "wolves", "fish": "fish", "sheep": "sheep", "deer": "deer", "cactus": "cacti"}
_POSITION_PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
                     "center": "in the center", "centre": "in the centre", "middle": "in the middle",
                     "foreground": "in the foreground", "background": "in the background",
                     "top left": "at the top left", "top right": "at the top right",
                     "bottom left": "at the bottom left", "bottom right": "at the bottom right",
                     "upper left": "at the upper left", "upper right": "at the upper right",
                     "lower left": "at the lower left", "lower right": "at the lower right"}
#: weather nouns -> the adjective a prompt writer uses ("rain" -> "rainy weather", never "a rain weather")
WEATHER_ADJECTIVES = {"rain": "rainy", "snow": "snowy", "fog": "foggy", "sun": "sunny", "cloud": "cloudy",
                      "clouds": "cloudy", "storm": "stormy", "thunderstorm": "stormy", "wind": "windy", "mist": "misty",
                      "haze": "hazy", "drizzle": "drizzly", "frost": "frosty", "ice": "icy", "thunder": "stormy",
                      "sunshine": "sunny", "overcast": "overcast", "clear": "clear", "blizzard": "snowy"}
#: things worn or seen in pairs: a singular head ("white wireless headphone") reads as a mistake
PAIR_NOUNS = {"headphone": "headphones", "earphone": "earphones", "earbud": "earbuds", "glove": "gloves",
              "sock": "socks", "shoe": "shoes", "boot": "boots", "sneaker": "sneakers", "earring": "earrings",
              "sandal": "sandals", "slipper": "slippers", "legging": "leggings", "stocking": "stockings",
              "trouser": "trousers", "jean": "jeans", "mitten": "mittens", "heel": "heels", "pant": "pants",
              "goggle": "goggles", "sunglass": "sunglasses", "eyeglass": "eyeglasses"}
_COUNT_KEYS = {"count", "number", "quantity", "amount", "how many", "n"}
_STOP_AT = {"in", "on", "at", "under", "above", "below", "behind", "beside", "near", "with", "wearing", "holding",
            "who", "that", "which", "and", "of", "from", "by", "over", "inside", "next"}
PREPOSITIONS = ("in", "on", "at", "under", "above", "below", "behind", "beside", "near", "inside", "outside",
                "over", "by", "next", "among", "between", "within", "across", "along", "through", "around", "atop")


@dataclass
class Item:
    """One phrase of the prompt: its text, canonical slot, the key it came from, and grammar hints."""

    text: str
    slot: str
    key: str | None = None
    weight: float | None = None
    group: int = 0            # items split from one value share a group (a list gives one group per entry)
    plural: bool = False      # object phrases built with a count > 1
    is_object: bool = False   # built by the object builder (article may be added)


@dataclass
class Structured:
    """A prompt after parsing and slotting: `items` in input order, generation `params`, plain-text flag."""

    items: list[Item] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    plain_text: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    #: plain text that is a list of keywords ("a cat, glasses, masterpiece"): T5 gets a sentence built from them
    keyword_list: bool = False

    def slot(self, name: str) -> list[Item]:
        """Items of one slot, in input order."""
        return [i for i in self.items if i.slot == name]

    def values(self) -> list[str]:
        """Every phrase text (for checks that nothing was lost)."""
        return [i.text for i in self.items]


def norm_key(key: Any) -> str:
    """'mainCharacter' / 'main_character' / 'Main-Character' -> 'main character'."""
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(key))
    s = re.sub(r"[_\-./]+", " ", s).lower()
    return clean_phrase(s).replace(",", " ").strip()


def slot_for_key(key: str) -> str | None:
    """Canonical slot of a normalised key, or None when it names no slot."""
    if not key:
        return None
    words = key.split(" ")
    for cand in (key, key.rstrip("s")):
        if cand in _LOOKUP:
            return _LOOKUP[cand]
    last, first = _LOOKUP.get(words[-1]), _LOOKUP.get(words[0])
    if last == "details" and first:  # "outfit details" is about the outfit
        return first
    return last or first


def pluralise(noun: str) -> str:
    """English plural of the last word of `noun` ('red cross' -> 'red crosses')."""
    head, _, last = noun.rpartition(" ")
    low = last.lower()
    if low in _PLURAL_IRREGULAR:
        p = _PLURAL_IRREGULAR[low]
    elif re.search(r"(s|x|z|ch|sh)$", low):
        p = last + "es"
    elif re.search(r"[^aeiou]y$", low):
        p = last[:-1] + "ies"
    else:
        p = last + "s"
    return f"{head} {p}".strip()


def pluralise_phrase(text: str) -> str:
    """Plural of a noun phrase's head: 'castle on a hill' -> 'castles on a hill'.

    >>> pluralise_phrase("red castle on a hill")
    'red castles on a hill'
    """
    words = text.split()
    for i, w in enumerate(words):
        if i and w.lower() in _STOP_AT:
            return " ".join([pluralise(" ".join(words[:i])), *words[i:]])
    return pluralise(text)


def count_of(value: Any) -> int | None:
    """3, "3", "three" -> 3; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and 0 < value < 1e6:
        return int(value)
    v = str(value).strip().lower()
    if v.isascii() and v.isdigit() and len(v) < 7:
        return int(v)
    return _WORD_COUNTS.get(v)


def with_count(text: str, n: int) -> str:
    """'castle', 3 -> 'three castles' (a number word up to ten, digits beyond; 1 leaves the noun as it is)."""
    words = text.split()
    if not words or n == 1:
        return text
    if words[0].lower() in ("a", "an", "the", "one"):
        text = " ".join(words[1:])
    return f"{COUNT_WORDS.get(n, str(n))} {pluralise_phrase(text)}"


def fix_pair_noun(text: str) -> str:
    """'white wireless headphone' -> 'white wireless headphones' (pairs are plural in English)."""
    words = text.split()
    for i, w in enumerate(words):
        low = w.lower()
        if i and low in _STOP_AT:
            break
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        if low in PAIR_NOUNS and (not nxt or nxt in _STOP_AT) and (i == 0 or words[i - 1].lower() not in ("a", "an",
                                                                                                        "one")):
            words[i] = PAIR_NOUNS[low]
    return " ".join(words)


def position_phrase(value: str) -> str:
    """'left' -> 'on the left'; phrases that already start with a preposition stay as they are."""
    v = clean_phrase(value)
    low = v.lower()
    if low in _POSITION_PHRASES:
        return _POSITION_PHRASES[low]
    if low.split(" ")[0] in PREPOSITIONS or has_cjk(v):
        return v
    return f"at the {v}" if v else ""


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_phrase(str(value))


def _combine(key: str, value: str) -> str:
    """Keep a short value connected to its noun key: ('hair', 'black') -> 'black hair'."""
    if not key or has_cjk(key) or has_cjk(value):
        return value
    if key in ("lighting", "light", "lights") and re.search(r"(light|lights|lighting|lit|glow|lamp|sun|shadows?)$",
                                                             value.lower()):
        return value  # "morning sunlight" stays; never "morning sunlight lighting"
    if key == "quality":  # "high" -> "high quality", but "masterpiece" stays
        return f"{value} quality" if value.lower() in _QUALITY_LEVELS else value
    key = _KEY_ALIASES.get(key, key)
    words = value.lower().split()
    kwords = key.split()
    if len(kwords) == 2 and kwords[0] in NOUN_KEYS and kwords[1] in NOUN_ATTRS and len(words) <= 2:
        key, kwords = kwords[0], kwords[:1]  # "background color": "navy" -> "navy background"
    if len(words) > 2 or len(kwords) > 2 or kwords[-1] not in NOUN_KEYS and not _is_free_noun(key):
        return value
    if any(k.rstrip("s") in (w.rstrip("s") for w in words) for k in kwords):
        return value
    return f"{value} {key}"


def _is_free_noun(key: str) -> bool:
    """An unknown, word-like key (no slot) is treated as a noun: {'car': 'red'} -> 'red car'."""
    return slot_for_key(key) is None and bool(re.fullmatch(r"[a-z][a-z ]{1,24}", key)) and key not in PARAM_KEYS


def _looks_like_object(d: dict) -> bool:
    keys = {norm_key(k) for k in d}
    return any(k in OBJECT_NOUN_KEYS for k in keys) and any(k in _OBJ_ATTR for k in keys)


class _Builder:
    def __init__(self) -> None:
        self.out = Structured()
        self.groups = 0

    def add(self, text: str, slot: str, key: str | None, **kw: Any) -> None:
        text, weights = extract_weights(text)
        self.out.weights.update(weights)
        self.groups += 1
        for phrase in split_phrases(text):
            self.out.items.append(Item(phrase, slot, key, weights.get(phrase.lower()), self.groups, **kw))

    def leaf(self, key: str, value: Any, slot: str) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            if value and key and slot_for_key(key) is None:
                self.add(key, slot, key)
            return
        if isinstance(value, str):  # keep (word:1.2) weights before cleaning strips the brackets
            value, weights = extract_weights(value)
            self.out.weights.update(weights)
        if key == "age" and isinstance(value, (int, float)):
            self.add(f"{_scalar_text(value)} years old", slot, key)
            return
        text = _scalar_text(value)
        if not text:
            return
        if key == "weather" and text.lower() in WEATHER_ADJECTIVES:
            text = WEATHER_ADJECTIVES[text.lower()]
        if "," not in text and slot != "negative":
            text = _combine(key, text) if key else text
        self.add(text, slot, key)

    def object_phrase(self, d: dict, slot: str) -> dict:
        """Build one noun phrase from an object dict; returns the keys it did not use."""
        attrs: dict[str, str] = {}
        noun = ""
        rest: dict = {}
        for k, v in d.items():
            nk = norm_key(k)
            if nk in OBJECT_NOUN_KEYS and not noun and not isinstance(v, (dict, list)):
                noun = _scalar_text(v)
            elif nk in _OBJ_ATTR and _OBJ_ATTR[nk] not in attrs and not isinstance(v, dict):
                v = ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v
                attrs[_OBJ_ATTR[nk]] = _scalar_text(v) if not isinstance(v, bool) else ""
            else:
                rest[k] = v
        if not noun:
            return d
        count = 1
        c = attrs.get("count", "")
        if c.isdigit():
            count = int(c)
        elif c.lower() in _WORD_COUNTS:
            count = _WORD_COUNTS[c.lower()]
        words = []
        if count > 1:
            words.append(COUNT_WORDS.get(count, str(count)))
        for a in ("size", "color", "material"):
            if attrs.get(a):
                words.append(attrs[a].replace(",", " and") if a == "color" else attrs[a].replace(",", ""))
        words.append(pluralise(noun) if count > 1 else noun)
        if attrs.get("position"):
            words.append(position_phrase(attrs["position"]))
        phrase = clean_phrase(" ".join(w for w in words if w)).replace(",", "")
        if phrase:
            self.groups += 1
            self.out.items.append(Item(phrase, slot, "object", None, self.groups, plural=count > 1, is_object=True))
        return rest

    def walk(self, data: Any, slot: str | None, key: str | None, depth: int = 0) -> None:
        if depth > 40:  # deeper than any real prompt; refuse silently rather than recurse forever
            return
        if isinstance(data, dict):
            if _looks_like_object(data):
                data = self.object_phrase(data, slot or "subject")
            count, first = None, len(self.out.items)
            for k, v in data.items():  # {"subject": "castle", "count": 3} -> "three castles", never "3 count"
                if norm_key(k) in _COUNT_KEYS and count_of(v) is not None:
                    count = count_of(v)
                    data = {kk: vv for kk, vv in data.items() if kk is not k}
                    break
            self._walk_dict(data, slot, key, depth)
            if count is not None:
                self._apply_count(first, count)
        elif isinstance(data, (list, tuple, set, frozenset)):
            seq = sorted(data, key=str) if isinstance(data, (set, frozenset)) else data
            for v in seq:
                self.walk(v, slot or "details", key, depth + 1)
        else:
            self.leaf(key or "", data, slot or "details")

    def _apply_count(self, first: int, count: int) -> None:
        """Put `count` on the first subject/object phrase added since item `first` (else the first phrase)."""
        new = self.out.items[first:]
        it = next((i for i in new if i.slot in ("subject", "objects")), new[0] if new else None)
        if it is None or has_cjk(it.text) or count_of(it.text.split()[0]) is not None:
            return
        it.text = with_count(it.text, count)
        it.plural = count > 1

    def _walk_dict(self, data: dict, slot: str | None, key: str | None, depth: int) -> None:
        """Each key's value goes to the key's slot (or inherits the parent's)."""
        for k, v in data.items():
            nk = norm_key(k)
            if nk in PARAM_KEYS and not isinstance(v, (dict, list)):
                self.out.params[nk] = v
                continue
            child = slot_for_key(nk)
            if slot == "negative":
                child = "negative"
            if key in NOUN_KEYS and nk in NOUN_ATTRS and slot:
                # {"hair": {"color": "black"}} -> "black hair" (an attribute of the parent noun)
                self.walk(v, slot, key, depth + 1)
                continue
            target = child or slot or "details"
            # the key travels with the value; `_combine` decides if it reads as a noun ("hair": "black")
            self.walk(v, target, nk, depth + 1)


_VERBISH = re.compile(r"\b(is|are|was|were|has|have|had|does|do|did|will|can|shows|stands|sits|there)\b", re.I)
COLOR_WORDS = {"red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown", "black", "white",
               "gray", "grey", "cyan", "magenta", "teal", "gold", "golden", "silver", "beige", "pastel", "monochrome",
               "turquoise", "navy", "crimson", "maroon", "lavender", "indigo", "amber", "ivory", "colorful",
               "colourful", "vibrant", "muted", "neon", "dark", "light", "bright", "warm", "cool", "and", "tones",
               "colors", "colours", "palette", "sepia"}
QUALITY_WORDS = {"masterpiece", "best quality", "high quality", "highly detailed", "ultra detailed", "detailed",
                 "4k", "8k", "uhd", "hd", "hdr", "sharp focus", "intricate details", "intricate", "high resolution",
                 "absurdres", "highres", "ultra high res", "award winning", "trending on artstation", "sharp",
                 "8k uhd", "4k uhd", "high detail", "extremely detailed", "very detailed", "low quality",
                 "worst quality"}
_STYLE_RE = re.compile(r"\b(style|art|painting|photo|photograph|photography|render|rendering|illustration|anime|"
                       r"manga|sketch|drawing|watercolou?r|oil|cinematic|photorealistic|realistic|film|pixel|"
                       r"cartoon|comic|3d|digital|concept|vector|impressionism|surrealism|ukiyo-e|minimalism|"
                       r"minimalist|baroque|vaporwave|cyberpunk|steampunk|low poly|isometric)\b", re.I)
_LIGHT_RE = re.compile(r"\b(light|lights|lighting|lit|glow|glowing|backlit|shadows?|rim light|golden hour|"
                       r"volumetric|chiaroscuro)\b", re.I)
_CAMERA_RE = re.compile(r"\b(close-?up|closeup|wide[- ]angle|wide shot|full body|full-body|bokeh|depth of field|"
                        r"aerial|from above|from below|low angle|high angle|portrait shot|macro|telephoto|fisheye|"
                        r"\d+mm lens|top view|side view|front view)\b", re.I)


def is_keyword_list(phrases: list[str]) -> bool:
    """True for a comma list of short keywords ("a cat, glasses, blue, masterpiece"), not for prose.

    >>> is_keyword_list(["a cat", "glasses", "masterpiece"]), is_keyword_list(["A cat is sitting on the sofa"])
    (True, False)
    """
    if len(phrases) < 2 or any(has_cjk(p) for p in phrases):
        return False
    return all(len(p.split()) <= 6 and not _VERBISH.search(p) for p in phrases)


def keyword_slot(phrase: str) -> str | None:
    """The slot a bare keyword belongs to (colors, quality, style, lighting, camera), or None (a thing).

    >>> keyword_slot("blue"), keyword_slot("masterpiece"), keyword_slot("oil painting"), keyword_slot("cat")
    ('colors', 'quality', 'style', None)
    """
    low = phrase.lower().strip()
    words = low.split()
    if low in QUALITY_WORDS:
        return "quality"
    if words and all(w in COLOR_WORDS for w in words) and not all(w == "and" for w in words):
        return "colors"
    if _CAMERA_RE.search(low):
        return "camera"
    if _LIGHT_RE.search(low):
        return "lighting"
    if _STYLE_RE.search(low):
        return "style"
    return None


def structure(data: Any) -> Structured:
    """Slot a parsed prompt (dict/list/str). A plain string keeps its text for the T5 side.

    >>> structure({"objects": [{"shape": "star", "color": "red", "count": 2}]}).items[0].text
    'two red stars'
    """
    b = _Builder()
    if isinstance(data, str):
        _, weights = extract_weights(data)
        b.out.weights.update(weights)
        b.out.plain_text = clean_phrase(data.replace("\n", ". "))
        phrases = split_phrases(data)
        b.out.keyword_list = is_keyword_list(phrases)
        have_subject = False
        for n, p in enumerate(phrases):
            slot = keyword_slot(p) if b.out.keyword_list else None
            if slot is None:
                slot = "details" if have_subject else "subject"
            have_subject = have_subject or slot == "subject"
            b.out.items.append(Item(p, slot, weight=weights.get(p.lower()), group=n + 1))
        return b.out
    b.walk(data, None, None)
    for it in b.out.items:
        if it.slot in ("outfit", "appearance", "objects", "subject", "details"):
            it.text = fix_pair_noun(it.text)
    return b.out
