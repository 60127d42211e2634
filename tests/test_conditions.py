"""The condition language: four-valued logic over a place profile, never eval."""

from __future__ import annotations

from hypothesis import given, strategies as st
from pydantic import TypeAdapter

from transfer_cli.places import schema as S
from transfer_cli.places.conditions import evaluate, resolve_field

COND = TypeAdapter(S.Condition)


def place(**kw) -> S.Place:
    base = dict(id="p", names={"zh": "某地"}, admin_level="municipal_district", country="CN",
                sources={"s": {"title": "t"}})
    base.update(kw)
    return S.Place.model_validate(base)


def ev(cond: dict, p: S.Place) -> str:
    return evaluate(COND.validate_python(cond), p).status


def test_indicator_comparison_partial_and_unit_conversion():
    p = place(indicators={"population_resident": {"value": 902000, "unit": "persons", "year": 2020, "source": "s"}})
    assert ev({"indicator": "population_resident", "op": ">=", "value": 90}, p) == "present"  # 90.2万
    assert ev({"indicator": "population_resident", "op": ">=", "value": 100, "partial": 50}, p) == "partial"
    assert ev({"indicator": "population_resident", "op": ">=", "value": 100}, p) == "absent"


def test_missing_data_is_unknown_never_absent():
    p = place(admin_level="foreign_city")
    e = evaluate(COND.validate_python({"indicator": "area", "op": ">=", "value": 1}), p)
    assert e.status == "unknown" and e.missing == ["indicators.area"]
    assert ev({"power": "land_supply"}, p) == "unknown"  # a foreign city: no level table to read
    assert ev({"industry": "ceramics"}, p) == "unknown"  # no industries listed at all
    listed = place(industries=[{"tag": "retail", "name": "零售", "weight": "pillar", "sources": ["s"]}],
                   assets=[{"kind": "metro", "name": "地铁", "sources": ["s"]}])
    # listed, but nobody said the lists are complete: what is not on them is unknown
    assert ev({"industry": "ceramics"}, listed) == "unknown"
    assert ev({"asset": "hsr_station"}, listed) == "unknown"


def test_absent_only_where_the_profile_looked_or_records_it():
    p = place(industries=[{"tag": "retail", "name": "零售", "weight": "pillar", "sources": ["s"]}],
              checked={"industries": True, "assets": ["development_zone"]},
              absences=[{"asset": "hsr_station", "text": "规划的高铁线已取消", "sources": ["s"]},
                        {"family": "hazardous_production", "text": "无危险品生产", "sources": ["s"]}])
    e = evaluate(COND.validate_python({"industry": "ceramics"}), p)
    assert e.status == "absent" and e.readings[0].basis == "checked"
    assert ev({"asset": "development_zone"}, p) == "absent"
    e = evaluate(COND.validate_python({"asset": "hsr_station"}), p)
    assert e.status == "absent" and e.readings[0].field == "absences[0]" and e.readings[0].basis == "absence"
    assert ev({"asset": "airport"}, p) == "unknown"  # not looked for
    # a recorded absence of a family covers its members, not the other way round
    unchecked = place(absences=[{"family": "hazardous_production", "text": "无", "sources": ["s"]},
                                {"industry": "ceramics", "text": "无陶瓷", "sources": ["s"]}])
    assert ev({"industry": "fireworks"}, unchecked) == "absent"
    assert ev({"family": "manufacturing"}, unchecked) == "unknown"


def test_families_test_the_function_not_the_sector():
    fireworks = place(industries=[{"tag": "fireworks", "name": "花炮", "weight": "pillar", "sources": ["s"]}],
                      assets=[{"kind": "metro", "name": "地铁", "sources": ["s"]}], checked={"industries": True})
    assert ev({"family": "manufacturing", "min_weight": "major"}, fireworks) == "present"
    assert ev({"family": "consumer_goods_manufacturing"}, fireworks) == "absent"
    assert ev({"family": "national_corridor"}, fireworks) == "unknown"  # a metro is not a national corridor
    shops = place(industries=[{"tag": "retail", "name": "零售", "weight": "pillar", "sources": ["s"]},
                              {"tag": "footwear", "name": "鞋", "weight": "declining", "sources": ["s"]}],
                  checked={"industries": True})
    e = evaluate(COND.validate_python({"family": "manufacturing", "min_weight": "major"}), shops)
    # a declined, moved-out industry is not a base: absent, read from its entry
    assert e.status == "absent" and e.readings[0].field == "industries.footwear"


def test_powers_default_to_what_the_admin_level_holds():
    district = place()
    e = evaluate(COND.validate_python({"power": "land_supply"}), district)
    assert e.status == "absent" and e.readings[0].basis == "level" and e.readings[0].field == "admin_level"
    assert ev({"power": "fiscal_budget"}, district) == "present"
    assert ev({"power": "urban_renewal", "min": "partial"}, district) == "present"
    county = place(admin_level="county")
    assert ev({"power": "land_supply"}, county) == "present"
    own = place(powers=[{"power": "land_supply", "holds": "full", "sources": ["s"]}])
    assert ev({"power": "land_supply"}, own) == "present"  # the profile's own entry wins


