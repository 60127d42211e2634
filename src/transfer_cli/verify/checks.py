"""The verifier: checks a memo's artifacts against the place files they came from.

Both engines go through it; its report is the memo's verification section and the output of
`transfer check`. Finding kinds:

- citation: a cited note (`place/NOTE`), profile field (`place:field`) or source (`place:SOURCE`)
  does not resolve in the memo's two places;
- number_unsupported: a figure (a number with a unit or a magnitude) appears in no input of
  either place; number_unit: its digits appear in the inputs but with another unit or
  magnitude; number_miscited: it appears in the inputs, but not in what its text cites.
  Figures are compared after normalisation (numbers.py) and must match exactly: a rounded
  figure is reported, because a reader cannot tell rounding from invention;
- coverage: a mechanism not assessed, a support factor without a status, an action without a
  mechanism or without a target fact (a target field or note it cites), an unknown necessary
  factor with no verification step naming it;
- computed: a factor status that disagrees with its condition re-evaluated on the target;
- verdict: copy/adapt with a necessary factor absent and no analog, an unknown necessary
  factor on an unconditional verdict, a hazardous or resource mechanism not marked avoid;
- entity: a known place name in generated text that is neither the source, the target (or
  their parents) nor named in what that text cites (晋江 where 锦江 is meant) — for review.

What is checked: every text the memo states. Not checked: ids and enum fields, indicator
labels, the condition thresholds in readings (the analyst's parameters, not facts) and action
horizons (recommendations the engine makes, not claims about either place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from pydantic import BaseModel

from ..places import schema as S
from ..pipeline.artifacts import CITE_FIELDS, CITE_LISTS, ActionPlan, CaseLogic, FitAssessment, Memo, cites_in
from ..places.conditions import resolve_field
from .cited import Content, Inputs
from ..identity import ByIdentity
from .numbers import Quantity, figures, quantity
from ..pipeline.stages import evaluate_conditions, file_hashes

KINDS = ("citation", "number_unsupported", "number_unit", "number_miscited", "coverage", "computed",
         "verdict", "entity")

# Names commonly confused with the bundled places (晋江 for 锦江 above all), beyond the library's own;
# each group is one place in its spellings, so an English text may name what a Chinese note names.
CONFUSABLE_NAMES: tuple[tuple[str, ...], ...] = (
    ("晋江市", "Jinjiang, Fujian", "Jinjiang (Fujian)"), ("浏阳市", "Liuyang"), ("醴陵市", "Liling"),
    ("景德镇市", "Jingdezhen"), ("德化县", "Dehua"), ("武侯区", "Wuhou"), ("锦江区", "Jinjiang District"),
    ("攸县", "You County", "Youxian"), ("萍乡市", "Pingxiang"), ("宜兴市", "Yixing"), ("潮州市", "Chaozhou"),
)

# String fields that are identifiers, enums, vocabulary labels or recommendations, not claims.
_NOT_TEXT = {"id", "kind", "lang", "source", "target", "mechanism_id", "factor_id", "necessity", "status",
             "computed", "mode", "what_is_transferred", "phase", "condition", "test", "field", "indicator",
             "direction", "horizon", "label", "lead_level", "builds_factors", "lever_powers", "key", "unit",
             "cites", "evidence", "cite", "baseline_cite", "source_cite", "target_cite"}


class Finding(BaseModel):
    kind: str
    where: str     # a path in the memo, e.g. fit.mechanisms[2].rationale
    message: str


class Report(BaseModel):
    clean: bool
    claims: int            # Claim objects and actions
    claims_cited: int      # ... with at least one citation, every one resolving
    numbers: int           # figures stated in text, and structured figures
    numbers_supported: int  # ... found in what their text cites
    groundedness: dict[str, float]  # {"claims": share cited, "numbers": share supported}
    findings: list[Finding]
    summary: str

    def as_record(self) -> dict:
        """The dict stored in memo.run.verification and rendered as the memo's verification section."""
        return self.model_dump()


# ---- place names ----------------------------------------------------------------------------

def name_forms(*names: str | None) -> set[str]:
    """A name and its short form: 锦江区 -> 锦江, Jinjiang District -> Jinjiang."""
    out: set[str] = set()
    for n in names:
        if not n:
            continue
        n = n.strip()
        out.add(n)
        if n[-1:] in "市区县" and len(n) >= 3:
            out.add(n[:-1])
        for suffix in (" District", " County", " City"):
            if n.endswith(suffix):
                out.add(n[: -len(suffix)])
    return {n for n in out if len(n) >= 2}


def place_names(place: S.Place) -> set[str]:
    return name_forms(*place.all_names())


