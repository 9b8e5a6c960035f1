"""Slotted prompt -> natural sentences for T5 (the language expert of Flux and SD3).

Deterministic templates that read like a person wrote them: the subject first with a correct
article, appearance and outfit joined with commas and "and", actions as a second sentence with
a pronoun when the subject is a person, setting/lighting/camera/mood sentences, and the style as
a closing sentence. Chinese/Japanese/Korean text keeps its own punctuation and gets no articles.

    >>> from cliplens.compose.slots import structure
    >>> realise(structure({"subject": "young woman", "outfit": "red coat", "action": "walking a dog",
    ...                    "style": "film photo"}))
    'A young woman is wearing a red coat. She is walking a dog. This is a film photo.'
"""
from __future__ import annotations

import re

from .slots import PREPOSITIONS, Item, Structured
from .text import article_for, capitalise, cjk_ratio, has_cjk, join_list, tidy_sentence

_DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "my", "his", "her", "their", "our", "your",
                "its", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "some", "many",
                "several", "few", "every", "each", "no", "any", "another", "both", "all", "most", "much", "lots",
                "plenty", "dozens", "hundreds", "thousands", "numerous", "multiple", "various", "countless"}
_FEMALE = {"woman", "women", "girl", "girls", "lady", "ladies", "female", "mother", "mom", "queen", "princess",
           "actress", "bride", "sister", "daughter", "grandmother", "wife", "witch", "goddess", "heroine",
           "waitress", "mermaid", "nun", "she", "ballerina", "empress", "maid", "schoolgirl", "housewife"}
_MALE = {"man", "men", "boy", "boys", "gentleman", "male", "father", "dad", "king", "prince", "actor", "groom",
         "brother", "son", "grandfather", "husband", "wizard", "god", "monk", "he", "emperor", "businessman",
         "schoolboy", "cowboy", "sailor", "butler", "priest"}
_PERSON = {"person", "people", "child", "children", "kid", "kids", "teenager", "teen", "student", "doctor",
           "soldier", "astronaut", "chef", "warrior", "knight", "samurai", "ninja", "artist", "musician", "dancer",
           "worker", "farmer", "baby", "couple", "family", "crowd", "friends", "player", "athlete", "scientist",
           "teacher", "nurse", "pilot", "detective", "officer", "human", "humans", "rider", "traveler", "traveller",
           "hiker", "guitarist", "singer", "elf", "vampire", "adult", "customer", "tourist", "climber", "runner",
           "surfer", "skater", "photographer", "painter", "writer", "programmer", "engineer", "police", "cyclist"}
_PLURAL_WORDS = {"people", "children", "kids", "men", "women", "friends", "couple", "crowd", "family", "humans",
                 "police", "twins"}
_ING_NOUNS = {"ring", "king", "thing", "string", "wing", "spring", "morning", "evening", "ceiling", "building",
              "painting", "drawing", "clothing", "lighting", "wedding", "sibling", "ending", "pudding", "ping", "sing",
              "something", "nothing", "anything", "everything", "sling", "swing", "bling", "earring", "stocking",
              "feeling", "setting", "viking", "duckling", "dumpling", "darling", "railing", "icing"}
_MEDIUM_NOUNS = {"photo", "photograph", "painting", "illustration", "drawing", "render", "rendering", "sketch",
                 "image", "picture", "portrait", "poster", "artwork", "print", "still", "snapshot", "shot",
                 "watercolor", "watercolour", "engraving", "etching", "lithograph", "woodcut", "mural", "comic",
                 "cartoon", "photography", "selfie", "scene", "frame", "screenshot", "diagram", "icon", "logo",
                 "sculpture", "collage", "mosaic", "anime", "manga", "fresco", "pastel", "doodle", "concept art",
                 "wallpaper", "vector", "3d render"}
