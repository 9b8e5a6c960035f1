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

from .text import clean_phrase, extract_weights, has_cjk, split_phrases

#: canonical slots, in the order a person would describe a picture
SLOTS = ("subject", "objects", "appearance", "outfit", "action", "setting", "background", "colors", "style",
         "lighting", "camera", "mood", "quality", "details", "negative")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "subject": ("subject", "subjects", "character", "characters", "person", "people", "who", "main subject",
                "figure", "protagonist", "hero", "animal", "creature", "main", "main character", "focus",
                "主体", "人物", "主題", "被写体", "キャラクター", "인물", "주제"),
    "objects": ("objects", "object", "items", "item", "props", "prop", "elements", "things", "shapes", "entities"),
    "appearance": ("appearance", "looks", "look", "features", "physical", "physique", "body", "face", "hair",
                   "hairstyle", "hair style", "eyes", "eye", "skin", "makeup", "expression", "age", "build",
                   "外貌", "外見", "外観", "髪", "외모"),
    "outfit": ("outfit", "wearing", "wears", "clothes", "clothing", "attire", "dress", "costume", "wardrobe",
               "apparel", "garment", "garments", "accessories", "accessory", "服装", "衣装", "服", "의상"),
    "action": ("action", "actions", "pose", "poses", "activity", "doing", "gesture", "motion", "movement",
               "posture", "动作", "動作", "ポーズ", "행동"),
    "setting": ("setting", "scene", "location", "place", "environment", "where", "backdrop", "surroundings",
                "landscape", "venue", "场景", "背景设定", "場所", "シーン", "배경"),
    "background": ("background", "bg", "background color", "background colour", "背景"),
    "colors": ("colors", "colours", "color palette", "colour palette", "palette", "color scheme",
               "colour scheme", "颜色", "色"),
    "style": ("style", "styles", "medium", "art style", "artstyle", "aesthetic", "genre", "art", "technique",
              "art medium", "风格", "スタイル", "画風", "스타일"),
    "lighting": ("lighting", "light", "lights", "illumination", "光", "照明", "조명"),
    "camera": ("camera", "shot", "angle", "camera angle", "lens", "composition", "framing", "view",
               "perspective", "shot type", "viewpoint", "构图", "構図", "カメラ"),
    "mood": ("mood", "atmosphere", "emotion", "vibe", "feeling", "tone", "ambience", "ambiance", "气氛", "雰囲気"),
    "quality": ("quality", "quality tags", "resolution", "detail level", "画质", "品質"),
    "details": ("details", "detail", "description", "prompt", "text", "notes", "misc", "other", "extra", "extras",
                "tags", "keywords", "content", "info", "caption", "positive", "positive prompt"),
    "negative": ("negative", "negative prompt", "negatives", "avoid", "exclude", "excluded", "neg", "do not",
                 "dont", "don't", "without", "unwanted", "负面", "ネガティブ"),
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
        elif isinstance(data, (list, tuple, set, frozenset)):
            seq = sorted(data, key=str) if isinstance(data, (set, frozenset)) else data
            for v in seq:
                self.walk(v, slot or "details", key, depth + 1)
        else:
            self.leaf(key or "", data, slot or "details")


def structure(data: Any) -> Structured:
    """Slot a parsed prompt (dict/list/str). A plain string keeps its text for the T5 side.

    >>> structure({"objects": [{"shape": "star", "color": "red", "count": 2}]}).items[0].text
    'two red stars'
    """
    b = _Builder()
    if isinstance(data, str):
        b.out.plain_text = clean_phrase(data.replace("\n", ". "))
        phrases = split_phrases(data)
        for n, p in enumerate(phrases):
            p, w = extract_weights(p)
            b.out.weights.update(w)
            b.out.items.append(Item(p, "subject" if n == 0 else "details", group=n + 1))
        return b.out
    b.walk(data, None, None)
    return b.out
