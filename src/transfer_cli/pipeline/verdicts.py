"""The verdict rules, one place for both engines: from a mechanism's factor statuses, its time
window and the target's own instruments to a transfer mode and a score that explains itself.

Order (methodology.md §7(a) verdict rules, and the lead's design for issue 10):
1. a mechanism whose result the target already has (`bound.done_if`) -> inspire: the lesson is what
   the source did with it, never "do it again";
2. a closed window, or one rationed by a higher level without the target holding the mandate -> at
   most inspire;
3. the support factors: a necessary factor absent with no analog -> inspire (avoid for hazardous
   production or a resource-based preference, unless the target already runs the hazardous trade:
   then inspire, to consolidate and move it); via an analog or partly present -> adapt; all
   present -> copy for an institution or instrument with most helpful factors present, else adapt;
4. the target already runs an instrument of the mechanism's type -> in_place (compare designs).
An unknown necessary factor makes a positive verdict conditional, with a verification step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..places import schema as S
from .artifacts import Claim, ExistingRef, FactorFit, MechanismFit, MechanismLogic
from ..places.conditions import evaluate, item_path
from .i18n import t

# Share of a factor's weight each status earns; an analog earns less than the real thing.
CREDIT = {"present": 1.0, "partial": 0.5, "analog": 0.6, "unknown": 0.4, "absent": 0.0}
# Each verdict owns a band of scores, so a score says the verdict first and the factors second:
# an inspire can never outrank an adapt, however many helpful factors it has.
BANDS = {"copy": (75, 100), "in_place": (55, 100), "adapt": (50, 80), "inspire": (10, 40), "avoid": (0, 10)}
POSITIVE = ("copy", "adapt", "in_place")
TOP = 3  # the overall score is the mean of this many best mechanisms


def effective(f: FactorFit) -> str:
    """A factor's status for the rules: an analog stands in for what is absent, partial or unknown."""
    return "analog" if f.analog is not None and f.status in ("absent", "partial", "unknown") else f.status


def _names(fs: list[FactorFit], lang: str) -> str:
    return ("、" if lang == "zh" else "; ").join(f.name for f in fs)


def existing_instrument(m: MechanismLogic, target: S.Place, lang: str) -> ExistingRef | None:
    """The target's own running instrument of the mechanism's type, if it has one."""
    if not m.instrument:
        return None
    for i, p in enumerate(target.policies):
        if p.instrument == m.instrument and p.status in ("in_place", "pilot"):
            return ExistingRef(name=S.text(p.name, lang), status=p.status,
                               cite=f"{target.id}:{item_path('policies', i, p)}")
    return None


def _mandate(m: MechanismLogic, target: S.Place) -> str | None:
    """A cite to the higher-level mandate the target holds for this instrument, if any."""
    for i, p in enumerate(target.policies):
        if m.instrument and p.instrument == m.instrument and p.status == "mandate":
            return f"{target.id}:{item_path('policies', i, p)}"
    return None


@dataclass
class Verdict:
    mode: str
    conditional: bool
    rationale: Claim
    bound: Claim | None
    existing: ExistingRef | None
    score: int
    score_basis: list[str] = field(default_factory=list)
    unknown: list[FactorFit] = field(default_factory=list)  # necessary factors a positive verdict waits on