def _merge(groups: Iterable[set[str]]) -> dict[str, frozenset[str]]:
    """name -> every spelling of the same place (groups sharing a spelling are one place)."""
    merged: list[set[str]] = []
    for g in groups:
        hits = [m for m in merged if m & g]
        for m in hits:
            merged.remove(m)
            g = g | m
        merged.append(set(g))
    return {n: frozenset(m) for m in merged for n in m}


def name_groups(lib) -> tuple[frozenset[str], ...]:
    """The places of a case library and the confusable names, each as a group of spellings."""
    from ..errors import TransferError
    groups = [name_forms(*g) for g in CONFUSABLE_NAMES]
    for pid in lib.paths():
        try:
            groups.append(name_forms(*lib.names(pid)))
        except TransferError:
            continue  # a broken file names nothing; `transfer validate` reports it
    return tuple(frozenset(g) for g in groups)


@lru_cache(maxsize=1)
def library_names() -> tuple[frozenset[str], ...]:
    """name_groups of the default library (bundled and TRANSFER_CASES), loaded once per process."""
    from ..errors import TransferError
    from ..places.loader import Library
    try:
        return name_groups(Library())
    except TransferError:
        return tuple(frozenset(name_forms(*g)) for g in CONFUSABLE_NAMES)


# ---- walking the artifacts ------------------------------------------------------------------

@dataclass
class Text:
    where: str
    text: str
    cites: list[str]


