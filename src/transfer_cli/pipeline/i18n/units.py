"""A figure with its unit, as an English or Chinese reader expects it: an English memo says
"95.26 billion yuan" where the inputs say 952.6 亿元 (the evidence appendix keeps the original).

The conversion is exact decimal arithmetic on the figure as written, so the verifier
(verify/numbers.py) finds the same quantity in the inputs.
"""

from __future__ import annotations

from decimal import Decimal

from ...places.conditions import fmt_number

_MAGNITUDES = (("万亿", Decimal(10) ** 12), ("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4), ("千", Decimal(10) ** 3))
_BASES = {"元": "yuan", "美元": "US dollars", "人": "persons", "人次": "visits", "家": "firms", "股": "shares",
          "亩": "mu", "吨": "tonnes", "人/km²": "persons/km²", "人/平方公里": "persons/km²", "平方公里": "km²"}
_SCALES = ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million"))


def _plain(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros, with thousands separators."""
    s = format(d.normalize(), "f")
    whole, _, frac = s.partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")


def english(value: float, unit: str) -> str | None:
    """'95.26 billion yuan' for (952.6, '亿元'); None when the unit needs no conversion."""
    mag, base = Decimal(1), unit.strip()
    for prefix, factor in _MAGNITUDES:
        if base.startswith(prefix) and base[len(prefix):] in _BASES:
            mag, base = factor, base[len(prefix):]
            break
    if base not in _BASES:
        return None
    total = Decimal(repr(float(value))) * mag
    for size, word in _SCALES:
        if abs(total) >= size:
            return f"{_plain(total / size)} {word} {_BASES[base]}"
    return f"{_plain(total)} {_BASES[base]}"


def amount(value: float, unit: str, lang: str) -> str:
    """The figure and unit in the memo's language: Chinese units as written, English ones converted."""
    if lang == "en":
        converted = english(value, unit)
        if converted is not None:
            return converted
    return f"{fmt_number(value)} {unit}".rstrip()


def dated(value: float, unit: str, year, lang: str) -> str:
    return f"{amount(value, unit, lang)} ({year})"
