"""The place schema: one pydantic model for every place, source or target.

docs/place-format.md is the author's guide to it. Vocabulary checks live here so that a
file that validates can be evaluated by any condition written against any other file.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag,
                      field_validator, model_validator)

from . import vocabulary as V

Necessity = Literal["necessary", "helpful"]
Lang = Literal["zh", "en"]


class Strict(BaseModel):
    # defer_build: places mostly come pickled from the cache, so most runs never need a validator;
    # building them all at import cost ~30 ms of every command
    model_config = ConfigDict(extra="forbid", frozen=False, defer_build=True)


def _vocab(value: str, known, what: str) -> str:
    if value not in known:
        hint = V.nearest(value, known)
        raise ValueError(f"unknown {what} '{value}'" + (f"; did you mean '{hint}'?" if hint else ""))
    return value


class Bilingual(Strict):
    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if not (self.zh or self.en):
            raise ValueError("needs at least one of zh, en")
        return self


def _vocab_list(*fields: str, known, what: str):
    """A field validator checking every item of list fields against a vocabulary."""
    return field_validator(*fields)(lambda cls, v: [_vocab(x, known, what) for x in v])


# A text field is either a plain string (written in the file's language) or {zh:, en:}.
Text = Union[str, Bilingual]


def text(value: Text | None, lang: str) -> str:
    """The text in `lang`, falling back to the other language: case text stays as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return getattr(value, lang) or value.zh or value.en or ""


class Source(Strict):
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    note: str | None = None


class Indicator(Strict):
    value: float
    unit: str
    year: int | str
    source: str
    note: str | None = None
    conflict: str | None = None  # a disagreement between sources, stated, never silently resolved


class Industry(Strict):
    tag: str
    name: Text
    weight: Literal["pillar", "major", "emerging", "declining"] = "major"
    sources: list[str] = []
    notes: list[str] = []

    _tag = field_validator("tag")(lambda cls, v: _vocab(v, V.INDUSTRY_TAGS, "industry tag"))


class Asset(Strict):
    id: str | None = None
    kind: str
    name: Text
    sources: list[str] = []
    notes: list[str] = []

    _kind = field_validator("kind")(lambda cls, v: _vocab(v, V.ASSET_KINDS, "asset kind"))


class Power(Strict):
    power: str
    holds: Literal["full", "partial", "none"]
    holder: Text | None = None  # who holds it when this place does not
    text: Text | None = None
    sources: list[str] = []
    notes: list[str] = []

    _power = field_validator("power")(lambda cls, v: _vocab(v, V.POWERS, "power"))


class Challenge(Strict):
    text: Text
    sources: list[str] = []
    notes: list[str] = []


class Figure(Strict):
    value: float
    unit: str
    label: str | None = None
    year: int | str | None = None


class Note(Strict):
    id: str
    period: str
    domain: str
    text: str
    figures: list[Figure] = []
    sources: list[str] = Field(min_length=1)
    confidence: Literal["high", "medium", "low"] = "high"
    conflict: str | None = None

    _domain = field_validator("domain")(lambda cls, v: _vocab(v, V.NOTE_DOMAINS, "note domain"))


# ---- the condition language -------------------------------------------------------------
# Data, never code: each condition is a mapping with exactly one operator key.

Op = Literal[">=", ">", "<=", "<", "==", "!="]


class IndicatorCond(Strict):
    indicator: str
    op: Op
    value: float
    partial: float | None = None  # the threshold for "partial" when the main one is missed

    _key = field_validator("indicator")(lambda cls, v: _vocab(v, V.INDICATORS, "indicator key"))


class IndustryCond(Strict):
    industry: str
    min_weight: Literal["pillar", "major", "emerging"] = "emerging"

    _tag = field_validator("industry")(lambda cls, v: _vocab(v, V.INDUSTRY_TAGS, "industry tag"))


class AssetCond(Strict):
    asset: str

    _kind = field_validator("asset")(lambda cls, v: _vocab(v, V.ASSET_KINDS, "asset kind"))


class AdminCond(Strict):
    admin_level_in: list[str] = Field(min_length=1)

    _levels = _vocab_list("admin_level_in", known=V.ADMIN_LEVELS, what="admin level")


class PowerCond(Strict):
    power: str
    min: Literal["full", "partial"] = "full"

    _power = field_validator("power")(lambda cls, v: _vocab(v, V.POWERS, "power"))


