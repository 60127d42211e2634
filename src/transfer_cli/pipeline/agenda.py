"""Actions from the target's own agenda: a transferable lesson meets a problem or goal the target
has named, led by one of its institutions, measured by its own indicators.

Both engines use these pieces: the offline engine drafts the whole plan from them; the llm engine
gives the model the same problems, institutions and indicators and checks its answer against them.
"""

from __future__ import annotations

from ..places import schema as S
from ..places import vocabulary as V
from .artifacts import (KPI, Action, ActionPlan, ActionRisk, CaseLogic, FitAssessment, MechanismFit,
                        MechanismLogic, Option)
from .i18n import admin_level, indicator_name, industry_name, problem_label, t
from .i18n.units import dated

_WEIGHT = {"high": 3, "medium": 2, "low": 1}
_MODE_RANK = {"copy": 0, "in_place": 1, "adapt": 2, "inspire": 3}
KIND = {"copy": "pilot", "adapt": "pilot", "in_place": "compare", "inspire": "study"}
MAX_KPIS = 2
MAX_STUDIES = 2  # a principle-only lesson earns a study or a visit, and only for a pressing problem
# The portfolio that handles each power: who to bring in where a power sits with a higher level.
POWER_PORTFOLIO = {"land_supply": "planning_land", "urban_planning": "planning_land", "development_zone": "planning_land",
                   "investment_approval": "development_reform", "fiscal_budget": "finance_fiscal",
                   "safety_regulation": "emergency_safety", "urban_renewal": "urban_renewal",
                   "industrial_policy": "industry", "education": "education", "tourism_promotion": "culture_tourism",
                   "business_registration": "market_regulation"}
# What each kind of problem is measured by, where a mechanism's own KPIs do not fit the target.
PROBLEM_INDICATORS = {
    "urban_hollowing": ("fixed_asset_investment_growth", "population_resident"),
    "industrial_decline": ("industrial_value_added_growth", "manufacturing_employment"),
    "regional_competition": ("retail_sales", "gdp_growth"),
    "narrow_industrial_base": ("secondary_share", "industrial_value_added_growth"),
    "slow_growth": ("gdp_growth",),
    "mono_industry": ("cluster_output",),
    "low_value_added": ("gdp_per_capita",),
    "export_dependence": ("exports",),
    "production_safety": ("cluster_firms",),
    "shrinking_demand": ("cluster_output",),
    "ageing": ("ageing_60plus_share",),
    "deprivation": ("disposable_income",),
    "stagnant_incomes": ("disposable_income",),
    "economic_shocks": ("gdp_growth",),
    "health_gap": ("disposable_income",),
    "population_decline": ("population_resident",),
    "skills_shortage": ("college_educated_per_100k",),
    "fiscal_pressure": ("fiscal_revenue_general_budget",),
    "consumption_upgrade": ("retail_sales",),
    "investment_attraction": ("fixed_asset_investment_growth",),
    "tourism_growth": ("tourism_visitors", "tourism_revenue"),
    "innovation": ("high_tech_firms",),
    "cluster_upgrading": ("cluster_output",),
    "brand_building": ("tourism_visitors",),
    "rural_income": ("disposable_income_rural",),
}


def problems(target: S.Place) -> list[S.Challenge | S.Goal]:
    """The target's typed challenges and goals, most pressing first (goals count as medium)."""
    items = [x for x in [*target.challenges, *target.goals] if x.type and x.type != "data_gaps"]
    return sorted(items, key=lambda x: -_WEIGHT[getattr(x, "weight", "medium")])


def problem_cite(target: S.Place, p) -> str:
    return f"{target.id}:{'challenges' if isinstance(p, S.Challenge) else 'goals'}.{p.id}"


def answerable(m: MechanismLogic, mf: MechanismFit, target: S.Place) -> list:
    """The target problems an action on this mechanism could answer, most pressing first; none
    for what must not be transferred or a principle bound to its time, and a principle-only
    lesson answers only a pressing (high) problem. `draft` picks one of these per action."""
    if mf.mode == "avoid" or (mf.mode == "inspire" and mf.bound is not None):
        return []
    hits = [p for p in problems(target) if p.type in m.addresses]
    return [p for p in hits if getattr(p, "weight", "medium") == "high"] if mf.mode == "inspire" else hits


