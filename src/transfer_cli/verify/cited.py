"""What a memo's citations point at: each cited note's or field's figures and texts.

The verifier asks, for every figure a memo states, whether what its text cites states it too.
A cite resolves within the one place it names, and its content is kept with that place, so a
batch reads the source's notes once for all its targets.
"""

from __future__ import annotations

import difflib
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Iterable

from pydantic import BaseModel

from ..places import schema as S
from ..places.conditions import asset_path, resolve_field
from ..identity import ByIdentity
from .numbers import Quantity, figures, quantity


@dataclass
class Content:
    """The figures and texts of one cited input (or of a whole place)."""
    quantities: list[tuple[Quantity, str]] = field(default_factory=list)  # (figure, where in the inputs)
    texts: list[str] = field(default_factory=list)
    _index: tuple | None = field(default=None, repr=False, compare=False)

    def add(self, obj, origin: str) -> None:
        if isinstance(obj, (S.Indicator, S.Figure)):
            self.quantities.append((quantity(obj.value, obj.unit), origin))
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                self.add(getattr(obj, name), origin)
        elif isinstance(obj, dict):
            for v in obj.values():
                self.add(v, origin)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                self.add(v, origin)
        elif isinstance(obj, str):
            self.texts.append(obj)
            self.quantities.extend((q, origin) for q in figures(obj))

    def extend(self, other: "Content") -> None:
        self.quantities.extend(other.quantities)
        self.texts.extend(other.texts)

    def _near(self, attr: str, x: float) -> Iterable[tuple[Quantity, str]]:
        """The quantities whose `attr` (value or mantissa) may be isclose to x, in input order.

        A whole place states thousands of figures and a memo asks for hundreds: a sorted index
        turns each linear scan into a bisection. Callers still apply the exact test."""
        qs = self.quantities
        if len(qs) < 32:
            return qs
        if self._index is None or self._index[0] != len(qs):  # the lists only grow
            by = {a: sorted((getattr(p, a), i) for i, (p, _) in enumerate(qs) if getattr(p, a) == getattr(p, a))
                  for a in ("value", "mantissa")}  # NaN matches nothing and would break the order
            self._index = (len(qs), {a: ([k for k, _ in v], [i for _, i in v]) for a, v in by.items()})
        keys, idx = self._index[1][attr]
        lo, hi = sorted((x * (1 - 2e-9), x * (1 + 2e-9)))  # wider than isclose's rel_tol=1e-9
        return [qs[i] for i in sorted(idx[bisect_left(keys, lo):bisect_right(keys, hi)])]

    def find(self, q: Quantity) -> str | None:
        """Where the inputs state q (up to three places), or None."""
        return ", ".join(self.hits(q)[:3]) or None

    def hits(self, q: Quantity) -> list[str]:
        return list(dict.fromkeys(o for p, o in self._near("value", q.value) if q.same_as(p)))

    def same_digits(self, q: Quantity) -> tuple[Quantity, str] | None:
        # 5 家 vs some 5 个 elsewhere says nothing: only distinctive digits hint at a unit slip
        if q.mantissa < 10 and q.mantissa == int(q.mantissa):
            return None
        return next(((p, o) for p, o in self._near("mantissa", q.mantissa)
                     if math.isclose(q.mantissa, p.mantissa, rel_tol=1e-9) and not q.same_as(p)), None)


class Joined:
    """Several Contents read as one, in order, without copying them (a memo's two places)."""

    def __init__(self, parts: list[Content]):
        self.parts = parts

    def find(self, q: Quantity) -> str | None:
        return ", ".join(list(dict.fromkeys(o for c in self.parts for o in c.hits(q)))[:3]) or None

    def same_digits(self, q: Quantity) -> tuple[Quantity, str] | None:
        return next((hit for c in self.parts if (hit := c.same_digits(q)) is not None), None)


