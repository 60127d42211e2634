"""The offline engine: deterministic, no network, the default when no model is configured.

It reads the source's authored mechanisms, decides each support factor from the condition
evaluations the stages computed, and applies the verdict rules of methodology.md section 7.
What it cannot decide it reports as unknown, with the profile field it lacks.
"""

from __future__ import annotations

from ..artifacts import (KPI, Action, ActionPlan, AnalogRef, CaseLogic, Claim, ContextRow, FactorFit,
                         FactorSpec, FigureRef, FitAssessment, MechanismFit, MechanismLogic)
from ...places.conditions import Evaluation, asset_path, fmt_number
from ...errors import InputError
from ..i18n import admin_level, indicator_name, t
from ...places import schema as S

_WEIGHT = {"pillar": 3, "major": 2, "emerging": 1, "declining": 0}
# Share of a factor's weight that each status earns; an analog earns less than the real thing.
_CREDIT = {"present": 1.0, "partial": 0.5, "analog": 0.6, "unknown": 0.4, "absent": 0.0}
_CAP = {"copy": 100, "adapt": 100, "inspire": 45, "avoid": 20}
# Powers that in a Chinese municipal district usually sit with the municipality (to verify).
_MUNICIPAL_POWERS = {"land_supply", "development_zone", "investment_approval", "urban_planning"}