def holds(target: S.Place, power: str) -> str | None:
    """full | partial | none: the profile's own entry, else what the admin level usually holds."""
    p = target.power(power)
    if p is not None:
        return p.holds
    return V.LEVEL_POWERS.get(target.admin_level, {}).get(power)


def lead(m: MechanismLogic, target: S.Place, lang: str, kind: str):
    """(institution or None, partners, approval): the target body whose portfolio the mechanism's
    lead needs, the higher-level bodies holding powers the target lacks, and who must approve."""
    wanted = list((m.adoption.lead if m.adoption else []) or ["development_reform"])
    if kind == "study":
        wanted = wanted + ["development_reform"]
    own = [i for i in target.institutions if i.level == "own"]
    body = next((i for w in wanted for i in own if w in i.handles), None)
    if body is None:
        body = next((i for w in wanted for i in target.institutions if w in i.handles), None)
    partners, approval = [], []
    if kind == "pilot":  # a study or a design review needs nobody's approval
        for power in m.lever_powers:
            h = holds(target, power)
            if h in ("none", "partial"):
                holder = target.power(power)
                who = (S.text(holder.holder, lang) if holder and holder.holder else None) or S.text(target.parent, lang)
                if h == "none" and who:
                    approval.append(who)
                port = POWER_PORTFOLIO.get(power)
                partner = next((i for i in target.institutions if i.level == "parent" and port in i.handles), None)
                if partner is not None:
                    partners.append(partner)
        # an open window that a higher level still decides (a corridor stop, a pilot mandate): the
        # target can bid and prepare, not decide; a Chinese level only names a Chinese place's approver
        if m.bound is not None and m.bound.needs != "none" and target.country == "CN":
            approval.append(t(lang, f"approver_{m.bound.needs}"))
    return body, list({p.id: p for p in partners}.values()), list(dict.fromkeys(approval))


def kpis(m: MechanismLogic, problem, target: S.Place, lang: str) -> list[KPI]:
    """KPIs the target can measure: the mechanism's own and the problem's, ones with a baseline first;
    one the target lacks only where it is a statistic it could publish ("not measured yet"): on a
    foreign place never a Chinese statistical category, but a quantity any place can count (cluster
    jobs, exports) still is one, so an action abroad is not left without a measure."""
    keys = list(dict.fromkeys([*m.kpis, *PROBLEM_INDICATORS.get(problem.type if problem else "", ())]))
    foreign = target.country != "CN"
    have = [k for k in keys if k in target.indicators]
    lacking = [k for k in keys if k not in target.indicators and not (foreign and k in V.CN_ONLY_INDICATORS)]
    return [kpi(k, target, lang) for k in (have + lacking)[:MAX_KPIS]]


def kpi(key: str, target: S.Place, lang: str) -> KPI:
    ind = target.indicators.get(key)
    label = indicator_name(lang, key)
    goal, gcite = _goal_target(key, target, lang)
    if ind is None:
        return KPI(indicator=key, label=label, target=goal, target_cite=gcite)
    src = target.sources.get(ind.source)
    return KPI(indicator=key, label=label, baseline=dated(ind.value, ind.unit, ind.year, lang),
               baseline_cite=f"{target.id}:indicators.{key}", target=goal, target_cite=gcite,
               data_source=src.title if src else None)


def _goal_target(key: str, target: S.Place, lang: str) -> tuple[str | None, str | None]:
    """The target's own figure for this indicator, from one of its goals."""
    for g in target.goals:
        for x in g.targets:
            ind = target.indicators.get(key)
            if x.indicator == key and (ind is None or x.of is None or ind.of == x.of):
                return dated(x.value, x.unit, x.year, lang), f"{target.id}:goals.{g.id}"
    return None, None


