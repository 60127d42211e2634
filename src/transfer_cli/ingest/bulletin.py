"""The standard figures of Chinese statistical bulletins and work reports, found by patterns.

Offline and deterministic: the same documents give the same figures. Each figure keeps the number
as written, its unit in the vocabulary's spelling, the year it refers to (a 2024 work report
reviews 2023; its 2024 figures are targets, not facts, and are skipped) and the sentence it came
from. A pattern takes a number only when it follows its indicator's name closely with a unit, so
"比上年末增加0.46万人" never becomes a population.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..places import vocabulary as V
from .readers import Document, Passage, sentences

N = r"(\d+(?:\.\d+)?)"
# between a name and its number: a few words ("达到", "（GDP）", "为"), never a number, a clause
# break or "从" (a "from X to Y" change: neither end is safely this year's level)
GAP = r"[^0-9，。；,;从]{0,8}?"
GROWTH = r"[^。；]*?(?<!年均)(增长|下降)" + N + "%"

# (key, pattern, the unit's group number, "%" for a share, "growth" for 增长/下降 N%). Keys are the vocabulary's; unmapped standard figures
# (进出口总额 has no key) are found too and listed for the reviewer.
_MONEY = "(亿元|万元|亿美元)"
PATTERNS: list[tuple[str, str, str | int]] = [
    ("gdp", r"(?<!人均)地区生产总值" + GAP + N + _MONEY, 2),
    ("gdp_growth", r"(?<!人均)地区生产总值(?:（GDP）|\(GDP\))?" + GROWTH, "growth"),
    ("gdp_per_capita", r"人均地区生产总值" + GAP + N + "(元|万元)", 2),
    ("population_resident", r"(?<!城镇)(?<!乡村)常住人口" + GAP + N + "(万人|人)", 2),
    ("population_urban", r"城镇常住人口" + GAP + N + "(万人|人)", 2),
    ("population_registered", r"户籍(?:总)?人口" + GAP + N + "(万人|人)", 2),
    ("urbanisation_rate", r"(?<!户籍人口)城镇化率" + GAP + N + "%", "%"),
    ("fiscal_revenue_general_budget", r"一般公共预算收入" + GAP + N + _MONEY, 2),
    ("fiscal_revenue_total", r"财政总收入" + GAP + N + _MONEY, 2),
    ("tax_revenue", r"税收收入" + GAP + N + _MONEY, 2),
    ("retail_sales", r"社会消费品零售总额" + GAP + N + _MONEY, 2),
    ("industrial_value_added_growth", r"规(?:模以)?上工业增加值" + GROWTH, "growth"),
    ("above_scale_firms", r"规(?:模以)?上工业企业" + GAP + N + "(家)", 2),
    ("high_tech_firms", r"高新技术企业" + GAP + N + "(家)", 2),
    ("fixed_asset_investment_growth", r"固定资产投资" + GROWTH, "growth"),
    ("fixed_asset_investment", r"固定资产投资(?:总额)?" + GAP + N + _MONEY, 2),
    ("fiscal_expenditure", r"一般公共预算支出" + GAP + N + _MONEY, 2),
    ("exports", r"(?<!进)出口(?:总)?额?" + GAP + N + _MONEY, 2),
    ("trade_total", r"进出口(?:总)?额?" + GAP + N + _MONEY, 2),
    ("tourism_visitors", r"(?:接待|游客)" + r"[^0-9，。；,;从]{0,10}?" + N + "(万人次)", 2),
    ("tourism_revenue", r"旅游(?:总)?收入" + GAP + N + _MONEY, 2),
    ("disposable_income", r"(?<![城农乡镇村])(?<!城镇常住)(?<!农村常住)(?<!乡村常住)(?:常住)?居民人均可支配收入" + GAP + N + "(元|万元)", 2),
    ("disposable_income_urban", r"城镇(?:常住)?居民人均可支配收入" + GAP + N + "(元|万元)", 2),
    ("disposable_income_rural", r"(?:农村|乡村)(?:常住)?居民人均可支配收入" + GAP + N + "(元|万元)", 2),
    ("market_entities", r"市场主体" + GAP + N + "(万户|户)", 2),
    ("area", r"(?:总|土地|行政区域|辖区)面积" + GAP + N + "(平方公里|平方千米|km²)", 2),
]
_COMPILED = [(k, re.compile(p), u) for k, p, u in PATTERNS]
# 三次产业结构为1.6:30.6:67.8 -> the three shares, in that order
_STRUCTURE = re.compile(r"三次产业(?:结构|比例)" + GAP + N + "[:：]" + N + "[:：]" + N)
_SHARE_KEYS = ("primary_share", "secondary_share", "tertiary_share")
_SHARE = re.compile(r"第([一二三])产业(?:增加值)?占[^。；，]{0,12}?比重" + GAP + N + "%")
# standard figures a bulletin gives that the vocabulary has no key for: shown, never written as indicators
UNMAPPED = {"trade_total": "进出口总额 (imports + exports)", "fixed_asset_investment": "固定资产投资 (amount)",
            "fiscal_expenditure": "一般公共预算支出"}
# the standard figures a reviewer expects: those not found are listed as unknown (not absent)
STANDARD = ("gdp", "gdp_growth", "primary_share", "secondary_share", "tertiary_share", "gdp_per_capita",
            "population_resident", "population_registered", "population_urban", "urbanisation_rate",
            "fiscal_revenue_general_budget", "tax_revenue", "retail_sales", "industrial_value_added_growth",
            "above_scale_firms", "fixed_asset_investment_growth", "exports", "disposable_income",
            "disposable_income_urban", "disposable_income_rural")
_UNIT_SPELLING = {"平方公里": "km²", "平方千米": "km²"}

# A sentence about plans, targets or a multi-year span states no fact for one year.
_NOT_A_FACT = re.compile(r"目标|预期|力争|争取|左右|[一二三四五六七八九十\d]+年来|年均|累计|“十[一二三四五六七八九十]五”")
_YEAR = re.compile(r"((?:19|20)\d\d)年")


@dataclass(frozen=True)
class Figure:
    key: str
    value: float
    written: str        # the number as the document writes it
    unit: str
    year: int | None    # the year it refers to; None when the document does not say
    passage: Passage
    quote: str          # the sentence it came from

    @property
    def doc(self) -> str:
        return self.passage.doc


def reference_year(doc: Document) -> int | None:
    """The year a document's figures refer to when a sentence names none: a bulletin's own year
    (2023年…统计公报); the year before a work report's (a 2024 report reviews 2023)."""
    head = " ".join(doc.year_hint)
    m = re.search(r"((?:19|20)\d\d)年[^。]{0,24}统计公报", head)
    if m:
        return int(m.group(1))
    m = re.search(r"((?:19|20)\d\d)年[^。]{0,8}政府工作报告", head)
    if m:
        return int(m.group(1)) - 1
    return None


