"""The memo's sections as plain data, built once from the artifacts and the inputs.

Every format (Markdown, terminal, HTML, Word) renders this same view, so every format has
the same sections in the same order: the decision brief first (render/brief.py), then the
annexes A-J (context, timeline, mechanism cards, fit matrix, options and actions, risks, gaps,
the numbered evidence appendix, verification, run record). Citations are footnote numbers into
the evidence appendix.
"""

from __future__ import annotations

from typing import Any

from ..places import schema as S
from ..pipeline.artifacts import Claim, Memo, cites_in
from ..places.conditions import fmt_number, resolve_field
from ..pipeline.i18n import LABELS, t
from ..pipeline.i18n.units import amount, english
from ..identity import ByIdentity
from .annexes import field_text, options, risks, timeline
from .brief import build_brief

CARD_FIGURES = 6
BRIEF_ORDER = ("answer", "lessons", "dont_copy", "todo", "verify_first", "notes")
ANNEX_ORDER = ("context", "logic", "cards", "fit_matrix", "actions", "risks", "gaps", "appendix", "verification",
               "run_record")
SECTION_ORDER = BRIEF_ORDER + ANNEX_ORDER

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


class Notes:
    """Citations as footnote numbers: [3, 17] where 3 and 17 number the evidence appendix."""

    def __init__(self, numbers: dict[str, int]):
        self.numbers = numbers

    def text(self, cites: list[str]) -> str:
        shown = list(dict.fromkeys(str(self.numbers.get(c, c)) for c in cites if c))
        return f"[{', '.join(shown)}]" if shown else ""

    def claim(self, c, **extra) -> dict:
        text, cites = (c.text, c.cites) if isinstance(c, Claim) else (c["text"], c["cites"])
        return {"text": text, "cites": cites, "cite_text": self.text(cites), **extra}


def section_titles(lang: str) -> list[dict]:
    L = LABELS[lang]
    out = []
    for i, k in enumerate(BRIEF_ORDER, 1):
        out.append({"key": k, "brief": True, "title": f"{i}. {L[k]}" if k != "notes" else L[k]})
    for letter, k in zip("ABCDEFGHIJ", ANNEX_ORDER):
        out.append({"key": k, "brief": False, "title": t(lang, "annex", letter=letter, title=L[f"ax_{k}"])})
    return out


