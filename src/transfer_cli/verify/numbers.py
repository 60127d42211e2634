"""Finding the figures a text states, normalised so that 952.6亿元, 95.26 billion yuan and
九百五十二点六亿元 are the same quantity.

A figure is a number with a unit or a magnitude (亿, 万, million...). Bare numbers, years,
ordinals (第七次, 1st), ids (A1, M3, CER-05) and scores or fractions (40/100) are not figures:
they are labels, not claims about the world. Chinese numerals below ten without a magnitude
(一个, 三大, 四项) are prose, not figures. Signs are ignored (-3.2% and 3.2% compare equal).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

# unit as written -> (dimension, factor to the dimension's base unit). Base units: 元, m², m,
# minutes, kg, and a count of whatever the classifier counts. Longest spelling wins.
_UNITS: dict[str, tuple[str, float]] = {}


def _add(dim: str, factor: float, *names: str) -> None:
    for n in names:
        _UNITS[n] = (dim, factor)


_add("money", 1, "元", "yuan", "RMB", "CNY", "renminbi")
_add("usd", 1, "美元", "US dollars", "dollars", "USD")
_add("percent", 1, "%", "％", "percent", "per cent")
_add("pp", 1, "个百分点", "百分点", "percentage points", "percentage point")
_add("density", 1, "persons/km²", "persons/km2", "people/km²", "人/km²", "人/平方公里", "人/平方千米",
     "persons per km²", "people per km²", "persons per square kilometre", "people per square kilometre",
     "per km²")
_add("area", 1e6, "km²", "km2", "平方公里", "平方千米", "sq km", "square kilometres", "square kilometers",
     "square km")
_add("area", 1, "m²", "m2", "平方米", "平米", "sqm", "square metres", "square meters")
_add("area", 1e4, "公顷", "hectares", "hectare")
_add("mu", 1, "亩", "mu")
_add("length", 1000, "km", "公里", "千米", "kilometres", "kilometers")
_add("length", 1, "米", "metres", "meters")
_add("li", 1, "里")
_add("visits", 1, "人次", "visits", "visitors", "tourist visits", "person-times")
_add("persons", 1, "人", "名", "位", "persons", "people", "residents", "inhabitants", "workers", "employees")
_add("firms", 1, "家", "firms", "companies", "enterprises", "businesses")
_add("households", 1, "户", "households")
_add("count", 1, "个")  # the generic classifier: compatible with any counted thing
for _c in "项座所件套条台只种类处次届批辆张间支款起宗例部本幅场栋道趟双":
    _add("count:" + _c, 1, _c)
_add("mass", 1000, "吨", "tonnes", "tons")
_add("mass", 1, "公斤", "kg")
_add("ratio", 1, "倍", "times", "fold")
_add("age", 1, "岁", "years old")
_add("years", 1, "年", "周年", "years")
_add("months", 1, "个月", "months")
_add("minutes", 1440, "天", "days")
_add("minutes", 60, "小时", "hours")
_add("minutes", 1, "分钟", "minutes", "min")
_add("shares", 1, "股", "shares")
_add("power", 1, "MW", "兆瓦")

_COUNTED = {"count", "firms", "households"}
_MAGNITUDES = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3, "trillion": 1e12, "billion": 1e9, "bn": 1e9,
               "million": 1e6, "thousand": 1e3}
_ASCII = re.compile(r"[A-Za-z]")


def _alternation(words) -> str:
    # Longest first so that 个百分点 beats 个, persons/km² beats persons; ASCII words end at a word edge.
    parts = []
    for w in sorted(words, key=len, reverse=True):
        p = re.escape(w)
        parts.append(p + r"(?![A-Za-z])" if _ASCII.match(w[-1]) else p)
    return "|".join(parts)


_CN_DIGITS = "零〇一二两三四五六七八九"
_CN = "零〇一二两三四五六七八九十百千万亿点"
_NUM = re.compile(
    r"(?P<cur>(?:RMB|CNY|US\$|USD|¥|\$)\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"|百分之(?P<pct>[" + _CN + r"]+)"
    r"|(?P<cn>[一二两三四五六七八九十][" + _CN + r"]*)")
_RANGE = re.compile(r"\s*[-–—~～至到]\s*(?P<b>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")
_TAIL = re.compile(
    r"\s?(?:多|余|左右)?\s?(?P<mag>" + _alternation(_MAGNITUDES) + r")?\s?(?:多|余)?\s?"
    r"(?P<unit>" + _alternation(_UNITS) + r")?")


# a magnitude or unit right after the digits: what tells GDP952.6亿元 or GDP 952.6 亿元 from an id like A1
_MAG_NEXT = re.compile(r"\s?(?:多|余)?(?:" + _alternation(_MAGNITUDES) + ")")
_TAIL_GLUED = re.compile(r"\s?(?:多|余)?(?:" + _alternation(_MAGNITUDES) + "|" + _alternation(_UNITS) + ")")


@dataclass(frozen=True)
class Quantity:
    value: float          # in the dimension's base unit, magnitudes applied
    dim: str | None       # None for a bare magnitude (106万): compatible with any dimension
    mantissa: float       # the number as written, before magnitude and unit
    text: str             # the figure as it appears

    def same_as(self, other: "Quantity") -> bool:
        return compatible(self.dim, other.dim) and math.isclose(self.value, other.value, rel_tol=1e-9)


def compatible(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    counted = lambda d: d in _COUNTED or d.startswith("count:")
    return (a == "count" and counted(b)) or (b == "count" and counted(a))


def cn_number(s: str) -> float | None:
    """A Chinese numeral (三千五百万, 十二, 两千, 十七点九五) as a number; None if malformed."""
    whole, _, frac = s.partition("点")
    scale = 1.0
    while frac and frac[-1] in "万亿":  # 九百五十二点六亿: the magnitude applies to the whole number
        scale *= 1e4 if frac[-1] == "万" else 1e8
        frac = frac[:-1]
    if frac and not all(c in _CN_DIGITS for c in frac):
        return None
    digit = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
    small = {"十": 10, "百": 100, "千": 1000}
    big = {"万": 1e4, "亿": 1e8}
    total = section = 0.0
    pending: float | None = None
    prev_digit = False
    for c in whole:
        if c in digit:
            if prev_digit and c not in "零〇":  # 十四五 (a plan's name), not a number
                return None
            pending = digit[c] if c not in "零〇" else None
            prev_digit = c not in "零〇"
        elif c in small:
            section += (pending if pending is not None else 1) * small[c]
            pending, prev_digit = None, False
        elif c in big:
            section += pending or 0
            if section == 0 and total == 0:
                return None
            total = (total + section) * big[c] if c == "亿" or total == 0 else total + section * big[c]
            section, pending, prev_digit = 0.0, None, False
        else:
            return None
    value = total + section + (pending or 0)
    if frac:
        value += float("0." + "".join(str(digit[c]) for c in frac))
    return value * scale


def _fixed(s: str) -> float:
    return float(s.replace(",", ""))


def parse_unit(unit: str) -> tuple[str | None, float]:
    """A unit string from a place file (亿元, 万人, km², 亿m³/年) as (dimension, factor)."""
    u = unit.strip()
    mag = 1.0
    for m in sorted(_MAGNITUDES, key=len, reverse=True):
        if u.startswith(m) and len(u) > len(m):
            mag, u = _MAGNITUDES[m], u[len(m):].strip()
            break
    if u in _UNITS:
        dim, factor = _UNITS[u]
        return dim, mag * factor
    return "raw:" + u, mag  # a compound unit (吨/日): compared only with itself


def quantity(value: float, unit: str, text: str | None = None) -> Quantity:
    """A structured figure (a note's figure, an indicator) as a Quantity."""
    dim, factor = parse_unit(unit)
    return Quantity(abs(value) * factor, dim, abs(value), text or f"{value:g} {unit}")


def figures(text: str) -> list[Quantity]:
    """Every figure stated in `text`, in order."""
    return list(_figures(text))


@lru_cache(maxsize=1 << 16)  # a batch re-reads the same source notes for every target
def _figures(text: str) -> tuple[Quantity, ...]:
    out: list[Quantity] = []
    pos = 0
    while True:
        m = _NUM.search(text, pos)
        if m is None:
            return tuple(out)
        pos = m.end()
        start = m.start("num") if m.group("num") else m.start()
        before = text[max(0, start - 2):start]
        if m.group("num") and not m.group("cur"):
            # ids (A1, CER-05, v2), fractions and cites (40/100, 10:30) -- but GDP952.6亿元 is a figure
            glued = _TAIL_GLUED.match(text, m.end())
            if before and before[-1].isascii() and before[-1].isalpha() and not glued:
                continue
            # a one-letter id (M14, F1, A2) before a Chinese word that happens to start with a
            # classifier (M14只宜, F1 本级) is still an id; GDP952.6亿元 and a magnitude are not
            if (before and before[-1].isascii() and before[-1].isupper()
                    and not (len(before) == 2 and before[0].isascii() and before[0].isalpha())
                    and m.group("num").isdigit() and not _MAG_NEXT.match(text, m.end())):
                continue
            if before and before[-1] in "_./:#":
                continue
            if len(before) == 2 and before[1] in "-_" and before[0].isascii() and before[0].isalnum():
                continue
        if text[max(0, m.start() - 1):m.start()] == "第" or text[max(0, m.start() - 2):m.start()] == "第 ":
            continue
        if m.group("pct"):
            v = cn_number(m.group("pct"))
            if v is not None:
                out.append(Quantity(v, "percent", v, m.group(0)))
            continue
        numbers = [m.group("num") or m.group("cn")]
        r = _RANGE.match(text, pos) if m.group("num") else None
        if r:
            numbers.append(r.group("b"))
            pos = r.end()
        if text[pos:pos + 1] == "/" and text[pos + 1:pos + 2].isdigit():
            pos += 1  # a score or fraction (40/100): skip the denominator too
            while pos < len(text) and (text[pos].isdigit() or text[pos] == "."):
                pos += 1
            continue
        tail = _TAIL.match(text, pos)
        mag_s, unit_s = tail.group("mag"), tail.group("unit")
        if m.group("cur") and not unit_s:
            unit_s = m.group("cur").strip()
        if not (mag_s or unit_s):
            continue
        # an ASCII unit or magnitude glued to a following word is not one (5 mins is, 5 minutesque is not)
        end = tail.end()
        pos = end
        unit_key = unit_s if unit_s in _UNITS else {"¥": "元", "$": "USD", "US$": "USD"}.get(unit_s or "", unit_s)
        dim, factor = _UNITS.get(unit_key, (None, 1.0)) if unit_key else (None, 1.0)
        mag = _MAGNITUDES[mag_s] if mag_s else 1.0
        shown = text[m.start():end].strip()
        for n in numbers:
            if m.group("cn") and n == m.group("cn"):
                v = cn_number(n)
                # 一个, 三大, 四项: small counts in words are prose; 十里, 三千多家 are figures
                if v is None or (v < 10 and not any(c in n for c in "万亿")):
                    continue
            else:
                v = _fixed(n)
            if not mag_s and unit_key == "年" and v == int(v) and 1000 <= v <= 2100:
                continue  # a year (2015年, 两千年 reads as one too), not a duration
            out.append(Quantity(v * mag * factor, dim, v, shown))