def find_figures(doc: Document) -> list[Figure]:
    """Every standard figure in the document, in reading order."""
    ref = reference_year(doc)
    found: list[Figure] = []
    for passage in doc.passages:
        for sentence in sentences(passage.text):
            if _NOT_A_FACT.search(sentence):
                continue
            found += _in_sentence(sentence, passage, ref)
    return found


def _year(sentence: str, at: int, ref: int | None) -> int | None:
    named = [int(y) for y in _YEAR.findall(sentence[:at])]
    return named[-1] if named else ref


def _in_sentence(sentence: str, passage: Passage, ref: int | None) -> list[Figure]:
    out: list[Figure] = []
    for clause_start, clause in _clauses(sentence):
        for key, rx, unit in _COMPILED:
            for m in rx.finditer(clause):
                if unit == "growth":
                    sign = -1 if m.group(1) == "下降" else 1
                    written, u = m.group(2), "%"
                    value = sign * float(written)
                    if sign < 0:
                        written = "-" + written
                else:
                    written = m.group(1)
                    u = unit if isinstance(unit, str) else m.group(unit)
                    value = float(written)
                if key == "exports" and u == "亿美元":
                    key_ = "exports_usd"
                else:
                    key_ = key
                out.append(Figure(key_, value, written, _UNIT_SPELLING.get(u, u),
                                  _year(sentence, clause_start + m.start(), ref), passage, sentence))
        for m in _STRUCTURE.finditer(clause):
            for key, written in zip(_SHARE_KEYS, m.groups()):
                out.append(Figure(key, float(written), written, "%",
                                  _year(sentence, clause_start + m.start(), ref), passage, sentence))
        for m in _SHARE.finditer(clause):
            key = _SHARE_KEYS["一二三".index(m.group(1))]
            out.append(Figure(key, float(m.group(2)), m.group(2), "%",
                              _year(sentence, clause_start + m.start(), ref), passage, sentence))
    # a figure from the future of its document is a target (a 2024 report's "2024年…增长5.5%")
    return [f for f in out if not (ref and f.year and f.year > ref)]


def _clauses(sentence: str):
    """(offset, clause) split at "；" and "其中": a growth rate belongs to its own clause's subject."""
    start = 0
    for m in re.finditer(r"；|;|其中", sentence):
        yield start, sentence[start:m.start()]
        start = m.end()
    yield start, sentence[start:]


def is_known_unit(f: Figure) -> bool:
    return f.key in V.INDICATORS and f.unit in V.accepted_units(f.key)