def build_view(memo: Memo, source: S.Place, target: S.Place) -> dict[str, Any]:
    lang = memo.fit.lang
    L = LABELS[lang]
    logic, fit, plan = memo.logic, memo.fit, memo.plan
    fits = {f.mechanism_id: f for f in fit.mechanisms}

    # the evidence appendix, numbered: what the brief cites first, in reading order, then the rest
    brief = build_brief(memo, source, target)
    brief_cites = [c for part in ("answer", "lessons", "not_to_copy", "actions", "verify")
                   for x in brief[part] for c in x["cites"]]
    # what only the rendering cites (the target's problems and data gaps, the source's timeline)
    # has its entry in the appendix too
    data_gaps, problems, phases = _data_gaps(target, lang), _problem(target, lang), timeline(memo, source, lang)
    extra = [c for x in data_gaps + problems for c in x.cites] + [e["id"] for p in phases for e in p["events"]]
    entries, source_ids = _appendix(memo, {source.id: source, target.id: target}, extra=brief_cites + extra)
    by_cite = {e["cite"]: e for e in entries}
    first = [c for c in dict.fromkeys(brief_cites) if c in by_cite]
    appendix = [by_cite[c] for c in first] + [e for e in entries if e["cite"] not in set(first)]
    # Appendix entries are the link targets of every citation (HTML #anchors, Word bookmarks);
    # plain ids because Word bookmark names allow only letters, digits and underscores.
    for i, e in enumerate(appendix, 1):
        e["n"], e["anchor"] = i, f"ev{i}"
    numbers = {e["cite"]: e["n"] for e in appendix}
    anchors = {e["cite"]: e["anchor"] for e in appendix}
    notes = Notes(numbers)
    for part in ("answer", "lessons", "not_to_copy", "actions", "verify"):
        brief[part] = [notes.claim(x, **{k: v for k, v in x.items() if k not in ("text", "cites")}) for x in brief[part]]
    brief["notes"] = [{"n": numbers[c], "anchor": anchors[c], "cite": c} for c in first]

    cards = []
    for m in logic.mechanisms:
        f = fits.get(m.id)
        own = [*m.lever.cites, *m.chain.cites, *m.outcome.cites, *(x.cite for x in m.figures[:CARD_FIGURES]),
               *(c for r in m.rival_explanations for c in r.cites), *(f.rationale.cites if f else []),
               *(c for x in (f.factors if f else []) for c in x.rationale.cites),
               *(x.analog.cite for x in (f.factors if f else []) if x.analog)]
        cards.append({
            "id": m.id, "name": m.name, "phase": m.phase, "object": m.what_is_transferred, "hazard": m.hazard,
            "lever": m.lever.text, "chain": m.chain.text, "outcome": m.outcome.text,
            # the card shows the first figures; all of them stay in the artifact and the appendix notes
            "figures": [f"{x.label or ''} {amount(x.value, x.unit, lang)}".strip() + (f" ({x.year})" if x.year else "")
                        for x in m.figures[:CARD_FIGURES]],
            "more_figures": max(0, len(m.figures) - CARD_FIGURES),
            "principle": m.principle, "form": m.form_not_function,
            "confidence": L[f"conf_{m.confidence}"] + L["conf_note"] if m.confidence else None,
            "rivals": [r.text for r in m.rival_explanations],
            "mode": f.mode if f else None,
            "mode_label": (L[f.mode] + (L["conditional"] if f.conditional else "")) if f else L["unknown"],
            "score": f.score if f else None,
            "rationale": f.rationale.text if f else None,
            "factors": [{
                "name": x.name, "necessity": L[x.necessity], "status": x.status, "status_label": L[x.status],
                "analog": x.analog.name if x.analog else None,
                "readings": [f"{r.test} → {r.found if r.found is not None else L['unknown']}" for r in x.readings],
                "rationale": x.rationale.text,
            } for x in (f.factors if f else [])],
            # cited once per card: every note and field the card draws on
            "cites": list(dict.fromkeys(own)), "cite_text": notes.text(own),
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
        "problem": (a.problem or "") + (f" {a.problem_text}" if a.problem_text else ""),
        "partners": ("、" if lang == "zh" else ", ").join(a.partners),
        "approval": a.approval, "horizon": a.horizon, "first_step": a.first_step, "review": a.review,
        "kpi_items": [{"text": _kpi_text(k, lang), "cite": k.baseline_cite} for k in a.kpis],
        "builds": a.builds_factors, "cites": a.cites, "cite_text": notes.text(a.cites),
    } for a in plan.actions]

    gaps = [notes.claim(v, mechanism=f.mechanism_id) for f in fit.mechanisms for v in f.verification]
    gaps += [notes.claim(x, mechanism="") for x in data_gaps]

    for e in appendix:
        e["cite_text"] = f"[{e['n']}] {e['cite']}"
    sources = [{"place": pid, "id": sid, **place.sources[sid].model_dump()}
               for pid, place in ((source.id, source), (target.id, target))
               for sid in sorted(source_ids.get(pid, set())) if sid in place.sources]

    run = memo.run
    sections = section_titles(lang)
    return {
        "lang": lang, "L": L,
        "sections": sections, "h": {s["key"]: s["title"] for s in sections}, "anchors": anchors, "numbers": numbers,
        "matrix_header": matrix_header,
        "title": t(lang, "title", source=source.name(lang), target=target.name(lang)),
        "brief": brief,
        "overall_score": fit.overall_score,
        "overall_line": t(lang, "overall_line", score=fit.overall_score, basis=fit.overall_basis or ""),
        "problem": [notes.claim(c) for c in problems],
        "context": [dict(r.model_dump(), source_note=notes.text([r.source_cite]), target_note=notes.text([r.target_cite]))
                    for r in fit.context],
        "source_name": source.name(lang), "target_name": target.name(lang),
        "scale": [notes.claim(c) for c in fit.scale_differences],
        # the notes are in the source's language: a memo in another language cites them by number
        "phases": [dict(p, events=[dict(e, cite_text=notes.text([e["id"]])) for e in p["events"]]
                        if lang == source.language else [],
                        event_refs=notes.text([e["id"] for e in p["events"]]) if lang != source.language else "")
                   for p in phases],
        "cards": cards, "matrix": matrix,
        "not_to_copy": [notes.claim(c) for c in fit.not_to_copy],
        "options": [notes.claim(o, **{k: v for k, v in o.items() if k not in ("text", "cites")}) for o in options(memo)],
        "actions": actions,
        "risks": [notes.claim(r, **{k: v for k, v in r.items() if k not in ("text", "cites")}) for r in risks(memo)],
        "gaps": gaps,
        "appendix": appendix, "sources": sources,
        "verification": run.verification,
        "run": run.model_dump(),
    }


