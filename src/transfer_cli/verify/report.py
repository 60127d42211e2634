"""The verifier's entry points: one stage's findings (for an engine's re-ask), a memo's report
(verify_memo, which every analysis runs), a saved memo re-checked against its places
(`transfer check`), and the report as text."""

from __future__ import annotations

from typing import Iterable

from ..identity import ByIdentity
from ..places import schema as S
from ..places.loader import file_hashes
from ..pipeline.artifacts import ActionPlan, CaseLogic, FitAssessment, Memo
from .checks import _Checker
from .findings import Finding, Report

def check_artifact(artifact, places: dict[str, S.Place], *, logic: CaseLogic | None = None,
                   names: Iterable[Iterable[str]] | None = None) -> list[Finding]:
    """Findings for one stage's artifact, for an engine to re-ask with before accepting it.

    `artifact` is a CaseLogic, FitAssessment or ActionPlan; `places` maps place id -> Place
    (the source, and the target for stages 2 and 3); `logic` is the CaseLogic the fit or plan
    was built on (without it the coverage, computed-fact and verdict checks are skipped).
    Paths in `where` start with logic./fit./plan. as in a memo. The llm engine calls this after
    each stage and, when findings come back, re-asks once with them (`format_findings`), then
    accepts the second answer with whatever findings remain; the memo's report records them.
    """
    c = _Checker(places, names)
    _check_into(c, artifact, logic)
    return c.findings


def _check_into(c: _Checker, artifact, logic: CaseLogic | None) -> None:
    if isinstance(artifact, CaseLogic):
        c.artifact(artifact, "logic", artifact.source, None)
    elif isinstance(artifact, FitAssessment):
        c.artifact(artifact, "fit", artifact.source, artifact.target)
        if logic is not None:
            c.fit(artifact, logic)
    elif isinstance(artifact, ActionPlan):
        c.artifact(artifact, "plan", artifact.source, artifact.target)
        if logic is not None:
            c.plan(artifact, logic)
    else:
        raise TypeError(f"not an artifact: {type(artifact).__name__}")


def format_findings(findings: list[Finding]) -> str:
    """Findings as plain lines, for a re-ask prompt or a terminal."""
    return "\n".join(f"- {f.kind} at {f.where}: {f.message}" for f in findings)


_SUMMARY = {
    "zh": ("核验通过：", "核验发现 {n} 项问题（{kinds}）：",
           "{cc}/{c} 条判断与行动的出处均可解析；文中 {ns}/{n_} 个数字见于所引材料。"),
    "en": ("Verified clean: ", "{n} finding(s) ({kinds}): ",
           "{cc}/{c} claims and actions cite resolving evidence; {ns}/{n_} figures appear in what they cite."),
}


_LOGIC_CHECKS = ByIdentity()


def _logic_checked(logic: CaseLogic, places: dict[str, S.Place], names) -> "_Checker":
    """The stage-1 check, once per logic: a batch verifies one source's logic against N targets,
    and the logic's hundreds of figures are most of the work."""
    source = places.get(logic.source)

    def check() -> _Checker:
        c = _Checker({logic.source: source} if source is not None else places, names)
        _check_into(c, logic, None)
        return c
    return _LOGIC_CHECKS.get((logic, source, names), check)


def verify_memo(memo: Memo, places: dict[str, S.Place], names: Iterable[Iterable[str]] | None = None) -> Report:
    """Check every artifact of `memo` against `places` (id -> Place; the source and the target).

    `names` are the known places for the entity check, each as a group of its spellings
    (default: `library_names()`, the case library and the confusable names). The report's summary is in the memo's language.
    """
    c = _Checker(places, names)
    done = _logic_checked(memo.logic, places, names)
    c.findings.extend(done.findings)
    for k in ("claims", "claims_cited", "numbers", "numbers_supported"):
        setattr(c, k, getattr(done, k))
    _check_into(c, memo.fit, memo.logic)
    _check_into(c, memo.plan, memo.logic)
    kinds: dict[str, int] = {}
    for f in c.findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    lang = memo.fit.lang
    head_ok, head_bad, body = _SUMMARY[lang]
    head = head_ok if not c.findings else head_bad.format(
        n=len(c.findings), kinds=", ".join(f"{k} {v}" for k, v in kinds.items()))
    summary = head + body.format(cc=c.claims_cited, c=c.claims, ns=c.numbers_supported, n_=c.numbers)
    return Report(clean=not c.findings, claims=c.claims, claims_cited=c.claims_cited, numbers=c.numbers,
                  numbers_supported=c.numbers_supported,
                  groundedness={"claims": round(c.claims_cited / c.claims, 3) if c.claims else 1.0,
                                "numbers": round(c.numbers_supported / c.numbers, 3) if c.numbers else 1.0},
                  findings=c.findings, summary=summary)


# ---- a saved memo -----------------------------------------------------------------------------

def load_memo(path, lib) -> tuple[Memo, dict[str, S.Place], list[str]]:
    """A memo JSON file and the places its run record names, re-loaded from `lib`.

    Returns (memo, places, warnings); a warning names each place whose files changed since the
    memo was made. Raises InputError, naming the file, when the file is not a memo or a place
    it names is not in the library.
    """
    from pydantic import ValidationError

    from ..errors import InputError, validation_problems
    from ..inputs import read_json
    data = read_json(path, "check needs the memo's JSON form (transfer analyze SOURCE TARGET -o memo.json)")
    if not isinstance(data, dict) or data.get("kind") != "memo":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise InputError(f"{path}: not a memo" + (f" (it is a {kind})" if kind else "")
                         + "; check needs the JSON from transfer analyze ... -o memo.json")
    try:
        memo = Memo.model_validate(data)
    except ValidationError as e:  # the first problem: a memo is the tool's own output, one is enough
        raise InputError(validation_problems(f"{path}: not a valid memo", e)[0])
    places: dict[str, S.Place] = {}
    warnings: list[str] = []
    for rec in memo.run.inputs:
        if rec.place not in lib.paths():
            raise InputError(f"{path}: its {rec.role} '{rec.place}' is not in the case library; "
                             "give the directory it came from with --cases DIR")
        loaded = lib.load(rec.place)
        places[rec.place] = loaded.place
        # compared as sets of hashes: the recorded paths depend on the directory analyze ran in
        now = set(file_hashes(loaded.files).values())
        changed = [shown for shown, h in rec.files.items() if h not in now]
        if changed or len(now) != len(rec.files):
            warnings.append(f"{rec.place}: input files changed since the memo was made (sha256 differs): "
                            + ", ".join(changed or rec.files))
    return memo, places, warnings


def format_report(report: Report) -> str:
    """The report as the terminal shows it: summary, groundedness, one line per finding."""
    g = report.groundedness
    lines = [report.summary,
             f"groundedness: claims {g['claims']:.3f} ({report.claims_cited}/{report.claims}), "
             f"numbers {g['numbers']:.3f} ({report.numbers_supported}/{report.numbers})"]
    lines += [f"- {f.kind} at {f.where}: {f.message}" for f in report.findings]
    return "\n".join(lines) + "\n"