_MASS_MEDIUMS = {"photography", "anime", "manga", "concept art"}
#: nouns that take no "a"/"an" ("in rainy weather", "with black hair", "under soft light")
MASS_NOUNS = {"weather", "hair", "skin", "makeup", "fur", "clothing", "music", "furniture", "space", "darkness",
              "smoke", "mist", "fog", "steam", "fire", "rain", "snow", "water", "grass", "sand", "light", "lighting",
              "sunlight", "moonlight", "daylight", "lightning", "scenery", "nature", "art", "photography", "film",
              "jewelry", "jewellery", "lace", "silk", "leather", "denim", "wool", "velvet", "gold", "silver", "ink",
              "night", "sunset", "sunrise", "dusk", "dawn", "twilight", "autumn", "winter", "summer", "spring",
              "snowfall", "rainfall", "bokeh", "blur", "glitter", "foliage", "traffic", "laughter", "text", "dust",
              "paint", "neon", "chrome", "marble", "wood", "concrete", "metal", "glass", "ice", "haze", "mud", "armor",
              "armour", "gear", "attire", "equipment", "lingerie", "underwear", "sportswear", "footwear", "headwear"}
_ADVERB_PLACES = {"outdoors", "indoors", "underwater", "outside", "inside", "downtown", "upstairs", "abroad",
                  "at night", "at dusk", "at dawn", "at sunset", "at sunrise", "at noon", "midair", "in space"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _head_noun(text: str) -> str:
    """Last word before the first preposition/participle: 'woman in her 20's' -> 'woman'."""
    words = [w.lower().strip(",.") for w in text.split()]
    head = words[0] if words else ""
    for i, w in enumerate(words):
        if i and (w in PREPOSITIONS or w in ("with", "wearing", "holding", "who", "that", "which", "and", "of")
                  or (w.endswith("ing") and len(w) > 4 and w not in _ING_NOUNS)):
            break
        head = w
    return head.strip("'")


def _is_plural(item: Item) -> bool:
    if item.plural:
        return True
    first = item.text.split()[0].lower() if item.text.split() else ""
    if first in {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "several", "many", "some",
                 "these", "those", "both", "multiple", "various", "numerous", "countless"} or first.isdigit():
        return True
    head = _head_noun(item.text)
    if head in _PLURAL_WORDS:
        return True
    return len(head) > 3 and head.endswith("s") and not head.endswith(("ss", "us", "is", "ics", "'s"))


def with_article(text: str, plural: bool = False) -> str:
    """Prefix 'a'/'an' to a singular English count noun phrase that has no determiner, count or name.

    A leading number with a unit is an adjective ("a 35mm film photo", "an 8k wallpaper"); a bare
    number is a count ("3 cats"); mass nouns take no article ("rainy weather", "black hair").

    >>> with_article("apple on a table"), with_article("two cats"), with_article("Alice")
    ('an apple on a table', 'two cats', 'Alice')
    >>> with_article("35mm film photo"), with_article("rainy weather"), with_article("white beard")
    ('a 35mm film photo', 'rainy weather', 'a white beard')
    """
    words = text.split()
    if not words or plural or has_cjk(words[0]):
        return text
    first = words[0].lower()
    if first in _DETERMINERS or re.fullmatch(r"[0-9][0-9,.]*", first) or words[0][0].isupper() and len(words) == 1:
        return text
    if all(w[0].isupper() for w in words if w[0].isalpha()) and words[0][0].isupper():
        return text  # a proper name: "Mona Lisa"
    if _head_noun(text) in MASS_NOUNS or first.endswith("'s") and len(words) > 1:
        return text
    return f"{article_for(text)} {text}"


_PREP_NP = re.compile(r"\b(on|in|at|under|near|beside|behind|inside|onto|into|across|along|through|over|atop|"
                      r"against|by|from|with|above|below|holding|carrying|riding|hugging|reading|grinding|climbing|"
                      r"driving|mending|feeding|petting|walking)\s+((?:[\w'-]+\s+)*?[\w'-]+)"
                      r"(?=\s+(?:and|in|on|at|with|while|near|under|by|of|to)\b|$)", re.I)
#: one of a kind: "howling at the moon", "floating above the earth"
UNIQUE_NOUNS = {"moon", "sun", "sky", "sea", "ocean", "horizon", "earth", "world", "universe", "equator"}
#: surfaces a thing is "on", not "in" ("set on a wooden table")
ON_NOUNS = {"table", "windowsill", "branch", "bridge", "beach", "shore", "street", "road", "roof", "rooftop", "stage",
            "hill", "hillside", "floor", "bench", "sofa", "couch", "bed", "carpet", "rug", "shelf", "desk", "pier",
            "dock", "deck", "balcony", "cliff", "mountaintop", "summit", "pass", "runway", "platform", "track",
            "field", "lawn", "island", "ledge", "wall", "railing", "boardwalk", "sidewalk", "highway", "path", "trail"}
#: times of day a scene is "at" ("at dusk"), or "in the" ("in the morning")
AT_TIMES = {"dusk", "dawn", "night", "sunrise", "sunset", "noon", "midnight", "twilight", "daybreak", "nightfall",
            "golden hour", "blue hour", "night time", "nighttime"}
THE_TIMES = {"morning", "evening", "afternoon", "daytime"}
_NO_ARTICLE_AFTER_PREP = {"stage", "front", "top", "home", "night", "school", "work", "bed", "fire", "sea", "town", "line",
                          "hand", "foot", "love", "place", "time", "bottom", "left", "right", "center", "centre",
                          "middle", "background", "foreground", "side", "public", "silence", "motion", "focus",
                          "view", "sight", "it", "them", "him", "her", "me", "us", "you", "each", "one", "other"}


def articles_after_prepositions(text: str) -> str:
    """'sitting on white carpet' -> 'sitting on a white carpet' (plural, mass and idioms left alone).

    >>> articles_after_prepositions("sitting on white carpet"), articles_after_prepositions("listening to music")
    ('sitting on a white carpet', 'listening to music')
    """
    if has_cjk(text):
        return text

    def fix(m: re.Match) -> str:
        prep, np_ = m.group(1), m.group(2)
        first = np_.split()[0].lower()
        if (first in _NO_ARTICLE_AFTER_PREP or first in PREPOSITIONS or first in _DETERMINERS or first == "to"
                or first.endswith("ing") and len(np_.split()) == 1):
            return m.group(0)
        if _head_noun(np_) in UNIQUE_NOUNS and len(np_.split()) == 1:
            return f"{prep} the {np_}"
        return f"{prep} {with_article(np_, _is_plural(Item(np_, 'setting')))}"

    return _PREP_NP.sub(fix, text)


def _place(p: str) -> str:
    """A setting as a place phrase: 'at dusk', 'in the morning', 'on a wooden table', 'in a misty valley'."""
    low = p.lower()
    if low in AT_TIMES:
        return f"at {p}"
    if low in THE_TIMES:
        return f"in the {p}"
    if low in ("spring", "summer", "autumn", "fall", "winter") or _head_noun(p) == "weather":
        return f"in {p}"
    prep = "on" if _head_noun(p) in ON_NOUNS else "in"
    return f"{prep} {with_article(p, _is_plural(Item(p, 'setting')))}"


def _camera_phrase(c: str) -> str:
    """'fisheye lens' -> 'taken with a fisheye lens', 'low angle' -> 'seen from a low angle', 'close-up' -> 'a close-up'."""
    low = c.lower()
    if low.split()[0] in PREPOSITIONS or low.startswith(("seen ", "shot ", "taken ")):
        return c
    if low.endswith("lens") or low.endswith("camera"):
        return f"taken with {with_article(c)}"
    if low.endswith("angle") or low.endswith("view") and not low.endswith("overview"):
        return f"seen from {with_article(c)}"
    return with_article(c)


def _np(it: Item) -> str:
    """An item as a noun phrase with its article (plural and mass nouns get none)."""
    return with_article(it.text, _is_plural(it))


def _person(subject_text: str) -> str | None:
    """'she' / 'he' / 'they' when the subject names a person, else None."""
    ws = set(_words(subject_text))
    fem, mal, per = ws & _FEMALE, ws & _MALE, ws & _PERSON
    if ws & _PLURAL_WORDS:
        return "they"
    if fem and not mal:
        return "she"
    if mal and not fem:
        return "he"
    if fem or mal or per:
        return "they"
    return None


def _strip_lead(text: str, leads: tuple[str, ...]) -> str:
    low = text.lower()
    for lead in leads:
        if low.startswith(lead + " "):
            return text[len(lead) + 1:]
    return text


def _action_parts(actions: list[str], be: str) -> list[str]:
    """Group actions into predicate parts: '-ing' phrases after is/are, finite verbs as they are."""
    ing, finite, other = [], [], []
    for a in actions:
        a = _strip_lead(a, ("is", "are", "while", "and", "currently"))
        first = a.split()[0].lower() if a.split() else ""
        if first.endswith("ing") and len(first) > 4 and first not in _ING_NOUNS:
            ing.append(a)
        elif be == "is" and re.fullmatch(r"[a-z]+[^s]s", first) and len(a.split()) > 1 and first not in _ING_NOUNS:
            finite.append(a)
        else:
            other.append(a)
    parts = []
    if ing:
        parts.append(f"{be} {join_list(ing)}")
    parts.extend(finite)
    if other:
        parts.append(f"{be} shown with {join_list(other)}")
    return parts


_QUALITY_NOUNS = {"masterpiece", "masterwork", "work of art", "award winning photo", "award-winning photo"}


def _quality_phrase(q: str) -> str:
    """'best quality' -> 'of best quality', 'masterpiece' -> 'a masterpiece', '8k' -> 'in 8k', else as is."""
    low = q.lower()
    if low.endswith("quality") or low.endswith("resolution"):
        return f"of {q}"
    if low in _QUALITY_NOUNS:
        return with_article(q)
    if re.fullmatch(r"\d+k|uhd|hd|hdr|4k uhd|8k uhd|full hd", low):
        return f"in {q}"
    return q


def _style_sentence(style: list[str], quality: list[str]) -> list[str]:
    out = []
    if style:
        medium = next((s for s in style if _head_noun(s) in _MEDIUM_NOUNS or s.lower() in _MEDIUM_NOUNS), None)
        rest = [s for s in style if s is not medium]
        if medium:
            mass = medium.lower() in _MASS_MEDIUMS or _head_noun(medium) in _MASS_MEDIUMS
            core = medium if mass else with_article(medium)
            tail = f", in {join_list(rest)} style" if rest else ""
            out.append(f"This is {core}{tail}.")
        else:
            out.append(f"The style is {join_list(rest)}.")
    if quality:
        out.append(f"The image is {join_list([_quality_phrase(q) for q in quality])}.")
    return out


_ZH_TEMPLATES = (("objects", "画面中还有{}。"), ("setting", "场景是{}。"), ("background", "背景是{}。"),
                 ("colors", "色调是{}。"), ("lighting", "光线是{}。"), ("camera", "构图是{}。"), ("mood", "氛围{}。"),
                 ("details", "画面还包括{}。"), ("style", "风格是{}。"), ("quality", "画质{}。"))
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u3130-\u318f]")