def _kpi_text(k, lang: str) -> str:
    if k.baseline is None:
        return t(lang, "kpi_none", label=k.label)
    text = t(lang, "kpi_base", label=k.label, baseline=k.baseline, target=k.target or t(lang, "kpi_above"))
    return text + (f"（{t(lang, 'kpi_source', source=k.data_source)}）" if lang == "zh" and k.data_source else
                   f" ({t(lang, 'kpi_source', source=k.data_source)})" if k.data_source else "")


def _data_gaps(target: S.Place, lang: str) -> list[Claim]:
    return [Claim(text=S.text(c.text, lang), cites=[f"{target.id}/{n}" for n in c.notes[:1]])
            for c in target.challenges if c.type == "data_gaps"]


def _shade(x) -> str:
    """A factor's colour key: an absent or partial factor that has an analog counts as analog."""
    return "analog" if x.analog and x.status in ("absent", "partial") else x.status


def _count_text(c: dict[str, int]) -> str:
    return f"{c['present']}/{c['partial'] + c['analog']}/{c['absent']}/{c['unknown']}"


def _problem(target: S.Place, lang: str) -> list[Claim]:
    """The target's own problems, from its profile: the question a lesson must answer (Rose, PDIA)."""
    out = []
    for i, c in enumerate(target.challenges):
        cites = [f"{target.id}/{n}" for n in c.notes] or [f"{target.id}:challenges[{i}]"]
        out.append(Claim(text=S.text(c.text, lang), cites=cites))
    return out


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


def _appendix(memo: Memo, places: dict[str, S.Place], extra=()) -> tuple[list[dict], dict[str, set]]:
    notes, fields = [], []
    sources: dict[str, set] = {}
    for c in dict.fromkeys([*all_cites(memo), *extra]):
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
                shown, srcs = _field_text(value, memo.fit.lang)
                fields.append({"cite": c, "kind": "field", "period": "", "text": shown, "sources": srcs,
                               "confidence": None, "conflict": getattr(value, "conflict", None)})
                sources.setdefault(pid, set()).update(srcs)
    notes.sort(key=lambda n: n["cite"])
    fields.sort(key=lambda n: n["cite"])
    return notes + fields, sources


def _field_text(value, lang: str) -> tuple[str, list[str]]:
    if isinstance(value, S.Indicator):
        # an English memo states the converted figure; the appendix keeps the original beside it
        converted = english(value.value, value.unit) if lang == "en" else None
        original = f"{fmt_number(value.value)} {value.unit}"
        shown = f"{converted} ({original})" if converted else original
        return f"{shown} ({value.year})", [value.source]
    described = field_text(value, lang)
    if described is not None:
        return described, list(getattr(value, "sources", []))
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
