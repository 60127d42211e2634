"""Evaluating support-factor conditions on a place, and resolving cited profile fields.

Four-valued (Kleene) logic: present / partial / absent / unknown. Missing data is unknown,
never absent, so the memo can say "unknown: the profile lacks X" instead of guessing. A thing
not listed is absent only where the profile says it looked (`checked`) or records the absence;
a power the profile does not record is read from what the place's admin level usually holds,
and says so; money in another currency than the threshold's is not compared without a rate.
"""

from __future__ import annotations

import operator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from . import schema as S
from . import vocabulary as V

Status = Literal["present", "partial", "absent", "unknown"]
_RANK = {"absent": 0, "partial": 1, "present": 2}
_WEIGHT = {"declining": 0, "emerging": 1, "major": 2, "pillar": 3}
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
        "==": operator.eq, "!=": operator.ne}


Basis = Literal["profile", "level", "checked", "absence", "not_comparable"]


class Reading(BaseModel):
    """One profile field a condition read: what it tested, what it found."""
    model_config = ConfigDict(defer_build=True)  # built on first use, as in schema.py
    field: str          # a path resolvable by resolve_field, e.g. "indicators.area"
    test: str           # e.g. "area >= 500 km²"
    found: str | None   # the value as read, or None when the profile lacks it
    status: Status
    # how the status was read: the profile's own entry; what the admin level usually holds; a
    # complete (checked) list that lacks it; a recorded absence; data that cannot be compared
    basis: Basis = "profile"