def _cjk_slots(s: Structured):
    """(slot -> texts, subject texts, other objects) for the per-language realisers: the objects lead when
    there is no subject."""
    get = lambda name: [i.text for i in s.slot(name)]  # noqa: E731
    return get, get("subject") or get("objects"), get("objects") if get("subject") else []


def _per_part(templates, get, objects: list[str], join) -> list[str]:
    """One templated sentence for each remaining part that has values, in the templates' order."""
    out = []
    for slot, tpl in templates:
        vals = objects if slot == "objects" else get(slot)
        if vals:
            out.append(tpl.format(join(vals)))
    return out


def _zh_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + "和" + items[-1]


def _zh_realise(s: Structured) -> str:
    """Chinese: one sentence per part of the picture, written as a person would ("画面中是…，穿着…，正在…。")."""
    get, subject, objects = _cjk_slots(s)
    first = []
    if subject:
        first.append(f"画面中是{_zh_join(subject)}")
    if get("appearance"):
        first.append(f"有{_zh_join(get('appearance'))}")
    if get("outfit"):
        first.append(f"穿戴着{_zh_join(get('outfit'))}")
    if get("action"):
        acts = [a if a.startswith(("正在", "在", "正")) else a for a in get("action")]
        first.append(f"正在{_zh_join(acts)}" if not acts[0].startswith(("正在", "在")) else _zh_join(acts))
    out = ["，".join(first) + "。"] if first else []
    out += _per_part(_ZH_TEMPLATES, get, objects, _zh_join)
    return "".join(out)


