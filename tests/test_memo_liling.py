"""The main job on the bundled library: liling against every target, golden memos, discrimination."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
TARGETS = ("jinjiang", "wuhou", "liuyang", "dehua", "jingdezhen", "stoke-on-trent")


@lru_cache(maxsize=None)
def memo(target: str, lang: str = "zh") -> dict:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        r = run_cli("analyze", "liling", target, "--lang", lang, "-o", "memo.json", cwd=Path(tmp))
        assert r.returncode == 0, r.stderr
        return json.loads((Path(tmp) / "memo.json").read_text(encoding="utf-8"))


def modes(m: dict) -> dict[str, str]:
    return {f["mechanism_id"]: f["mode"] for f in m["fit"]["mechanisms"]}


def test_printed_memo_is_the_brief_and_full_adds_the_annexes(tmp_path):
    brief = run_cli("analyze", "liling", "jinjiang", cwd=tmp_path)
    assert brief.returncode == 0, brief.stderr
    # printed, even into a pipe: the two pages an official reads, and one line on how to see the rest
    assert [line[3:] for line in brief.stdout.splitlines() if line.startswith("## ")] == [
        "1. 结论", "2. 值得采取的借鉴", "3. 不宜照搬的内容及原因", "4. 建议行动", "5. 决策前需核实",
        "注释（附件H证据附录编号）"]
    assert "--full" in brief.stderr
    r = run_cli("analyze", "liling", "jinjiang", "--full", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(brief.stdout.split("\n## 注释")[0])
    assert out.startswith("# 经验借鉴可行性备忘录：锦江区能从醴陵市学什么")
    headings = [line[3:] for line in out.splitlines() if line.startswith("## ")]
    # --full: the decision brief first, then the annexes A-J
    assert headings == [
        "1. 结论", "2. 值得采取的借鉴", "3. 不宜照搬的内容及原因", "4. 建议行动", "5. 决策前需核实",
        "注释（附件H证据附录编号）", "附件A　背景对照、行政层级与规模", "附件B　来源地发展时间线", "附件C　机制卡片",
        "附件D　适配矩阵", "附件E　方案比较与完整行动表", "附件F　风险、应对与责任主体", "附件G　证据缺口与核实步骤",
        "附件H　证据附录", "附件I　核验报告", "附件J　运行记录"]
    # citations are footnote numbers; the numbered evidence appendix names each note or field once
    assert "1. **liling/" in out and "**jinjiang:indicators." in out and "[liling/" not in out
    assert "liling → jinjiang" in r.stderr  # status goes to stderr, the memo alone to stdout


def test_every_mechanism_is_judged_and_something_is_not_transferable():
    m = memo("jinjiang")
    assert len(m["logic"]["mechanisms"]) >= 8
    assert {x["mechanism_id"] for x in m["fit"]["mechanisms"]} == {x["id"] for x in m["logic"]["mechanisms"]}
    assert "avoid" in modes(m).values()
    assert m["fit"]["not_to_copy"]
    for a in m["plan"]["actions"]:
        assert a["lead"] and a["horizon"] and a["first_step"] and a["kpis"], a


@pytest.mark.parametrize("target", ("liuyang", "dehua"))
def test_verdicts_discriminate_between_targets_for_stated_reasons(target):
    core, other = memo("jinjiang"), memo(target)
    differ = [k for k, v in modes(other).items() if modes(core)[k] != v]
    assert differ, f"liling→{target} gives the same verdicts as liling→jinjiang"
    core_fits = {f["mechanism_id"]: f for f in core["fit"]["mechanisms"]}
    for f in other["fit"]["mechanisms"]:
        if f["mechanism_id"] in differ:
            # the difference is explained by factor statuses that differ, and the reasons say so
            mine = {x["factor_id"]: (x["status"], bool(x["analog"])) for x in f["factors"]}
            theirs = {x["factor_id"]: (x["status"], bool(x["analog"])) for x in core_fits[f["mechanism_id"]]["factors"]}
            assert mine != theirs
            assert f["rationale"]["text"] != core_fits[f["mechanism_id"]]["rationale"]["text"]


def test_hazardous_production_is_never_recommended_in_a_dense_core_district():
    for target in ("jinjiang", "wuhou"):
        m = memo(target)
        hazards = {x["id"] for x in m["logic"]["mechanisms"] if x["hazard"]}
        assert hazards
        assert all(modes(m)[h] == "avoid" for h in hazards), modes(m)
        assert not [a for a in m["plan"]["actions"] if a["mechanism_id"] in hazards]
    # ... while the fireworks neighbour is not told to avoid it
    liuyang = memo("liuyang")
    hazards = {x["id"] for x in liuyang["logic"]["mechanisms"] if x["hazard"]}
    assert any(modes(liuyang)[h] != "avoid" for h in hazards)


def test_scale_and_admin_level_differences_are_stated():
    m = memo("jinjiang")
    text = " ".join(c["text"] for c in m["fit"]["scale_differences"])
    assert "县级市" in text and "市辖区" in text
    assert "km²" in text


@pytest.mark.parametrize("target", [t if t in ("jinjiang", "stoke-on-trent") else pytest.param(t, marks=pytest.mark.slow)
                                    for t in TARGETS])  # a Chinese and a foreign target in the fast suite, all in CI
def test_every_bundled_target_runs_in_both_languages(target):
    for lang in ("zh", "en"):
        m = memo(target, lang)
        assert m["fit"]["lang"] == lang and m["plan"]["actions"]


@pytest.mark.parametrize("target,lang", [("jinjiang", "zh"), ("stoke-on-trent", "en")])
def test_golden_memo(target, lang, tmp_path):
    r = run_cli("analyze", "liling", target, "--lang", lang, "--full", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    golden = GOLDEN / f"liling-{target}.{lang}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(r.stdout, encoding="utf-8")
    assert r.stdout == golden.read_text(encoding="utf-8"), (
        f"memo differs from {golden.name}; if the change is intended, re-run with UPDATE_GOLDEN=1 and review the diff")
