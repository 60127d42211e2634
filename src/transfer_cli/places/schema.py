"""The place schema: one pydantic model for every place, source or target.

docs/place-format.md is the author's guide to it. Vocabulary checks live here (and in base.py)
so that a file that validates can be evaluated by any condition written against any other file;
the source's authored logic (conditions, mechanisms) is in logic.py and re-exported here.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from . import vocabulary as V
from .base import Bilingual, Lang, Necessity, OneSubject, Strict, Text, _vocab, _vocab_list, _vocab_one, text
from .logic import (COND_TAGS, Adoption, AdminCond, AllCond, Analog, AnyCond, AssetCond, Bound, Condition,
                    FamilyCond, IndicatorCond, IndustryCond, Lesson, Mechanism, NotCond, PowerCond, Risk, Rival,
                    SupportFactor, condition_families)

# the schema's public names: the place and its parts here, the building blocks and the logic re-exported
__all__ = ["Bilingual", "Lang", "Necessity", "Strict", "Text", "text", "COND_TAGS", "Adoption", "AdminCond",
           "AllCond", "Analog", "AnyCond", "AssetCond", "Bound", "Condition", "FamilyCond", "IndicatorCond",
           "IndustryCond", "Lesson", "Mechanism", "NotCond", "PowerCond", "Risk", "Rival", "SupportFactor",
           "condition_families", "Source", "Indicator", "Industry", "Asset", "Power", "Challenge", "GoalTarget",
           "Goal", "Institution", "Policy", "Checked", "Absence", "Rate", "Figure", "Note", "Names", "Phase",
           "SLUG", "Place"]

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
    of: str | None = None  # for cluster indicators: which industry the figure is about
    note: str | None = None
    conflict: str | None = None  # a disagreement between sources, stated, never silently resolved

    _of = _vocab_one("of", V.INDUSTRY_TAGS, "industry tag")


class Industry(Strict):
    tag: str
    name: Text
    weight: Literal["pillar", "major", "emerging", "declining"] = "major"
    sources: list[str] = []
    notes: list[str] = []

    _tag = _vocab_one("tag", V.INDUSTRY_TAGS, "industry tag")


class Asset(Strict):
    id: str | None = None
    kind: str
    name: Text
    sources: list[str] = []
    notes: list[str] = []

    _kind = _vocab_one("kind", V.ASSET_KINDS, "asset kind")


class Power(Strict):
    power: str
    holds: Literal["full", "partial", "none"]
    holder: Text | None = None  # who holds it when this place does not
    text: Text | None = None
    sources: list[str] = []
    notes: list[str] = []

    _power = _vocab_one("power", V.POWERS, "power")


class Challenge(Strict):
    """A problem the target names: an action exists because a lesson meets one (PDIA)."""
    id: str | None = None  # C1, C2... by position when not given
    type: str | None = None  # a PROBLEM_TYPES key; an untyped challenge is shown but matched by nothing
    weight: Literal["high", "medium", "low"] = "medium"
    text: Text
    sources: list[str] = []
    notes: list[str] = []

    _type = _vocab_one("type", V.PROBLEM_TYPES, "problem type")


class GoalTarget(Strict):
    indicator: str
    value: float
    unit: str
    year: int | str
    of: str | None = None  # for cluster indicators: which industry

    _key = _vocab_one("indicator", V.INDICATORS, "indicator key")
    _of = _vocab_one("of", V.INDUSTRY_TAGS, "industry tag")


class Goal(Strict):
    """A goal the target has set itself; its figures become KPI targets."""
    id: str | None = None  # G1, G2... by position when not given
    type: str | None = None
    text: Text
    targets: list[GoalTarget] = []
    sources: list[str] = []
    notes: list[str] = []

    _type = _vocab_one("type", V.PROBLEM_TYPES, "problem type")


class Institution(Strict):
    """A body that can lead actions: the place's own bureaus, or its parent's where powers sit there."""
    id: str
    name: Text
    handles: list[str] = Field(min_length=1)
    level: Literal["own", "parent"] = "own"
    # general: the standard organ of this level of Chinese government, its exact name to verify
    # locally (the memo flags it); sourced: named in the place's own sources or notes
    basis: Literal["general", "sourced"] = "sourced"
    sources: list[str] = []
    notes: list[str] = []

    _handles = _vocab_list("handles", known=V.PORTFOLIOS, what="portfolio")


class Policy(Strict):
    """An instrument the place already runs (or has run, or holds a mandate for)."""
    id: str | None = None
    instrument: str
    name: Text
    status: Literal["in_place", "pilot", "planned", "mandate", "ended"] = "in_place"
    year: int | str | None = None
    text: Text | None = None
    sources: list[str] = []
    notes: list[str] = []

    _instrument = _vocab_one("instrument", V.INSTRUMENTS, "instrument")


class Checked(Strict):
    """What the profile's author looked for: there, a thing not listed is absent, not unknown."""
    industries: bool = False  # every pillar and major industry is listed
    assets: bool | list[str] = False  # every asset kind, or these kinds, were looked for

    @field_validator("assets")
    @classmethod
    def _kinds(cls, v):
        return v if isinstance(v, bool) else [_vocab(k, V.ASSET_KINDS, "asset kind") for k in v]


class Absence(OneSubject):
    """An explicit, cited absence ("an HSR line was planned and abandoned")."""
    text: Text
    sources: list[str] = []
    notes: list[str] = []


class Rate(Strict):
    """An exchange rate: how many units of the canonical currency (CNY) one unit buys."""
    rate: float = Field(gt=0)
    year: int | str
    source: str


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

    _domain = _vocab_one("domain", V.NOTE_DOMAINS, "note domain")


class Names(Bilingual):
    """A place's names: at least one of zh, en."""


class Phase(Strict):
    """A phase of a source's history, for the memo's timeline."""
    id: str
    period: str
    name: Text
    notes: list[str] = []


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
    checked: Checked = Checked()
    absences: list[Absence] = []
    challenges: list[Challenge] = []
    goals: list[Goal] = []
    institutions: list[Institution] = []
    policies: list[Policy] = []
    powers: list[Power] = []
    exchange_rates: dict[str, Rate] = {}
    phases: list[Phase] = []
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

    _level = _vocab_one("admin_level", V.ADMIN_LEVELS, "admin level")

    @model_validator(mode="after")
    def _ids(self):
        # challenges and goals are cited by id (jinjiang:challenges.C2): number the unnamed ones
        for prefix, items in (("C", self.challenges), ("G", self.goals)):
            for i, x in enumerate(items, 1):
                if x.id is None:
                    x.id = f"{prefix}{i}"
        return self

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

    def rates(self) -> dict[str, float]:
        return {cur: r.rate for cur, r in self.exchange_rates.items()}
