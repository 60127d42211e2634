"""What every part of a place file is built from: strict models, bilingual text, vocabulary checks."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from . import vocabulary as V

Necessity = Literal["necessary", "helpful"]
Lang = Literal["zh", "en"]


class Strict(BaseModel):
    # defer_build: places mostly come pickled from the cache, so most runs never need a validator;
    # building them all at import cost ~30 ms of every command. NaN and infinity are not figures.
    model_config = ConfigDict(extra="forbid", frozen=False, defer_build=True, allow_inf_nan=False)


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


def _vocab_one(field: str, known, what: str):
    """A field validator checking a field's value against a vocabulary (an unset field passes)."""
    return field_validator(field)(lambda cls, v: v if v is None else _vocab(v, known, what))


class OneSubject(Strict):
    """Names exactly one thing a place has or lacks: an industry tag, an asset kind or a family."""
    industry: str | None = None
    asset: str | None = None
    family: str | None = None

    _ind = _vocab_one("industry", V.INDUSTRY_TAGS, "industry tag")
    _ast = _vocab_one("asset", V.ASSET_KINDS, "asset kind")
    _fam = _vocab_one("family", V.FAMILIES, "functional family")

    @model_validator(mode="after")
    def _one(self):
        if sum(x is not None for x in (self.industry, self.asset, self.family)) != 1:
            raise ValueError("name exactly one of industry, asset, family")
        return self

    @property
    def subject(self) -> str:
        return self.industry or self.asset or self.family or ""


# A text field is either a plain string (written in the file's language) or {zh:, en:}.
Text = Union[str, Bilingual]


def text(value: Text | None, lang: str) -> str:
    """The text in `lang`, falling back to the other language: case text stays as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return getattr(value, lang) or value.zh or value.en or ""