def _texts(data, path: str, cites: list[str], target: str | None, out: list[Text] | None = None) -> list[Text]:
    """Every stated text in an artifact dump, with the citations that back it (its own and its parents')."""
    # a list filled in place, not nested generators: a fit has hundreds of texts several levels deep
    out = [] if out is None else out
    if isinstance(data, dict):
        own: list[str] = []
        for k in ("cites", "evidence"):
            if isinstance(data.get(k), list):
                own += [c for c in data[k] if isinstance(c, str)]
        for k in ("cite", "baseline_cite"):
            if isinstance(data.get(k), str):
                own.append(data[k])
        if target and "field" in data and "found" in data:  # a condition reading: the field it read
            own.append(f"{target}:{data['field']}")
        ctx = list(dict.fromkeys(cites + own)) if own else cites  # `cites` is deduplicated already
        for k, v in data.items():
            if k in ("source_value", "target_value"):
                side = data.get(k.replace("value", "cite"))
                if isinstance(v, str):
                    out.append(Text(f"{path}.{k}", v, [side] if side else []))
            elif k == "analog" and isinstance(v, dict) and "cite" not in v:
                continue  # the factor's analog spec: tags, not text
            elif k in _NOT_TEXT and not (isinstance(v, list) and v and isinstance(v[0], dict)):
                continue
            elif k == "text" and isinstance(v, str) and "cites" in data:
                out.append(Text(path, v, ctx))  # a Claim: report at the claim
            elif isinstance(v, (dict, list, str)):
                _texts(v, f"{path}.{k}", ctx, target, out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            if isinstance(v, (dict, list, str)):
                _texts(v, f"{path}[{i}]", cites, target, out)
    elif isinstance(data, str) and data:
        out.append(Text(path, data, cites))
    return out


def _cite_paths(data, path: str) -> Iterator[tuple[str, str]]:
    """(where, cite) for every citation in an artifact dump."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in CITE_LISTS and isinstance(v, list):
                yield from ((f"{path}.{k}[{i}]", c) for i, c in enumerate(v) if isinstance(c, str))
            elif k in CITE_FIELDS and isinstance(v, str):
                yield f"{path}.{k}", v
            else:
                yield from _cite_paths(v, f"{path}.{k}")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _cite_paths(v, f"{path}[{i}]")


# ---- the checks -------------------------------------------------------------------------------

class _Checker:
    def __init__(self, places: dict[str, S.Place], names: Iterable[Iterable[str]] | None):
        self.inputs = Inputs(places)
        self.places = places
        groups = [set(g) for g in (names if names is not None else library_names())]
        self.spellings = _merge(groups + [place_names(p) for p in places.values()])
        self.findings: list[Finding] = []
        self.claims = self.claims_cited = self.numbers = self.numbers_supported = 0

    def add(self, kind: str, where: str, message: str) -> None:
        f = Finding(kind=kind, where=where, message=message)
        if f not in self.findings:
            self.findings.append(f)

    # -- any artifact ------------------------------------------------------------------------
    def artifact(self, art, prefix: str, source: str | None, target: str | None) -> None:
        data = art.model_dump()
        claims: list[dict] = []
        bad = {c for c in cites_in(data, {}, claims) if self.inputs.resolve(c)[1]}
        if bad:  # only then the walk that says where each one sits
            for where, cite in _cite_paths(data, prefix):
                _, why = self.inputs.resolve(cite)
                if why:
                    self.add("citation", where, why)
        for x in claims:
            self.claims += 1
            self.claims_cited += bool(x["cites"]) and not any(c in bad for c in x["cites"])
        self._readings(data, prefix, target)
        allowed = self._allowed_names(source, target)
        # one search for all the names that would need a look; most texts name none of them
        others = sorted((n for n in self.spellings if n not in allowed), key=len, reverse=True)
        mention = re.compile("|".join(map(re.escape, others))) if others else None
        for t in _texts(data, prefix, [], target):
            self._numbers(t)
            if mention is not None and mention.search(t.text):
                self._entities(t, allowed)
        for i, m in enumerate(data.get("mechanisms", []) if isinstance(art, CaseLogic) else []):
            for j, fig in enumerate(m["figures"]):
                self._figure(fig, f"{prefix}.mechanisms[{i}].figures[{j}]")

    def _readings(self, data, prefix: str, target: str | None) -> None:
        place = self.places.get(target or "")
        if place is None:
            return
        for i, m in enumerate(data.get("mechanisms", [])):
            for j, f in enumerate(m.get("factors", [])):
                for k, r in enumerate(f.get("readings", [])):
                    if r["found"] is not None and resolve_field(place, r["field"]) is None:
                        self.add("citation", f"{prefix}.mechanisms[{i}].factors[{j}].readings[{k}].field",
                                 f"field '{target}:{r['field']}' does not exist in {target}'s profile")

    def _numbers(self, t: Text) -> None:
        qs = figures(t.text)
        if not qs:
            return
        cited = self.inputs.content(t.cites)
        for q in qs:
            self._judge(q, q.text, cited, t.where, t.cites)

    def _figure(self, fig: dict, where: str) -> None:
        q = quantity(fig["value"], fig["unit"])
        self._judge(q, q.text, self.inputs.content([fig["cite"]]), where, [fig["cite"]])

    def _judge(self, q: Quantity, shown: str, cited: Content, where: str, cites: list[str]) -> None:
        self.numbers += 1
        if cited.find(q):
            self.numbers_supported += 1
            return
        near = cited.same_digits(q)
        if near:
            self.add("number_unit", where, f"'{shown}': what this cites has {near[0].text} ({near[1]})")
            return
        everything = self.inputs.everything()
        elsewhere = everything.find(q)
        if elsewhere:
            said = "; ".join(cites) if cites else "nothing"
            self.add("number_miscited", where, f"'{shown}' is in {elsewhere}, not in what this text cites ({said})")
            return
        near = everything.same_digits(q)
        if near:
            self.add("number_unit", where, f"'{shown}': the inputs have {near[0].text} ({near[1]})")
            return
        self.add("number_unsupported", where, f"'{shown}' appears in no input of {', '.join(self.places)}")

    def _allowed_names(self, source: str | None, target: str | None) -> set[str]:
        allowed: set[str] = set()
        for pid in (source, target):
            p = self.places.get(pid or "")
            if p is not None:
                for n in place_names(p) | name_forms(S.text(p.parent, "zh"), S.text(p.parent, "en")):
                    allowed |= self.spellings.get(n, {n})
        return allowed

    def _entities(self, t: Text, allowed: set[str]) -> None:
        found = [n for n in self.spellings if n not in allowed and n in t.text]
        if not found:
            return
        cited = " ".join(self.inputs.content(t.cites).texts)
        ok = set(allowed) | {n for n in found if any(s in cited for s in self.spellings[n])}
        text = t.text
        # mask names that are fine here first, so 锦江区 does not also count as a mention of 锦江
        for n in sorted(ok, key=len, reverse=True):
            text = text.replace(n, "\0" * len(n))
        for n in sorted(found, key=lambda n: (-len(n), n)):  # sorted: set order varies per run
            if n in text:
                text = text.replace(n, "\0" * len(n))
                self.add("entity", t.where, f"'{n}' is neither the source, the target nor named in what this "
                         f"text cites ({'; '.join(t.cites) or 'nothing'}): check it is not a confusion")

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, fit: FitAssessment, logic: CaseLogic) -> None:
        target = self.places.get(fit.target)
        # re-evaluated here, not read from the fit's `computed`: the fit may have been edited by hand
        evals = evaluate_conditions(logic, target) if target is not None else {}
        specs = {m.id: m for m in logic.mechanisms}
        assessed = {f.mechanism_id for f in fit.mechanisms}
        for i, m in enumerate(logic.mechanisms):
            if m.id not in assessed:
                self.add("coverage", f"logic.mechanisms[{i}]", f"mechanism {m.id} ({m.name}) is not assessed in the fit")
        for i, mf in enumerate(fit.mechanisms):
            where = f"fit.mechanisms[{i}]"
            m = specs.get(mf.mechanism_id)
            if m is None:
                self.add("coverage", f"{where}.mechanism_id", f"assesses {mf.mechanism_id}, which the case logic does not have")
                continue
            factors = {f.factor_id: f for f in mf.factors}
            for sf in m.support_factors:
                if sf.id not in factors:
                    self.add("coverage", f"{where}.factors", f"support factor {sf.id} ({sf.name}) of {m.id} has no status")
            sf_by_id = {sf.id: sf for sf in m.support_factors}
            steps = " ".join(v.text for v in mf.verification)
            for j, f in enumerate(mf.factors):
                sf = sf_by_id.get(f.factor_id)
                if sf is None:
                    self.add("coverage", f"{where}.factors[{j}]", f"factor {f.factor_id} is not a support factor of {m.id}")
                    continue
                if f.necessity == "necessary" and f.status == "unknown" and sf.name not in steps and sf.id not in steps:
                    self.add("coverage", f"{where}.factors[{j}]",
                             f"necessary factor {sf.id} ({sf.name}) is unknown but no verification step names it")
                ev = evals.get((m.id, sf.id))
                if ev is not None and ev.status != f.status:
                    read = "; ".join(f"{r.test} → {r.found if r.found is not None else 'missing'}" for r in ev.readings)
                    self.add("computed", f"{where}.factors[{j}].status", f"{sf.id} ({sf.name}) is '{f.status}' but its "
                             f"condition evaluates to '{ev.status}' on {fit.target} ({read})")
            self._verdict(mf, m, where)

    def _verdict(self, mf, m, where: str) -> None:
        nec = [f for f in mf.factors if f.necessity == "necessary"]
        missing = [f for f in nec if f.status == "absent" and f.analog is None]
        if missing and mf.mode in ("copy", "adapt"):
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' although necessary factor "
                     + ", ".join(f"{f.factor_id} ({f.name})" for f in missing) + " is absent with no analog")
        elif missing and (m.hazard or m.what_is_transferred == "resource") and mf.mode != "avoid":
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' for {'hazardous production' if m.hazard else 'a resource-based policy'} "
                     f"whose necessary factor {missing[0].factor_id} is absent: must be 'avoid'")
        unknown = [f for f in nec if f.status == "unknown"]
        if unknown and mf.mode in ("copy", "adapt") and not mf.conditional:
            self.add("verdict", f"{where}.conditional", f"necessary factor {unknown[0].factor_id} ({unknown[0].name}) "
                     "is unknown but the verdict is not marked conditional")

    # -- actions -------------------------------------------------------------------------------
    def plan(self, plan: ActionPlan, logic: CaseLogic) -> None:
        ids = {m.id for m in logic.mechanisms}
        for i, a in enumerate(plan.actions):
            if a.mechanism_id not in ids:
                self.add("coverage", f"plan.actions[{i}].mechanism_id",
                         f"action {a.id} links to mechanism '{a.mechanism_id}', which the case logic does not have")
            facts = [c for c in [*a.cites, *(k.baseline_cite for k in a.kpis if k.baseline_cite)]
                     if c.startswith((f"{plan.target}:", f"{plan.target}/"))]
            if not facts:
                self.add("coverage", f"plan.actions[{i}].cites", f"action {a.id} cites no fact about the target {plan.target}")


# ---- entry points -----------------------------------------------------------------------------

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

    from ..errors import InputError
    from ..files import read_json
    data = read_json(path, "check needs the memo's JSON form (transfer analyze SOURCE TARGET -o memo.json)")
    if not isinstance(data, dict) or data.get("kind") != "memo":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise InputError(f"{path}: not a memo" + (f" (it is a {kind})" if kind else "")
                         + "; check needs the JSON from transfer analyze ... -o memo.json")
    try:
        memo = Memo.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise InputError(f"{path}: not a valid memo: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}")
    places: dict[str, S.Place] = {}
    warnings: list[str] = []
    for rec in memo.run.inputs:
        if rec.place not in lib.paths():
            raise InputError(f"{path}: its {rec.role} '{rec.place}' is not in the case library; "
                             "give the directory it came from with --cases DIR")
        loaded = lib.load(rec.place)
        places[rec.place] = loaded.place
        # compared as sets of hashes: the recorded paths depend on the directory analyze ran in
        now = set(file_hashes(loaded).values())
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
