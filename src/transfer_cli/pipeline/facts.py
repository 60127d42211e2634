"""What a fit needs that takes no judgement, computed the same for every engine: the context
table, the scale and administrative-level differences, and the evaluation of every
machine-checkable support-factor condition on the target.

The stages hand these to the engine; the verifier re-evaluates the conditions to check a fit;
`--dry-run` shows them in the prompts. Kept apart from the stages so that the verifier, which
the stages call, does not import them back.
"""

from __future__ import annotations

import re

from pydantic import TypeAdapter

from ..identity import ByIdentity
from ..places import schema as S
from ..places import vocabulary as V
from ..places.conditions import Evaluation, evaluate
from .artifacts import CaseLogic, Claim, ContextRow
from .i18n import admin_level, indicator_name, industry_name, t
from .i18n.units import dated

CONTEXT_KEYS = ("area", "population_resident", "population_registered", "population_density", "gdp",
                "gdp_per_capita", "gdp_growth", "primary_share", "secondary_share", "tertiary_share",
                "fiscal_revenue_general_budget", "fiscal_revenue_total", "retail_sales", "urbanisation_rate",
                "ageing_60plus_share", "ageing_65plus_share", "tourism_visitors", "cluster_output")
SCALE_KEYS = ("area", "population_resident", "population_density", "secondary_share")
_COND = TypeAdapter(S.Condition)
_YEAR = re.compile(r"(1[89]|20)\d\d")
_PART = re.compile(r"(?i)Jan|Q[1-4]|H[12]|月|季|上半年|下半年")
YEAR_GAP = 3  # years apart at which two figures are flagged as not from the same time


def _value(place: S.Place, key: str, lang: str) -> tuple[str | None, str | None]:
    ind = place.indicators.get(key)
    if ind is None:
        return None, None
    return dated(ind.value, ind.unit, ind.year, lang), f"{place.id}:indicators.{key}"


def _year(y) -> int | None:
    m = _YEAR.search(str(y))
    return int(m.group(0)) if m else None


def _comparable(key: str, a: S.Indicator | None, b: S.Indicator | None, lang: str) -> str | None:
    """Why two observations of one key are not quite the same quantity, or None."""
    if a is None or b is None:
        return None
    ca, cb = V.currency(a.unit), V.currency(b.unit)
    if ca and cb and ca != cb:
        return t(lang, "cmp_currency", a=ca, b=cb)
    notes = []
    ya, yb = _year(a.year), _year(b.year)
    if ya and yb and abs(ya - yb) >= YEAR_GAP:
        notes.append(t(lang, "cmp_years"))
    if any(not isinstance(x.year, int) and _PART.search(str(x.year)) for x in (a, b)):
        notes.append(t(lang, "cmp_part_year"))
    return "; ".join(notes) or None


def context_rows(source: S.Place, target: S.Place, lang: str) -> list[ContextRow]:
    """Source and target side by side, a row only where both sides are the same quantity: a
    cluster figure of different industries gets a row each, another currency is flagged."""
    rows = [ContextRow(key="admin_level", label=t(lang, "ctx_level"),
                       source_value=admin_level(lang, source.admin_level), source_cite=f"{source.id}:admin_level",
                       target_value=admin_level(lang, target.admin_level), target_cite=f"{target.id}:admin_level")]
    if source.parent or target.parent:
        rows.append(ContextRow(key="parent", label=t(lang, "ctx_parent"),
                               source_value=S.text(source.parent, lang) or None,
                               source_cite=f"{source.id}:parent" if source.parent else None,
                               target_value=S.text(target.parent, lang) or None,
                               target_cite=f"{target.id}:parent" if target.parent else None))
    for key in CONTEXT_KEYS:
        (sv, sc), (tv, tc) = _value(source, key, lang), _value(target, key, lang)
        if not (sv or tv):
            continue
        si, ti = source.indicators.get(key), target.indicators.get(key)
        if key in V.CLUSTER_INDICATORS and si and ti and si.of != ti.of:
            # two different clusters: not one quantity, so not one row
            for side, ind, v, c in (("source", si, sv, sc), ("target", ti, tv, tc)):
                label = f"{indicator_name(lang, key)} ({industry_name(lang, ind.of)})"
                rows.append(ContextRow(key=f"{key}:{ind.of}", label=label, note=t(lang, "cmp_cluster"),
                                       **{f"{side}_value": v, f"{side}_cite": c}))
            continue
        label = indicator_name(lang, key)
        ind = si or ti
        if key in V.CLUSTER_INDICATORS and ind.of:
            label += f" ({industry_name(lang, ind.of)})"
        rows.append(ContextRow(key=key, label=label, source_value=sv, source_cite=sc, target_value=tv,
                               target_cite=tc, note=_comparable(key, si, ti, lang)))
    return rows


def admin_claim(source: S.Place, target: S.Place, lang: str) -> Claim:
    """What this pair's admin levels hold, stated for the pair (not one sentence for every pair)."""
    sl, tl = source.admin_level, target.admin_level
    kw = dict(source=source.name(lang), target=target.name(lang), source_level=admin_level(lang, sl),
              target_level=admin_level(lang, tl), parent=S.text(target.parent, lang) or t(lang, "the_parent"))
    county = set(V.COUNTY_CLASS)
    if sl == tl:
        key = "adm_same_foreign" if tl == "foreign_city" else "adm_same"
    elif tl == "foreign_city" or sl == "foreign_city":
        key = "adm_foreign"
    elif sl in county and tl in county:
        key = "adm_county_pair"
    elif sl in county and tl == "municipal_district":
        key = "adm_county_district"
    elif sl in county and tl in ("prefecture_city", "sub_provincial_city"):
        key = "adm_county_city"
    else:
        key = "adm_other"
    cites = [f"{source.id}:admin_level", f"{target.id}:admin_level"]
    if key == "adm_county_district" and target.parent:
        cites.append(f"{target.id}:parent")
    return Claim(text=t(lang, key, **kw), cites=cites)


def scale_differences(source: S.Place, target: S.Place, lang: str) -> list[Claim]:
    sname, tname = source.name(lang), target.name(lang)
    out = [admin_claim(source, target, lang)]
    for key in SCALE_KEYS:
        (sv, sc), (tv, tc) = _value(source, key, lang), _value(target, key, lang)
        label = indicator_name(lang, key)
        if sv and tv:
            out.append(Claim(text=t(lang, "scale_row", label=label, source=sname, sv=sv, target=tname, tv=tv),
                             cites=[sc, tc]))
        elif sv or tv:
            lacking = tname if sv else sname
            out.append(Claim(text=t(lang, "scale_missing", label=label, place=lacking), cites=[sc or tc]))
    return out


def evaluate_conditions(logic: CaseLogic, target: S.Place) -> dict[tuple[str, str], Evaluation]:
    """(mechanism id, factor id) -> evaluation, for every factor with a condition.

    Kept per logic and target: the fit stage and the verifier both ask (the verifier re-evaluates
    rather than trusting the fit's `computed`, and this is still that evaluation); the parsed
    conditions are kept per logic, which a batch shares across its targets."""
    def run() -> dict:
        conds = _CONDITIONS.get((logic,), lambda: [((m.id, sf.id), _COND.validate_python(sf.condition))
                                                   for m in logic.mechanisms for sf in m.support_factors
                                                   if sf.condition is not None])
        return {key: evaluate(cond, target) for key, cond in conds}
    return dict(_EVALUATIONS.get((logic, target), run))


_CONDITIONS = ByIdentity()
_EVALUATIONS = ByIdentity(size=2)
