"""Vocabularies: named phrase lists (built-in, a user's text file, or clip-interrogator's data).

A vocabulary is a plain list of phrases, one a line in a UTF-8 text file; blank lines and
lines starting with ``#`` are ignored and duplicates are dropped (first one kept), so the same
file always gives the same list (and the same label-table cache key).

    >>> from cliplens.vocab import list_vocabularies, load_vocabulary
    >>> "mediums" in list_vocabularies()
    True
    >>> load_vocabulary("mediums")[:2]
    ['a photograph', 'a digital photograph']
    >>> load_vocabulary("my_styles.txt")          # doctest: +SKIP  (a user's own list)
    >>> load_vocabulary("ci:flavors")[:1]         # doctest: +SKIP  (needs clip-interrogator installed)
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from ..errors import InvalidInputError

DATA_DIR = Path(__file__).resolve().parent / "data"

#: built-in vocabularies and what each is for (the files live in ``cliplens/vocab/data``)
BUILTIN: dict[str, str] = {
    "mediums": "what a picture is made with: photograph, oil painting, pixel art, 3d render...",
    "movements": "art movements, schools and broad styles: impressionism, art deco, ukiyo-e...",
    "artists": "artists by name (plain facts); the interrogator writes them as 'by NAME'",
    "trending": "where images are shared: trending on artstation, featured on behance...",
    "flavors": "short prompt modifiers: detail, mood, texture, rendering, pattern, background",
    "lighting": "lighting: golden hour, rim lighting, chiaroscuro, volumetric light...",
    "camera": "camera, lens and photographic technique: 35mm film, bokeh, fisheye lens...",
    "composition": "composition and framing: rule of thirds, negative space, top-down view...",
    "colour": "colour and tone: pastel colors, monochrome, teal and orange...",
    "negative": "common negative-prompt terms: blurry, watermark, jpeg artifacts...",
    "subjects": "subjects for caption-less mode (--caption-model none): a cat, a castle, a circle...",
}

#: clip-interrogator 0.6.0's data files, read from the installed package (never copied here)
CI_LISTS: dict[str, str] = {
    "artists": "artists.txt",
    "flavors": "flavors.txt",
    "mediums": "mediums.txt",
    "movements": "movements.txt",
    "negative": "negative.txt",
}

#: clip-interrogator's "trending" table is built in code from these site names, not read from a file
CI_SITES = ("Artstation", "behance", "cg society", "cgsociety", "deviantart", "dribble", "flickr", "instagram",
            "pexels", "pinterest", "pixabay", "pixiv", "polycount", "reddit", "shutterstock", "tumblr",
            "unsplash", "zbrush central")


def parse_phrases(text: str) -> list[str]:
    """Phrases of a vocabulary file's text: one a line, stripped, no blanks/comments/duplicates.

    >>> parse_phrases("a\\n# note\\n\\nb \\na\\n")
    ['a', 'b']
    """
    seen: dict[str, None] = {}
    for line in text.splitlines():
        phrase = line.strip()
        if phrase and not phrase.startswith("#"):
            seen.setdefault(phrase, None)
    return list(seen)


def ci_data_dir() -> Path | None:
    """The installed clip-interrogator package's ``data`` folder, or None when it is not installed.

    Found without importing the package (its import pulls in `requests` and loads heavy modules).
    """
    spec = importlib.util.find_spec("clip_interrogator")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def list_vocabularies(include_ci: bool = True) -> dict[str, str]:
    """Every vocabulary name `load_vocabulary` accepts, with a one-line description.

    ``ci:<name>`` entries appear only when clip-interrogator is installed.

    >>> sorted(list_vocabularies())[:3]
    ['artists', 'camera', 'ci:artists']
    """
    out = dict(BUILTIN)
    if include_ci and ci_data_dir() is not None:
        for name in CI_LISTS:
            out[f"ci:{name}"] = f"clip-interrogator's {name} list (read from the installed package)"
        out["ci:trending"] = "clip-interrogator's trending-site phrases (built from its site names)"
    return dict(sorted(out.items()))


def _read_file(path: Path, what: str) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read vocabulary {what}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"vocabulary {what} is not UTF-8 text; save it as a UTF-8 text file with one phrase a line"
        ) from None
    if "\x00" in text:
        raise InvalidInputError(f"vocabulary {what} looks binary; give a text file with one phrase a line")
    return parse_phrases(text)


@lru_cache(maxsize=64)
def _cached_file(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(_read_file(Path(path), path))


def _ci_list(name: str) -> list[str]:
    folder = ci_data_dir()
    if folder is None:
        raise InvalidInputError(
            f"vocabulary 'ci:{name}' needs the clip-interrogator package (pip install clip-interrogator==0.6.0)"
        )
    if name == "trending":
        sites = list(CI_SITES)
        return sites + [f"trending on {s}" for s in sites] + [f"featured on {s}" for s in sites] + \
            [f"{s} contest winner" for s in sites]
    if name not in CI_LISTS:
        raise InvalidInputError(f"unknown clip-interrogator list 'ci:{name}'; known: "
                                + ", ".join(f"ci:{n}" for n in [*CI_LISTS, "trending"]))
    path = folder / CI_LISTS[name]
    # clip-interrogator keeps every stripped line (blank ones too); we drop blanks and duplicates
    text = path.read_bytes().decode("utf-8", errors="replace")
    return parse_phrases(text)


def load_vocabulary(name_or_path: str | os.PathLike) -> list[str]:
    """Load a vocabulary: a built-in name, ``ci:<name>``, or a path to a text file.

    Raises `InvalidInputError` for an unknown name, an unreadable/binary file or an empty list.

    >>> len(load_vocabulary("lighting")) > 20
    True
    """
    if isinstance(name_or_path, str):
        key = name_or_path.strip()
        if not key:
            raise InvalidInputError("empty vocabulary name; try one of: " + ", ".join(BUILTIN))
        if key in BUILTIN and not Path(key).is_file():
            phrases = list(_cached_file(str(DATA_DIR / f"{key}.txt"), 0, 0))
            return phrases
        if key.startswith("ci:"):
            phrases = _ci_list(key[3:])
            if not phrases:
                raise InvalidInputError(f"vocabulary {key!r} is empty")
            return phrases
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        raise InvalidInputError(f"vocabulary {path} is a folder; give a text file with one phrase a line")
    if not path.is_file():
        raise InvalidInputError(
            f"unknown vocabulary {str(name_or_path)!r}: not a built-in name ({', '.join(BUILTIN)}), "
            "not ci:<name>, and no such file"
        )
    st = path.stat()
    phrases = list(_cached_file(str(path.resolve()), st.st_mtime_ns, st.st_size))
    if not phrases:
        raise InvalidInputError(f"vocabulary {path} has no phrases (one a line; '#' lines are comments)")
    return phrases
