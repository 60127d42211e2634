"""Results kept per object, for the work a batch would otherwise redo for every target.

A batch shares one source place and one CaseLogic across all its targets, so what depends only
on them (the logic's verification, the source's figures, the logic's citations) is computed once.
Keys are object identities: artifacts and places are not hashable, and equal-but-distinct objects
(a logic re-read from disk) simply miss. Each entry holds its objects, so an id cannot be reused by
a new object while the entry lives; the few entries keep memory flat over thousands of targets.
"""

from __future__ import annotations

from typing import Any, Callable


class ByIdentity:
    def __init__(self, size: int = 8):
        self.size = size
        self._entries: dict[tuple, tuple[tuple, Any]] = {}

    def get(self, objs: tuple, make: Callable[[], Any]) -> Any:
        """make()'s result for these objects (compared by identity), computed on the first call."""
        key = tuple(map(id, objs))
        hit = self._entries.pop(key, None)
        if hit is None or not all(a is b for a, b in zip(hit[0], objs)):
            hit = (objs, make())
            if len(self._entries) >= self.size:
                # the least recently used: a finished target, never the source every memo reads
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = hit  # re-inserted last: most recently used
        return hit[1]