class Evaluation(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: Status
    readings: list[Reading]

    @property
    def missing(self) -> list[str]:
        return [r.field for r in self.readings if r.found is None]


def fmt_number(x: float) -> str:
    """A number as the inputs wrote it: thousands separators, no invented precision."""
    return f"{x:,.6f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"


def evaluate(cond, place: S.Place) -> Evaluation:
    if isinstance(cond, S.IndicatorCond):
        return _indicator(cond, place)
    if isinstance(cond, S.IndustryCond):
        return _industries(place, {cond.industry}, cond.min_weight, f"industry {cond.industry} ≥ {cond.min_weight}",
                           cond.industry)
    if isinstance(cond, S.FamilyCond):
        if cond.family in V.INDUSTRY_FAMILIES:
            return _industries(place, set(V.INDUSTRY_FAMILIES[cond.family][1]), cond.min_weight,
                               f"family {cond.family} ≥ {cond.min_weight}", cond.family)
        return _assets(place, set(V.ASSET_FAMILIES[cond.family][1]), f"family {cond.family}", cond.family)
    if isinstance(cond, S.AssetCond):
        return _assets(place, {cond.asset}, f"asset {cond.asset}", cond.asset)
    if isinstance(cond, S.AdminCond):
        status = "present" if place.admin_level in cond.admin_level_in else "absent"
        return Evaluation(status=status, readings=[Reading(field="admin_level", test="admin level in "
                                                           + ", ".join(cond.admin_level_in),
                                                           found=place.admin_level, status=status)])
    if isinstance(cond, S.PowerCond):
        return _power(cond, place)
    if isinstance(cond, S.AllCond):
        parts = [evaluate(c, place) for c in cond.all]
        return Evaluation(status=_all([p.status for p in parts]), readings=[r for p in parts for r in p.readings])
    if isinstance(cond, S.AnyCond):
        parts = [evaluate(c, place) for c in cond.any]
        return Evaluation(status=_any([p.status for p in parts]), readings=[r for p in parts for r in p.readings])
    if isinstance(cond, S.NotCond):
        inner = evaluate(cond.not_, place)
        flip = {"present": "absent", "absent": "present", "partial": "partial", "unknown": "unknown"}
        return Evaluation(status=flip[inner.status], readings=inner.readings)
    raise TypeError(f"not a condition: {cond!r}")


def _indicator(cond: S.IndicatorCond, place: S.Place) -> Evaluation:
    unit = V.INDICATORS[cond.indicator][0]
    test = f"{cond.indicator} {cond.op} {fmt_number(cond.value)} {unit}"
    if cond.partial is not None:
        test += f" (partial {cond.op} {fmt_number(cond.partial)})"
    field = f"indicators.{cond.indicator}"
    ind = place.indicators.get(cond.indicator)
    if ind is None:
        return Evaluation(status="unknown", readings=[Reading(field=field, test=test, found=None, status="unknown")])
    found = f"{fmt_number(ind.value)} {ind.unit} ({ind.year})"
    value = V.canonical(cond.indicator, ind.value, ind.unit, place.rates())
    if value is None:  # another currency and no cited rate: not the same quantity
        return Evaluation(status="unknown", readings=[Reading(field=field, test=test, found=found, status="unknown",
                                                              basis="not_comparable")])
    op = _OPS[cond.op]
    status: Status = ("present" if op(value, cond.value)
                      else "partial" if cond.partial is not None and op(value, cond.partial) else "absent")
    return Evaluation(status=status, readings=[Reading(field=field, test=test, found=found, status=status)])


def _absence(place: S.Place, subject: str, members: set[str]) -> int | None:
    """The index of a recorded absence of this tag, kind or family: the same subject, or a family
    that contains every member (no manufacturing at all means no ceramics either; no ceramics does
    not mean no manufacturing)."""
    for i, a in enumerate(place.absences):
        if a.subject == subject or (a.family and members <= set(V.FAMILIES[a.family][1])):
            return i
    return None


def _not_found(place: S.Place, group: str, members: set[str], subject: str, test: str) -> Evaluation:
    """Nothing listed: absent where the profile records it or looked for it, else unknown."""
    i = _absence(place, subject, members)
    if i is not None:
        return Evaluation(status="absent", readings=[Reading(field=f"absences[{i}]", test=test,
                                                             found=S.text(place.absences[i].text, place.language),
                                                             status="absent", basis="absence")])
    looked = place.checked.industries if group == "industries" else (
        place.checked.assets is True or (isinstance(place.checked.assets, list)
                                         and members <= set(place.checked.assets)))
    if looked:
        return Evaluation(status="absent", readings=[Reading(field=group, test=test, found="-", status="absent",
                                                             basis="checked")])
    return _unknown(group, test)


def _industries(place: S.Place, tags: set[str], min_weight: str, test: str, subject: str) -> Evaluation:
    hits = sorted((i for i in place.industries if i.tag in tags), key=lambda i: -_WEIGHT[i.weight])
    live = [i for i in hits if i.weight != "declining"]
    if not live:
        if hits:  # a shrunk, moved-out industry is not a base to build on
            i = hits[0]
            return Evaluation(status="absent", readings=[Reading(field=f"industries.{i.tag}", test=test,
                                                                 found=f"{S.text(i.name, place.language)} (declining)",
                                                                 status="absent")])
        return _not_found(place, "industries", tags, subject, test)
    hit = live[0]
    # "major" is the threshold of scale: a pillar asked for and a major found is partly there; an
    # emerging industry where a major one is asked for is not a base at scale
    status: Status = ("present" if _WEIGHT[hit.weight] >= _WEIGHT[min_weight]
                      else "partial" if min_weight == "pillar" and hit.weight == "major" else "absent")
    return Evaluation(status=status, readings=[Reading(field=f"industries.{hit.tag}", test=test,
                                                       found=f"{S.text(hit.name, place.language)} ({hit.weight})",
                                                       status=status)])


def _assets(place: S.Place, kinds: set[str], test: str, subject: str) -> Evaluation:
    hits = [a for a in place.assets if a.kind in kinds]
    if not hits:
        return _not_found(place, "assets", kinds, subject, test)
    a = hits[0]
    return Evaluation(status="present", readings=[Reading(field=asset_path(place, a), test=test,
                                                          found=S.text(a.name, place.language), status="present")])


def _power(cond: S.PowerCond, place: S.Place) -> Evaluation:
    test = f"power {cond.power} ≥ {cond.min}"
    p = place.power(cond.power)
    if p is not None:
        holds, field, basis = p.holds, f"powers.{cond.power}", "profile"
    else:
        holds = V.LEVEL_POWERS.get(place.admin_level, {}).get(cond.power)
        if holds is None:
            return _unknown(f"powers.{cond.power}", test)
        field, basis = "admin_level", "level"
    status: Status = ("present" if holds == "full" or (holds == "partial" and cond.min == "partial")
                      else "partial" if holds == "partial" else "absent")
    return Evaluation(status=status, readings=[Reading(field=field, test=test, found=holds, status=status,
                                                       basis=basis)])


def _unknown(field: str, test: str) -> Evaluation:
    return Evaluation(status="unknown", readings=[Reading(field=field, test=test, found=None, status="unknown")])


def _all(statuses: list[Status]) -> Status:
    if "absent" in statuses:
        return "absent"
    if "unknown" in statuses:
        return "unknown"
    return min(statuses, key=_RANK.__getitem__)


def _any(statuses: list[Status]) -> Status:
    if "present" in statuses:
        return "present"
    if "unknown" in statuses:
        return "unknown"
    return max(statuses, key=_RANK.__getitem__)


# ---- profile field paths ------------------------------------------------------------------

def asset_path(place: S.Place, asset: S.Asset) -> str:
    return item_path("assets", place.assets.index(asset), asset)


def item_path(group: str, i: int, item) -> str:
    """The field path of the i-th item of a profile list: by its id where it has one, else by position."""
    return f"{group}.{item.id}" if getattr(item, "id", None) else f"{group}[{i}]"


def resolve_field(place: S.Place, path: str) -> object | None:
    """The value at a cited field path, or None when the path does not exist.

    Paths: indicators.KEY, industries.TAG, assets.ID, assets[i], powers.NAME, challenges.ID,
    goals.ID, institutions.ID, policies.ID, absences[i] (any list takes [i]), admin_level, names,
    parent, country, summary, checked — plus the bare group names.
    """
    head, _, rest = path.partition(".")
    if "[" in head and head.endswith("]"):
        group, _, idx = head[:-1].partition("[")
        items = getattr(place, group, None)
        if isinstance(items, list) and idx.isdigit() and int(idx) < len(items):
            return items[int(idx)]
        return None
    if head in ("admin_level", "names", "parent", "country", "summary", "aliases", "checked") and not rest:
        return getattr(place, head)
    if head in ("industries", "assets", "powers", "challenges", "indicators", "goals", "institutions",
                "policies", "absences") and not rest:
        return getattr(place, head) or None
    if head == "indicators":
        return place.indicators.get(rest)
    if head == "industries":
        return next((i for i in place.industries if i.tag == rest), None)
    if head == "assets":
        return next((a for a in place.assets if a.id == rest), None)
    if head == "powers":
        return place.power(rest)
    if head in ("challenges", "goals", "institutions", "policies"):
        return next((x for x in getattr(place, head) if x.id == rest), None)
    return None