def _fill(template: str | None, **slots) -> str | None:
    if not template:
        return None
    for k, v in slots.items():
        template = template.replace("{" + k + "}", v)
    return template


def site(mf: MechanismFit, target: S.Place) -> tuple[str, str] | None:
    """(name, cite) of the target asset that would host the action: the target's own instrument, an
    analog, else an asset a necessary factor found."""
    if mf.existing is not None:
        return mf.existing.name, mf.existing.cite
    for f in sorted(mf.factors, key=lambda f: f.necessity != "necessary"):
        if f.analog is not None:
            return f.analog.name, f.analog.cite
    for f in sorted(mf.factors, key=lambda f: f.necessity != "necessary"):
        for r in f.readings:
            if r.status == "present" and r.field.startswith("assets") and r.found:
                return r.found, f"{target.id}:{r.field}"
    return None


def draft(logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place, lang: str) -> ActionPlan:
    """The offline engine's stage 3: one action per transferable mechanism that meets a target problem."""
    by_id = {m.id: m for m in logic.mechanisms}
    rows, taken = [], set()
    # strongest verdicts first, so they choose their problem first
    for mf in sorted(fit.mechanisms, key=lambda f: (_MODE_RANK.get(f.mode, 9), -f.score, f.mechanism_id)):
        m = by_id[mf.mechanism_id]
        hits = answerable(m, mf, target)
        if not hits:
            continue  # no problem of the target's own it could answer: no action, however good the fit
        # a problem no earlier action took: a plan that answers three problems beats three answers to one
        problem = next((p for p in hits if p.id not in taken), hits[0])
        taken.add(problem.id)
        rows.append(action(m, mf, problem, source, target, lang))
    rows.sort(key=lambda a: a[0])
    actions, studies = [], 0
    for _, a in rows:
        if a.kind == "study":
            if studies >= MAX_STUDIES:
                continue
            studies += 1
        actions.append(a)
    for i, a in enumerate(actions, 1):
        a.id, a.priority = f"A{i}", i
    return ActionPlan(source=source.id, target=target.id, lang=lang, actions=actions,
                      options=options(fit, actions, source, target, lang))


