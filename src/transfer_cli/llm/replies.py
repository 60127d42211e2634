"""The shapes a model replies in: each artifact minus what the pipeline already knows.

The model is not asked to echo ids, the context table, the scale differences or the computed
condition readings: the engine fills those from the inputs, so the model cannot garble them.
`to_reply` turns an artifact back into its reply shape (for tests and fake servers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from ..places import schema as S
from ..pipeline.artifacts import (Action, ActionPlan, AnalogRef, CaseLogic, Claim, ContextRow, FactorFit, FitAssessment,
                        MechanismFit, MechanismLogic, Mode, Model)
from ..places.conditions import Evaluation, Status


class LogicReply(Model):
    mechanisms: list[MechanismLogic] = Field(min_length=1)
    negative_lessons: list[Claim] = Field(default_factory=list)


class Edit(Model):
    path: str   # a field of the draft mechanism: "lever.text", "support_factors.F1.necessity", "evidence"
    value: str  # its new value as JSON text: "\"helpful\"", "[\"place/N1\"]"


class MechanismReview(Model):
    id: str            # a draft mechanism's id
    edits: list[Edit]  # what the notes require changed; none keeps the draft as it is


class LogicReview(Model):
    """Stage 1 on a drafted source: the model checks each draft mechanism and returns only its edits
    (a mechanism is ~2-3k tokens; echoing fourteen of them would not fit any model's output)."""
    mechanisms: list[MechanismReview]
    negative_lessons: list[Claim] | None = None  # None keeps the draft's
    new_mechanisms: list[MechanismLogic] = Field(default_factory=list)  # what the notes show and the draft lacks


class ReviewOnly(Model):
    """A review pass over part of the draft, when the whole does not fit one request."""
    mechanisms: list[MechanismReview]


class NewMechanisms(Model):
    """The pass for mechanisms the notes show and the draft lacks."""
    new_mechanisms: list[MechanismLogic]


class FactorJudgement(Model):
    """A factor the model judges: every one without a computed status, and any computed one it has
    more to say on (an analog). The rest the engine fills from the computed facts (offline.factor_fit)."""
    factor_id: str
    necessity: Literal["necessary", "helpful"]
    status: Status
    analog: AnalogRef | None = None
    rationale: Claim


class MechanismJudgement(Model):
    """Names come from the data and the score from the verdict rules: the model does not echo them."""
    mechanism_id: str
    mode: Mode
    rationale: Claim
    factors: list[FactorJudgement]
    risks: list[Claim] = Field(default_factory=list)
    verification: list[Claim] = Field(default_factory=list)


class FitReply(Model):
    mechanisms: list[MechanismJudgement] = Field(min_length=1)
    bottom_line: list[Claim]
    not_to_copy: list[Claim]


class PlanReply(Model):
    actions: list[Action]


def apply_review(draft: list[MechanismLogic], reviews: list[MechanismReview]) -> list[MechanismLogic]:
    """The draft mechanisms with the model's edits applied. Raises ValueError (re-asked) for an
    unknown mechanism, a path that is not there, a value that is not JSON or does not validate."""
    import json
    by_id = {m.id: m for m in draft}
    edited = {}
    for r in reviews:
        if r.id not in by_id:
            raise ValueError(f"mechanisms: '{r.id}' is not a draft mechanism (ids: {', '.join(by_id)})")
        data = by_id[r.id].model_dump(mode="json", by_alias=True)
        for e in r.edits:
            try:
                value = json.loads(e.value)
            except ValueError:
                raise ValueError(f"{r.id} edit {e.path}: value is not JSON text: {e.value[:60]!r}")
            _put(data, e.path, value, r.id)
        try:
            edited[r.id] = MechanismLogic.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            raise ValueError(f"{r.id} after edits: {'.'.join(str(x) for x in first['loc'])}: {first['msg']}")
    return [edited.get(m.id, m) for m in draft]


def _put(data: dict, path: str, value, mid: str) -> None:
    keys = [k for k in path.split(".") if k]
    node = data
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):  # a list of factors/claims: by index or by id
            idx = int(k) if k.isdigit() else next((j for j, x in enumerate(node) if isinstance(x, dict)
                                                   and x.get("id") == k), None)
            if idx is None or not 0 <= idx < len(node):
                raise ValueError(f"{mid} edit {path}: no item '{k}'")
            if last:
                node[idx] = value
                return
            node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[k] = value
                return
            if k not in node or not isinstance(node[k], (dict, list)):
                raise ValueError(f"{mid} edit {path}: no field '{k}' to go into")
            node = node[k]
        else:
            raise ValueError(f"{mid} edit {path}: '{k}' is not a field")
    raise ValueError(f"{mid} edit: empty path")