_JA_TEMPLATES = (("objects", "ほかに{}もある。"), ("setting", "場所は{}。"), ("background", "背景は{}。"),
                 ("colors", "色調は{}。"), ("lighting", "光は{}。"), ("camera", "構図は{}。"), ("mood", "雰囲気は{}。"),
                 ("details", "ほかに{}。"), ("style", "スタイルは{}。"), ("quality", "画質は{}。"))


def _ja_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + "と" + items[-1]


def _ja_realise(s: Structured) -> str:
    """Japanese: "画面には…が写っている。…で、…を身に着けていて、…。" then one short sentence per part."""
    get, subject, objects = _cjk_slots(s)
    out = [f"画面には{_ja_join(subject)}が写っている。"] if subject else []
    second = []
    if get("appearance"):
        second.append(f"{_ja_join(get('appearance'))}で")
    if get("outfit"):
        second.append(f"{_ja_join(get('outfit'))}を身に着けていて" if get("action")
                      else f"{_ja_join(get('outfit'))}を身に着けている")
    if get("action"):
        second.append("、".join(a.rstrip("。") for a in get("action")))
    if second:
        if not get("action") and not get("outfit"):   # appearance alone: "…で" would dangle
            second[-1] = second[-1][:-1] + "だ"
        out.append("、".join(second) + "。")
    out += _per_part(_JA_TEMPLATES, get, objects, _ja_join)
    return "".join(out)


