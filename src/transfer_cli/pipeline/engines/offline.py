"""The offline engine: deterministic, no network, the default when no model is configured.

It reads the source's authored mechanisms, decides each support factor from the condition
evaluations the stages computed, and applies the verdict rules of methodology.md section 7.
What it cannot decide it reports as unknown, with the profile field it lacks.
"""

from __future__ import annotations

from ...places import schema as S
from ...places import vocabulary as V
from ...errors import InputError
from ...places.conditions import Evaluation, asset_path
from ..agenda import draft
from ..artifacts import (ActionPlan, AdoptionSpec, AnalogRef, AnalogSpec, BoundSpec, CaseLogic, Claim, ContextRow,
                         FactorFit, FactorSpec, FigureRef, FitAssessment, MechanismFit, MechanismLogic, RiskSpec)
from ..i18n import admin_level, family_label, power_label, t
from ..verdicts import decide, overall

_WEIGHT = {"pillar": 3, "major": 2, "emerging": 1, "declining": 0}


class OfflineEngine:
    name = "offline"
    model = None
    cpu_bound = True  # all computation, no waiting: a batch runs its pairs in processes, one at a time each

    # ---- stage 1 -------------------------------------------------------------------------
    def extract(self, source: S.Place, lang: str) -> CaseLogic:
        if not source.mechanisms:
            raise InputError(f"{source.id}: the offline engine needs authored mechanisms; "
                             "this place has none (use --engine llm to extract them from the notes)")
        mechs = [logic_of(source, m, lang) for m in source.mechanisms]
        lessons = [Claim(text=S.text(x.text, lang), cites=[f"{source.id}/{n}" for n in x.notes])
                   for x in source.negative_lessons]
        return CaseLogic(source=source.id, lang=lang, mechanisms=mechs, negative_lessons=lessons)

    # ---- stage 2 -------------------------------------------------------------------------
    def fit(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
            evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
            scale: list[Claim]) -> FitAssessment:
        fits = [self._fit_mechanism(m, target, lang, evaluations) for m in logic.mechanisms]
        score, basis = overall(fits, lang)
        return FitAssessment(source=source.id, target=target.id, lang=lang, context=context,
                             scale_differences=scale, mechanisms=fits, overall_score=score, overall_basis=basis,
                             bottom_line=answer(fits, logic, source, target, scale, lang),
                             not_to_copy=self._not_to_copy(logic, fits, lang))

    def _fit_mechanism(self, m: MechanismLogic, target: S.Place, lang: str,
                       evaluations: dict[tuple[str, str], Evaluation]) -> MechanismFit:
        factors = [factor_fit(sf, evaluations.get((m.id, sf.id)), target, lang) for sf in m.support_factors]
        v = decide(m, factors, target, lang)
        risks = source_risks(m)
        missing = [f for f in factors if f.necessity == "necessary" and f.status in ("absent", "partial")
                   and f.analog is None]
        risks += [Claim(text=t(lang, "risk_build", factor=f.name), cites=f.rationale.cites)
                  for f in missing if v.mode in ("copy", "adapt", "in_place")]
        verification = []
        for f in v.unknown:
            spec = next(s for s in m.support_factors if s.id == f.factor_id)
            fields = [r.field for r in f.readings if r.found is None]
            how = spec.verify or t(lang, "verify_fields", fields=", ".join(f"{target.id}:{x}" for x in fields))
            verification.append(Claim(text=t(lang, "verify_step", name=f.name, how=how), cites=f.rationale.cites))
        return MechanismFit(mechanism_id=m.id, name=m.name, mode=v.mode, conditional=v.conditional, score=v.score,
                            score_basis=v.score_basis, rationale=v.rationale, factors=factors, bound=v.bound,
                            existing=v.existing, risks=risks, verification=verification)

    def _not_to_copy(self, logic: CaseLogic, fits: list[MechanismFit], lang: str) -> list[Claim]:
        by_id = {m.id: m for m in logic.mechanisms}
        out = [Claim(text=t(lang, "ntc_avoid", name=f.name, reason=f.rationale.text), cites=f.rationale.cites)
               for f in fits if f.mode == "avoid"]
        out += [Claim(text=t(lang, "ntc_bound", name=f.name, reason=f.bound.text), cites=f.bound.cites)
                for f in fits if f.bound is not None and f.mode == "inspire"]
        out += [Claim(text=t(lang, "ntc_form", name=f.name, form=by_id[f.mechanism_id].form_not_function),
                      cites=by_id[f.mechanism_id].evidence[:2])
                for f in fits if f.mode != "avoid" and by_id[f.mechanism_id].form_not_function]
        out += [Claim(text=t(lang, "ntc_lesson", text=x.text), cites=x.cites) for x in logic.negative_lessons]
        return out

    # ---- stage 3 -------------------------------------------------------------------------
    def actions(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                lang: str) -> ActionPlan:
        return draft(logic, fit, source, target, lang)


