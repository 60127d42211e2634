"""The shapes a model replies in: each artifact minus what the pipeline already knows.

The model is not asked to echo ids, the context table, the scale differences or the computed
condition readings: the engine fills those from the inputs, so the model cannot garble them.
`to_reply` turns an artifact back into its reply shape (for tests and fake servers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..places import schema as S
from ..pipeline.artifacts import (Action, ActionPlan, AnalogRef, CaseLogic, Claim, ContextRow, FactorFit, FitAssessment,
                        MechanismFit, MechanismLogic, Mode, Model)
from ..places.conditions import Evaluation, Status


class LogicReply(Model):
    mechanisms: list[MechanismLogic] = Field(min_length=1)
    negative_lessons: list[Claim] = Field(default_factory=list)


class FactorJudgement(Model):
    factor_id: str
    name: str
    necessity: Literal["necessary", "helpful"]
    status: Status
    analog: AnalogRef | None = None
    rationale: Claim


class MechanismJudgement(Model):
    mechanism_id: str
    name: str
    mode: Mode
    conditional: bool = False
    score: int = Field(ge=0, le=100)
    rationale: Claim
    factors: list[FactorJudgement]
    risks: list[Claim] = Field(default_factory=list)
    verification: list[Claim] = Field(default_factory=list)


class FitReply(Model):
    mechanisms: list[MechanismJudgement] = Field(min_length=1)
    overall_score: int = Field(ge=0, le=100)
    bottom_line: list[Claim]
    not_to_copy: list[Claim]


class PlanReply(Model):
    actions: list[Action]


def logic_from(reply: LogicReply, source: S.Place, lang: str) -> CaseLogic:
    return CaseLogic(source=source.id, lang=lang, mechanisms=reply.mechanisms, negative_lessons=reply.negative_lessons)


def fit_from(reply: FitReply, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
             evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
             scale: list[Claim]) -> FitAssessment:
    """The model judges the factors; the verdict rules (the same for every engine) decide the mode,
    the score and what the time window and the target's own instruments do to them."""
    from ..pipeline.verdicts import decide, overall
    specs = {m.id: m for m in logic.mechanisms}
    mechs = []
    for mj in reply.mechanisms:
        factors = []
        for fj in mj.factors:
            ev = evaluations.get((mj.mechanism_id, fj.factor_id))
            factors.append(FactorFit(factor_id=fj.factor_id, name=fj.name, necessity=fj.necessity, status=fj.status,
                                     computed=ev.status if ev else None, readings=ev.readings if ev else [],
                                     analog=fj.analog, rationale=fj.rationale))
        m = specs.get(mj.mechanism_id)
        if m is None:
            mechs.append(MechanismFit(**mj.model_dump(exclude={"factors"}), factors=factors))
            continue
        v = decide(m, factors, target, lang)
        rationale = mj.rationale if mj.mode == v.mode else v.rationale
        mechs.append(MechanismFit(mechanism_id=mj.mechanism_id, name=mj.name, mode=v.mode, conditional=v.conditional,
                                  score=v.score, score_basis=v.score_basis, rationale=rationale, factors=factors,
                                  bound=v.bound, existing=v.existing, risks=mj.risks, verification=mj.verification))
    score, basis = overall(mechs, lang)
    return FitAssessment(source=source.id, target=target.id, lang=lang, context=context, scale_differences=scale,
                         mechanisms=mechs, overall_score=score, overall_basis=basis, bottom_line=reply.bottom_line,
                         not_to_copy=reply.not_to_copy)


def plan_from(reply: PlanReply, source: S.Place, target: S.Place, lang: str) -> ActionPlan:
    return ActionPlan(source=source.id, target=target.id, lang=lang, actions=reply.actions)


def to_reply(artifact) -> dict:
    """The JSON a well-behaved model would send for this artifact."""
    if isinstance(artifact, CaseLogic):
        return artifact.model_dump(include={"mechanisms", "negative_lessons"}, mode="json")
    if isinstance(artifact, FitAssessment):
        data = artifact.model_dump(include={"mechanisms", "overall_score", "bottom_line", "not_to_copy"}, mode="json")
        for m in data["mechanisms"]:
            for k in ("score_basis", "bound", "existing"):
                m.pop(k, None)
            for f in m["factors"]:
                f.pop("computed", None)
                f.pop("readings", None)
        return data
    if isinstance(artifact, ActionPlan):
        return artifact.model_dump(include={"actions"}, mode="json")
    raise TypeError(f"not an artifact: {type(artifact).__name__}")