def _ko_final_consonant(word: str) -> bool:
    """Does the word end in a Hangul syllable with a final consonant (batchim)? Picks 이/가, 은/는, 을/를, 이다/다."""
    last = word.rstrip()[-1:] or " "
    code = ord(last) - 0xAC00
    if 0 <= code < 11172:
        return code % 28 != 0
    return last.isdigit() or last.isalpha() and last.lower() not in "aeiouy"


def _ko(word: str, with_final: str, without: str) -> str:
    return word + (with_final if _ko_final_consonant(word) else without)


_KO_TEMPLATES = (("objects", "그 밖에 {}도 있다."), ("setting", "장소는 {}."), ("background", "배경은 {}."),
                 ("colors", "색감은 {}."), ("lighting", "조명은 {}."), ("camera", "구도는 {}."), ("mood", "분위기는 {}."),
                 ("details", "그 밖에 {}."), ("style", "스타일은 {}."), ("quality", "화질은 {}."))


def _ko_realise(s: Structured) -> str:
    """Korean: "이미지에는 …이/가 있다. 외모는 …이다. …을/를 착용하고 있다. …." with particles chosen by the final consonant."""
    get, subject, objects = _cjk_slots(s)
    join = ", ".join
    out = []
    if subject:
        out.append(f"이미지에는 {_ko(join(subject), '이', '가')} 있다.")
    if get("appearance"):
        out.append(f"외모는 {_ko(join(get('appearance')), '이다', '다')}.")
    if get("outfit"):
        out.append(f"{_ko(join(get('outfit')), '을', '를')} 착용하고 있다.")
    for act in get("action"):
        out.append(act.rstrip(".") + ".")
    for sentence in _per_part(_KO_TEMPLATES, get, objects, join):
        # "X은 Y." -> "X은 Y이다." / "Y다."
        out.append(sentence if sentence.endswith("있다.") else _ko(sentence[:-1], "이다", "다") + ".")
    return " ".join(out)


def _cjk_realise(s: Structured) -> str:
    """CJK text: sentences from per-language templates (Chinese by default, Japanese with kana, Korean with hangul)."""
    text = "".join(i.text for i in s.items if i.slot != "negative")
    if _HANGUL.search(text):
        return _ko_realise(s)
    if _KANA.search(text):
        return _ja_realise(s)
    return _zh_realise(s)


def _noun_phrases(items: list[Item]) -> list[str]:
    """One noun phrase per group of items (a list entry or an object); extra pieces join with commas."""
    groups: dict[int, list[Item]] = {}
    for it in items:
        groups.setdefault(it.group, []).append(it)
    nps = []
    for members in groups.values():
        head = members[0]
        np_ = with_article(head.text, _is_plural(head))
        extra = [m.text for m in members[1:]]
        nps.append(", ".join([np_, *extra]))
    return nps


