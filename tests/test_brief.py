"""The decision brief an official reads first: about two pages, every action grounded in the
target's own problems, institutions and indicators, English memos in English units."""

from __future__ import annotations

import re

import pytest

from test_memo_liling import TARGETS, memo

HAN = re.compile(r"[\u4e00-\u9fff]")
LIMIT = {"zh": 2500, "en": 1200}  # 汉字 / words: about two pages (methodology.md §6)
PAIRS = [(t, "zh") for t in TARGETS] + [("stoke-on-trent", "en")]


def library():
    from transfer_cli.places.loader import Library
    return Library([])


def brief_markdown(m: dict, target: str) -> str:
    """The brief as `--brief` prints it, rendered from the memo the CLI wrote."""
    from transfer_cli.pipeline.artifacts import Memo
    from transfer_cli.render.markdown import render_markdown
    lib = library()
    return render_markdown(Memo.model_validate(m), lib.load("liling").place, lib.load(target).place, brief_only=True)


def length(text: str, lang: str) -> int:
    return len(HAN.findall(text)) if lang == "zh" else len(text.split())


@pytest.mark.parametrize("target, lang", [p if p in (("jinjiang", "zh"), ("stoke-on-trent", "en"))
                                          else pytest.param(*p, marks=pytest.mark.slow) for p in PAIRS])
def test_brief_fits_two_pages_and_every_action_is_grounded(target, lang):
    from transfer_cli.places.schema import text
    m = memo(target, lang)
    md = brief_markdown(m, target)
    assert 0 < length(md, lang) <= LIMIT[lang], length(md, lang)
    assert "## " in md and "附件A" not in md and "Annex A." not in md  # the brief alone
    assert "待定" not in md and "TBD" not in md

    place = library().load(target).place
    problems = {x.id: x for x in [*place.challenges, *place.goals]}
    institutions = {i.id: i for i in place.institutions}
    plan = {a["id"]: a for a in m["plan"]["actions"]}
    shown = m["brief"]["actions"]
    assert shown and len(shown) <= 6
    assert [a["id"] for a in shown] == list(plan)[:len(shown)]  # the plan's first, in its order
    for a in shown:
        full = plan[a["id"]]
        # it answers a problem or goal of the target's own profile, named in the brief
        assert full["problem"] in problems, full
        assert a["problem_id"] == full["problem"] and full["problem"] in a["problem"]
        # a lead body of the profile, or a flagged higher level
        if full["lead_id"] is not None:
            assert full["lead_id"] in institutions
            assert a["lead"].startswith(text(institutions[full["lead_id"]].name, lang))
        else:
            assert full["approval"], full
        assert a["lead"] in md
        # a KPI with a baseline, or the explicit "not measured yet"
        assert a["kpis"]
        for k in a["kpis"]:
            assert ("基线" in k or "尚未统计" in k or "尚无衡量" in k) if lang == "zh" else \
                ("baseline" in k or "not measured yet" in k), k
        assert a["rule"]
    # every footnote of the brief is an entry of the numbered evidence appendix
    assert [n["n"] for n in m["brief"]["notes"]] == list(range(1, len(m["brief"]["notes"]) + 1))
    for n in m["brief"]["notes"]:
        assert f"[{n['n']}] {n['cite']}" in md


def test_jinjiang_brief_answers_three_of_its_own_problems_with_district_bodies():
    m = memo("jinjiang")
    place = library().load("jinjiang").place
    answered = {a["problem_id"] for a in m["brief"]["actions"]}
    assert len(answered & {c.id for c in place.challenges}) >= 3, answered
    own = {i.id for i in place.institutions if i.level == "own"}
    for a in m["plan"]["actions"][:len(m["brief"]["actions"])]:
        # things a core urban district can do itself: its own bureaus lead, nothing needs a county's powers
        assert a["lead_id"] in own and a["lead"].startswith("锦江区"), a
    md = brief_markdown(m, "jinjiang")
    # the period-bound levers are named as what not to copy, and why
    not_to_copy = md.split("## 3.")[1].split("## 4.")[0]
    assert "（M1）" in not_to_copy and "（M2）" in not_to_copy and "（M5）" in not_to_copy
    assert "/100" not in md  # no unexplained score in the brief


def test_english_memo_is_in_english_units_with_the_original_in_the_appendix():
    m = memo("stoke-on-trent", "en")
    gdp = next(r for r in m["fit"]["context"] if r["key"] == "gdp")
    assert gdp["source_value"] == "95.26 billion yuan (2024)"
    from transfer_cli.pipeline.artifacts import Memo
    from transfer_cli.render.markdown import render_markdown
    lib = library()
    md = render_markdown(Memo.model_validate(m), lib.load("liling").place, lib.load("stoke-on-trent").place)
    annexes = md.split("\n---\n", 1)[1]
    appendix = annexes.split("Annex H. Evidence appendix")[1].split("## Annex I")[0]
    assert "95.26 billion yuan (952.6 亿元) (2024)" in appendix
    before_appendix = annexes.split("## Annex H.")[0]
    assert "亿元" not in before_appendix.split("## Annex C.")[0]  # context and timeline: English units
    for label in ("Lessons worth acting on", "What not to copy, and why", "Actions", "What to verify before deciding"):
        assert label in md


def test_every_chinese_unit_in_the_library_converts_to_the_same_quantity():
    """The English figure is the inputs' figure: the verifier reads both as one quantity."""
    from transfer_cli.pipeline.i18n.units import english
    from transfer_cli.verify.numbers import figures, quantity
    lib = library()
    converted = 0
    for pid in lib.paths():
        for key, ind in lib.load(pid).place.indicators.items():
            shown = english(ind.value, ind.unit)
            if shown is None:
                continue
            converted += 1
            found = figures(shown)
            assert len(found) == 1 and found[0].same_as(quantity(ind.value, ind.unit)), (pid, key, shown, found)
            # and a slip of one order of magnitude is a different quantity, which the verifier reports
            wrong = shown.replace("billion", "million") if "billion" in shown else None
            if wrong:
                assert not figures(wrong)[0].same_as(quantity(ind.value, ind.unit))
    assert converted > 20
