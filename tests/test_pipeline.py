"""The three stages on the offline engine: verdict rules on synthetic places, files, determinism."""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path

from conftest import SYNTHETIC, run_cli


@lru_cache(maxsize=None)
def _memo_text(source: str, target: str, *extra: str) -> str:
    # one run per distinct command in a worker: several tests read the same memo
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{source}-{target}.json"
        r = run_cli("analyze", source, target, "--cases", SYNTHETIC, "-o", out, *extra, cwd=Path(tmp))
        assert r.returncode == 0, r.stderr
        return out.read_text(encoding="utf-8")


def memo_json(source, target, tmp_path, *extra) -> dict:
    return json.loads(_memo_text(source, target, *map(str, extra)))


def verdicts(memo: dict) -> dict[str, tuple[str, bool]]:
    return {m["mechanism_id"]: (m["mode"], m["conditional"]) for m in memo["fit"]["mechanisms"]}


def test_verdict_rules_on_a_matching_county(tmp_path):
    memo = memo_json("alpha", "beta", tmp_path)
    v = verdicts(memo)
    # every necessary factor present, an institution: copy
    assert v["M1"] == ("copy", False)
    # hazardous production is fine where land away from homes exists: not "avoid"
    assert v["M2"][0] in ("copy", "adapt")
    # the land power is listed as full in beta: decided, not conditional
    assert v["M3"] == ("copy", False)


def test_verdict_rules_on_a_dense_core_district(tmp_path):
    memo = memo_json("alpha", "gamma", tmp_path)
    v = verdicts(memo)
    # a necessary factor absent with no analog (county powers): principle only
    assert v["M1"] == ("inspire", False)
    # hazardous production whose land factor is absent: never transferred
    assert v["M2"] == ("avoid", False)
    # the industrial-land figure is not in the profile: unknown caps the verdict and asks for verification
    assert v["M3"] == ("adapt", True)
    m3 = next(m for m in memo["fit"]["mechanisms"] if m["mechanism_id"] == "M3")
    assert m3["verification"] and "gamma:indicators.industrial_land" in m3["verification"][0]["text"]
    f1 = next(f for f in next(m for m in memo["fit"]["mechanisms"] if m["mechanism_id"] == "M1")["factors"]
              if f["factor_id"] == "F1")
    # a retail pillar does not do a manufacturing cluster's job: absent (the list is complete), no analog
    assert f1["status"] == "absent" and f1["analog"] is None
    assert f1["readings"][0]["basis"] == "checked"


def test_an_analog_plays_the_role_and_says_why(tmp_path):
    memo = memo_json("alpha", "delta", tmp_path)
    m1 = next(m for m in memo["fit"]["mechanisms"] if m["mechanism_id"] == "M1")
    f1 = next(f for f in m1["factors"] if f["factor_id"] == "F1")
    assert f1["analog"]["cite"] == "delta:industries.footwear" and f1["analog"]["role"]
    assert f1["analog"]["role"] in f1["rationale"]["text"]


def test_no_action_for_a_mechanism_judged_not_transferable(tmp_path):
    memo = memo_json("alpha", "gamma", tmp_path)
    assert all(a["mechanism_id"] != "M2" for a in memo["plan"]["actions"])
    assert any("M2" in c["text"] or "危险" in c["text"] for c in memo["fit"]["not_to_copy"])
    for a in memo["plan"]["actions"]:
        assert a["lead"] and a["horizon"] and a["first_step"] and a["kpis"]
    # the principle-only lesson earns a study at most, answering a problem the target named
    m1 = [a for a in memo["plan"]["actions"] if a["mechanism_id"] == "M1"]
    assert [a["kind"] for a in m1] == ["study"] and m1[0]["problem"] == "C2"


def test_municipal_powers_are_flagged_for_approval(tmp_path):
    memo = memo_json("alpha", "gamma", tmp_path)
    land = [a for a in memo["plan"]["actions"] if a["mechanism_id"] == "M3"]
    assert land and all("大城市" in (a["approval"] or "") for a in land)
    # and the city's planning bureau is brought in as a partner
    assert all("大城市规划和自然资源局" in a["partners"] for a in land)
    county = memo_json("alpha", "beta", tmp_path)
    assert all(a["approval"] is None for a in county["plan"]["actions"])


def test_kpi_baselines_come_from_the_target_profile(tmp_path):
    memo = memo_json("alpha", "beta", tmp_path)
    kpis = [k for a in memo["plan"]["actions"] for k in a["kpis"] if k["indicator"] == "cluster_output"]
    assert kpis and kpis[0]["baseline"] == "120 亿元 (2022)"
    assert kpis[0]["baseline_cite"] == "beta:indicators.cluster_output"
    assert kpis[0]["data_source"] == "Synthetic target"
    gamma = memo_json("alpha", "gamma", tmp_path)
    missing = [(a, k) for a in gamma["plan"]["actions"] for k in a["kpis"] if k["indicator"] == "cluster_output"]
    # not measured yet: no baseline, and the first step is to measure it
    assert missing and missing[0][1]["baseline"] is None and missing[0][1]["baseline_cite"] is None
    assert "基线" in missing[0][0]["first_step"]


