"""The typed artifacts the three stages produce, and the memo that bundles them.

Every artifact is a file: it can be saved, corrected by hand and fed back. Citations are
strings in one visible form: a note is `place/NOTE-ID`, a profile field `place:field.path`.
Text fields are in the artifact's `lang`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..places.conditions import Reading, Status

# copy / adapt: take it over (whole, or changed to fit); in_place: the target already runs this
# instrument, so the memo compares designs instead of recommending it; inspire: the principle only;
# avoid: do not transfer.
Mode = Literal["copy", "adapt", "in_place", "inspire", "avoid"]
MODES: tuple[str, ...] = ("copy", "adapt", "in_place", "inspire", "avoid")

NOTE_CITE = re.compile(r"^(?P<place>[a-z][a-z0-9-]*)/(?P<note>[A-Za-z0-9][A-Za-z0-9_.-]*)$")
FIELD_CITE = re.compile(r"^(?P<place>[a-z][a-z0-9-]*):(?P<field>[a-z_]+(?:\[\d+\])?(?:\.[A-Za-z0-9_-]+)?)$")


class Model(BaseModel):
    # Artifacts come back from hand edits and from models: unknown keys are errors, not noise.
    model_config = ConfigDict(extra="forbid", defer_build=True,  # built on first use, as in places/schema.py
                              allow_inf_nan=False)


class Claim(Model):
    text: str
    cites: list[str] = Field(default_factory=list)


class FigureRef(Model):
    value: float
    unit: str
    label: str | None = None
    year: int | str | None = None
    cite: str  # the note carrying the figure


def _condition(value: dict | None) -> dict | None:
    """A condition kept as data must still parse in the condition language: a model's `{}` or an
    edited file's unknown key is a validation error naming the field, not a crash in a later stage."""
    if value is not None:
        from ..places.logic import condition_adapter
        condition_adapter().validate_python(value)
    return value


class AnalogSpec(Model):
    """One thing that can play an absent factor's role, and the role it plays."""
    industry: str | None = None
    asset: str | None = None
    family: str | None = None
    role: str


class FactorSpec(Model):
    id: str
    name: str
    kind: str
    necessity: Literal["necessary", "helpful"]
    condition: dict | None = None  # the condition language, as data
    analog: list[AnalogSpec] = Field(default_factory=list)
    cites: list[str] = Field(default_factory=list)
    verify: str | None = None

    _cond = field_validator("condition")(lambda cls, v: _condition(v))


class RiskSpec(Model):
    text: str
    mitigation: str | None = None


class BoundSpec(Model):
    """When the mechanism was possible, and who decides it now (see schema.Bound)."""
    window: str
    today: Literal["closed", "rationed", "open"]
    needs: Literal["state_council", "national_pilot", "provincial", "none"] = "none"
    text: str
    cites: list[str] = Field(default_factory=list)
    done_if: dict | None = None
    done_text: str | None = None

    _done = field_validator("done_if")(lambda cls, v: _condition(v))


class AdoptionSpec(Model):
    lead: list[str] = Field(default_factory=list)
    title: str | None = None
    first_step: str | None = None
    study: str | None = None


class MechanismLogic(Model):
    id: str
    name: str
    phase: str
    what_is_transferred: str
    lever: Claim
    chain: Claim
    outcome: Claim
    principle: str
    form_not_function: str | None = None
    evidence: list[str] = Field(min_length=1)
    figures: list[FigureRef] = Field(default_factory=list)
    support_factors: list[FactorSpec] = Field(min_length=1)
    rival_explanations: list[Claim] = Field(default_factory=list)
    hazard: bool = False
    kpis: list[str] = Field(default_factory=list)
    lever_powers: list[str] = Field(default_factory=list)
    risks: list[RiskSpec] = Field(default_factory=list)
    # how far the evidence shows the mechanism caused the outcome there (Cartwright's P1)
    confidence: Literal["high", "medium", "low"] | None = None
    instrument: str | None = None
    addresses: list[str] = Field(default_factory=list)
    bound: BoundSpec | None = None
    adoption: AdoptionSpec | None = None


class CaseLogic(Model):
    kind: Literal["case_logic"] = "case_logic"
    source: str
    lang: Literal["zh", "en"]
    mechanisms: list[MechanismLogic] = Field(min_length=1)
    negative_lessons: list[Claim] = Field(default_factory=list)


class AnalogRef(Model):
    name: str
    kind: str
    cite: str
    role: str | None = None  # why it does the factor's job


class ExistingRef(Model):
    """The target's own instrument of the mechanism's type: the memo compares designs."""
    name: str
    status: str
    cite: str


class FactorFit(Model):
    factor_id: str
    name: str
    necessity: Literal["necessary", "helpful"]
    status: Status
    computed: Status | None = None  # what the condition evaluated to, when there is one
    readings: list[Reading] = Field(default_factory=list)
    analog: AnalogRef | None = None
    rationale: Claim


class MechanismFit(Model):
    mechanism_id: str
    name: str
    mode: Mode
    conditional: bool = False  # an unknown necessary factor caps the verdict
    score: int = Field(ge=0, le=100)
    score_basis: list[str] = Field(default_factory=list)  # what decided the score: the rule, the factors
    rationale: Claim
    factors: list[FactorFit]
    bound: Claim | None = None  # why the mechanism's time window caps the verdict
    existing: ExistingRef | None = None
    risks: list[Claim] = Field(default_factory=list)
    verification: list[Claim] = Field(default_factory=list)


