"""The judgment suite's checker: each case in cases.yaml names a pair, what to look at in its memo
and the band of answers an analyst would accept, with the reason. `failures` returns one line per
case that is outside its band, naming the case and its reason, so a moved verdict says which
judgment it broke.

Check kinds (`check:`):
- mode:    a mechanism's verdict is one of `modes` (and its score inside `score: [lo, hi]`, if given)
- factor:  a factor's status is one of `status`; `analog: true|false`; `basis` of its readings;
           `reading: {field, status}` for one reading of a condition with several parts
- existing: the verdict is in_place and names the target's own instrument (`cites` a policies field)
- admin:   the pair's admin-level sentence (English) contains each of `includes`, none of `excludes`
- kpis:    no action proposes a KPI in `exclude` (or `cn_only` for the Chinese statistical categories)
- actions: no action comes from a mechanism in `none_for`; each action from one in `approval_for`
           carries an approval flag; no action's title or first step says any of `excludes`
- gate:    no mechanism with a necessary factor whose condition names one of `families` (through its
           tags, kinds or families) gets a verdict in `modes_not`
- overall: the pair's overall score is inside `score: [lo, hi]`
- context: the context table has no row of key `key` comparing two different things (`split: true`:
           rows of that key carry `of` and a not-comparable note)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
PLACES = HERE / "places"
CASES = HERE / "cases.yaml"


@pytest.fixture(autouse=True, scope="module")
def own_cache_and_library(tmp_path_factory):
    """In-process runs cache parsed places: keep them out of the user's cache, and let no
    TRANSFER_CASES directory shadow the places the cases were written for."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.delenv("TRANSFER_CASES", raising=False)
        yield