def logic_of(source: S.Place, m: S.Mechanism, lang: str) -> MechanismLogic:
    """An authored mechanism as stage 1's artifact, in `lang`."""
    ev = [f"{source.id}/{n}" for n in m.evidence]
    cite = lambda ids: [f"{source.id}/{n}" for n in ids]  # noqa: E731
    figures = [FigureRef(value=f.value, unit=f.unit, label=f.label, year=f.year, cite=f"{source.id}/{n}")
               for n in m.evidence for f in source.note(n).figures]
    factors = [FactorSpec(id=sf.id, name=S.text(sf.name, lang), kind=sf.kind, necessity=sf.necessity,
                          condition=sf.condition.model_dump(by_alias=True, exclude_none=True) if sf.condition else None,
                          analog=[AnalogSpec(industry=a.industry, asset=a.asset, family=a.family,
                                             role=S.text(a.role, lang)) for a in sf.analog],
                          cites=cite(sf.notes), verify=S.text(sf.verify, lang) or None)
               for sf in m.support_factors]
    b = m.bound
    bound = None if b is None else BoundSpec(
        window=b.window, today=b.today, needs=b.needs, text=S.text(b.text, lang), cites=cite(b.notes),
        done_if=b.done_if.model_dump(by_alias=True, exclude_none=True) if b.done_if else None,
        done_text=S.text(b.done_text, lang) or None)
    a = m.adoption
    adoption = None if a is None else AdoptionSpec(lead=a.lead, title=S.text(a.title, lang) or None,
                                                   first_step=S.text(a.first_step, lang) or None,
                                                   study=S.text(a.study, lang) or None)
    return MechanismLogic(
        id=m.id, name=S.text(m.name, lang), phase=m.phase, what_is_transferred=m.what_is_transferred,
        lever=Claim(text=S.text(m.lever, lang), cites=ev), chain=Claim(text=S.text(m.chain, lang), cites=ev),
        outcome=Claim(text=S.text(m.outcome, lang), cites=ev), principle=S.text(m.principle, lang),
        form_not_function=S.text(m.form_not_function, lang) or None, evidence=ev, figures=figures,
        support_factors=factors,
        rival_explanations=[Claim(text=S.text(r.text, lang), cites=cite(r.notes)) for r in m.rival_explanations],
        hazard=m.hazard, kpis=m.kpis, lever_powers=m.lever_powers,
        risks=[RiskSpec(text=S.text(r.text, lang), mitigation=S.text(r.mitigation, lang) or None) for r in m.risks],
        confidence=_confidence(source, m.evidence), instrument=m.instrument, addresses=m.addresses,
        bound=bound, adoption=adoption)


def source_risks(m: MechanismLogic) -> list[Claim]:
    """The risks the source's own record shows for a mechanism, as fit claims (every engine's: a model
    adds only the target's own)."""
    return [Claim(text=r.text, cites=m.evidence[:2]) for r in m.risks]


