"""The judgment suite (issue 10): expected verdict bands for the bundled pairs and for synthetic
places built to probe each rule. One test runs every case in cases.yaml and names each failing case
with its reason; the others check that the checker itself can fail."""

from __future__ import annotations

import copy

import pytest

from judge import PLACES, failures, load_cases, memo, own_cache_and_library  # noqa: F401 (autouse fixture)

CASES = load_cases()


def test_every_judgment_case_holds():
    found = failures(CASES)
    assert not found, f"{len(found)} of {len(CASES)} judgment cases fail:\n" + "\n".join(found)


def test_cases_are_well_formed():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for c in CASES:
        assert c.get("reason", "").strip(), f"{c['id']} states no reason"
        assert c["check"] in ("mode", "existing", "factor", "admin", "kpis", "actions", "context", "gate", "overall"), c["id"]
    # every synthetic place is used by some case, so none is dead weight
    used = {c["target"] for c in CASES}
    assert {p.stem for p in PLACES.glob("*.yaml")} <= used


@pytest.mark.parametrize("case_id,change,expect", [
    ("liuyang-fireworks-is-a-specialised-cluster", {"status": ["absent"]}, "M3/F1 is present"),
    ("m1-not-for-a-city-liuyang", {"modes": ["copy"]}, "M1 is inspire"),
    ("admin-district", {"includes": ["same county powers"]}, "lacks 'same county powers'"),
    ("jinjiang-no-manufacturing-mechanism-transfers", {"modes_not": ["inspire"]}, "M3 is inspire"),
    ("stoke-no-cn-only-kpis", {"exclude": ["manufacturing_employment"]}, "proposes ['manufacturing_employment']"),
])
def test_a_wrong_expectation_is_reported_with_its_case_and_reason(case_id, change, expect):
    case = copy.deepcopy(next(c for c in CASES if c["id"] == case_id))
    case.update(change)
    (line,) = failures([case])
    assert line.startswith(case_id) and expect in line
    assert "reason: " + " ".join(case["reason"].split()) in line


@pytest.mark.parametrize("target,flagged", [("probe-dense-chemicals", False), ("jinjiang", True)])
def test_the_verifier_accepts_consolidation_only_where_the_hazardous_trade_exists(target, flagged):
    """'Inspire' for the safety consolidation (M5) is right where the target runs a hazardous trade
    but lacks room away from homes; where it has no hazardous trade, anything but 'avoid' is a finding."""
    from transfer_cli.pipeline.artifacts import Memo
    from transfer_cli.places.loader import Library
    from transfer_cli.verify.report import verify_memo
    data = copy.deepcopy(memo("liling", target))
    i, fit = next((i, f) for i, f in enumerate(data["fit"]["mechanisms"]) if f["mechanism_id"] == "M5")
    fit["mode"] = "inspire"
    lib = Library([PLACES])
    report = verify_memo(Memo.model_validate(data), {p: lib.load(p).place for p in ("liling", target)})
    found = [f for f in report.findings if f.kind == "verdict" and f.where == f"fit.mechanisms[{i}].mode"]
    assert bool(found) == flagged, found
    if flagged:
        assert "must be 'avoid'" in found[0].message
