"""The typed artifacts the three stages produce, and the memo that bundles them.

Every artifact is a file: it can be saved, corrected by hand and fed back. Citations are
strings in one visible form: a note is `place/NOTE-ID`, a profile field `place:field.path`.
Text fields are in the artifact's `lang`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..places.conditions import Reading, Status

Mode = Literal["copy", "adapt", "inspire", "avoid"]
MODES: tuple[str, ...] = ("copy", "adapt", "inspire", "avoid")

NOTE_CITE = re.compile(r"^(?P<place>[a-z][a-z0-9-]*)/(?P<note>[A-Za-z0-9][A-Za-z0-9_.-]*)$")
FIELD_CITE = re.compile(r"^(?P<place>[a-z][a-z0-9-]*):(?P<field>[a-z_]+(?:\[\d+\])?(?:\.[A-Za-z0-9_-]+)?)$")


class Model(BaseModel):
    # Artifacts come back from hand edits and from models: unknown keys are errors, not noise.
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use, as in places/schema.py


class Claim(Model):
    text: str
    cites: list[str] = Field(default_factory=list)


class FigureRef(Model):
    value: float
    unit: str
    label: str | None = None
    year: int | str | None = None
    cite: str  # the note carrying the figure


class FactorSpec(Model):
    id: str
    name: str
    kind: str
    necessity: Literal["necessary", "helpful"]
    condition: dict | None = None  # the condition language, as data
    analog: dict | None = None
    cites: list[str] = Field(default_factory=list)
    verify: str | None = None


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
    risks: list[str] = Field(default_factory=list)
    # how far the evidence shows the mechanism caused the outcome there (Cartwright's P1)
    confidence: Literal["high", "medium", "low"] | None = None


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
    rationale: Claim
    factors: list[FactorFit]
    risks: list[Claim] = Field(default_factory=list)
    verification: list[Claim] = Field(default_factory=list)


class ContextRow(Model):
    key: str
    label: str
    source_value: str | None = None
    source_cite: str | None = None
    target_value: str | None = None
    target_cite: str | None = None


class FitAssessment(Model):
    kind: Literal["fit_assessment"] = "fit_assessment"
    source: str
    target: str
    lang: Literal["zh", "en"]
    context: list[ContextRow]
    scale_differences: list[Claim]
    mechanisms: list[MechanismFit]
    overall_score: int = Field(ge=0, le=100)
    bottom_line: list[Claim]
    not_to_copy: list[Claim]


class KPI(Model):
    indicator: str
    label: str
    baseline: str | None = None
    baseline_cite: str | None = None
    direction: Literal["up", "down", "hold"] = "up"


class Action(Model):
    id: str
    mechanism_id: str
    title: str
    lead: str
    lead_level: str
    approval: str | None = None  # the higher level whose approval the action needs
    horizon: str
    first_step: str
    kpis: list[KPI] = Field(default_factory=list)
    builds_factors: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    review: str | None = None  # the stop/scale rule that closes the learning loop
    cites: list[str] = Field(default_factory=list)


class ActionPlan(Model):
    kind: Literal["action_plan"] = "action_plan"
    source: str
    target: str
    lang: Literal["zh", "en"]
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


def read_logic(path) -> CaseLogic:
    """A CaseLogic file (`transfer extract -o`, maybe edited), with a one-line error per problem
    naming the file and field when it is wrong."""
    from pydantic import ValidationError

    from ..errors import InputError
    from ..files import read_json
    data = read_json(path)
    try:
        return CaseLogic.model_validate(data)
    except ValidationError as e:
        problems = [f"{path}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise InputError(problems[0], problems)