class _PlaceContent:
    """What one place file says, per cite and as a whole. Shared by every memo with this place as
    an input: a batch cites the same source notes for each of its targets."""

    def __init__(self, pid: str, place: S.Place):
        self.pid, self.place = pid, place
        self.cited: dict[str, Content | None] = {}
        self.resolved: dict[str, tuple[object | None, str | None]] = {}
        self._all: Content | None = None

    def everything(self) -> Content:
        if self._all is None:
            p, pid, c = self.place, self.pid, Content()
            for n in p.notes:
                c.add(n, f"{pid}/{n.id}")
            for k, ind in p.indicators.items():
                c.add(ind, f"{pid}:indicators.{k}")
            for a in p.assets:
                c.add(a, f"{pid}:{asset_path(p, a)}")
            for i, ch in enumerate(p.challenges):
                c.add(ch, f"{pid}:challenges[{i}]")
            for pw in p.powers:
                c.add(pw, f"{pid}:powers.{pw.power}")
            for m in p.mechanisms:
                c.add(m, f"{pid}'s mechanism {m.id}")
            for x in (p.industries, p.negative_lessons, p.summary, p.names, p.parent):
                c.add(x, f"{pid}'s place file")
            self._all = c
        return self._all


_PLACE_CONTENT = ByIdentity()


def _place_content(pid: str, place: S.Place) -> _PlaceContent:
    """The content of `place` (cited as `pid`), shared by every memo that has it as an input."""
    by_pid = _PLACE_CONTENT.get((place,), dict)
    if pid not in by_pid:
        by_pid[pid] = _PlaceContent(pid, place)
    return by_pid[pid]


def _sep(cite: str) -> int:
    """Where the place id ends in `place/NOTE` or `place:field`; -1 when neither."""
    return min((i for i in (cite.find("/"), cite.find(":")) if i > 0), default=-1)


def _resolve_in(place: S.Place, pid: str, cite: str, sep: int) -> tuple[object | None, str | None]:
    rest = cite[sep + 1:]
    if cite[sep] == "/":
        note = place.note(rest)
        if note is None:
            hint = difflib.get_close_matches(rest, [n.id for n in place.notes], n=1, cutoff=0.6)
            return None, f"note '{cite}' does not exist" + (f"; did you mean '{pid}/{hint[0]}'?" if hint else "")
        return note, None
    value = resolve_field(place, rest)
    if value is None and rest in place.sources:
        value = place.sources[rest]
    if value is None:
        return None, f"field '{cite}' does not exist in {pid}'s profile"
    return value, None


class Inputs:
    """The memo's places, with every citation resolved and its content cached."""

    def __init__(self, places: dict[str, S.Place]):
        self.places = places
        self._shared = {pid: _place_content(pid, p) for pid, p in places.items() if p is not None}
        self._cited: dict[tuple[str, ...], Content] = {}

    def resolve(self, cite: str) -> tuple[object | None, str | None]:
        """(the cited object, None) or (None, why it does not resolve)."""
        sep = _sep(cite)
        if sep < 0:
            return None, f"'{cite}' is neither place/NOTE nor place:field"
        pid = cite[:sep]
        shared = self._shared.get(pid)
        if shared is None:
            return None, f"'{cite}': '{pid}' is not an input of this memo ({', '.join(self.places)})"
        hit = shared.resolved.get(cite)
        if hit is None:
            hit = shared.resolved[cite] = _resolve_in(shared.place, pid, cite, sep)
        return hit

    def _one(self, cite: str) -> Content | None:
        """The content of one cite; a cite resolves within the one place it names, so it is kept there."""
        sep = _sep(cite)
        shared = self._shared.get(cite[:sep]) if sep > 0 else None
        if shared is None:
            return None  # not a cite of this memo's places: nothing to read
        if cite not in shared.cited:
            obj, _ = self.resolve(cite)
            got = None
            if obj is not None:
                got = Content()
                got.add(obj, cite)
            shared.cited[cite] = got
        return shared.cited[cite]

    def content(self, cites: Iterable[str]) -> Content:
        key = tuple(cites)
        out = self._cited.get(key)
        if out is None:
            out = self._cited[key] = Content()
            for c in dict.fromkeys(key):
                got = self._one(c)
                if got is not None:
                    out.extend(got)
        return out

    def everything(self) -> Joined:
        """Every figure in either place file, labelled with where it sits."""
        return Joined([s.everything() for s in self._shared.values()])