def factor_fit(sf: FactorSpec, ev: Evaluation | None, target: S.Place, lang: str) -> FactorFit:
    """One support factor in the target: its status from the condition, and an analog only where one
    of the factor's declared analogs (same functional family) exists in the target."""
    if ev is None:
        return FactorFit(factor_id=sf.id, name=sf.name, necessity=sf.necessity, status="unknown",
                         rationale=Claim(text=t(lang, "r_unknown_manual", name=sf.name, verify=sf.verify or ""),
                                         cites=list(sf.cites)))
    status = ev.status
    cites = [f"{target.id}:{r.field}" for r in ev.readings if r.found is not None] + sf.cites
    analog = find_analog(target, sf.analog, lang) if status in ("absent", "partial", "unknown") else None
    bases = {r.basis for r in ev.readings if r.status == status}
    if analog is not None:
        why = t(lang, "r_analog", name=sf.name, analog=analog.name, role=analog.role or "")
        cites.append(analog.cite)
    elif status == "unknown" and "not_comparable" in bases:
        why = t(lang, "r_not_comparable", name=sf.name)
    elif status == "unknown":
        why = t(lang, "r_unknown", name=sf.name, fields=", ".join(f"{target.id}:{f}" for f in ev.missing))
    else:
        why = t(lang, f"r_{status}", name=sf.name)
        if "level" in bases:
            why += " " + t(lang, "r_by_level", level=admin_level(lang, target.admin_level))
        elif status == "absent" and "checked" in bases:
            why += " " + t(lang, "r_checked")
    return FactorFit(factor_id=sf.id, name=sf.name, necessity=sf.necessity, status=status, computed=status,
                     readings=ev.readings, analog=analog, rationale=Claim(text=why, cites=list(dict.fromkeys(cites))))


def answer(fits: list[MechanismFit], logic: CaseLogic, source: S.Place, target: S.Place, scale: list[Claim],
           lang: str) -> list[Claim]:
    """The answer in two or three sentences: what carries over, what does not and why, what waits
    on a check. Counts are left out: they are ours, not facts of either place."""
    sep = "、" if lang == "zh" else "; "
    ids_sep = "、" if lang == "zh" else ", "
    kw = dict(source=source.name(lang), target=target.name(lang))
    specs = {m.id: m for m in logic.mechanisms}
    firm = sorted((f for f in fits if f.mode in ("copy", "adapt", "in_place") and not f.conditional),
                  key=lambda f: -f.score)
    waiting = [f for f in fits if f.conditional]
    principle = [f for f in fits if f.mode == "inspire"]
    avoid = [f for f in fits if f.mode == "avoid"]
    out: list[Claim] = []
    if firm:
        items = sep.join(f"{f.name}（{f.mechanism_id}，{t(lang, f.mode)}）" if lang == "zh"
                         else f"{f.name} ({f.mechanism_id}, {t(lang, f.mode)})" for f in firm[:4])
        cites = list(dict.fromkeys(c for f in firm[:4] for c in (f.existing.cite if f.existing else None,
                                                                   *f.rationale.cites[:1]) if c))
        out.append(Claim(text=t(lang, "ans_yes", items=items, **kw), cites=cites[:4]))
    else:
        out.append(Claim(text=t(lang, "ans_none", **kw), cites=[]))
    # why the rest does not carry over: the deciding reasons, grouped by the function they stand for
    groups: dict[str, list] = {}
    for f in principle + avoid:
        if f.bound is not None:
            groups.setdefault(t(lang, "why_bound"), []).append((f, f.bound.cites[:1]))
            continue
        for x in f.factors:
            if x.necessity == "necessary" and x.status == "absent" and x.analog is None:
                spec = next((s for s in specs[f.mechanism_id].support_factors if s.id == x.factor_id), None)
                groups.setdefault(function_label(spec, lang), []).append((f, x.rationale.cites[:1]))
                break
    if groups:
        top = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:2]
        cites = list(dict.fromkeys(c for _, xs in top for _, cs in xs[:2] for c in cs))
        text = t(lang, "ans_no", names=sep.join(name for name, _ in top), **kw)
        if principle:
            text += t(lang, "ans_inspire", ids=ids_sep.join(f.mechanism_id for f in principle))
        if avoid:
            text += t(lang, "ans_avoid", ids=ids_sep.join(f.mechanism_id for f in avoid))
        else:  # the principle clause was written to be followed by the avoid one: end the sentence
            text = text.rstrip("；; ") + ("。" if lang == "zh" else ".")
        out.append(Claim(text=text, cites=cites[:4]))
    if waiting:
        names = sep.join(dict.fromkeys(x.name for f in waiting for x in f.factors
                                       if x.necessity == "necessary" and x.status == "unknown" and x.analog is None))
        out.append(Claim(text=t(lang, "ans_verify", ids=ids_sep.join(f.mechanism_id for f in waiting), names=names),
                         cites=[c for f in waiting for c in f.rationale.cites[:1]][:3]))
    return out