class OfflineEngine:
    name = "offline"
    model = None
    cpu_bound = True  # all computation, no waiting: a batch runs its pairs in processes, one at a time each

    # ---- stage 1 -------------------------------------------------------------------------
    def extract(self, source: S.Place, lang: str) -> CaseLogic:
        if not source.mechanisms:
            raise InputError(f"{source.id}: the offline engine needs authored mechanisms; "
                             "this place has none (use --engine llm to extract them from the notes)")
        mechs = []
        for m in source.mechanisms:
            ev = [f"{source.id}/{n}" for n in m.evidence]
            figures = [FigureRef(value=f.value, unit=f.unit, label=f.label, year=f.year, cite=f"{source.id}/{n}")
                       for n in m.evidence for f in source.note(n).figures]
            factors = [FactorSpec(id=sf.id, name=S.text(sf.name, lang), kind=sf.kind, necessity=sf.necessity,
                                  condition=sf.condition.model_dump(by_alias=True, exclude_none=True) if sf.condition else None,
                                  analog=sf.analog.model_dump() if sf.analog else None,
                                  cites=[f"{source.id}/{n}" for n in sf.notes],
                                  verify=S.text(sf.verify, lang) or None)
                       for sf in m.support_factors]
            mechs.append(MechanismLogic(
                id=m.id, name=S.text(m.name, lang), phase=m.phase, what_is_transferred=m.what_is_transferred,
                lever=Claim(text=S.text(m.lever, lang), cites=ev), chain=Claim(text=S.text(m.chain, lang), cites=ev),
                outcome=Claim(text=S.text(m.outcome, lang), cites=ev), principle=S.text(m.principle, lang),
                form_not_function=S.text(m.form_not_function, lang) or None, evidence=ev, figures=figures,
                support_factors=factors,
                rival_explanations=[Claim(text=S.text(r.text, lang), cites=[f"{source.id}/{n}" for n in r.notes])
                                    for r in m.rival_explanations],
                hazard=m.hazard, kpis=m.kpis, lever_powers=m.lever_powers,
                risks=[S.text(r, lang) for r in m.risks], confidence=_confidence(source, m.evidence)))
        lessons = [Claim(text=S.text(x.text, lang), cites=[f"{source.id}/{n}" for n in x.notes])
                   for x in source.negative_lessons]
        return CaseLogic(source=source.id, lang=lang, mechanisms=mechs, negative_lessons=lessons)

    # ---- stage 2 -------------------------------------------------------------------------
    def fit(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
            evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
            scale: list[Claim]) -> FitAssessment:
        fits = [self._fit_mechanism(m, target, lang, evaluations) for m in logic.mechanisms]
        overall = round(sum(f.score for f in fits) / len(fits))
        return FitAssessment(source=source.id, target=target.id, lang=lang, context=context,
                             scale_differences=scale, mechanisms=fits, overall_score=overall,
                             bottom_line=self._bottom_line(fits, scale, lang, overall),
                             not_to_copy=self._not_to_copy(logic, fits, lang))

    def _fit_mechanism(self, m: MechanismLogic, target: S.Place, lang: str,
                       evaluations: dict[tuple[str, str], Evaluation]) -> MechanismFit:
        factors: list[FactorFit] = []
        for sf in m.support_factors:
            ev = evaluations.get((m.id, sf.id))
            analog = None
            if ev is None:
                status, computed, readings = "unknown", None, []
                why = t(lang, "r_unknown_manual", name=sf.name, verify=sf.verify or "")
                cites = list(sf.cites)
            else:
                status, computed, readings = ev.status, ev.status, ev.readings
                cites = [f"{target.id}:{r.field}" for r in readings if r.found is not None] + sf.cites
                if status in ("absent", "partial") and sf.analog:
                    analog = find_analog(target, sf.analog, lang)
                if status == "unknown":
                    why = t(lang, "r_unknown", name=sf.name, fields=", ".join(f"{target.id}:{f}" for f in ev.missing))
                elif analog and status == "absent":
                    why = t(lang, "r_absent_analog", name=sf.name, analog=analog.name)
                else:
                    why = t(lang, f"r_{status}", name=sf.name)
            if analog:
                cites.append(analog.cite)
            factors.append(FactorFit(factor_id=sf.id, name=sf.name, necessity=sf.necessity, status=status,
                                     computed=computed, readings=readings, analog=analog,
                                     rationale=Claim(text=why, cites=list(dict.fromkeys(cites)))))

        nec = [f for f in factors if f.necessity == "necessary"]
        missing = [f for f in nec if f.status == "absent" and not f.analog]
        unknown = [f for f in nec if f.status == "unknown"]
        via_analog = [f for f in nec if f.status in ("absent", "partial") and f.analog]
        partial = [f for f in nec if f.status == "partial" and not f.analog]
        names = lambda fs: "、".join(f.name for f in fs) if lang == "zh" else "; ".join(f.name for f in fs)
        if missing:
            if m.hazard or m.what_is_transferred == "resource":
                mode = "avoid"
                why = t(lang, "m_avoid_hazard" if m.hazard else "m_avoid", names=names(missing))
            else:
                mode, why = "inspire", t(lang, "m_inspire", names=names(missing))
        elif via_analog:
            mode, why = "adapt", t(lang, "m_adapt_analog", names=names(via_analog))
        elif partial:
            mode, why = "adapt", t(lang, "m_adapt")
        elif unknown and not any(f.status == "present" for f in nec):
            mode, why = "adapt", t(lang, "m_adapt_unverified")
        else:
            helpful = [f for f in factors if f.necessity == "helpful"]
            helpful_ok = sum(f.status == "present" for f in helpful) >= len(helpful) / 2
            if m.what_is_transferred in ("institution", "instrument") and helpful_ok and not unknown:
                mode, why = "copy", t(lang, "m_copy")
            else:
                mode, why = "adapt", t(lang, "m_adapt")
        conditional = bool(unknown)
        if conditional:
            why += " " + t(lang, "m_conditional", names=names(unknown))

        total = sum(2 if f.necessity == "necessary" else 1 for f in factors)
        got = sum((2 if f.necessity == "necessary" else 1)
                  * _CREDIT["analog" if f.analog and f.status in ("absent", "partial") else f.status]
                  for f in factors)
        score = min(round(100 * got / total), _CAP[mode])

        decisive = missing + unknown + via_analog + partial or nec
        cites = list(dict.fromkeys(c for f in decisive for c in f.rationale.cites))
        risks = [Claim(text=r, cites=m.evidence[:2]) for r in m.risks]
        risks += [Claim(text=t(lang, "risk_build", factor=f.name), cites=f.rationale.cites)
                  for f in missing + partial if mode != "avoid"]
        verification = []
        for f in unknown:
            spec = next(s for s in m.support_factors if s.id == f.factor_id)
            fields = [r.field for r in f.readings if r.found is None]
            how = spec.verify or t(lang, "verify_fields", fields=", ".join(f"{target.id}:{x}" for x in fields))
            verification.append(Claim(text=t(lang, "verify_step", name=f.name, how=how), cites=f.rationale.cites))
        return MechanismFit(mechanism_id=m.id, name=m.name, mode=mode, conditional=conditional, score=score,
                            rationale=Claim(text=why, cites=cites), factors=factors, risks=risks,
                            verification=verification)

    def _bottom_line(self, fits: list[MechanismFit], scale: list[Claim], lang: str, overall: int) -> list[Claim]:
        sep = "、" if lang == "zh" else "; "
        def group(modes):
            return [f for f in fits if f.mode in modes]
        def claim(key, fs):
            items = sep.join(f"{f.name} ({f.mechanism_id})" for f in fs)
            cites = list(dict.fromkeys(c for f in fs for c in f.rationale.cites))[:6]
            return Claim(text=t(lang, key, items=items), cites=cites)
        out = [Claim(text=t(lang, "overall", score=overall), cites=[])]
        good = [f for f in group(("copy", "adapt")) if not f.conditional]  # conditional ones get their own line
        out.append(claim("bl_transferable", good) if good else Claim(text=t(lang, "bl_none"), cites=[]))
        if group(("inspire",)):
            out.append(claim("bl_inspire", group(("inspire",))))
        if group(("avoid",)):
            out.append(claim("bl_avoid", group(("avoid",))))
        cond = [f for f in fits if f.conditional]
        if cond:
            out.append(claim("bl_conditional", cond))
        out.extend(scale[:1])
        return out

    def _not_to_copy(self, logic: CaseLogic, fits: list[MechanismFit], lang: str) -> list[Claim]:
        by_id = {m.id: m for m in logic.mechanisms}
        out = [Claim(text=t(lang, "ntc_avoid", name=f.name, reason=f.rationale.text), cites=f.rationale.cites)
               for f in fits if f.mode == "avoid"]
        out += [Claim(text=t(lang, "ntc_form", name=f.name, form=by_id[f.mechanism_id].form_not_function),
                      cites=by_id[f.mechanism_id].evidence[:2])
                for f in fits if f.mode != "avoid" and by_id[f.mechanism_id].form_not_function]
        out += [Claim(text=t(lang, "ntc_lesson", text=x.text), cites=x.cites) for x in logic.negative_lessons]
        return out

    # ---- stage 3 -------------------------------------------------------------------------
    def actions(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                lang: str) -> ActionPlan:
        by_id = {m.id: m for m in logic.mechanisms}
        tname = target.name(lang)
        actions: list[Action] = []
        for mf in fit.mechanisms:
            if mf.mode == "avoid":
                continue
            m = by_id[mf.mechanism_id]
            lead, approval = _lead(m, target, lang)
            kpis = [_kpi(k, target, lang) for k in m.kpis]
            base = dict(mechanism_id=m.id, lead=lead, lead_level=admin_level(lang, target.admin_level),
                        approval=approval, kpis=kpis, risks=m.risks[:2])
            # the lead level is read from the target's admin level: every action rests on that fact
            cites = m.evidence[:2] + [k.baseline_cite for k in kpis if k.baseline_cite] + [f"{target.id}:admin_level"]
            missing = [f for f in mf.factors if f.necessity == "necessary"
                       and f.status in ("absent", "partial") and not f.analog]
            unknown = [f for f in mf.factors if f.necessity == "necessary" and f.status == "unknown"]
            if unknown:
                names = "、".join(f.name for f in unknown) if lang == "zh" else "; ".join(f.name for f in unknown)
                actions.append(Action(id="", title=t(lang, "a_verify", mechanism=m.name), horizon=t(lang, "h_verify"),
                                      review=t(lang, "rv_verify"),
                                      first_step=t(lang, "a_verify_step", names=names),
                                      builds_factors=[f.factor_id for f in unknown],
                                      cites=list(dict.fromkeys(cites + [c for f in unknown for c in f.rationale.cites])),
                                      **base))
            if mf.mode == "inspire":
                actions.append(Action(id="", title=t(lang, "a_study", principle=m.principle), horizon=t(lang, "h_study"),
                                      review=t(lang, "rv_study"),
                                      first_step=t(lang, "a_study_step", target=tname), cites=cites, **base))
                continue
            for f in missing:
                actions.append(Action(id="", title=t(lang, "a_build", factor=f.name), horizon=t(lang, "h_adapt"),
                                      review=t(lang, "rv_build"),
                                      first_step=t(lang, "a_build_step", target=tname, factor=f.name),
                                      builds_factors=[f.factor_id],
                                      cites=list(dict.fromkeys(cites + f.rationale.cites)), **base))
            analog = next((f.analog for f in mf.factors if f.analog), None)
            title = (t(lang, "a_pilot", analog=analog.name, principle=m.principle) if analog
                     else t(lang, "a_pilot_noanalog", principle=m.principle))
            actions.append(Action(id="", title=title, horizon=t(lang, "h_adapt" if missing else "h_pilot"),
                                  review=t(lang, "rv_pilot"),
                                  first_step=t(lang, "a_pilot_step", mechanism=m.name),
                                  builds_factors=[f.factor_id for f in missing],
                                  cites=cites + ([analog.cite] if analog else []), **base))
        for i, a in enumerate(actions, 1):
            a.id = f"A{i}"
        return ActionPlan(source=source.id, target=target.id, lang=lang, actions=actions)


