"""Evaluating support-factor conditions on a place, and resolving cited profile fields.

Four-valued (Kleene) logic: present / partial / absent / unknown. Missing data is unknown,
never absent, so the memo can say "unknown: the profile lacks X" instead of guessing.
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


class Reading(BaseModel):
    """One profile field a condition read: what it tested, what it found."""
    model_config = ConfigDict(defer_build=True)  # built on first use, as in schema.py
    field: str          # a path resolvable by resolve_field, e.g. "indicators.area"
    test: str           # e.g. "area >= 500 km²"
    found: str | None   # the value as read, or None when the profile lacks it
    status: Status


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
        unit = V.INDICATORS[cond.indicator][0]
        test = f"{cond.indicator} {cond.op} {fmt_number(cond.value)} {unit}"
        if cond.partial is not None:
            test += f" (partial {cond.op} {fmt_number(cond.partial)})"
        ind = place.indicators.get(cond.indicator)
        if ind is None:
            return Evaluation(status="unknown", readings=[Reading(field=f"indicators.{cond.indicator}", test=test,
                                                                  found=None, status="unknown")])
        value = V.canonical(cond.indicator, ind.value, ind.unit)
        op = _OPS[cond.op]
        status: Status = ("present" if op(value, cond.value)
                          else "partial" if cond.partial is not None and op(value, cond.partial) else "absent")
        found = f"{fmt_number(ind.value)} {ind.unit} ({ind.year})"
        return Evaluation(status=status, readings=[Reading(field=f"indicators.{cond.indicator}", test=test,
                                                           found=found, status=status)])
    if isinstance(cond, S.IndustryCond):
        test = f"industry {cond.industry} ≥ {cond.min_weight}"
        if not place.industries:
            return _unknown("industries", test)
        hit = next((i for i in place.industries if i.tag == cond.industry), None)
        if hit is None:
            return Evaluation(status="absent", readings=[Reading(field="industries", test=test, found="-", status="absent")])
        status = "present" if _WEIGHT[hit.weight] >= _WEIGHT[cond.min_weight] else "partial"
        return Evaluation(status=status, readings=[Reading(field=f"industries.{hit.tag}", test=test,
                                                           found=f"{S.text(hit.name, place.language)} ({hit.weight})",
                                                           status=status)])
    if isinstance(cond, S.AssetCond):
        test = f"asset {cond.asset}"
        if not place.assets:
            return _unknown("assets", test)
        hits = [a for a in place.assets if a.kind == cond.asset]
        if not hits:
            return Evaluation(status="absent", readings=[Reading(field="assets", test=test, found="-", status="absent")])
        a = hits[0]
        return Evaluation(status="present", readings=[Reading(field=asset_path(place, a), test=test,
                                                              found=S.text(a.name, place.language), status="present")])
    if isinstance(cond, S.AdminCond):
        status = "present" if place.admin_level in cond.admin_level_in else "absent"
        return Evaluation(status=status, readings=[Reading(field="admin_level", test="admin level in "
                                                           + ", ".join(cond.admin_level_in),
                                                           found=place.admin_level, status=status)])
    if isinstance(cond, S.PowerCond):
        test = f"power {cond.power} ≥ {cond.min}"
        p = place.power(cond.power)
        if p is None:
            return _unknown(f"powers.{cond.power}", test)
        status = ("present" if p.holds == "full" or (p.holds == "partial" and cond.min == "partial")
                  else "partial" if p.holds == "partial" else "absent")
        return Evaluation(status=status, readings=[Reading(field=f"powers.{cond.power}", test=test,
                                                           found=p.holds, status=status)])
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
    return f"assets.{asset.id}" if asset.id else f"assets[{place.assets.index(asset)}]"


def resolve_field(place: S.Place, path: str) -> object | None:
    """The value at a cited field path, or None when the path does not exist.

    Paths: indicators.KEY, industries.TAG, assets.ID, assets[i], powers.NAME, challenges[i],
    admin_level, names, parent, country, summary — plus the bare group names.
    """
    head, _, rest = path.partition(".")
    if "[" in head and head.endswith("]"):
        group, _, idx = head[:-1].partition("[")
        items = getattr(place, group, None)
        if isinstance(items, list) and idx.isdigit() and int(idx) < len(items):
            return items[int(idx)]
        return None
    if head in ("admin_level", "names", "parent", "country", "summary", "aliases") and not rest:
        return getattr(place, head)
    if head in ("industries", "assets", "powers", "challenges", "indicators") and not rest:
        return getattr(place, head) or None
    if head == "indicators":
        return place.indicators.get(rest)
    if head == "industries":
        return next((i for i in place.industries if i.tag == rest), None)
    if head == "assets":
        return next((a for a in place.assets if a.id == rest), None)
    if head == "powers":
        return place.power(rest)
    return None
