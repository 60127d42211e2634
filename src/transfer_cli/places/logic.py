"""The source's authored logic: the support-factor condition language (data, never code) and the
mechanisms, their factors, analogs, time windows and adoption — the part of a place file a
source has and a target does not."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from . import vocabulary as V
from .base import Necessity, OneSubject, Strict, Text, _vocab_list, _vocab_one

# ---- the condition language -------------------------------------------------------------
# Data, never code: each condition is a mapping with exactly one operator key.

Op = Literal[">=", ">", "<=", "<", "==", "!="]


class IndicatorCond(Strict):
    indicator: str
    op: Op
    value: float
    partial: float | None = None  # the threshold for "partial" when the main one is missed

    _key = _vocab_one("indicator", V.INDICATORS, "indicator key")


class IndustryCond(Strict):
    industry: str
    min_weight: Literal["pillar", "major", "emerging"] = "emerging"

    _tag = _vocab_one("industry", V.INDUSTRY_TAGS, "industry tag")


class FamilyCond(Strict):
    """A function, not a sector: any industry (or asset) of the family will do."""
    family: str
    min_weight: Literal["pillar", "major", "emerging"] = "emerging"  # for industry families

    _fam = _vocab_one("family", V.FAMILIES, "functional family")


class AssetCond(Strict):
    asset: str

    _kind = _vocab_one("asset", V.ASSET_KINDS, "asset kind")


class AdminCond(Strict):
    admin_level_in: list[str] = Field(min_length=1)

    _levels = _vocab_list("admin_level_in", known=V.ADMIN_LEVELS, what="admin level")


class PowerCond(Strict):
    power: str
    min: Literal["full", "partial"] = "full"

    _power = _vocab_one("power", V.POWERS, "power")


class AllCond(Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyCond(Strict):
    any: list["Condition"] = Field(min_length=1)


class NotCond(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_: "Condition" = Field(alias="not")


_COND_KEYS = ("indicator", "industry", "family", "asset", "admin_level_in", "power", "all", "any", "not")


def _cond_tag(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        return type(data).__name__
    if isinstance(data, dict):
        for key in _COND_KEYS:
            if key in data:
                return {"indicator": "IndicatorCond", "industry": "IndustryCond", "family": "FamilyCond",
                        "asset": "AssetCond",
                        "admin_level_in": "AdminCond", "power": "PowerCond", "all": "AllCond",
                        "any": "AnyCond", "not": "NotCond"}[key]
    return None


Condition = Annotated[
    Union[Annotated[IndicatorCond, Tag("IndicatorCond")], Annotated[IndustryCond, Tag("IndustryCond")],
          Annotated[FamilyCond, Tag("FamilyCond")], Annotated[AssetCond, Tag("AssetCond")], Annotated[AdminCond, Tag("AdminCond")],
          Annotated[PowerCond, Tag("PowerCond")], Annotated[AllCond, Tag("AllCond")],
          Annotated[AnyCond, Tag("AnyCond")], Annotated[NotCond, Tag("NotCond")]],
    Discriminator(_cond_tag, custom_error_type="condition",
                  custom_error_message="a condition needs one of: " + ", ".join(_COND_KEYS)),
]
# No model_rebuild() of AllCond/AnyCond/NotCond here: with defer_build they resolve `Condition`
# on first use, and a run whose places come from the cache never validates a condition at all.

@functools.lru_cache(maxsize=1)
def condition_adapter():
    """The validator of a condition given as data (built once: ~10 ms)."""
    from pydantic import TypeAdapter
    return TypeAdapter(Condition)


COND_TAGS = {"IndicatorCond", "IndustryCond", "FamilyCond", "AssetCond", "AdminCond", "PowerCond",
             "AllCond", "AnyCond", "NotCond"}


def condition_families(cond) -> set[str]:
    """The functional families a condition names, through its tags, kinds and families: an analog
    must share one of them to do the factor's job."""
    if isinstance(cond, IndustryCond):
        return V.families_of(cond.industry)
    if isinstance(cond, AssetCond):
        return V.families_of(cond.asset)
    if isinstance(cond, FamilyCond):
        return {cond.family}
    if isinstance(cond, (AllCond, AnyCond)):
        return set().union(*(condition_families(c) for c in (cond.all if isinstance(cond, AllCond) else cond.any)))
    if isinstance(cond, NotCond):
        return set()
    return set()