def find_analog(target: S.Place, analog, lang: str) -> AnalogRef | None:
    """The target's strongest industry or asset that can play an absent factor's role."""
    spec = analog if isinstance(analog, dict) else analog.model_dump()
    inds = sorted((i for i in target.industries if i.tag in spec.get("industries", []) and i.weight != "declining"),
                  key=lambda i: (-_WEIGHT[i.weight], spec["industries"].index(i.tag)))
    if inds:
        i = inds[0]
        return AnalogRef(name=S.text(i.name, lang), kind=i.tag, cite=f"{target.id}:industries.{i.tag}")
    for kind in spec.get("assets", []):
        a = next((a for a in target.assets if a.kind == kind), None)
        if a:
            return AnalogRef(name=S.text(a.name, lang), kind=kind, cite=f"{target.id}:{asset_path(target, a)}")
    return None


def _confidence(source: S.Place, evidence: list[str]) -> str:
    """The weakest link decides: any low-confidence note caps the mechanism's evidence at medium or low."""
    levels = [source.note(n).confidence for n in evidence]
    if levels.count("low") * 2 >= len(levels):
        return "low"
    return "high" if all(x == "high" for x in levels) else "medium"


def _lead(m: MechanismLogic, target: S.Place, lang: str) -> tuple[str, str | None]:
    """Who leads, and whose approval is needed, from the powers the lever needs."""
    tname = target.name(lang)
    parent = S.text(target.parent, lang) or None
    higher: list[str] = []
    for p in m.lever_powers:
        held = target.power(p)
        if held is not None:
            if held.holds == "none":
                holder = S.text(held.holder, lang) or parent or "?"
                return t(lang, "lead_parent", parent=holder, target=tname), t(lang, "approval", level=holder)
            if held.holds == "partial":
                higher.append(S.text(held.holder, lang) or parent or "?")
        elif target.admin_level == "municipal_district" and p in _MUNICIPAL_POWERS and parent:
            higher.append(parent)
    approval = t(lang, "approval", level="、".join(dict.fromkeys(higher))) if higher else None
    return t(lang, "lead_self", target=tname), approval


def _kpi(key: str, target: S.Place, lang: str) -> KPI:
    ind = target.indicators.get(key)
    label = indicator_name(lang, key)
    if ind is None:
        return KPI(indicator=key, label=label, baseline=t(lang, "baseline_missing", field=f"{target.id}:indicators.{key}"))
    return KPI(indicator=key, label=label, baseline=f"{fmt_number(ind.value)} {ind.unit} ({ind.year})",
               baseline_cite=f"{target.id}:indicators.{key}")