class ContextRow(Model):
    key: str
    label: str
    source_value: str | None = None
    source_cite: str | None = None
    target_value: str | None = None
    target_cite: str | None = None
    note: str | None = None  # why the two sides are not quite the same quantity (currency, year, scope)


class FitAssessment(Model):
    kind: Literal["fit_assessment"] = "fit_assessment"
    source: str
    target: str
    lang: Literal["zh", "en"]
    context: list[ContextRow]
    scale_differences: list[Claim]
    mechanisms: list[MechanismFit]
    overall_score: int = Field(ge=0, le=100)
    overall_basis: str | None = None  # how the overall score was made
    bottom_line: list[Claim]  # the answer, in two or three sentences
    not_to_copy: list[Claim]


class KPI(Model):
    indicator: str
    label: str
    baseline: str | None = None  # None: not measured yet, the first step is to measure it
    baseline_cite: str | None = None
    direction: Literal["up", "down", "hold"] = "up"
    target: str | None = None  # from the target's own goals, or None: "above the baseline"
    target_cite: str | None = None
    data_source: str | None = None  # where the figure is published (the baseline's source)


class ActionRisk(Model):
    text: str
    mitigation: str | None = None
    owner: str | None = None


class Action(Model):
    id: str
    mechanism_id: str
    kind: Literal["pilot", "compare", "build", "study"] = "pilot"
    title: str
    problem: str | None = None  # the target challenge or goal it answers, e.g. "C2"
    problem_text: str | None = None
    lead: str
    lead_id: str | None = None  # the target institution (profile `institutions`)
    lead_level: str
    partners: list[str] = Field(default_factory=list)
    approval: str | None = None  # the higher level whose approval the action needs
    horizon: str
    first_step: str
    kpis: list[KPI] = Field(default_factory=list)
    builds_factors: list[str] = Field(default_factory=list)
    risks: list[ActionRisk] = Field(default_factory=list)
    review: str | None = None  # the stop/scale rule that closes the learning loop
    priority: int = 0  # 1 = first; the brief shows the first few
    cites: list[str] = Field(default_factory=list)


class Option(Model):
    """A course the target could take; the status quo is always one."""
    id: str
    title: str
    text: str
    recommended: bool = False
    cites: list[str] = Field(default_factory=list)


class ActionPlan(Model):
    kind: Literal["action_plan"] = "action_plan"
    source: str
    target: str
    lang: Literal["zh", "en"]
    options: list[Option] = Field(default_factory=list)
    actions: list[Action]


class StageRecord(Model):
    stage: str
    engine: str
    seconds: float = 0.0
    requests: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None


class InputRecord(Model):
    place: str
    role: Literal["source", "target"]
    files: dict[str, str]  # display path -> sha256


class PromptRecord(Model):
    id: str
    version: str
    sha256: str


class RunRecord(Model):
    tool_version: str
    engine: str
    model: str | None = None
    endpoint: str | None = None  # base URL only; never a key
    run_id: str | None = None  # the run log's id for the model's requests (`transfer logs --run ID`)
    created: str
    lang: Literal["zh", "en"]
    inputs: list[InputRecord]
    logic_file: str | None = None
    prompts: list[PromptRecord] = Field(default_factory=list)
    stages: list[StageRecord] = Field(default_factory=list)
    verification: dict | None = None


class Memo(Model):
    kind: Literal["memo"] = "memo"
    logic: CaseLogic
    fit: FitAssessment
    plan: ActionPlan
    run: RunRecord
    # the decision brief as rendered (render/brief.py), for readers of the JSON; derived, never read back
    brief: dict | None = None


# Where an artifact's dump holds citations: lists of them, and single ones.
CITE_LISTS = ("cites", "evidence")
CITE_FIELDS = ("cite", "baseline_cite", "source_cite", "target_cite")


def cites_in(x, seen: dict[str, None], claims: list[dict] | None = None) -> dict[str, None]:
    """Adds every citation string in an artifact dump (model_dump()) to `seen`, in first-seen order;
    with `claims`, also collects the dicts that state something with citations (a text or title)."""
    if isinstance(x, dict):
        if claims is not None and "cites" in x and ("text" in x or "title" in x):
            claims.append(x)
        for k, v in x.items():
            if k in CITE_LISTS and isinstance(v, list):
                seen.update((c, None) for c in v if isinstance(c, str))
            elif k in CITE_FIELDS and isinstance(v, str):
                seen[v] = None
            elif isinstance(v, (dict, list)):
                cites_in(v, seen, claims)
    elif isinstance(x, list):
        for v in x:
            if isinstance(v, (dict, list)):
                cites_in(v, seen, claims)
    return seen


def read_logic(path, source: str | None = None) -> CaseLogic:
    """A CaseLogic file (`transfer extract -o`, maybe edited) for `source`, with a one-line error
    per problem naming the file and field when it is wrong (conditions included: the schema
    parses them)."""
    from pydantic import ValidationError

    from ..errors import InputError, validation_problems
    from ..inputs import read_json
    data = read_json(path)
    try:
        logic = CaseLogic.model_validate(data)
    except ValidationError as e:
        problems = validation_problems(str(path), e)
        raise InputError(problems[0], problems)
    if source is not None and logic.source != source:
        raise InputError(f"{path}: source: the logic is for '{logic.source}', not '{source}'")
    return logic
