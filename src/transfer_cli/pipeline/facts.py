"""What a fit needs that takes no judgement, computed the same for every engine: the context
table, the scale and administrative-level differences, and the evaluation of every
machine-checkable support-factor condition on the target.

The stages hand these to the engine; the verifier re-evaluates the conditions to check a fit;
`--dry-run` shows them in the prompts. Kept apart from the stages so that the verifier, which
the stages call, does not import them back.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from ..identity import ByIdentity
from ..places import schema as S
from ..places.conditions import Evaluation, evaluate, fmt_number
from .artifacts import CaseLogic, Claim, ContextRow
from .i18n import admin_level, indicator_name, t

CONTEXT_KEYS = ("area", "population_resident", "population_registered", "population_density", "gdp",
                "gdp_per_capita", "gdp_growth", "primary_share", "secondary_share", "tertiary_share",
                "fiscal_revenue_general_budget", "fiscal_revenue_total", "retail_sales", "urbanisation_rate",
                "ageing_60plus_share", "ageing_65plus_share", "tourism_visitors", "cluster_output")
SCALE_KEYS = ("area", "population_resident", "population_density", "secondary_share")
_COND = TypeAdapter(S.Condition)


def _value(place: S.Place, key: str) -> tuple[str | None, str | None]:
    ind = place.indicators.get(key)
    if ind is None:
        return None, None
    return f"{fmt_number(ind.value)} {ind.unit} ({ind.year})", f"{place.id}:indicators.{key}"


def context_rows(source: S.Place, target: S.Place, lang: str) -> list[ContextRow]:
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
        sv, sc = _value(source, key)
        tv, tc = _value(target, key)
        if sv or tv:
            rows.append(ContextRow(key=key, label=indicator_name(lang, key), source_value=sv, source_cite=sc,
                                   target_value=tv, target_cite=tc))
    return rows


def scale_differences(source: S.Place, target: S.Place, lang: str) -> list[Claim]:
    sname, tname = source.name(lang), target.name(lang)
    cites = [f"{source.id}:admin_level", f"{target.id}:admin_level"]
    if source.admin_level == target.admin_level:
        out = [Claim(text=t(lang, "scale_admin_same", level=admin_level(lang, source.admin_level)), cites=cites)]
    else:
        out = [Claim(text=t(lang, "scale_admin", source=sname, target=tname,
                             source_level=admin_level(lang, source.admin_level),
                             target_level=admin_level(lang, target.admin_level)), cites=cites)]
    for key in SCALE_KEYS:
        (sv, sc), (tv, tc) = _value(source, key), _value(target, key)
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
