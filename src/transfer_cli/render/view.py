"""The memo's sections as plain data, built once from the artifacts and the inputs.

Every format (Markdown, terminal, HTML, Word) renders this same view, so every format has
the same sections in the same order: bottom line first, then context, logic by phase,
mechanism cards, fit matrix, what not to copy, actions, risks, gaps, evidence, verification,
run record.
"""

from __future__ import annotations

import re
from typing import Any

from ..places import schema as S
from ..pipeline.artifacts import Claim, Memo, cites_in
from ..places.conditions import fmt_number, resolve_field
from ..pipeline.i18n import LABELS, admin_level, t
from ..identity import ByIdentity

CARD_FIGURES = 6
_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
SECTION_ORDER = ("bottom_line", "problem", "context", "logic", "cards", "fit_matrix", "not_to_copy", "actions",
                 "risks", "gaps", "appendix", "verification", "run_record")

# One palette for every format (HTML, Word, terminal): a strong colour for text and borders and a
# light tint for cell backgrounds. Green-to-red follows how much of the practice can travel.
MODE_COLOURS = {
    "copy": ("#1a7f37", "#dafbe1"),
    "adapt": ("#0969da", "#ddf4ff"),
    "in_place": ("#8250df", "#fbefff"),
    "inspire": ("#9a6700", "#fff8c5"),
    "avoid": ("#cf222e", "#ffebe9"),
}
STATUS_COLOURS = {
    "present": ("#1a7f37", "#dafbe1"),
    "analog": ("#0969da", "#ddf4ff"),
    "partial": ("#9a6700", "#fff8c5"),
    "absent": ("#cf222e", "#ffebe9"),
    "unknown": ("#57606a", "#eaeef2"),
}
# A symbol per status so the heatmap still reads in black-and-white print and without colour.
STATUS_SYMBOLS = {"present": "●", "analog": "≈", "partial": "◐", "absent": "○", "unknown": "?"}


def cite_text(cites: list[str]) -> str:
    return f"[{'; '.join(cites)}]" if cites else ""


def _years(period: str) -> tuple[int, int]:
    ys = [int(y) for y in _YEAR.findall(period)]
    if not ys:
        return (9999, 9999)
    return (ys[0], ys[-1] if len(ys) > 1 else (ys[0] if "-" not in period and "–" not in period else 2100))


def claim(c: Claim) -> dict:
    return {"text": c.text, "cites": c.cites, "cite_text": cite_text(c.cites)}


