"""Every reference in a place file resolves: notes cite sources, fields cite notes, ids are
unique, units fit their indicator, analogs do their factor's job. Problems name file, line, field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import field_name
from . import vocabulary as V
from .schema import Place


def _fmt_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{field_name(p)}" if out else field_name(p))
    return out


@dataclass
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"



def check_references(place: Place, where, problems: list[Problem], warnings: list[Problem]) -> None:
    def bad(loc: tuple, msg: str) -> None:
        f, line = where(loc)
        problems.append(Problem(f, line, _fmt_path(loc), msg))

    def sources(loc: tuple, ids: list[str]) -> None:
        for i, s in enumerate(ids):
            if s not in place.sources:
                hint = V.nearest(s, place.sources)
                bad(loc + (i,), f"source '{s}' is not in sources" + (f"; did you mean '{hint}'?" if hint else ""))

    note_ids: dict[str, int] = {}
    for i, n in enumerate(place.notes):
        if n.id in note_ids:
            bad(("notes", i, "id"), f"duplicate note id '{n.id}' (also notes[{note_ids[n.id]}])")
        note_ids.setdefault(n.id, i)
        sources(("notes", i, "sources"), n.sources)

    def notes(loc: tuple, ids: list[str]) -> None:
        for i, n in enumerate(ids):
            if n not in note_ids:
                hint = V.nearest(n, note_ids)
                bad(loc + (i,), f"note '{n}' does not exist" + (f"; did you mean '{hint}'?" if hint else ""))

    for key, ind in place.indicators.items():
        if key not in V.INDICATORS:
            f, line = where(("indicators", key))
            hint = V.nearest(key, V.INDICATORS)
            warnings.append(Problem(f, line, f"indicators.{key}", "unknown indicator key, not usable in conditions"
                                    + (f"; did you mean '{hint}'?" if hint else "")))
        elif ind.unit not in V.accepted_units(key):
            bad(("indicators", key, "unit"), f"unit '{ind.unit}' not accepted for {key}; use one of "
                + ", ".join(V.accepted_units(key)))
        elif key in V.CLUSTER_INDICATORS and ind.of is None:
            bad(("indicators", key, "of"), "say which industry this cluster figure is about (of: TAG): "
                "figures of different clusters are not the same quantity")
        if ind.source not in place.sources:
            bad(("indicators", key, "source"), f"source '{ind.source}' is not in sources")
    for cur, rate in place.exchange_rates.items():
        if cur not in {c for c, _ in V.MONEY_UNITS.values()}:
            bad(("exchange_rates", cur), f"unknown currency '{cur}'")
        if rate.source not in place.sources:
            bad(("exchange_rates", cur, "source"), f"source '{rate.source}' is not in sources")
    # everything a memo may cite must itself rest on a source or a note
    for group in ("industries", "assets", "challenges", "goals", "policies", "absences", "powers"):
        for i, item in enumerate(getattr(place, group)):
            sources((group, i, "sources"), item.sources)
            notes((group, i, "notes"), item.notes)
            if not item.sources and not item.notes:
                bad((group, i), "cite at least one source or note")
    for i, inst in enumerate(place.institutions):
        sources(("institutions", i, "sources"), inst.sources)
        notes(("institutions", i, "notes"), inst.notes)
        if inst.basis == "sourced" and not inst.sources and not inst.notes:
            bad(("institutions", i), "cite a source or note, or mark it `basis: general` "
                "(the standard organ of this level of government, its name to verify)")
    for group in ("challenges", "goals", "institutions", "policies"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(place, group)):
            if item.id is not None and item.id in seen:
                bad((group, i, "id"), f"duplicate id '{item.id}' (also {group}[{seen[item.id]}])")
            if item.id is not None:
                seen.setdefault(item.id, i)
    for i, ph in enumerate(place.phases):
        notes(("phases", i, "notes"), ph.notes)
    mech_ids: set[str] = set()
    for i, m in enumerate(place.mechanisms):
        if m.id in mech_ids:
            bad(("mechanisms", i, "id"), f"duplicate mechanism id '{m.id}'")
        mech_ids.add(m.id)
        notes(("mechanisms", i, "evidence"), m.evidence)
        for j, r in enumerate(m.rival_explanations):
            notes(("mechanisms", i, "rival_explanations", j, "notes"), r.notes)
        fids: set[str] = set()
        for j, sf in enumerate(m.support_factors):
            if sf.id in fids:
                bad(("mechanisms", i, "support_factors", j, "id"), f"duplicate support factor id '{sf.id}'")
            fids.add(sf.id)
            notes(("mechanisms", i, "support_factors", j, "notes"), sf.notes)
            if sf.condition is None and sf.verify is None:
                bad(("mechanisms", i, "support_factors", j), "a factor without a condition needs `verify` text")
            _check_analogs(sf, ("mechanisms", i, "support_factors", j), bad)
        if m.bound is not None:
            notes(("mechanisms", i, "bound", "notes"), m.bound.notes)
    for i, lesson in enumerate(place.negative_lessons):
        notes(("negative_lessons", i, "notes"), lesson.notes)


def _check_analogs(sf, loc: tuple, bad) -> None:
    """An analog counts only when it does the factor's job: it shares a functional family with what
    the condition names. A retail district is not a manufacturing cluster; a metro is not a national
    corridor; a power or a threshold has no stand-in."""
    from .schema import condition_families
    if not sf.analog:
        return
    wanted = condition_families(sf.condition) if sf.condition is not None else set()
    for k, a in enumerate(sf.analog):
        what = a.industry or a.asset or a.family
        if not wanted:
            bad(loc + ("analog", k), f"'{what}' cannot stand in for this factor: its condition names no "
                "industry, asset or family whose job an analog could do")
        elif not (a.families & wanted):
            theirs = ", ".join(sorted(a.families)) or "no family"
            bad(loc + ("analog", k), f"'{what}' ({theirs}) does not do this factor's job "
                f"({', '.join(sorted(wanted))}): an analog must share its functional family")
