"""The verifier: planted defects give exactly one finding each, clean memos pass, invented figures never do."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SYNTHETIC, run_cli
from transfer_cli.pipeline.artifacts import Memo
from transfer_cli.places.loader import Library
from transfer_cli.verify.numbers import figures
from transfer_cli.verify.names import name_groups
from transfer_cli.verify.report import check_artifact, load_memo, verify_memo

BUNDLED_TARGETS = ("jinjiang", "wuhou", "liuyang", "dehua", "jingdezhen", "stoke-on-trent")


def analyze_json(tmp: Path, source: str, target: str, *extra) -> Path:
    out = tmp / f"{source}-{target}.json"
    r = run_cli("analyze", source, target, "-o", out, *extra, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return out


def check(path: Path, *extra, cwd: Path | None = None):
    r = run_cli("check", path, *extra, cwd=cwd or path.parent)
    findings = set()
    for line in r.stdout.splitlines():
        if line.startswith("- ") and " at " in line:
            kind, _, rest = line[2:].partition(" at ")
            findings.add((kind, rest.split(": ", 1)[0]))
    return r, findings


@pytest.fixture(scope="module")
def gamma_memo(tmp_path_factory) -> dict:
    """alpha -> gamma: every verdict path (inspire, avoid, conditional adapt, analog) in one memo."""
    tmp = tmp_path_factory.mktemp("gamma")
    return json.loads(analyze_json(tmp, "alpha", "gamma", "--cases", SYNTHETIC).read_text(encoding="utf-8"))


def plant(memo: dict, tmp_path: Path, edit) -> set:
    """The findings `transfer check` reports for the memo after `edit`, found in-process: the
    command's own steps (load_memo, verify_memo with the library's names); the command itself is
    run by the tests below."""
    bad = copy.deepcopy(memo)
    edit(bad)
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    lib = Library([SYNTHETIC])
    loaded, places, warnings = load_memo(path, lib)
    assert not warnings
    report = verify_memo(loaded, places, names=name_groups(lib))
    return {(f.kind, f.where) for f in report.findings}


def test_the_unplanted_memo_is_clean(gamma_memo, tmp_path):
    assert plant(gamma_memo, tmp_path, lambda m: None) == set()
    path = tmp_path / "memo.json"
    path.write_text(json.dumps(gamma_memo, ensure_ascii=False), encoding="utf-8")
    r, findings = check(path, "--cases", SYNTHETIC)
    assert r.returncode == 0 and findings == set(), r.stdout + r.stderr
    # and analyze already put the same verdict into the memo itself
    assert gamma_memo["run"]["verification"]["clean"] is True
    assert gamma_memo["run"]["verification"]["findings"] == []


def _append(path: str, text: str):
    def edit(m):
        obj = m
        for part in path.split("."):
            obj = obj[int(part)] if part.isdigit() else obj[part]
        obj["text"] += text
    return edit


def _set(path: str, value):
    def edit(m):
        *parents, last = path.split(".")
        obj = m
        for part in parents:
            obj = obj[int(part)] if part.isdigit() else obj[part]
        obj[int(last) if last.isdigit() else last] = value
    return edit


def _gdp_in_wrong_unit(m):
    outcome = m["logic"]["mechanisms"][0]["outcome"]
    assert "300亿元" in outcome["text"]  # alpha/A-01 states 300亿元
    outcome["text"] = outcome["text"].replace("300亿元", "300万元")


def _density_in_wrong_unit(m):
    row = next(r for r in m["fit"]["context"] if r["key"] == "population_density")
    row["target_value"] = row["target_value"].replace("persons/km²", "km²")


def _drop_m2(m):
    m["fit"]["mechanisms"] = [f for f in m["fit"]["mechanisms"] if f["mechanism_id"] != "M2"]


def _action_without_target_fact(m):
    a = m["plan"]["actions"][0]
    a["cites"] = [c for c in a["cites"] if not c.startswith("gamma")]
    a["kpis"] = []  # a KPI baseline is a target fact too


PLANTED = {
    "fabricated number": (_append("fit.mechanisms.0.rationale", "产值已达987.65亿元。"),
                          {("number_unsupported", "fit.mechanisms[0].rationale")}),
    "number with the wrong unit": (_gdp_in_wrong_unit, {("number_unit", "logic.mechanisms[0].outcome")}),
    "indicator with the wrong unit": (_density_in_wrong_unit, {("number_unit", "fit.context[3].target_value")}),
    "figure cited to the wrong note": (_append("fit.mechanisms.2.rationale", "区内GDP 1,200亿元。"),
                                       {("number_miscited", "fit.mechanisms[2].rationale")}),
    "dangling note id": (lambda m: m["fit"]["mechanisms"][0]["rationale"]["cites"].append("alpha/A-99"),
                         {("citation", "fit.mechanisms[0].rationale.cites[4]")}),
    # the value then rests on nothing it cites: that is reported too
    "dangling field": (_set("fit.context.2.target_cite", "gamma:indicators.nonsense"),
                       {("citation", "fit.context[2].target_cite"), ("number_miscited", "fit.context[2].target_value")}),
    "unassessed mechanism": (_drop_m2, {("coverage", "logic.mechanisms[1]")}),
    "action with no mechanism": (_set("plan.actions.0.mechanism_id", "M9"),
                                 {("coverage", "plan.actions[0].mechanism_id")}),
    "action with no target fact": (_action_without_target_fact, {("coverage", "plan.actions[0].cites")}),
    "copy with an absent necessary factor": (_set("fit.mechanisms.0.mode", "copy"),
                                             {("verdict", "fit.mechanisms[0].mode")}),
    "hazard not avoided": (_set("fit.mechanisms.1.mode", "inspire"), {("verdict", "fit.mechanisms[1].mode")}),
    "unknown factor, unconditional verdict": (_set("fit.mechanisms.2.conditional", False),
                                              {("verdict", "fit.mechanisms[2].conditional")}),
    "unknown factor without a verification step": (_set("fit.mechanisms.2.verification", []),
                                                   {("coverage", "fit.mechanisms[2].factors[0]")}),
    "status contradicting its condition": (_set("fit.mechanisms.1.factors.0.status", "present"),
                                           {("computed", "fit.mechanisms[1].factors[0].status")}),
    "a reference to 晋江": (_append("fit.mechanisms.0.rationale", "可参照晋江的经验。"),
                           {("entity", "fit.mechanisms[0].rationale")}),
}


@pytest.mark.parametrize("defect", PLANTED)
def test_a_planted_defect_gives_exactly_its_finding(gamma_memo, tmp_path, defect):
    edit, expected = PLANTED[defect]
    assert plant(gamma_memo, tmp_path, edit) == expected


def test_the_report_names_what_it_found(gamma_memo, tmp_path):
    bad = copy.deepcopy(gamma_memo)
    bad["fit"]["mechanisms"][0]["rationale"]["text"] += "产值已达987.65亿元，可参照晋江。"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    r, _ = check(path, "--cases", SYNTHETIC)
    assert "'987.65亿元' appears in no input of alpha, gamma" in r.stdout
    assert "'晋江' is neither the source, the target" in r.stdout
    assert r.stdout.startswith("核验发现 2 项问题")


def test_a_place_named_in_the_cited_note_is_not_a_confusion(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(SYNTHETIC, cases)
    gamma = cases / "gamma.yaml"
    gamma.write_text(gamma.read_text(encoding="utf-8").replace("GDP 1200亿元。", "GDP 1200亿元，高于晋江。"),
                     encoding="utf-8")
    memo = json.loads(analyze_json(tmp_path, "alpha", "gamma", "--cases", cases).read_text(encoding="utf-8"))
    memo["fit"]["mechanisms"][0]["rationale"]["text"] += "与晋江相比。"
    memo["fit"]["mechanisms"][0]["rationale"]["cites"].append("gamma/G-01")
    path = tmp_path / "named.json"
    path.write_text(json.dumps(memo, ensure_ascii=False), encoding="utf-8")
    r, findings = check(path, "--cases", cases)
    assert (r.returncode, findings) == (0, set()), r.stdout


def test_changed_inputs_are_warned_about_and_still_checked(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(SYNTHETIC, cases)
    memo = analyze_json(tmp_path, "alpha", "beta", "--cases", cases)
    with (cases / "beta.yaml").open("a", encoding="utf-8") as f:
        f.write("# edited after the memo was made\n")
    r, findings = check(memo, "--cases", cases)
    assert r.returncode == 0 and findings == set()
    assert "warning: beta: input files changed since the memo was made" in r.stderr
    assert "alpha" not in r.stderr


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"kind": "case_logic", "source": "alpha"}', "not a memo (it is a case_logic)"),
    ("[1, 2]", "not a memo"),
])
def test_unusable_input_is_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    r = run_cli("check", path, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "broken.json" in lines[0] and message in lines[0]


def test_a_memo_whose_place_is_not_in_the_library_is_unusable(gamma_memo, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(gamma_memo, ensure_ascii=False), encoding="utf-8")
    r = run_cli("check", path, cwd=tmp_path)  # without --cases the synthetic places are unknown
    assert r.returncode == 2
    assert "m.json" in r.stderr and "'alpha' is not in the case library" in r.stderr


def test_the_memo_shows_its_verification_report(tmp_path):
    r = run_cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, "--full", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    section = r.stdout.split("　核验报告\n")[1].split("\n## ")[0]
    assert "核验通过" in section and "15/15 个数字见于所引材料" in section


@pytest.mark.parametrize("target", [t if t == "jinjiang" else pytest.param(t, marks=pytest.mark.slow)
                                    for t in BUNDLED_TARGETS])  # one in the fast suite, all in CI
def test_bundled_offline_memos_pass(tmp_path, target):
    for lang in ("zh", "en"):
        memo = analyze_json(tmp_path, "liling", target, "--lang", lang)
        r, findings = check(memo)
        assert r.returncode in (0, 1) and not r.stderr, r.stderr
        assert not findings, (lang, findings)
        assert r.returncode == 0


# ---- the typical failure: a figure found in no input is never reported clean ---------------------

UNITS = ("亿元", "万元", "%", "km²", "平方公里", "家", "万人", "persons/km²", "万人次")
PREFIXES = ("产值达", "GDP", "面积为", "约", "增长", "规模", "output of ", "")


@pytest.fixture(scope="module")
def gamma_inputs(gamma_memo):
    memo = Memo.model_validate(gamma_memo)
    lib = Library([SYNTHETIC])
    return memo, {p: lib.load(p).place for p in ("alpha", "gamma")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hundredths=st.integers(100_001, 999_999).filter(lambda k: k % 10), unit=st.sampled_from(UNITS),
       prefix=st.sampled_from(PREFIXES), sep=st.booleans(), space=st.booleans(), where=st.integers(0, 20))
def test_an_invented_figure_is_never_clean(gamma_inputs, hundredths, unit, prefix, sep, space, where):
    # two decimals, the last non-zero: no synthetic input (900.5, 1200, 15000 ...) can equal it in any unit
    memo, places = gamma_inputs
    value = hundredths / 100
    figure = (f"{value:,.2f}" if sep else f"{value:.2f}") + (" " if space else "") + unit
    claims = [f.rationale for f in memo.fit.mechanisms] + [x.rationale for f in memo.fit.mechanisms for x in f.factors]
    bad = memo.model_copy(deep=True)
    target = ([f.rationale for f in bad.fit.mechanisms] + [x.rationale for f in bad.fit.mechanisms for x in f.factors])
    claim = target[where % len(claims)]
    claim.text += f"{prefix}{figure}。"
    report = verify_memo(bad, places)
    assert not report.clean
    assert any(f.kind in ("number_unsupported", "number_unit") for f in report.findings), report.findings


def test_stage_artifacts_are_checked_alone(gamma_inputs):
    memo, places = gamma_inputs
    fit = memo.fit.model_copy(deep=True)
    fit.mechanisms[0].mode = "copy"
    fit.mechanisms[0].rationale.cites.append("gamma/G-99")
    found = {(f.kind, f.where) for f in check_artifact(fit, places, logic=memo.logic)}
    assert found == {("verdict", "fit.mechanisms[0].mode"), ("citation", "fit.mechanisms[0].rationale.cites[4]")}
    # without the logic only what the artifact itself states is checked
    assert {(f.kind, f.where) for f in check_artifact(fit, places)} == {("citation", "fit.mechanisms[0].rationale.cites[4]")}
    assert check_artifact(memo.logic, {"alpha": places["alpha"]}) == []


# ---- figures: the normalisation the number check relies on ---------------------------------------

@pytest.mark.parametrize("a, b", [
    ("952.6亿元", "95.26 billion yuan"), ("952.6亿元", "九百五十二点六亿元"), ("17.95%", "百分之十七点九五"),
    ("1,593家", "1593 firms"), ("2,157.2 km²", "2157.2平方公里"), ("15,000 persons/km²", "15000人/平方公里"),
    ("106万", "1,060,000 persons"), ("3,500万股", "35 million shares"), ("GDP952.6亿元", "952.6亿元"),
])
def test_one_quantity_in_its_spellings(a, b):
    (qa,), (qb,) = figures(a), figures(b)
    assert qa.same_as(qb)


@pytest.mark.parametrize("a, b", [("952.6亿元", "952.6万元"), ("62.12 km²", "62.12%"), ("1,593家", "1,593人")])
def test_another_unit_is_another_quantity(a, b):
    (qa,), (qb,) = figures(a), figures(b)
    assert not qa.same_as(qb)


@pytest.mark.parametrize("text", [
    "2015年", "2019—2020年", "1999年9月3日", "第七次人口普查", "A1 M3 F2 CER-05 见FW-12", "得分 40/100",
    "总体可迁移性得分 23/100。", "一个集群、三大产业、四项奖", "十四五规划", "代码600286", "Phase 2 of 3",
])
def test_labels_years_ids_and_scores_are_not_figures(text):
    assert figures(text) == []