def test_memo_is_byte_identical_across_runs_and_time_is_pinnable(tmp_path):
    a = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--full", cwd=tmp_path)
    b = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--full", cwd=tmp_path)
    assert a.returncode == 0 and a.stdout == b.stdout
    c = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--full", env={"SOURCE_DATE_EPOCH": "0"}, cwd=tmp_path)
    assert "1970-01-01T00:00:00Z" in c.stdout and c.stdout != a.stdout


def test_md_and_json_outputs_and_english(tmp_path):
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "-o", "memo.md", "--lang", "en", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
    md = (tmp_path / "memo.md").read_text(encoding="utf-8")
    assert md.startswith("# Transferability memo: what can Gamma District learn from Alpha?")
    for heading in ("1. The answer", "2. Lessons worth acting on", "3. What not to copy, and why", "4. Actions",
                    "Annex A. Context", "Annex C. Mechanism cards", "Annex D. Fit matrix",
                    "Annex E. Options and the full action table", "Annex G. Evidence gaps", "Annex J. Run record"):
        assert f"\n## {heading}" in md
    memo = memo_json("alpha", "gamma", tmp_path, "--format", "json")
    assert set(memo) == {"kind", "logic", "fit", "plan", "run", "brief"}
    # the JSON carries the brief as data: the same actions as the plan's first ones, footnotes numbered
    assert [a["id"] for a in memo["brief"]["actions"]] == [a["id"] for a in memo["plan"]["actions"]][:6]
    assert [n["n"] for n in memo["brief"]["notes"]] == list(range(1, len(memo["brief"]["notes"]) + 1))
    assert memo["run"]["engine"] == "offline" and memo["run"]["inputs"][0]["files"]


def test_extract_then_edited_logic_feeds_analyze(tmp_path):
    r = run_cli("extract", "alpha", "--cases", SYNTHETIC, "-o", "logic.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    logic = json.loads((tmp_path / "logic.json").read_text(encoding="utf-8"))
    assert verdicts(memo_json("alpha", "delta", tmp_path))["M1"][0] == "inspire"  # delta lacks county powers
    # the analyst decides the cluster's approval-power factor is only helpful
    m1 = next(m for m in logic["mechanisms"] if m["id"] == "M1")
    next(f for f in m1["support_factors"] if f["id"] == "F2")["necessity"] = "helpful"
    (tmp_path / "logic.json").write_text(json.dumps(logic, ensure_ascii=False), encoding="utf-8")
    memo = memo_json("alpha", "delta", tmp_path, "--logic", tmp_path / "logic.json")
    assert verdicts(memo)["M1"][0] == "adapt"  # now rests on the footwear analog
    assert memo["run"]["logic_file"].endswith("logic.json")


def test_bad_logic_file_is_a_one_line_error(tmp_path):
    (tmp_path / "logic.json").write_text('{"kind": "case_logic", "source": "alpha", "lang": "zh", "mechanisms": [{}]}')
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--logic", "logic.json", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1].startswith("error: logic.json: mechanisms[0].")
    (tmp_path / "bad.json").write_text("{not json")
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--logic", "bad.json", cwd=tmp_path)
    assert r.returncode == 2 and "bad.json:1: not valid JSON" in r.stderr


def test_output_is_not_half_written_on_failure(tmp_path):
    (tmp_path / "memo.md").write_text("previous memo")
    r = run_cli("analyze", "alpha", "nowhere", "--cases", SYNTHETIC, "-o", "memo.md", cwd=tmp_path)
    assert r.returncode == 2
    assert (tmp_path / "memo.md").read_text() == "previous memo"
    assert [p.name for p in tmp_path.iterdir()] == ["memo.md"]


def test_a_source_without_mechanisms_is_a_clear_error_offline(tmp_path):
    r = run_cli("analyze", "gamma", "beta", "--cases", SYNTHETIC, cwd=tmp_path)
    assert r.returncode == 2
    assert "needs authored mechanisms" in r.stderr and "--engine llm" in r.stderr


def test_saved_memo_honours_the_umask(tmp_path):
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "-o", "memo.md", cwd=tmp_path)
    assert r.returncode == 0
    import os
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "memo.md").stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_writes_read_the_umask_without_changing_it(tmp_path):
    # reading the umask by setting it would, for an instant, give files other threads create
    # the temporary mask; the umask must be read in place and stay as it was
    import os
    from transfer_cli.files import write_atomic
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.md", "x")
        assert (tmp_path / "a.md").stat().st_mode & 0o777 == 0o640
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(old)
