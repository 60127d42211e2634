"""The verifier's checks of a memo's artifacts against the place files they came from.

Both engines go through them (report.py); the report is the memo's verification section and the
output of `transfer check`. Finding kinds:

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
- contradiction: a factor judged absent or unknown while a field it cites shows the very
  function it tests (a pillar industry, an asset of the factor's family);
- analog: an analog the factor does not declare, or one that does not do its job (another
  functional family);
- verdict: copy/adapt/in_place with a necessary factor absent and no analog, an unknown
  necessary factor on an unconditional positive verdict, a hazardous or resource mechanism not
  marked avoid, a positive verdict for a mechanism whose time window caps it, "in place" without
  the target's own instrument or a recommendation of an instrument the target already runs;
- agenda: an action that names no problem or goal of the target's, or a lead body that is not
  among the target's institutions (and no higher level flagged);
- entity: a known place name in generated text that is neither the source, the target (or
  their parents) nor named in what that text cites (晋江 where 锦江 is meant) — for review.

What is checked: every text the memo states. Not checked: ids and enum fields, indicator
labels, the condition thresholds in readings (the analyst's parameters, not facts) and action
horizons (recommendations the engine makes, not claims about either place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from pydantic import TypeAdapter

from ..pipeline.artifacts import CITE_FIELDS, CITE_LISTS, ActionPlan, CaseLogic, FitAssessment, cites_in
from ..pipeline.facts import evaluate_conditions
from ..pipeline.verdicts import POSITIVE, decide, existing_instrument, hazard_already_there
from ..places import schema as S
from ..places import vocabulary as V
from ..places.conditions import resolve_field
from .cited import Content, Inputs
from .findings import Finding
from .names import _merge, library_names, name_forms, place_names
from .numbers import Quantity, figures, quantity

_COND = TypeAdapter(S.Condition)

# String fields that are identifiers, enums, vocabulary labels or recommendations, not claims.
_NOT_TEXT = {"id", "kind", "lang", "source", "target", "mechanism_id", "factor_id", "necessity", "status",
             "computed", "mode", "what_is_transferred", "phase", "condition", "test", "field", "indicator",
             "direction", "horizon", "label", "lead_level", "builds_factors", "lever_powers", "key", "unit",
             "cites", "evidence", "cite", "baseline_cite", "source_cite", "target_cite",
             # derived explanations that restate ids, scores and names already checked elsewhere
             "score_basis", "overall_basis"}


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
                if (f.necessity == "necessary" and f.status == "unknown" and f.analog is None and mf.mode in POSITIVE
                        and sf.name not in steps and sf.id not in steps):
                    self.add("coverage", f"{where}.factors[{j}]",
                             f"necessary factor {sf.id} ({sf.name}) is unknown but no verification step names it")
                ev = evals.get((m.id, sf.id))
                if ev is not None and ev.status != f.status:
                    read = "; ".join(f"{r.test} → {r.found if r.found is not None else 'missing'}" for r in ev.readings)
                    self.add("computed", f"{where}.factors[{j}].status", f"{sf.id} ({sf.name}) is '{f.status}' but its "
                             f"condition evaluates to '{ev.status}' on {fit.target} ({read})")
                if target is not None:
                    self._contradiction(f, sf, target, f"{where}.factors[{j}]")
                    self._analog(f, sf, f"{where}.factors[{j}].analog")
            self._verdict(mf, m, target, where)

    def _contradiction(self, f, sf, target: S.Place, where: str) -> None:
        """Absent or unknown, while a cited field shows the function the factor tests."""
        if f.status not in ("absent", "unknown") or not sf.condition or f.analog is not None:
            return
        wanted = S.condition_families(_COND.validate_python(sf.condition))
        if not wanted:
            return
        for c in f.rationale.cites:
            place, _, path = c.partition(":")
            if place != target.id or not path:
                continue
            item = resolve_field(target, path)
            if isinstance(item, S.Industry) and item.weight in ("pillar", "major"):
                kind = item.tag
            elif isinstance(item, S.Asset):
                kind = item.kind
            else:
                continue
            shared = V.families_of(kind) & wanted
            if shared:
                self.add("contradiction", where, f"{sf.id} ({sf.name}) is '{f.status}', but the cited {c} is "
                         f"{kind}, which does this factor's job ({', '.join(sorted(shared))})")

    def _analog(self, f, sf, where: str) -> None:
        if f.analog is None:
            return
        declared = {x.industry or x.asset for x in sf.analog if x.industry or x.asset}
        declared |= {k for x in sf.analog if x.family for k in V.FAMILIES.get(x.family, ("", ()))[1]}
        if f.analog.kind not in declared:
            wanted = S.condition_families(_COND.validate_python(sf.condition)) if sf.condition else set()
            self.add("analog", where, f"'{f.analog.name}' ({f.analog.kind}) is not an analog {sf.id} ({sf.name}) "
                     "declares" + (f"; it must do the factor's job ({', '.join(sorted(wanted))})" if wanted else ""))

    def _verdict(self, mf, m, target: S.Place | None, where: str) -> None:
        nec = [f for f in mf.factors if f.necessity == "necessary"]
        missing = [f for f in nec if f.status == "absent" and f.analog is None]
        if missing and mf.mode in POSITIVE:
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' although necessary factor "
                     + ", ".join(f"{f.factor_id} ({f.name})" for f in missing) + " is absent with no analog")
        elif (missing and (m.hazard or m.what_is_transferred == "resource") and mf.mode != "avoid"
              and not (m.hazard and mf.mode == "inspire" and hazard_already_there(m, mf.factors))):
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' for {'hazardous production' if m.hazard else 'a resource-based policy'} "
                     f"whose necessary factor {missing[0].factor_id} is absent: must be 'avoid'")
        unknown = [f for f in nec if f.status == "unknown" and f.analog is None]
        if unknown and mf.mode in POSITIVE and not mf.conditional:
            self.add("verdict", f"{where}.conditional", f"necessary factor {unknown[0].factor_id} ({unknown[0].name}) "
                     "is unknown but the verdict is not marked conditional")
        if target is None:
            return
        lang = "en"
        rules = decide(m, mf.factors, target, lang)
        if rules.bound is not None and rules.mode not in POSITIVE and mf.mode in POSITIVE:
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' for {m.id}, which is bound to its time: {rules.bound.text}")
        has = existing_instrument(m, target, lang)
        if mf.mode == "in_place" and has is None:
            self.add("verdict", f"{where}.mode", f"'in_place' but {target.id} runs no {m.instrument or 'such'} instrument")
        elif has is not None and mf.mode in ("copy", "adapt"):
            self.add("verdict", f"{where}.mode", f"'{mf.mode}' recommends what {target.id} already runs ({has.name}): "
                     "compare designs instead (in_place)")

    # -- actions -------------------------------------------------------------------------------
    def plan(self, plan: ActionPlan, logic: CaseLogic) -> None:
        ids = {m.id for m in logic.mechanisms}
        target = self.places.get(plan.target)
        problems = {x.id for x in target.challenges + target.goals} if target is not None else set()
        bodies = {x.id for x in target.institutions} if target is not None else set()
        for i, a in enumerate(plan.actions):
            if a.mechanism_id not in ids:
                self.add("coverage", f"plan.actions[{i}].mechanism_id",
                         f"action {a.id} links to mechanism '{a.mechanism_id}', which the case logic does not have")
            facts = [c for c in [*a.cites, *(k.baseline_cite for k in a.kpis if k.baseline_cite)]
                     if c.startswith((f"{plan.target}:", f"{plan.target}/"))]
            if not facts:
                self.add("coverage", f"plan.actions[{i}].cites", f"action {a.id} cites no fact about the target {plan.target}")
            if target is None:
                continue
            if a.problem not in problems:
                self.add("agenda", f"plan.actions[{i}].problem", f"action {a.id} answers no challenge or goal of "
                         f"{plan.target}'s ({a.problem or 'none named'}): an action exists because the target has the problem")
            if a.lead_id not in bodies and not a.approval:
                self.add("agenda", f"plan.actions[{i}].lead", f"action {a.id}'s lead '{a.lead}' is not among "
                         f"{plan.target}'s institutions, and no higher level is flagged")