def action(m: MechanismLogic, mf: MechanismFit, problem, source: S.Place, target: S.Place, lang: str):
    kind = KIND[mf.mode]
    body, partners, approval = lead(m, target, lang, kind)
    tname = target.name(lang)
    where = site(mf, target)
    slots = dict(target=tname, site=where[0] if where else tname, problem=problem_label(lang, problem.type))
    builds = [f.factor_id for f in mf.factors if f.necessity == "necessary" and f.status == "partial" and f.analog is None]
    unknown = [f for f in mf.factors if f.necessity == "necessary" and f.status == "unknown" and f.analog is None]
    if kind == "study":
        # the title names the question, not the source's principle: that principle speaks of the
        # source's own trade (crafts, kilns), which reads absurdly as a finance district's action
        title = t(lang, "a_study2", source=source.name(lang), mechanism=m.id, problem=slots["problem"])
        step = (m.adoption.study if m.adoption and m.adoption.study else t(lang, "a_study_step", target=tname))
        own = _own_industries(target, lang)
        if own and _lacks_base(m, mf):
            # the authored study visits the source's industry, which the target does not have: study the
            # principle on the target's own industries instead (a ceramics visit does not answer a finance district)
            step = t(lang, "a_study_local", target=tname, industries=own)
        horizon, review = t(lang, "h_study"), t(lang, "rv_study")
    elif kind == "compare":
        title = t(lang, "a_compare", existing=mf.existing.name, source=source.name(lang), mechanism=m.name)
        step = t(lang, "a_compare_step", existing=mf.existing.name, source=source.name(lang),
                 principle=m.principle.rstrip("。."))
        horizon, review = t(lang, "h_compare"), t(lang, "rv_compare")
    else:
        title = _fill(m.adoption.title if m.adoption else None, **slots) or t(lang, "a_pilot_noanalog", principle=m.principle)
        step = _fill(m.adoption.first_step if m.adoption else None, **slots) or t(lang, "a_pilot_step", mechanism=m.name)
        horizon, review = t(lang, "h_adapt" if builds else "h_pilot"), t(lang, "rv_pilot")
    if unknown and kind != "study":
        step = t(lang, "a_verify_first", names=("、" if lang == "zh" else "; ").join(f.name for f in unknown)) + step
    ks = kpis(m, problem, target, lang)
    if any(k.baseline is None for k in ks):
        step += " " + t(lang, "a_measure_first", labels=("、" if lang == "zh" else ", ").join(
            k.label for k in ks if k.baseline is None))
    lead_name = S.text(body.name, lang) if body else t(lang, "lead_self", target=tname)
    lead_level = (admin_level(lang, target.admin_level) if body is None or body.level == "own"
                  else S.text(target.parent, lang) or admin_level(lang, target.admin_level))
    cites = [problem_cite(target, problem)]
    if body is not None:
        cites.append(f"{target.id}:institutions.{body.id}")
    cites += [k.baseline_cite for k in ks if k.baseline_cite] + [k.target_cite for k in ks if k.target_cite]
    if where is not None:
        cites.append(where[1])
    cites += m.evidence  # the first step and the risks draw on the mechanism's whole record
    risks = [ActionRisk(text=r.text, mitigation=r.mitigation, owner=lead_name) for r in m.risks[:2]]
    a = Action(id="", mechanism_id=m.id, kind=kind, title=title, problem=problem.id,
               problem_text=S.text(problem.text, lang), lead=lead_name, lead_id=body.id if body else None,
               lead_level=lead_level, partners=[S.text(p.name, lang) for p in partners],
               approval=t(lang, "approval", level=("、" if lang == "zh" else ", ").join(approval)) if approval else None,
               horizon=horizon, first_step=step, kpis=ks, builds_factors=builds, risks=risks,
               review=review, cites=list(dict.fromkeys(c for c in cites if c)))
    weight = _WEIGHT[getattr(problem, "weight", "medium")]
    return (_MODE_RANK[mf.mode], -weight, -mf.score, m.id), a


def _lacks_base(m: MechanismLogic, mf: MechanismFit) -> bool:
    """True when the verdict is 'principle only' because the target lacks the industrial base itself."""
    kinds = {s.id: s.kind for s in m.support_factors}
    return any(f.necessity == "necessary" and f.status == "absent" and f.analog is None
               and kinds.get(f.factor_id) == "industrial_base" for f in mf.factors)


def _own_industries(target: S.Place, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(industry_name(lang, i.tag) for i in target.industries if i.weight in ("pillar", "major"))


def options(fit: FitAssessment, actions: list[Action], source: S.Place, target: S.Place, lang: str) -> list[Option]:
    """The status quo, the recommended set, and the broad copy of the source's model the analysis rejects."""
    sep = "、" if lang == "zh" else "; "
    pressing = [p for p in target.challenges if p.type and p.type != "data_gaps"][:2]
    out = [Option(id="O0", title=t(lang, "opt_status_quo"),
                  text=t(lang, "opt_status_quo_text", problems=sep.join(problem_label(lang, p.type) for p in pressing))
                  if pressing else t(lang, "opt_status_quo_none"),
                  cites=[problem_cite(target, p) for p in pressing])]
    doing = [a for a in actions if a.kind != "study"]
    out.append(Option(id="O1", title=t(lang, "opt_selective"),
                      text=t(lang, "opt_selective_text", items=sep.join(f"{a.id} {a.title}" for a in doing[:4]))
                      if doing else t(lang, "opt_selective_none"),
                      recommended=True, cites=list(dict.fromkeys(c for a in doing[:4] for c in a.cites))))
    blocked = [f for f in fit.mechanisms if f.mode in ("inspire", "avoid")]
    if blocked:
        out.append(Option(id="O2", title=t(lang, "opt_copy_model", source=source.name(lang)),
                          text=t(lang, "opt_copy_model_text", items=sep.join(f.mechanism_id for f in blocked)),
                          cites=[c for f in blocked[:3] for c in f.rationale.cites[:1]]))
    return out
