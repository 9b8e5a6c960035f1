"""Every default that a user can see, in one place: the CLI, the HTTP API, the page and the
library all read them from here, so the same request gives the same answer on every surface.

Each capability owns one section. Change a default here and nowhere else.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------- shared
#: how many results a ranked answer returns when the caller does not say (search, rank, tag, ...)
TOP_K = 10
#: what a batch does with an item that fails: "skip" (report it in `errors`, go on) or "raise"
ON_ERROR = "skip"
ON_ERROR_CHOICES = ("skip", "raise")
#: the model used when none is named
MODEL = "sd15"