def test_money_in_another_currency_is_not_compared_without_a_rate():
    gbp = {"value": 6.5, "unit": "£bn", "year": 2021, "source": "s"}
    p = place(admin_level="foreign_city", indicators={"gdp": gbp})
    e = evaluate(COND.validate_python({"indicator": "gdp", "op": ">=", "value": 300}), p)
    assert e.status == "unknown" and e.readings[0].basis == "not_comparable" and e.readings[0].found
    rated = place(admin_level="foreign_city", indicators={"gdp": gbp},
                  exchange_rates={"GBP": {"rate": 9, "year": 2021, "source": "s"}})
    assert ev({"indicator": "gdp", "op": ">=", "value": 500}, rated) == "present"  # 6.5 bn £ = 585 亿元
    assert ev({"indicator": "gdp", "op": ">=", "value": 600}, rated) == "absent"
    yuan = place(indicators={"gdp": {"value": 9526000, "unit": "万元", "year": 2024, "source": "s"}})
    assert ev({"indicator": "gdp", "op": ">=", "value": 952.6}, yuan) == "present"


def test_industry_weights_assets_admin_and_powers():
    p = place(industries=[{"tag": "ceramics", "name": "瓷", "weight": "emerging", "sources": ["s"]}],
              assets=[{"id": "z", "kind": "development_zone", "name": "区", "sources": ["s"]}],
              powers=[{"power": "land_supply", "holds": "partial", "sources": ["s"]}],
              checked={"industries": True, "assets": True})
    assert ev({"industry": "ceramics", "min_weight": "major"}, p) == "absent"  # emerging is not at scale
    assert ev({"industry": "ceramics"}, p) == "present"
    major = place(industries=[{"tag": "ceramics", "name": "瓷", "weight": "major", "sources": ["s"]}])
    assert ev({"industry": "ceramics", "min_weight": "pillar"}, major) == "partial"
    assert ev({"industry": "fireworks"}, p) == "absent"
    assert ev({"asset": "development_zone"}, p) == "present"
    assert ev({"asset": "airport"}, p) == "absent"
    assert ev({"admin_level_in": ["county", "county_level_city"]}, p) == "absent"
    assert ev({"power": "land_supply", "min": "full"}, p) == "partial"
    assert ev({"power": "land_supply", "min": "partial"}, p) == "present"
    assert resolve_field(p, "assets.z").name == "区"
    assert resolve_field(p, "industries.ceramics").weight == "emerging"
    assert resolve_field(p, "indicators.gdp") is None and resolve_field(p, "nonsense.x") is None


STATUS = ["present", "partial", "absent", "unknown"]
LEAF = {"present": {"admin_level_in": ["municipal_district"]}, "absent": {"admin_level_in": ["county"]},
        "partial": {"indicator": "area", "op": ">=", "value": 100, "partial": 10},
        "unknown": {"indicator": "gdp", "op": ">=", "value": 1}}
P = place(indicators={"area": {"value": 50, "unit": "km²", "year": 2020, "source": "s"}})
RANK = {"absent": 0, "partial": 1, "present": 2}


def kleene_all(xs):
    if "absent" in xs:
        return "absent"
    if "unknown" in xs:
        return "unknown"
    return min(xs, key=RANK.get)


def kleene_any(xs):
    if "present" in xs:
        return "present"
    if "unknown" in xs:
        return "unknown"
    return max(xs, key=RANK.get)


@given(st.lists(st.sampled_from(STATUS), min_size=1, max_size=5))
def test_all_any_follow_kleene_logic(statuses):
    leaves = [LEAF[s] for s in statuses]
    assert [ev(x, P) for x in leaves] == statuses
    assert ev({"all": leaves}, P) == kleene_all(statuses)
    assert ev({"any": leaves}, P) == kleene_any(statuses)


@given(st.sampled_from(STATUS))
def test_not_flips_present_and_absent_only(s):
    flipped = {"present": "absent", "absent": "present", "partial": "partial", "unknown": "unknown"}[s]
    assert ev({"not": LEAF[s]}, P) == flipped
    assert ev({"not": {"not": LEAF[s]}}, P) == s


def test_conditions_are_data_not_code():
    import pytest
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        COND.validate_python({"indicator": "__import__('os').system('true')", "op": ">=", "value": 1})
    with pytest.raises(ValidationError):
        COND.validate_python({"indicator": "area", "op": "=~", "value": 1})


def test_every_indicator_key_has_a_chinese_label():
    from transfer_cli.pipeline.i18n import INDICATOR_NAMES
    from transfer_cli.places.vocabulary import INDICATORS
    assert set(INDICATORS) <= set(INDICATOR_NAMES["zh"])
