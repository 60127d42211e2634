"""Every generated word of a memo, in zh and en (zh.py, en.py), and the vocabulary's terms
(terms.py). Case text stays as written."""

from __future__ import annotations

from . import en, zh
from .terms import (ADMIN_LEVEL_NAMES, INDICATOR_NAMES, admin_level, family_label, indicator_name,
                    industry_name, power_label, problem_label)

__all__ = ["LABELS", "t", "ADMIN_LEVEL_NAMES", "INDICATOR_NAMES", "admin_level", "family_label",
           "indicator_name", "industry_name", "power_label", "problem_label"]

LABELS: dict[str, dict[str, str]] = {"zh": zh.LABELS, "en": en.LABELS}


def t(lang: str, key: str, **kw) -> str:
    return LABELS[lang][key].format(**kw)
