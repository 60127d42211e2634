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
from ..pipeline.artifacts import CaseLogic, FitAssessment
from ..places.conditions import Evaluation, asset_path, fmt_number

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)


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
    for k, c in enumerate(place.challenges):
        out.append({"cite": f"{pid}:challenges[{k}]", "value": S.text(c.text, lang)})
    return out


def note_items(place: S.Place) -> list[dict]:
    out = []
    for n in place.notes:
        item = {"cite": f"{place.id}/{n.id}", "period": n.period, "domain": n.domain, "text": n.text}
        if n.figures:
            item["figures"] = [{k: v for k, v in f.model_dump().items() if v is not None} for f in n.figures]
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

def fit_view(logic: CaseLogic) -> list[dict]:
    """The mechanisms as stage 2 needs them: what to judge, not the source's whole story."""
    return [{"id": m.id, "name": m.name, "what_is_transferred": m.what_is_transferred, "hazard": m.hazard,
             "principle": m.principle, "form_not_function": m.form_not_function, "lever_powers": m.lever_powers,
             "evidence": m.evidence[:6], "risks": [r.text for r in m.risks],
             "support_factors": [f.model_dump(exclude_none=True) for f in m.support_factors]}
            for m in logic.mechanisms]


def evaluation_items(evaluations: dict[tuple[str, str], Evaluation], target_id: str) -> list[dict]:
    return [{"mechanism_id": m, "factor_id": f, "computed_status": ev.status,
             "readings": [{"cite": f"{target_id}:{r.field}", "test": r.test, "found": r.found, "status": r.status}
                          for r in ev.readings]}
            for (m, f), ev in evaluations.items()]


def actions_view(logic: CaseLogic, fit: FitAssessment) -> list[dict]:
    by_id = {m.id: m for m in logic.mechanisms}
    out = []
    for mf in fit.mechanisms:
        m = by_id.get(mf.mechanism_id)
        out.append({"id": mf.mechanism_id, "name": mf.name, "mode": mf.mode, "conditional": mf.conditional,
                    "score": mf.score, "principle": m.principle if m else None,
                    "kpis": m.kpis if m else [], "lever_powers": m.lever_powers if m else [],
                    "evidence": m.evidence[:4] if m else [], "risks": [r.text for r in mf.risks],
                    "factors": [{"factor_id": f.factor_id, "name": f.name, "necessity": f.necessity,
                                 "status": f.status, "analog": f.analog.model_dump() if f.analog else None,
                                 "cites": f.rationale.cites[:4]} for f in mf.factors],
                    "verification": [v.text for v in mf.verification]})
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