def load_cases(path: Path = CASES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


@lru_cache(maxsize=None)
def memo(source: str, target: str, lang: str = "en") -> dict:
    """The memo `transfer analyze SOURCE TARGET --cases tests/judgment/places` makes, as JSON data."""
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.pipeline.stages import analyze
    from transfer_cli.places.loader import Library
    lib = Library([PLACES])
    return analyze(OfflineEngine(), lib.load(source), lib.load(target), lang).model_dump(mode="json")


def _fit(m: dict, mid: str) -> dict:
    return next(f for f in m["fit"]["mechanisms"] if f["mechanism_id"] == mid)


def _factor(m: dict, mid: str, fid: str) -> dict:
    return next(x for x in _fit(m, mid)["factors"] if x["factor_id"] == fid)


def _families(cond: dict | None) -> set[str]:
    if not cond:
        return set()
    from pydantic import TypeAdapter
    from transfer_cli.places.schema import Condition, condition_families
    return condition_families(TypeAdapter(Condition).validate_python(cond))


def problems(case: dict, m: dict) -> list[str]:
    """What is wrong with the memo for this case (empty when the judgment holds)."""
    kind, out = case["check"], []
    if kind in ("mode", "existing"):
        f = _fit(m, case["mechanism"])
        modes = ["in_place"] if kind == "existing" else case["modes"]
        if f["mode"] not in modes:
            out.append(f"{case['mechanism']} is {f['mode']} {f['score']}, expected one of {modes}")
        lo, hi = case.get("score", (0, 100))
        if not lo <= f["score"] <= hi:
            out.append(f"{case['mechanism']} scores {f['score']}, expected {lo}-{hi}")
        if case.get("conditional") is not None and f["conditional"] != case["conditional"]:
            out.append(f"{case['mechanism']} conditional is {f['conditional']}, expected {case['conditional']}")
        if kind == "existing" and not (f["existing"] and ":policies" in f["existing"]["cite"]):
            out.append(f"{case['mechanism']} does not name the target's own instrument: {f['existing']}")
    elif kind == "factor":
        x = _factor(m, case["mechanism"], case["factor"])
        where = f"{case['mechanism']}/{case['factor']}"
        if "status" in case and x["status"] not in case["status"]:
            out.append(f"{where} is {x['status']}, expected one of {case['status']}")
        if "analog" in case and bool(x["analog"]) != case["analog"]:
            out.append(f"{where} analog is {x['analog']}, expected {'one' if case['analog'] else 'none'}")
        if "basis" in case and not any(r["basis"] == case["basis"] for r in x["readings"]):
            out.append(f"{where} has no reading on basis {case['basis']}: {[r['basis'] for r in x['readings']]}")
        if "reading" in case:
            want = case["reading"]
            hits = [r for r in x["readings"] if r["field"] == want["field"]]
            if not hits or any(r["status"] != want["status"] for r in hits):
                out.append(f"{where} reading {want['field']} is {[r['status'] for r in hits]}, expected {want['status']}")
    elif kind == "admin":
        text = m["fit"]["scale_differences"][0]["text"]
        out += [f"admin sentence lacks '{s}': {text}" for s in case.get("includes", []) if s not in text]
        out += [f"admin sentence says '{s}': {text}" for s in case.get("excludes", []) if s in text]
    elif kind == "kpis":
        from transfer_cli.places.vocabulary import CN_ONLY_INDICATORS
        banned = set(CN_ONLY_INDICATORS) if case["exclude"] == "cn_only" else set(case["exclude"])
        for a in m["plan"]["actions"]:
            bad = banned & {k["indicator"] for k in a["kpis"]}
            if bad:
                out.append(f"action {a['id']} ({a['mechanism_id']}) proposes {sorted(bad)}")
            if case.get("measured") and not a["kpis"]:
                out.append(f"action {a['id']} ({a['mechanism_id']}) has no KPI at all")
    elif kind == "actions":
        out += [f"action {a['id']} comes from {a['mechanism_id']}: {a['title']}"
                for a in m["plan"]["actions"] if a["mechanism_id"] in case.get("none_for", [])]
        out += [f"action {a['id']} ({a['mechanism_id']}) says '{w}': {a['title']} / {a['first_step']}"
                for a in m["plan"]["actions"] for w in case.get("excludes", []) if w in a["title"] + a["first_step"]]
        flagged = [a for a in m["plan"]["actions"] if a["mechanism_id"] in case.get("approval_for", [])]
        if case.get("approval_for") and not flagged:
            out.append(f"no action comes from {case['approval_for']}, so no approval flag can be checked")
        out += [f"action {a['id']} ({a['mechanism_id']}) has no approval flag" for a in flagged if not a["approval"]]
    elif kind == "gate":
        for mech in m["logic"]["mechanisms"]:
            gated = [sf["id"] for sf in mech["support_factors"] if sf["necessity"] == "necessary"
                     and _families(sf.get("condition")) & set(case["families"])]
            f = _fit(m, mech["id"])
            if gated and f["mode"] in case["modes_not"]:
                out.append(f"{mech['id']} is {f['mode']} {f['score']} though {'/'.join(gated)} needs {case['families']}")
    elif kind == "overall":
        lo, hi = case["score"]
        if not lo <= m["fit"]["overall_score"] <= hi:
            out.append(f"overall {m['fit']['overall_score']} ({m['fit']['overall_basis']}), expected {lo}-{hi}")
    elif kind == "context":
        rows = [r for r in m["fit"]["context"] if r["key"].split(":")[0] == case["key"]]
        both = [r for r in rows if r["source_value"] and r["target_value"]]
        if both:
            out.append(f"one {case['key']} row compares {both[0]['source_value']} with {both[0]['target_value']}")
        if case.get("split") and not (len(rows) >= 2 and all(":" in r["key"] and r["note"] for r in rows)):
            out.append(f"{case['key']} rows are not split by cluster with a note: {rows}")
    else:
        out.append(f"unknown check kind '{kind}'")
    return out


def failures(cases: list[dict]) -> list[str]:
    lines = []
    for c in cases:
        found = problems(c, memo(c["source"], c["target"], c.get("lang", "en")))
        if found:
            lines.append(f"{c['id']} ({c['source']} → {c['target']}): {'; '.join(found)}\n"
                         f"    reason: {' '.join(c['reason'].split())}")
    return lines