def function_label(spec: FactorSpec | None, lang: str) -> str:
    """What a support factor stands for, in a few words: its family, the power it needs, or its kind."""
    from pydantic import TypeAdapter
    if spec is not None and spec.condition:
        cond = TypeAdapter(S.Condition).validate_python(spec.condition)
        fams = sorted(S.condition_families(cond))
        if fams:
            return family_label(lang, fams[0])
        powers = _powers(cond)
        # a power names the function only when the condition is powers alone: "a budget able to pay
        # awards" tests the right to budget AND the revenue, and a county lacking the money has the power
        if powers and _only_powers(cond):
            return power_label(lang, powers[0])
    return spec.name if spec is not None else ""


def _only_powers(cond) -> bool:
    if isinstance(cond, (S.AllCond, S.AnyCond)):
        return all(_only_powers(c) for c in (cond.all if isinstance(cond, S.AllCond) else cond.any))
    return isinstance(cond, (S.PowerCond, S.AdminCond))


def _powers(cond) -> list[str]:
    if isinstance(cond, S.PowerCond):
        return [cond.power]
    if isinstance(cond, (S.AllCond, S.AnyCond)):
        return [p for c in (cond.all if isinstance(cond, S.AllCond) else cond.any) for p in _powers(c)]
    if isinstance(cond, S.AdminCond):
        return ["admin_level"]
    return []


def find_analog(target: S.Place, analogs, lang: str) -> AnalogRef | None:
    """The first declared analog that exists in the target (strongest industry first), with its role."""
    for a in analogs:
        spec = a if isinstance(a, dict) else a.model_dump()
        role = spec.get("role")
        tags = ([spec["industry"]] if spec.get("industry") else
                list(V.INDUSTRY_FAMILIES[spec["family"]][1]) if spec.get("family") in V.INDUSTRY_FAMILIES else [])
        kinds = ([spec["asset"]] if spec.get("asset") else
                 list(V.ASSET_FAMILIES[spec["family"]][1]) if spec.get("family") in V.ASSET_FAMILIES else [])
        inds = sorted((i for i in target.industries if i.tag in tags and i.weight != "declining"),
                      key=lambda i: -_WEIGHT[i.weight])
        if inds:
            i = inds[0]
            return AnalogRef(name=S.text(i.name, lang), kind=i.tag, cite=f"{target.id}:industries.{i.tag}", role=role)
        hit = next((x for x in target.assets if x.kind in kinds), None)
        if hit:
            return AnalogRef(name=S.text(hit.name, lang), kind=hit.kind, cite=f"{target.id}:{asset_path(target, hit)}",
                             role=role)
    return None


def _confidence(source: S.Place, evidence: list[str]) -> str:
    """The weakest link decides: any low-confidence note caps the mechanism's evidence at medium or low."""
    levels = [source.note(n).confidence for n in evidence]
    if levels.count("low") * 2 >= len(levels):
        return "low"
    return "high" if all(x == "high" for x in levels) else "medium"
