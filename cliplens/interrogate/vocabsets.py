"""Which phrase lists play which role in a prompt (medium, artist, movement, trending, flavors...).

Three sets: ``builtin`` (cliplens' curated lists), ``ci`` (clip-interrogator's data, read from the
installed package, arranged the way it arranges them) and a user's own files (each file is a
flavor table named after the file; they replace the built-in style lists). Negative terms and
the subject list (for caption-less runs) stay available in every set: they serve one mode each.

    >>> vs = resolve_vocab("builtin"); sorted(vs.flavors)
    ['camera', 'colour', 'composition', 'flavors', 'lighting']
    >>> resolve_vocab(["my_styles.txt"]).flavors.keys()      # doctest: +SKIP
    dict_keys(['my_styles'])
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInputError
from ..vocab import ci_data_dir, load_vocabulary


@dataclass
class VocabSet:
    """Phrase lists by role; empty lists simply drop out of the prompt."""

    name: str
    medium: list[str] = field(default_factory=list)
    artist: list[str] = field(default_factory=list)
    movement: list[str] = field(default_factory=list)
    trending: list[str] = field(default_factory=list)
    flavors: dict[str, list[str]] = field(default_factory=dict)
    negative: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)

    def role_lists(self) -> dict[str, list[str]]:
        """Every non-empty list under its table name (flavor lists under their own names)."""
        out = {"medium": self.medium, "artist": self.artist, "movement": self.movement, "trending": self.trending,
               **self.flavors, "negative": self.negative, "subjects": self.subjects}
        return {k: v for k, v in out.items() if v}


def builtin_vocab() -> VocabSet:
    """cliplens' own curated lists."""
    return VocabSet(
        name="builtin",
        medium=load_vocabulary("mediums"),
        artist=[f"by {a}" for a in load_vocabulary("artists")],
        movement=load_vocabulary("movements"),
        trending=load_vocabulary("trending"),
        flavors={n: load_vocabulary(n) for n in ("flavors", "lighting", "camera", "composition", "colour")},
        negative=load_vocabulary("negative"),
        subjects=load_vocabulary("subjects"),
    )


def ci_vocab() -> VocabSet:
    """clip-interrogator 0.6.0's vocabulary, arranged as it arranges it ('by X' and 'inspired by X')."""
    artists = load_vocabulary("ci:artists")
    return VocabSet(
        name="ci",
        medium=load_vocabulary("ci:mediums"),
        artist=[f"by {a}" for a in artists] + [f"inspired by {a}" for a in artists],
        movement=load_vocabulary("ci:movements"),
        trending=load_vocabulary("ci:trending"),
        flavors={"flavors": load_vocabulary("ci:flavors")},
        negative=load_vocabulary("ci:negative"),
        subjects=load_vocabulary("subjects"),
    )


def user_vocab(paths: list[str | os.PathLike]) -> VocabSet:
    """A user's lists (files or vocabulary names) as flavor tables; they replace the built-in style lists."""
    flavors: dict[str, list[str]] = {}
    for p in paths:
        name = Path(str(p)).stem if Path(str(p)).suffix else str(p).replace("ci:", "ci-")
        base, n = name, 2
        while name in flavors:
            name, n = f"{base}-{n}", n + 1
        flavors[name] = load_vocabulary(p)
    return VocabSet(name="user", flavors=flavors, negative=load_vocabulary("negative"),
                    subjects=load_vocabulary("subjects"))


def default_vocab(model: object = None) -> VocabSet:
    """The vocabulary used when none is named.

    A real CLIP gets clip-interrogator's lists (~100k phrases, what its users expect) when the
    `clip-interrogator` package is installed (``pip install cliplens[interrogate]``), else the
    built-in lists (~1.2k curated phrases). The toy models always get the built-in lists (their
    tests and examples are written for them).

    >>> default_vocab("toyclip").name
    'builtin'
    """
    name = model if isinstance(model, str) else str(getattr(model, "name", "") or "")
    if isinstance(model, (list, tuple)) and model:
        name = str(getattr(model[0], "name", ""))
    if name.startswith("toyclip") or ci_data_dir() is None:
        return builtin_vocab()
    return ci_vocab()


def resolve_vocab(vocab: "None | str | os.PathLike | list | VocabSet", model: object = None) -> VocabSet:
    """None/'auto' -> `default_vocab(model)`; 'builtin' -> built-in lists; 'ci' -> clip-interrogator's;
    path(s) -> the user's own."""
    if isinstance(vocab, VocabSet):
        return vocab
    if vocab is None or vocab == "auto" or (isinstance(vocab, (list, tuple)) and not vocab):
        return default_vocab(model)
    if isinstance(vocab, str) and vocab in ("builtin", "ci"):
        return builtin_vocab() if vocab == "builtin" else ci_vocab()
    if isinstance(vocab, (str, os.PathLike)):
        vocab = [vocab]
    if not isinstance(vocab, (list, tuple)):
        raise InvalidInputError(f"vocab must be None, 'builtin', 'ci', a file or a list of files, got {type(vocab).__name__}")
    return user_vocab(list(vocab))