def review_of(logic: CaseLogic, new: bool = True) -> dict:
    """The review a model that agrees with the draft sends (for dry-run estimates and fake servers)."""
    out: dict = {"mechanisms": [{"id": m.id, "edits": []} for m in logic.mechanisms]}
    if new:
        out["negative_lessons"] = None
        out["new_mechanisms"] = []
    return out


def logic_from(reply: LogicReply, source: S.Place, lang: str) -> CaseLogic:
    return CaseLogic(source=source.id, lang=lang, mechanisms=reply.mechanisms, negative_lessons=reply.negative_lessons)


def fit_from(reply: FitReply, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
             evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
             scale: list[Claim]) -> FitAssessment:
    """The model judges the factors; the verdict rules (the same for every engine) decide the mode,
    the score and what the time window and the target's own instruments do to them."""
    from ..pipeline.engines.offline import factor_fit, source_risks
    from ..pipeline.verdicts import decide, overall
    specs = {m.id: m for m in logic.mechanisms}
    mechs = []
    for mj in reply.mechanisms:
        m = specs.get(mj.mechanism_id)
        if m is None:
            raise ValueError(f"mechanisms: '{mj.mechanism_id}' is not a mechanism in the data "
                             f"(ids: {', '.join(specs)})")
        judged = {fj.factor_id: fj for fj in mj.factors}
        unknown = set(judged) - {f.id for f in m.support_factors}
        if unknown:
            raise ValueError(f"{m.id}: no factor {', '.join(sorted(unknown))} (factors: "
                             f"{', '.join(f.id for f in m.support_factors)})")
        factors = []
        for spec in m.support_factors:
            ev = evaluations.get((m.id, spec.id))
            fj = judged.get(spec.id)
            if fj is None:  # not judged: the computed facts (or "unknown, verify by hand") stand
                factors.append(factor_fit(spec, ev, target, lang))
                continue
            factors.append(FactorFit(factor_id=spec.id, name=spec.name, necessity=fj.necessity, status=fj.status,
                                     computed=ev.status if ev else None, readings=ev.readings if ev else [],
                                     analog=fj.analog, rationale=fj.rationale))
        v = decide(m, factors, target, lang)
        rationale = mj.rationale if mj.mode == v.mode else v.rationale
        own = source_risks(m)  # carried over by the engine; the reply adds the target's own
        risks = own + [r for r in mj.risks if r.text not in {x.text for x in own}]
        mechs.append(MechanismFit(mechanism_id=m.id, name=m.name, mode=v.mode, conditional=v.conditional,
                                  score=v.score, score_basis=v.score_basis, rationale=rationale, factors=factors,
                                  bound=v.bound, existing=v.existing, risks=risks, verification=mj.verification))
    score, basis = overall(mechs, lang)
    return FitAssessment(source=source.id, target=target.id, lang=lang, context=context, scale_differences=scale,
                         mechanisms=mechs, overall_score=score, overall_basis=basis, bottom_line=reply.bottom_line,
                         not_to_copy=reply.not_to_copy)


def plan_from(reply: PlanReply, source: S.Place, target: S.Place, lang: str) -> ActionPlan:
    return ActionPlan(source=source.id, target=target.id, lang=lang, actions=reply.actions)


def to_reply(artifact, logic: CaseLogic | None = None) -> dict:
    """The JSON a well-behaved model would send for this artifact (for a fit, given its logic, without
    the source's own risks, which the engine carries over)."""
    if isinstance(artifact, CaseLogic):
        return artifact.model_dump(include={"mechanisms", "negative_lessons"}, mode="json")
    if isinstance(artifact, FitAssessment):
        data = artifact.model_dump(include={"mechanisms", "bottom_line", "not_to_copy"}, mode="json")
        for m in data["mechanisms"]:
            for k in ("name", "conditional", "score", "score_basis", "bound", "existing"):
                m.pop(k, None)
            # a factor whose status was computed is left to the engine, as a model is told it may
            m["factors"] = [{k: v for k, v in f.items() if k not in ("name", "computed", "readings")}
                            for f in m["factors"] if f.get("computed") is None]
            spec = next((x for x in (logic.mechanisms if logic else []) if x.id == m["mechanism_id"]), None)
            own = {r.text for r in spec.risks} if spec else set()
            m["risks"] = [r for r in m["risks"] if r["text"] not in own]
        return data
    if isinstance(artifact, ActionPlan):
        return artifact.model_dump(include={"actions"}, mode="json")
    raise TypeError(f"not an artifact: {type(artifact).__name__}")
