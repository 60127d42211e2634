"""Place names for the entity check: every spelling of each known place, and the confusable ones."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from ..places import schema as S

# Names commonly confused with the bundled places (晋江 for 锦江 above all), beyond the library's own;
# each group is one place in its spellings, so an English text may name what a Chinese note names.
CONFUSABLE_NAMES: tuple[tuple[str, ...], ...] = (
    ("晋江市", "Jinjiang, Fujian", "Jinjiang (Fujian)"), ("浏阳市", "Liuyang"), ("醴陵市", "Liling"),
    ("景德镇市", "Jingdezhen"), ("德化县", "Dehua"), ("武侯区", "Wuhou"), ("锦江区", "Jinjiang District"),
    ("攸县", "You County", "Youxian"), ("萍乡市", "Pingxiang"), ("宜兴市", "Yixing"), ("潮州市", "Chaozhou"),
)


def name_forms(*names: str | None) -> set[str]:
    """A name and its short form: 锦江区 -> 锦江, Jinjiang District -> Jinjiang."""
    out: set[str] = set()
    for n in names:
        if not n:
            continue
        n = n.strip()
        out.add(n)
        if n[-1:] in "市区县" and len(n) >= 3:
            out.add(n[:-1])
        for suffix in (" District", " County", " City"):
            if n.endswith(suffix):
                out.add(n[: -len(suffix)])
    return {n for n in out if len(n) >= 2}


def place_names(place: S.Place) -> set[str]:
    return name_forms(*place.all_names())


def _merge(groups: Iterable[set[str]]) -> dict[str, frozenset[str]]:
    """name -> every spelling of the same place (groups sharing a spelling are one place)."""
    merged: list[set[str]] = []
    for g in groups:
        hits = [m for m in merged if m & g]
        for m in hits:
            merged.remove(m)
            g = g | m
        merged.append(set(g))
    return {n: frozenset(m) for m in merged for n in m}


def name_groups(lib) -> tuple[frozenset[str], ...]:
    """The places of a case library and the confusable names, each as a group of spellings."""
    from ..errors import TransferError
    groups = [name_forms(*g) for g in CONFUSABLE_NAMES]
    for pid in lib.paths():
        try:
            groups.append(name_forms(*lib.names(pid)))
        except TransferError:
            continue  # a broken file names nothing; `transfer validate` reports it
    return tuple(frozenset(g) for g in groups)


@lru_cache(maxsize=1)
def library_names() -> tuple[frozenset[str], ...]:
    """name_groups of the default library (bundled and TRANSFER_CASES), loaded once per process."""
    from ..errors import TransferError
    from ..places.loader import Library
    try:
        return name_groups(Library())
    except TransferError:
        return tuple(frozenset(name_forms(*g)) for g in CONFUSABLE_NAMES)