def build_view(memo: Memo, source: S.Place, target: S.Place) -> dict[str, Any]:
    lang = memo.fit.lang
    L = LABELS[lang]
    logic, fit, plan = memo.logic, memo.fit, memo.plan
    fits = {f.mechanism_id: f for f in fit.mechanisms}

    # logic by phase: mechanisms grouped by the period they operated in, with the milestones then
    phases: dict[str, list] = {}
    for m in sorted(logic.mechanisms, key=lambda m: (_years(m.phase), m.id)):
        phases.setdefault(m.phase, []).append(m)
    phase_view = []
    for period, mechs in phases.items():
        lo, hi = _years(period)
        milestones = [n for n in source.notes if n.domain == "timeline" and lo <= _years(n.period)[0] <= hi]
        phase_view.append({
            "period": period,
            "mechanisms": [{"id": m.id, "name": m.name, "principle": m.principle} for m in mechs],
            "milestones": [{"id": f"{source.id}/{n.id}", "period": n.period, "text": n.text} for n in milestones[:6]],
        })

    cards = []
    for m in logic.mechanisms:
        f = fits.get(m.id)
        cards.append({
            "id": m.id, "name": m.name, "phase": m.phase, "object": m.what_is_transferred, "hazard": m.hazard,
            "lever": claim(m.lever), "chain": claim(m.chain), "outcome": claim(m.outcome),
            # the card shows the first figures; all of them stay in the artifact and the appendix notes
            "figures": [{"text": f"{x.label or ''} {fmt_number(x.value)} {x.unit}" + (f" ({x.year})" if x.year else ""),
                         "cite": x.cite} for x in m.figures[:CARD_FIGURES]],
            "more_figures": max(0, len(m.figures) - CARD_FIGURES),
            "principle": m.principle, "form": m.form_not_function,
            "confidence": L[f"conf_{m.confidence}"] + L["conf_note"] if m.confidence else None,
            "rivals": [claim(r) for r in m.rival_explanations],
            "mode": f.mode if f else None,
            "mode_label": (L[f.mode] + (L["conditional"] if f.conditional else "")) if f else L["unknown"],
            "score": f.score if f else None,
            "rationale": claim(f.rationale) if f else None,
            "factors": [{
                "name": x.name, "necessity": L[x.necessity], "status": x.status, "status_label": L[x.status],
                "analog": x.analog.name if x.analog else None, "analog_cite": x.analog.cite if x.analog else None,
                "readings": [f"{r.test} → {r.found if r.found is not None else L['unknown']}" for r in x.readings],
                "rationale": claim(x.rationale),
            } for x in (f.factors if f else [])],
        })

    matrix = [{"id": f.mechanism_id, "name": f.name, "mode": f.mode,
               "mode_label": L[f.mode] + (L["conditional"] if f.conditional else ""), "score": f.score,
               "necessary": _count(f, "necessary"), "helpful": _count(f, "helpful"),
               "necessary_text": _count_text(_count(f, "necessary")), "helpful_text": _count_text(_count(f, "helpful")),
               # one cell per support factor, necessary first: the heatmap strip in the rich formats
               "cells": [{"name": x.name, "necessary": x.necessity == "necessary", "status": _shade(x),
                          "label": f"{x.name}: {L[x.status]}" + (f" ({L['analog']}: {x.analog.name})" if x.analog else "")}
                         for x in sorted(f.factors, key=lambda x: x.necessity != "necessary")]}
              for f in fit.mechanisms]
    matrix_header = (f"{L['necessary']}: {L['present']}/{L['partial']}/{L['absent']}/{L['unknown']}",
                     f"{L['helpful']}: {L['present']}/{L['partial']}/{L['absent']}/{L['unknown']}")

    actions = [{
        "id": a.id, "mechanism": a.mechanism_id, "title": a.title, "lead": a.lead,
        "approval": a.approval, "horizon": a.horizon, "first_step": a.first_step, "review": a.review,
        # a KPI without a baseline is one to measure first (the first step says so), never "None"
        "kpis": [f"{k.label}: {k.baseline or L['not_measured']}" + (f" [{k.baseline_cite}]" if k.baseline_cite else "")
                 for k in a.kpis],
        "kpi_items": [{"text": f"{k.label}: {k.baseline or L['not_measured']}", "cite": k.baseline_cite} for k in a.kpis],
        "builds": a.builds_factors, "risks": a.risks, "cites": a.cites, "cite_text": cite_text(a.cites),
    } for a in plan.actions]

    risks = [dict(claim(r), mechanism=f.mechanism_id) for f in fit.mechanisms for r in f.risks]
    gaps = [dict(claim(v), mechanism=f.mechanism_id) for f in fit.mechanisms for v in f.verification]

    appendix, source_ids = _appendix(memo, {source.id: source, target.id: target})
    sources = [{"place": pid, "id": sid, **place.sources[sid].model_dump()}
               for pid, place in ((source.id, source), (target.id, target))
               for sid in sorted(source_ids.get(pid, set())) if sid in place.sources]

    # Appendix entries are the link targets of every citation (HTML #anchors, Word bookmarks);
    # plain ids because Word bookmark names allow only letters, digits and underscores.
    anchors = {}
    for i, e in enumerate(appendix, 1):
        e["anchor"] = anchors[e["cite"]] = f"ev{i}"

    run = memo.run
    sections = [{"key": k, "number": i, "title": f"{i}. {L[k]}"} for i, k in enumerate(SECTION_ORDER, 1)]
    return {
        "lang": lang, "L": L,
        "sections": sections, "h": {s["key"]: s["title"] for s in sections}, "anchors": anchors,
        "matrix_header": matrix_header,
        "title": t(lang, "title", source=source.name(lang), target=target.name(lang)),
        "scope": t(lang, "scope_text", source=source.name(lang), target=target.name(lang),
                   source_level=admin_level(lang, source.admin_level),
                   target_level=admin_level(lang, target.admin_level), engine=run.engine),
        "overall_score": fit.overall_score,
        "problem": _problem(target, lang),
        "bottom_line": [claim(c) for c in fit.bottom_line] + _top_actions(plan, fit, lang),
        "context": [r.model_dump() for r in fit.context],
        "source_name": source.name(lang), "target_name": target.name(lang),
        "scale": [claim(c) for c in fit.scale_differences],
        "phases": phase_view, "cards": cards, "matrix": matrix,
        "not_to_copy": [claim(c) for c in fit.not_to_copy],
        "actions": actions, "risks": risks, "gaps": gaps,
        "appendix": appendix, "sources": sources,
        "verification": run.verification,
        "run": run.model_dump(),
    }