# ---- mechanisms ---------------------------------------------------------------------------

class Analog(OneSubject):
    """One thing in a target that can play the role of a factor that is itself absent, and why:
    it must do the factor's job (share its functional family), not merely exist."""
    role: Text  # "X plays the role of Y because ..."

    @property
    def families(self) -> set[str]:
        return {self.family} if self.family else V.families_of(self.subject)


class SupportFactor(Strict):
    id: str
    name: Text
    kind: str
    necessity: Necessity
    condition: Condition | None = None
    analog: list[Analog] = []
    notes: list[str] = []
    verify: Text | None = None  # how to check it in a target when no condition can

    _kind = _vocab_one("kind", V.FACTOR_KINDS, "factor kind")


class Rival(Strict):
    text: Text
    notes: list[str] = []


class Risk(Strict):
    text: Text
    mitigation: Text | None = None


class Bound(Strict):
    """A mechanism bound to its time: the window in which it was possible and who decides it now."""
    window: str  # the period the instrument was available, e.g. "1983-1997"
    today: Literal["closed", "rationed", "open"]
    needs: Literal["state_council", "national_pilot", "provincial", "none"] = "none"
    text: Text
    notes: list[str] = Field(min_length=1)
    done_if: Condition | None = None  # the target already has what the lever produced
    done_text: Text | None = None     # the lesson for a target that already has it


class Adoption(Strict):
    """How a target takes the mechanism up: who leads, what the action is, its first step."""
    lead: list[str] = []  # PORTFOLIOS, in order of preference
    title: Text | None = None  # slots: {target} {site} {problem}
    first_step: Text | None = None
    study: Text | None = None  # the study or visit a principle-only verdict warrants

    _lead = _vocab_list("lead", known=V.PORTFOLIOS, what="portfolio")


class Mechanism(Strict):
    id: str
    name: Text
    phase: str  # the period in which the mechanism operated
    what_is_transferred: str
    lever: Text
    chain: Text
    outcome: Text
    principle: Text  # the functional lesson, at the level of abstraction that can travel
    form_not_function: Text | None = None  # the visible form that must not be copied for its own sake
    evidence: list[str] = Field(min_length=1)
    support_factors: list[SupportFactor] = Field(min_length=1)
    rival_explanations: list[Rival] = []
    hazard: bool = False  # hazardous, noisy or polluting production
    kpis: list[str] = []  # indicator keys that measure the outcome in a target
    lever_powers: list[str] = []  # powers the lever needs
    risks: list[Risk] = []
    instrument: str | None = None  # its instrument type: a target that runs one gets "already in place"
    addresses: list[str] = []  # the kinds of problem it can help with
    bound: Bound | None = None
    adoption: Adoption | None = None

    _what = _vocab_one("what_is_transferred", V.TRANSFER_OBJECTS, "transfer object")
    _instrument = _vocab_one("instrument", V.INSTRUMENTS, "instrument")
    _addresses = _vocab_list("addresses", known=V.PROBLEM_TYPES, what="problem type")

    @field_validator("risks", mode="before")
    @classmethod
    def _risk_text(cls, v):
        # a risk may still be written as bare text; it then has no mitigation yet
        return [r if isinstance(r, dict) and "text" in r else {"text": r} for r in v] if isinstance(v, list) else v

    _kpis = _vocab_list("kpis", known=V.INDICATORS, what="indicator key")
    _powers = _vocab_list("lever_powers", known=V.POWERS, what="power")


class Lesson(Strict):
    """A negative lesson: something in the source's record that should not be repeated."""
    id: str
    text: Text
    notes: list[str] = Field(min_length=1)