def decide(m: MechanismLogic, factors: list[FactorFit], target: S.Place, lang: str) -> Verdict:
    nec = [f for f in factors if f.necessity == "necessary"]
    missing = [f for f in nec if effective(f) == "absent"]
    unknown = [f for f in nec if effective(f) == "unknown"]
    via_analog = [f for f in nec if effective(f) == "analog"]
    partial = [f for f in nec if effective(f) == "partial"]
    basis: list[str] = []

    # 1-2: the time window
    bound_claim, cap = None, False
    if m.bound is not None:
        b = m.bound
        done = b.done_if is not None and _evaluate_dict(b.done_if, target) == "present"
        if done:
            bound_claim = Claim(text=t(lang, "m_done", text=b.done_text or b.text),
                                cites=b.cites + [f"{target.id}:admin_level"])
            cap = True
            basis.append(t(lang, "sb_done"))
        elif b.today == "closed":
            bound_claim = Claim(text=t(lang, "m_closed", window=b.window, text=b.text), cites=b.cites)
            cap = True
            basis.append(t(lang, "sb_closed"))
        elif b.today == "rationed":
            mandate = _mandate(m, target)
            if mandate is None:
                bound_claim = Claim(text=t(lang, "m_rationed", text=b.text, needs=t(lang, f"needs_{b.needs}")),
                                    cites=b.cites)
                cap = True
                basis.append(t(lang, "sb_rationed"))
            else:
                bound_claim = Claim(text=t(lang, "m_mandate", text=b.text), cites=b.cites + [mandate])

    # 3: the factors
    if missing:
        if m.hazard and hazard_already_there(m, factors):
            mode, why = "inspire", t(lang, "m_hazard_existing", names=_names(missing, lang))
        elif m.hazard or m.what_is_transferred == "resource":
            mode = "avoid"
            why = t(lang, "m_avoid_hazard" if m.hazard else "m_avoid", names=_names(missing, lang))
        else:
            mode, why = "inspire", t(lang, "m_inspire", names=_names(missing, lang))
    elif m.hazard and unknown:
        # hazardous production is never recommended on a guess: only where every necessary factor is known
        mode, why = "inspire", t(lang, "m_hazard_unknown", names=_names(unknown, lang))
    elif via_analog:
        mode, why = "adapt", t(lang, "m_adapt_analog", names=_names(via_analog, lang))
    elif partial:
        mode, why = "adapt", t(lang, "m_adapt_partial", names=_names(partial, lang))
    elif unknown and not any(effective(f) == "present" for f in nec):
        mode, why = "adapt", t(lang, "m_adapt_unverified")
    else:
        helpful = [f for f in factors if f.necessity == "helpful"]
        helpful_ok = sum(effective(f) in ("present", "analog") for f in helpful) >= len(helpful) / 2
        if m.what_is_transferred in ("institution", "instrument") and helpful_ok and not unknown:
            mode, why = "copy", t(lang, "m_copy")
        else:
            mode, why = "adapt", t(lang, "m_adapt")
    cites = list(dict.fromkeys(c for f in (missing + unknown + via_analog + partial or nec) for c in f.rationale.cites))
    if cap:
        # the window decides first: say so, and add the missing factors only as a second reason
        if mode in POSITIVE:
            mode, why, cites = "inspire", bound_claim.text, list(bound_claim.cites)
        else:
            why, cites = bound_claim.text + " " + why, list(dict.fromkeys(bound_claim.cites + cites))

    # 4: what the target already runs
    existing = existing_instrument(m, target, lang)
    if existing is not None and mode in ("copy", "adapt"):
        mode = "in_place"
        why = t(lang, "m_in_place", existing=existing.name) + " " + why
        cites = [existing.cite] + cites
        basis.append(t(lang, "sb_in_place", existing=existing.name))

    conditional = bool(unknown) and mode in POSITIVE
    if conditional:
        why += " " + t(lang, "m_conditional", names=_names(unknown, lang))

    weights = [(2 if f.necessity == "necessary" else 1) for f in factors]
    credit = sum(w * CREDIT[effective(f)] for w, f in zip(weights, factors)) / (sum(weights) or 1)
    lo, hi = BANDS[mode]
    score = round(lo + (hi - lo) * credit)
    basis.insert(0, t(lang, "sb_band", mode=t(lang, mode), lo=lo, hi=hi))
    basis += [f"{f.factor_id} {f.name}: {t(lang, 'analog_status' if effective(f) == 'analog' else f.status)}"
              for f in nec]
    return Verdict(mode=mode, conditional=conditional, rationale=Claim(text=why, cites=cites), bound=bound_claim,
                   existing=existing, score=score, score_basis=basis, unknown=unknown if conditional else [])


def hazard_already_there(m: MechanismLogic, factors: list[FactorFit]) -> bool:
    """The target already runs the hazardous trade (a necessary production-base factor is present) and
    lacks something else, such as room away from homes. Nothing new may be built, but consolidating
    and moving what exists is the lesson it needs: the principle, not 'avoid'."""
    kinds = {sf.id: sf.kind for sf in m.support_factors}
    nec = [f for f in factors if f.necessity == "necessary"]
    base = [f for f in nec if kinds.get(f.factor_id) == "industrial_base"]
    return bool(base) and all(f.status == "present" for f in base)


def _evaluate_dict(cond: dict, target: S.Place) -> str:
    from pydantic import TypeAdapter
    return evaluate(TypeAdapter(S.Condition).validate_python(cond), target).status


def overall(fits: list[MechanismFit], lang: str) -> tuple[int, str]:
    """The mean of the best few mechanisms, and how it was made: a place with one strong match is
    not outranked by one with many weak 'adapt' verdicts. Verdicts the evidence establishes come
    first; a conditional one (it waits on a factor the profile cannot decide) counts only where
    fewer established ones exist, so a profile that says little cannot outscore one that says much."""
    best = sorted(fits, key=lambda f: (f.conditional, -f.score, f.mechanism_id))[:TOP]
    if not best:
        return 0, ""
    score = round(sum(f.score for f in best) / len(best))
    sep = "、" if lang == "zh" else ", "
    n = "一二三四五"[len(best) - 1] if lang == "zh" else str(len(best))  # a count of ours, not a figure
    return score, t(lang, "overall_basis", n=n, items=sep.join(f"{f.mechanism_id} {f.score}" for f in best))
