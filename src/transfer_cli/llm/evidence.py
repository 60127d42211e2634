"""What a model is shown: notes, profile fields and computed facts as JSON-able data, each
item carrying the citation a claim must use, plus the context-window guard.

The guard never truncates blindly: when the data would not fit, notes are kept in order of
relevance — first those the mechanisms cite, then, round-robin across mechanisms, the notes
that share most words (or, in Chinese, character pairs) with each mechanism — until the
budget is spent.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Iterable

from ..places import schema as S
from ..pipeline.artifacts import CaseLogic, FitAssessment, MechanismLogic
from ..places.conditions import Evaluation, asset_path, fmt_number, item_path

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")


def dumps(data) -> str:
    # compact separators: a prompt's data is read by a model, not a person, and every token is paid for
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def compact(data):
    """The data without empty values (None, "", [], {}): an absent key says the same in fewer tokens."""
    if isinstance(data, dict):
        out = {k: compact(v) for k, v in data.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(data, list):
        return [compact(v) for v in data]
    return data


def profile_fields(place: S.Place, lang: str) -> list[dict]:
    """Every profile field with its citation: `place:indicators.gdp`, `place:assets.ID`..."""
    pid = place.id
    out = [{"cite": f"{pid}:admin_level", "value": place.admin_level}]
    if place.parent:
        out.append({"cite": f"{pid}:parent", "value": S.text(place.parent, lang)})
    if place.summary:
        out.append({"cite": f"{pid}:summary", "value": S.text(place.summary, lang)})
    for key, ind in place.indicators.items():
        item = {"cite": f"{pid}:indicators.{key}", "value": f"{fmt_number(ind.value)} {ind.unit}", "year": ind.year}
        if ind.conflict:
            item["conflict"] = ind.conflict
        out.append(item)
    for i in place.industries:
        out.append({"cite": f"{pid}:industries.{i.tag}", "value": S.text(i.name, lang), "weight": i.weight})
    for a in place.assets:
        out.append({"cite": f"{pid}:{asset_path(place, a)}", "value": S.text(a.name, lang), "kind": a.kind})
    for p in place.powers:
        item = {"cite": f"{pid}:powers.{p.power}", "value": p.holds}
        if p.holder:
            item["holder"] = S.text(p.holder, lang)
        if p.text:
            item["text"] = S.text(p.text, lang)
        out.append(item)
    return out


def agenda(place: S.Place, lang: str, answers: set[str]) -> dict:
    """What an action is anchored in, by id: the problems it may answer (`answers`, the ids the
    mechanisms' views list), the bodies that may lead it (the institutions) and the instruments
    the place already runs. The verifier holds an action to these ids, so the model is shown
    them; institutions say once how they are cited."""
    from ..pipeline.agenda import problem_cite, problems
    pid = place.id
    return compact({
        "problems": [{"id": x.id, "cite": problem_cite(place, x), "type": x.type,
                      "weight": getattr(x, "weight", None), "text": S.text(x.text, lang)}
                     for x in problems(place) if x.id in answers],
        "institutions_cite_as": f"{pid}:institutions.ID",
        "institutions": [{"id": x.id, "name": S.text(x.name, lang), "handles": x.handles, "level": x.level}
                         for x in place.institutions],
        "policies": [{"cite": f"{pid}:{item_path('policies', i, p)}", "instrument": p.instrument,
                      "name": S.text(p.name, lang), "status": p.status} for i, p in enumerate(place.policies)]})


def note_items(place: S.Place) -> list[dict]:
    """Each note as a model reads it. Not its structured figures: every figure is in the note's text
    states them all), and the list would more than double the note's tokens."""
    out = []
    for n in place.notes:
        item = {"cite": f"{place.id}/{n.id}", "period": n.period, "domain": n.domain, "text": n.text}
        if n.confidence != "high":
            item["confidence"] = n.confidence
        if n.conflict:
            item["conflict"] = n.conflict
        out.append(item)
    return out


def identity(place: S.Place, lang: str) -> dict:
    return {"id": place.id, "name": place.name(lang), "admin_level": place.admin_level,
            "parent": S.text(place.parent, lang) or None, "country": place.country}


# ---- stage views -------------------------------------------------------------------------------

def review_view(m: MechanismLogic) -> dict:
    """A draft mechanism as stage 1 reviews it against the notes: its claims and factors, with the notes
    it rests on listed once (`evidence`). Not what the notes do not judge (figures copied from the
    notes, the time bound, adoption wording, the risks fit carries) nor each claim's own cites (the
    verifier checks that every cite resolves and states the figures): edits may still reach them by path."""
    return compact({"id": m.id, "name": m.name, "phase": m.phase, "what_is_transferred": m.what_is_transferred,
                    "lever": m.lever.text, "chain": m.chain.text, "outcome": m.outcome.text, "principle": m.principle,
                    "form_not_function": m.form_not_function, "evidence": m.evidence,
                    "support_factors": [f.model_dump(exclude={"analog", "cites"}) for f in m.support_factors],
                    "rival_explanations": [c.text for c in m.rival_explanations], "hazard": m.hazard or None})