class AllCond(Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyCond(Strict):
    any: list["Condition"] = Field(min_length=1)


class NotCond(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_: "Condition" = Field(alias="not")


_COND_KEYS = ("indicator", "industry", "asset", "admin_level_in", "power", "all", "any", "not")


def _cond_tag(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        return type(data).__name__
    if isinstance(data, dict):
        for key in _COND_KEYS:
            if key in data:
                return {"indicator": "IndicatorCond", "industry": "IndustryCond", "asset": "AssetCond",
                        "admin_level_in": "AdminCond", "power": "PowerCond", "all": "AllCond",
                        "any": "AnyCond", "not": "NotCond"}[key]
    return None


Condition = Annotated[
    Union[Annotated[IndicatorCond, Tag("IndicatorCond")], Annotated[IndustryCond, Tag("IndustryCond")],
          Annotated[AssetCond, Tag("AssetCond")], Annotated[AdminCond, Tag("AdminCond")],
          Annotated[PowerCond, Tag("PowerCond")], Annotated[AllCond, Tag("AllCond")],
          Annotated[AnyCond, Tag("AnyCond")], Annotated[NotCond, Tag("NotCond")]],
    Discriminator(_cond_tag, custom_error_type="condition",
                  custom_error_message="a condition needs one of: " + ", ".join(_COND_KEYS)),
]
# No model_rebuild() of AllCond/AnyCond/NotCond here: with defer_build they resolve `Condition`
# on first use, and a run whose places come from the cache never validates a condition at all.

COND_TAGS = {"IndicatorCond", "IndustryCond", "AssetCond", "AdminCond", "PowerCond", "AllCond",
             "AnyCond", "NotCond"}


# ---- mechanisms ---------------------------------------------------------------------------

class Analog(Strict):
    """What in a target can play the role of a factor that is itself absent."""
    industries: list[str] = []
    assets: list[str] = []

    _ind = _vocab_list("industries", known=V.INDUSTRY_TAGS, what="industry tag")
    _ast = _vocab_list("assets", known=V.ASSET_KINDS, what="asset kind")


class SupportFactor(Strict):
    id: str
    name: Text
    kind: str
    necessity: Necessity
    condition: Condition | None = None
    analog: Analog | None = None
    notes: list[str] = []
    verify: Text | None = None  # how to check it in a target when no condition can

    _kind = field_validator("kind")(lambda cls, v: _vocab(v, V.FACTOR_KINDS, "factor kind"))


class Rival(Strict):
    text: Text
    notes: list[str] = []


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
    risks: list[Text] = []

    _what = field_validator("what_is_transferred")(
        lambda cls, v: _vocab(v, V.TRANSFER_OBJECTS, "transfer object"))

    _kpis = _vocab_list("kpis", known=V.INDICATORS, what="indicator key")
    _powers = _vocab_list("lever_powers", known=V.POWERS, what="power")


class Lesson(Strict):
    """A negative lesson: something in the source's record that should not be repeated."""
    id: str
    text: Text
    notes: list[str] = Field(min_length=1)


class Names(Bilingual):
    """A place's names: at least one of zh, en."""


SLUG = re.compile(r"^[a-z][a-z0-9-]*$")


class Place(Strict):
    id: str
    names: Names
    aliases: list[str] = []
    admin_level: str
    parent: Text | None = None
    country: str
    language: Lang = "zh"
    summary: Text | None = None
    indicators: dict[str, Indicator] = {}
    industries: list[Industry] = []
    assets: list[Asset] = []
    challenges: list[Challenge] = []
    powers: list[Power] = []
    notes: list[Note] = []
    mechanisms: list[Mechanism] = []
    negative_lessons: list[Lesson] = []
    sources: dict[str, Source] = Field(min_length=1)

    _notes_by_id: dict[str, Note] | None = PrivateAttr(default=None)

    @field_validator("id")
    @classmethod
    def _slug(cls, v):
        if not SLUG.match(v):
            raise ValueError(f"id '{v}' must be a lowercase slug (a-z, 0-9, -)")
        return v

    _level = field_validator("admin_level")(lambda cls, v: _vocab(v, V.ADMIN_LEVELS, "admin level"))

    # -- convenience -------------------------------------------------------------------
    def name(self, lang: str) -> str:
        return getattr(self.names, lang) or self.names.zh or self.names.en or self.id

    @property
    def role(self) -> str:
        return "source" if self.mechanisms else "target"

    def all_names(self) -> list[str]:
        """Its zh and en names, then its aliases: every name a user or a text may call it by."""
        return [n for n in (self.names.zh, self.names.en, *self.aliases) if n]

    def note(self, note_id: str) -> Note | None:
        if self._notes_by_id is None:
            self._notes_by_id = {n.id: n for n in self.notes}
        return self._notes_by_id.get(note_id)

    def power(self, name: str) -> Power | None:
        return next((p for p in self.powers if p.power == name), None)
