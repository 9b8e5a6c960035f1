"""A small in-memory LRU for built classifiers/taggers (their label vectors cost text passes).

Shared by `classify` and `tag` so a server answering the same label set twice encodes it once,
without writing client-chosen label sets to the disk cache.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_LRU: OrderedDict[Hashable, Any] = OrderedDict()
_LOCK = threading.Lock()
MAX_ENTRIES = 16


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """The object cached under `key`, or `build()` stored there (least recently used dropped)."""
    with _LOCK:
        if key in _LRU:
            _LRU.move_to_end(key)
            return _LRU[key]
    obj = build()
    with _LOCK:
        _LRU[key] = obj
        while len(_LRU) > MAX_ENTRIES:
            _LRU.popitem(last=False)
    return obj