def realise(s: Structured) -> str:
    """Write the T5 text for a slotted prompt (deterministic; see the module docstring)."""
    if not [i for i in s.items if i.slot != "negative"]:
        return ""
    if cjk_ratio(" ".join(i.text for i in s.items if i.slot != "negative")) > 0.3:
        return _cjk_realise(s)
    get = lambda name: [i.text for i in s.slot(name)]  # noqa: E731
    ages = [i.text for i in s.slot("appearance") if i.key == "age"]
    appearance = [_np(Item(_strip_lead(i.text, ("with", "has", "have")), "appearance", plural=i.plural))
                  for i in s.slot("appearance") if i.key != "age"]
    outfit = [_np(Item(_strip_lead(_strip_lead(i.text, ("wearing", "wears", "dressed in")), ("in",)), "outfit",
                       plural=i.plural)) for i in s.slot("outfit")]
    subj_items, obj_items = s.slot("subject"), s.slot("objects")
    sentences: list[str] = []

    if not subj_items and obj_items:
        subj_items, obj_items = obj_items, []
    actions = [articles_after_prepositions(a) for a in get("action")]
    if subj_items:
        nps = _noun_phrases(subj_items)
        if ages:
            nps[0] = f"{nps[0]}, {join_list(ages)},"
        subject = join_list(nps)
        subj_text = " ".join(i.text for i in subj_items)
        plural = len(nps) > 1 or _is_plural(subj_items[0])
        be = "are" if plural else "is"
        who = _person(subj_text)
        if appearance and outfit:
            sentences.append(f"{subject}, with {join_list(appearance)}, {be} wearing {join_list(outfit)}.")
        elif outfit:
            sentences.append(f"{subject} {be} wearing {join_list(outfit)}.")
        elif appearance:
            sentences.append(f"{subject} {be} shown with {join_list(appearance)}.")
        elif actions:
            sentences.append(f"{subject} {join_list(_action_parts(actions, be))}.")
            actions = []
        else:
            sentences.append(f"There {'are' if _is_plural(subj_items[0]) else 'is'} {subject}.")
        if actions:
            if who:
                pron = who
            elif len(nps) == 1 and not has_cjk(subj_text):
                pron = f"the {_head_noun(subj_items[0].text)}"
            else:
                pron = "they" if plural else "it"
            if who == "they":
                be = "are"
            sentences.append(f"{capitalise(pron)} {join_list(_action_parts(actions, be))}.")
    elif appearance or outfit or actions:
        bits = [f"with {join_list(appearance)}" if appearance else "",
                f"wearing {join_list(outfit)}" if outfit else ""]
        lead = "The picture shows someone " + " and ".join(b for b in bits if b) if any(bits) else ""
        if actions:
            parts = _action_parts(actions, "is")
            lead = (lead + " who " if lead else "Someone ") + join_list(parts)
        sentences.append(lead.strip() + ".")
    if obj_items:
        sentences.append(f"The scene also includes {join_list(_noun_phrases(obj_items))}.")

    setting = get("setting")
    if setting:
        places = []
        for p in setting:
            low = p.lower()
            if low.split()[0] in PREPOSITIONS or low in _ADVERB_PLACES or has_cjk(p):
                places.append(articles_after_prepositions(p))
            else:
                places.append(_place(p))
        sentences.append(f"The scene is set {join_list(places)}.")
    background = get("background")
    if background:
        named = [b for b in background if b.lower().endswith("background")]
        other = [b for b in background if b not in named]
        if named:
            sentences.append(f"It is set against {with_article(join_list(named))}.")
        if other:
            sentences.append(f"The background shows {join_list(other)}.")
    colors = get("colors")
    if colors:
        sentences.append(f"The color palette is {join_list(colors)}.")
    lighting = get("lighting")
    if lighting:
        if any(re.search(r"(light|lighting|\blit|glow|shadows?|\bsun|lamp|lights)\b", x.lower())
               for x in lighting):
            sentences.append(f"The scene has {join_list(lighting)}.")
        else:
            sentences.append(f"The lighting is {join_list(lighting)}.")
    camera = get("camera")
    if camera:
        sentences.append(f"It is {join_list([_camera_phrase(c) for c in camera])}.")
    mood = get("mood")
    if mood:
        sentences.append(f"The mood is {join_list(mood)}.")
    said = {i.text.lower() for i in s.items if i.slot != "details"}
    details = [_np(i) for i in s.slot("details") if i.text.lower() not in said]
    if details:
        sentences.append(f"The image also features {join_list(details)}.")
    sentences.extend(_style_sentence(get("style"), get("quality")))
    return tidy_sentence(" ".join(capitalise(x) for x in sentences))


def realise_plain(text: str) -> str:
    """Plain-text prompts: keep the user's sentences, just capitalised and ending with a period."""
    if has_cjk(text) and cjk_ratio(text) > 0.3:
        return text if text.endswith(("。", "！", "？")) else text + "。"
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    out = []
    for p in parts:
        p = capitalise(p)
        out.append(p if p.endswith((".", "!", "?")) else p + ".")
    return tidy_sentence(" ".join(out))
