"""The annexes' data that the artifacts do not already hold in the shape a reader needs: the
source's timeline (B), the options and full action table (E), the risks with mitigation and
owner (F), and the evidence gaps (G). render/view.py assembles them with the rest."""

from __future__ import annotations

import re

from ..pipeline.artifacts import Memo
from ..places import schema as S

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")


def years(period: str) -> tuple[int, int]:
    ys = [int(y) for y in _YEAR.findall(period)]
    if not ys:
        return (9999, 9999)
    return (ys[0], ys[-1] if len(ys) > 1 else (ys[0] if "-" not in period and "–" not in period else 2100))


def timeline(memo: Memo, source: S.Place, lang: str) -> list[dict]:
    """The source's history phase by phase: the phases the case file authors (id, period, name,
    notes), each event once, with the mechanisms that began in the phase. Without authored
    phases, the mechanisms' own periods stand in, still with each event once."""
    mechs = sorted(memo.logic.mechanisms, key=lambda m: (years(m.phase), m.id))
    seen: set[str] = set()
    out = []

    def events(ids):
        rows = []
        for nid in ids:
            note = source.note(nid)
            if note is None or nid in seen:
                continue
            seen.add(nid)
            rows.append({"id": f"{source.id}/{nid}", "period": note.period, "text": note.text})
        return rows

    if source.phases:
        spans = [(p, years(p.period)) for p in source.phases]
        placed: dict[str, list] = {p.id: [] for p in source.phases}
        for m in mechs:
            start = years(m.phase)[0]
            home = next((p for p, (lo, hi) in spans if lo <= start <= hi), None)
            if home is None:  # began before the first phase or after the last: the nearest one
                home = min(spans, key=lambda s: min(abs(start - s[1][0]), abs(start - s[1][1])))[0]
            placed[home.id].append(m)
        for p in source.phases:
            rows = events(p.notes)
            out.append({"period": p.period, "name": S.text(p.name, lang),
                        "mechanisms": [{"id": m.id, "name": m.name} for m in placed[p.id]],
                        "events": rows, "event_ids": [e["id"] for e in rows]})
        return out
    groups: dict[str, list] = {}
    for m in mechs:
        groups.setdefault(m.phase, []).append(m)
    timeline_notes = [n for n in source.notes if n.domain == "timeline"]
    for period, ms in groups.items():
        lo, hi = years(period)
        ids = [n.id for n in timeline_notes if lo <= years(n.period)[0] <= hi][:6]
        rows = events(ids)
        out.append({"period": period, "name": "", "mechanisms": [{"id": m.id, "name": m.name} for m in ms],
                    "events": rows, "event_ids": [e["id"] for e in rows]})
    return out


def options(memo: Memo) -> list[dict]:
    return [{"id": o.id, "title": o.title, "text": o.text, "recommended": o.recommended, "cites": o.cites}
            for o in memo.plan.options]


def risks(memo: Memo) -> list[dict]:
    """The risks of what the plan does, each with its mitigation and owner (the action's lead)."""
    out = []
    for a in memo.plan.actions:
        for r in a.risks:
            out.append({"action": a.id, "mechanism": a.mechanism_id, "text": r.text,
                        "mitigation": r.mitigation or "", "owner": r.owner or a.lead, "cites": a.cites[-1:]})
    return out


def field_text(value, lang: str) -> str | None:
    """A profile entry the memo cites as a whole (a challenge, goal, institution or policy) in words."""
    if isinstance(value, (S.Challenge, S.Goal)):
        return S.text(value.text, lang)
    if isinstance(value, S.Institution):
        return S.text(value.name, lang)
    if isinstance(value, S.Policy):
        head = S.text(value.name, lang) + (f" ({value.year})" if value.year else "")
        return head + (f": {S.text(value.text, lang)}" if value.text else "")
    return None