def fit_view(logic: CaseLogic, evaluations: dict[tuple[str, str], Evaluation] | None = None,
             target_id: str = "") -> list[dict]:
    """The mechanisms as stage 2 needs them: what to judge, not the source's whole story. A factor
    with a computed evaluation carries its status and readings instead of its condition."""
    evaluations = evaluations or {}
    out = []
    for m in logic.mechanisms:
        factors = []
        for f in m.support_factors:
            ev = evaluations.get((m.id, f.id))
            item = {"id": f.id, "name": f.name, "kind": f.kind, "necessity": f.necessity}
            if ev is not None:
                item["computed_status"] = ev.status
                item["readings"] = [{"cite": f"{target_id}:{r.field}", "test": r.test, "found": r.found}
                                    for r in ev.readings]
            else:
                item.update(cites=f.cites, verify=f.verify)
            factors.append(item)
        out.append(compact({"id": m.id, "name": m.name, "what_is_transferred": m.what_is_transferred,
                            "hazard": m.hazard or None, "principle": m.principle,
                            "form_not_function": m.form_not_function, "lever_powers": m.lever_powers,
                            "risks": [r.text for r in m.risks], "support_factors": factors}))
    return out


def needed_fields(m: MechanismLogic, evaluations: dict[tuple[str, str], Evaluation], target_id: str) -> set[str]:
    """The target's profile fields a mechanism's judgement rests on: what its conditions read, its
    KPIs' indicators, its lever powers and the admin level (the guard keeps these first)."""
    out = {f"{target_id}:admin_level"}
    for f in m.support_factors:
        ev = evaluations.get((m.id, f.id))
        out.update(f"{target_id}:{r.field}" for r in (ev.readings if ev else []))
    out.update(f"{target_id}:indicators.{k}" for k in m.kpis)
    out.update(f"{target_id}:powers.{p}" for p in m.lever_powers)
    return out


def actions_view(logic: CaseLogic, fit: FitAssessment, target: S.Place) -> list[dict]:
    """The mechanisms an action could come from, each with the ids of the target problems it could
    answer (`answers`): not those judged "avoid", bound to their time, or meeting no problem of the
    target's own — the prompt drafts none for them, so they are not sent."""
    from ..pipeline.agenda import answerable
    by_id = {m.id: m for m in logic.mechanisms}
    out = []
    for mf in fit.mechanisms:
        m = by_id.get(mf.mechanism_id)
        answers = [p.id for p in answerable(m, mf, target)] if m else []
        if not answers:
            continue
        out.append(compact({
            "id": mf.mechanism_id, "name": mf.name, "mode": mf.mode, "conditional": mf.conditional or None,
            "answers": answers,
            "score": mf.score, "principle": m.principle if m else None,
            "kpis": m.kpis if m else [], "lever_powers": m.lever_powers if m else [],
            "risks": [r.text for r in mf.risks],
            # what an action may have to build or verify first: the factors not present
            "factors": [{"factor_id": f.factor_id, "name": f.name, "necessity": f.necessity,
                         "status": f.status, "analog": f.analog.model_dump(exclude_none=True) if f.analog else None}
                        for f in mf.factors if f.status != "present"],
            "verification": [v.text for v in mf.verification]}))
    return out


# ---- the context-window guard ------------------------------------------------------------------

def _terms(text: str) -> set[str]:
    out: set[str] = set()
    for w in _WORD.findall(text.lower()):
        if w[0] >= "\u4e00":
            out.update(w[i:i + 2] for i in range(len(w) - 1))
        elif len(w) > 2:
            out.add(w)
    return out


def mechanism_text(m) -> str:
    """The words a mechanism is about, from a MechanismLogic or an authored S.Mechanism."""
    parts = [m.id, str(m.name), str(m.principle)]
    for attr in ("lever", "chain", "outcome"):
        v = getattr(m, attr)
        parts.append(v.text if hasattr(v, "text") else str(v))
    parts += [str(f.name) for f in m.support_factors]
    return " ".join(parts)


def select_notes(notes: list[dict], mechanisms: list[tuple[str, set[str]]], budget: int,
                 cost: Callable[[dict], int]) -> list[dict]:
    """Notes that fit in `budget` tokens, most relevant first, returned in their original order.

    mechanisms: (text about the mechanism, the note cites it makes). Cited notes come first;
    then each mechanism in turn takes its next most similar note.
    """
    order: list[int] = []
    cited = {c for _, cs in mechanisms for c in cs}
    order += [i for i, n in enumerate(notes) if n["cite"] in cited]
    terms = [_terms(str(n.get("text") or n.get("value") or "")) for n in notes]  # notes, or profile fields
    queues = []
    for text, _ in mechanisms:
        mt = _terms(text)
        queues.append(sorted(range(len(notes)), key=lambda i: -len(mt & terms[i]) / (1 + len(terms[i]) ** 0.5)))
    if not queues:  # no mechanisms to steer by: alternate across domains, surest notes first
        by_domain: dict[str, list[int]] = {}
        for i, n in enumerate(notes):
            by_domain.setdefault(n.get("domain", ""), []).append(i)
        queues = [sorted(ix, key=lambda i: notes[i].get("confidence", "high") != "high") for ix in by_domain.values()]
    seen = set(order)
    pos = [0] * len(queues)
    while any(p < len(q) for p, q in zip(pos, queues)):
        for k, q in enumerate(queues):
            while pos[k] < len(q) and q[pos[k]] in seen:
                pos[k] += 1
            if pos[k] < len(q):
                seen.add(q[pos[k]])
                order.append(q[pos[k]])
                pos[k] += 1
    kept, used = set(), 0
    for i in order:
        c = cost(notes[i])
        if used + c > budget:
            continue
        kept.add(i)
        used += c
    return [n for i, n in enumerate(notes) if i in kept]


def cites_of(items: Iterable) -> set[str]:
    return {c for x in items for c in x}