def _shade(x) -> str:
    """A factor's colour key: an absent or partial factor that has an analog counts as analog."""
    return "analog" if x.analog and x.status in ("absent", "partial") else x.status


def _count_text(c: dict[str, int]) -> str:
    return f"{c['present']}/{c['partial'] + c['analog']}/{c['absent']}/{c['unknown']}"


def _problem(target: S.Place, lang: str) -> list[dict]:
    """The target's own problems, from its profile: the question a lesson must answer (Rose, PDIA)."""
    out = []
    for i, c in enumerate(target.challenges):
        cites = [f"{target.id}/{n}" for n in c.notes] or [f"{target.id}:challenges[{i}]"]
        out.append(claim(Claim(text=S.text(c.text, lang), cites=cites)))
    return out


def _top_actions(plan, fit, lang: str) -> list[dict]:
    """The first action of the three best-scoring transferable mechanisms, for the bottom line."""
    ranked = sorted((f for f in fit.mechanisms if f.mode in ("copy", "adapt")), key=lambda f: (-f.score, f.mechanism_id))
    picks = []
    for f in ranked:
        a = next((a for a in plan.actions if a.mechanism_id == f.mechanism_id), None)
        if a:
            picks.append(a)
        if len(picks) == 3:
            break
    if not picks:
        return []
    sep = "；" if lang == "zh" else "; "
    return [claim(Claim(text=t(lang, "top_actions", items=sep.join(f"{a.id} {a.title.rstrip('。.')}" for a in picks)),
                        cites=list(dict.fromkeys(c for a in picks for c in a.cites))[:6]))]


def _count(f, necessity: str) -> dict[str, int]:
    out = {"present": 0, "partial": 0, "absent": 0, "unknown": 0, "analog": 0}
    for x in f.factors:
        if x.necessity == necessity:
            out[_shade(x)] += 1
    return out


def all_cites(memo: Memo) -> list[str]:
    """Every citation string in the memo's artifacts, in first-seen order."""
    # the logic's own part is the same for every target of a batch: walked once per logic
    seen = dict(_LOGIC_CITES.get((memo.logic,), lambda: cites_in(memo.logic.model_dump(), {})))
    for part in (memo.fit, memo.plan):
        cites_in(part.model_dump(), seen)
    return list(seen)


_LOGIC_CITES = ByIdentity()


def _appendix(memo: Memo, places: dict[str, S.Place]) -> tuple[list[dict], dict[str, set]]:
    notes, fields = [], []
    sources: dict[str, set] = {}
    for c in all_cites(memo):
        if "/" in c:
            pid, nid = c.split("/", 1)
            place = places.get(pid)
            note = place.note(nid) if place else None
            if note:
                notes.append({"cite": c, "kind": "note", "period": note.period, "text": note.text,
                              "sources": note.sources, "confidence": note.confidence, "conflict": note.conflict})
                sources.setdefault(pid, set()).update(note.sources)
        elif ":" in c:
            pid, path = c.split(":", 1)
            place = places.get(pid)
            value = resolve_field(place, path) if place else None
            if value is not None:
                shown, srcs = _field_text(value, place.language)
                fields.append({"cite": c, "kind": "field", "period": "", "text": shown, "sources": srcs,
                               "confidence": None, "conflict": getattr(value, "conflict", None)})
                sources.setdefault(pid, set()).update(srcs)
    notes.sort(key=lambda n: n["cite"])
    fields.sort(key=lambda n: n["cite"])
    return notes + fields, sources


def _field_text(value, lang: str) -> tuple[str, list[str]]:
    if isinstance(value, S.Indicator):
        return f"{fmt_number(value.value)} {value.unit} ({value.year})", [value.source]
    if isinstance(value, (S.Industry, S.Asset)):
        label = S.text(value.name, lang) + (f" ({value.weight})" if isinstance(value, S.Industry) else "")
        return label, list(value.sources)
    if isinstance(value, S.Power):
        return f"{value.power}: {value.holds}", list(value.sources)
    if isinstance(value, (S.Names, S.Bilingual)):
        return " / ".join(x for x in (value.zh, value.en) if x), []
    if isinstance(value, list):  # a whole group cited, e.g. "industries" when a tag is absent
        parts = [_field_text(v, lang) for v in value]
        return "; ".join(p[0] for p in parts), sorted({s for p in parts for s in p[1]})
    if isinstance(value, str):
        return value, []
    return str(value), []
