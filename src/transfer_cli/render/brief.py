"""The decision brief: the two pages an official reads first, built from the artifacts.

Title and question; the answer in two or three sentences; the lessons worth acting on (verdict,
the one or two deciding factors, what it would take); what not to copy and why; the actions
(owner, horizon, KPI with baseline and target, stop/scale rule); what to verify before deciding.
Every item keeps its citations as ids; the view turns them into footnote numbers that point to
the evidence appendix, so the brief cites compactly and each item cites once.
"""

from __future__ import annotations

import re

from ..pipeline.agenda import problem_cite
from ..pipeline.artifacts import Memo, MechanismFit
from ..pipeline.i18n import admin_level, t
from ..pipeline.verdicts import POSITIVE, effective
from ..places import schema as S

MAX_LESSONS, MIN_LESSONS = 5, 3
MAX_ACTIONS = 6
MAX_NOT_TO_COPY = 5
MAX_VERIFY = 4
# About two pages (methodology §6): the brief is held under these with room for the headings and
# notes; past them it sheds its lowest-ranked items, never below the minimum of each part.
BUDGET = {"zh": 2400, "en": 1150}
OVERHEAD = {"zh": 80, "en": 90}  # the title, question, scope line and section headings
FLOOR = (("actions", 4), ("lessons", 3), ("not_to_copy", 3), ("verify", 2), ("actions", 3), ("lessons", 2))
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MODE_RANK = {"copy": 0, "in_place": 1, "adapt": 2, "inspire": 3, "avoid": 4}
# which necessary factors decide a verdict: what a positive verdict rests on, what blocks the others
_DECIDING = {True: ("analog", "partial", "unknown", "present"), False: ("absent", "unknown", "partial")}
_SENTENCE = {"zh": re.compile(r"(?<=[。！？])"), "en": re.compile(r"(?<=[.!?])\s+(?=[A-Z“‘'\"(])")}


def _tagged(text: str, tag: str, lang: str) -> str:
    return f"{text}（{tag}）" if lang == "zh" else f"{text[:1].upper()}{text[1:]} ({tag})"


def first_sentence(text: str, lang: str) -> str:
    """The first sentence of a generated or authored text: enough for the brief, the rest is in an annex."""
    parts = [p for p in _SENTENCE[lang].split(text.strip()) if p.strip()]
    return parts[0].strip() if parts else text.strip()


def item(text: str, cites=(), **extra) -> dict:
    return {"text": text, "cites": list(dict.fromkeys(c for c in cites if c)), **extra}


def build_brief(memo: Memo, source: S.Place, target: S.Place) -> dict:
    lang = memo.fit.lang
    fits = memo.fit.mechanisms
    logic = {m.id: m for m in memo.logic.mechanisms}
    actions = sorted(memo.plan.actions, key=lambda a: (a.priority or 99, a.id))
    kw = dict(source=source.name(lang), target=target.name(lang))
    return _within_budget({
        "question": t(lang, "question_text", **kw),
        "scope": t(lang, "scope_brief", source_level=admin_level(lang, source.admin_level),
                   target_level=admin_level(lang, target.admin_level), engine=memo.run.engine, **kw),
        # the judgment's own two or three sentences, each cited by its first (deciding) evidence
        "answer": [item(c.text, c.cites[:2]) for c in memo.fit.bottom_line[:3]],
        "lessons": _lessons(fits, logic, actions, lang),
        "not_to_copy": _not_to_copy(fits, logic, actions, lang),
        "actions": [_action(a, target, lang) for a in actions[:MAX_ACTIONS]],
        "verify": _verify(fits, actions, target, lang),
    }, lang)


def size(x, lang: str) -> int:
    """The brief's length as the limit counts it: 汉字 in Chinese, words in English."""
    if isinstance(x, dict):
        return sum(size(v, lang) for k, v in x.items() if k not in ("cites", "id", "mode"))
    if isinstance(x, list):
        return sum(size(v, lang) for v in x)
    if isinstance(x, str):
        return len(_HAN.findall(x)) if lang == "zh" else len(x.split())
    return 0


def _rendered_size(brief: dict, lang: str) -> int:
    """size() plus what the page adds: the headings and, in English, the notes list ("[n] place/ID ·")."""
    notes = len({c for part in ("answer", "lessons", "not_to_copy", "actions", "verify")
                 for x in brief[part] for c in x["cites"]})
    return size(brief, lang) + OVERHEAD[lang] + (3 * notes if lang == "en" else 0)


def _within_budget(brief: dict, lang: str) -> dict:
    for part, keep in FLOOR:
        while _rendered_size(brief, lang) > BUDGET[lang] and len(brief[part]) > keep:
            brief[part].pop()
    return brief


def _lessons(fits: list[MechanismFit], logic: dict, actions, lang: str) -> list[dict]:
    """The mechanisms worth acting on: every positive verdict, then principles that earned a study,
    then (to reach three) the strongest remaining principles that are not bound to their time."""
    by_mech = {}
    for a in actions:
        by_mech.setdefault(a.mechanism_id, a)
    rank = lambda f: (_MODE_RANK[f.mode], -f.score, f.mechanism_id)
    picks = sorted((f for f in fits if f.mode in POSITIVE), key=rank)
    picks += sorted((f for f in fits if f.mode == "inspire" and f.mechanism_id in by_mech), key=rank)
    if len(picks) < MIN_LESSONS:
        rest = sorted((f for f in fits if f.mode == "inspire" and f.bound is None and f not in picks), key=rank)
        picks += rest[:MIN_LESSONS - len(picks)]
    out = []
    for f in picks[:MAX_LESSONS]:
        m = logic.get(f.mechanism_id)
        why, cites = _deciding(f, lang)
        a = by_mech.get(f.mechanism_id)
        out.append(item(why, cites, id=f.mechanism_id, name=f.name, 
                        mode=f.mode, verdict=t(lang, f.mode) + (t(lang, "conditional") if f.conditional else ""),
                        takes=_takes(f, m, a, lang)))
    return out


def _deciding(f: MechanismFit, lang: str) -> tuple[str, list[str]]:
    """The one or two factors that decide the verdict, in the fit's own words, with one cite each."""
    if f.bound is not None and f.mode not in POSITIVE:
        return first_sentence(f.bound.text, lang), f.bound.cites[:1]
    texts, cites = [], []
    if f.existing is not None and f.mode == "in_place":
        texts.append(t(lang, "m_in_place", existing=f.existing.name))
        cites.append(f.existing.cite)
    order = _DECIDING[f.mode in POSITIVE]
    nec = sorted((x for x in f.factors if x.necessity == "necessary" and effective(x) in order),
                 key=lambda x: order.index(effective(x)))
    for x in nec[:2 - len(texts)]:
        # an unknown factor's own rationale names profile fields; the brief says what is missing in words
        texts.append(t(lang, "why_unknown", name=x.name) if effective(x) == "unknown"
                     else first_sentence(x.rationale.text, lang))
        cites.extend(x.rationale.cites[:1])
    if not texts:
        texts.append(first_sentence(f.rationale.text, lang))
        cites.extend(f.rationale.cites[:1])
    return (" " if lang == "en" else "").join(texts), cites


def _takes(f: MechanismFit, m, a, lang: str) -> str:
    sep = "、" if lang == "zh" else "; "
    parts = []
    unknown = [x.name for x in f.factors if x.necessity == "necessary" and effective(x) == "unknown"]
    partial = [x.name for x in f.factors if x.necessity == "necessary" and effective(x) == "partial"]
    if unknown and f.mode in POSITIVE:
        parts.append(t(lang, "take_verify", names=sep.join(unknown)))
    if partial and f.mode in POSITIVE:
        parts.append(t(lang, "take_build", names=sep.join(partial)))
    if a is not None:
        parts.append(t(lang, "take_action", id=a.id, title=a.title.rstrip("。.")))
    elif f.existing is not None and f.mode == "in_place":
        parts.append(t(lang, "take_compare", existing=f.existing.name))
    elif f.mode in POSITIVE:
        parts.append(t(lang, "take_no_problem"))
    elif m is not None:
        parts.append(t(lang, "take_principle", principle=m.principle.rstrip("。.")))
    return ("；" if lang == "zh" else "; ").join(parts)


def _not_to_copy(fits: list[MechanismFit], logic: dict, actions, lang: str) -> list[dict]:
    """What must not be transferred (avoid), what was bound to its time, and the visible form of
    the lessons the brief does recommend."""
    out = []
    for f in fits:
        if f.mode == "avoid":
            out.append(item(t(lang, "ntc_brief_avoid", name=f.name, id=f.mechanism_id,
                              reason=first_sentence(f.rationale.text, lang)), f.rationale.cites[:2]))
    for f in fits:
        if f.bound is not None and f.mode not in POSITIVE:
            out.append(item(t(lang, "ntc_brief_bound", name=f.name, id=f.mechanism_id,
                              reason=first_sentence(f.bound.text, lang)), f.bound.cites[:1]))
    acted = list(dict.fromkeys(a.mechanism_id for a in actions if a.kind != "study"))
    for mid in acted:
        m = logic.get(mid)
        if m is not None and m.form_not_function:
            out.append(item(t(lang, "ntc_brief_form", id=mid, form=m.form_not_function.rstrip("。.")), m.evidence[:1]))
    return out[:MAX_NOT_TO_COPY]


def problem_head(text: str | None, fallback: str) -> str:
    """The name of a profile problem: its text up to the first colon ("老城区“空心化”风险")."""
    if not text:
        return fallback
    head = re.split(r"[：:]", text, maxsplit=1)[0].strip()
    return head if head and len(head) < len(text) else first_sentence(text, "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en")


def _action(a, target: S.Place, lang: str) -> dict:
    from ..pipeline.i18n import problem_label
    p = next((x for x in [*target.challenges, *target.goals] if x.id == a.problem), None)
    problem = problem_head(a.problem_text, problem_label(lang, p.type if p else None) or (a.problem or ""))
    kpis, cites = [], []
    if p is not None:
        cites.append(problem_cite(target, p))
    if a.lead_id:
        cites.append(f"{target.id}:institutions.{a.lead_id}")
    for k in a.kpis:
        if k.baseline is None:
            kpis.append(t(lang, "kpi_none", label=k.label))
        else:
            kpis.append(t(lang, "kpi_base", label=k.label, baseline=k.baseline, target=k.target or t(lang, "kpi_above")))
            cites += [k.baseline_cite, k.target_cite]
    if not a.kpis:
        kpis.append(t(lang, "kpi_missing"))
    first = a.kpis[0] if a.kpis else None
    if a.kind == "pilot" and first is not None:
        rule = t(lang, "rule_pilot" if first.baseline else "rule_measure", kpi=first.label, horizon=a.horizon)
    else:
        rule = a.review or ""
    lead = a.lead + (f"（{'、'.join(a.partners)}）" if lang == "zh" and a.partners else
                     f" (with {', '.join(a.partners)})" if a.partners else "")
    return item(a.title.rstrip("。."), cites, id=a.id, mechanism=a.mechanism_id,
                problem=_tagged(problem, a.problem, lang) if a.problem else problem,
                problem_id=a.problem, lead=lead, approval=a.approval, horizon=a.horizon, kpis=kpis, rule=rule)


def _verify(fits: list[MechanismFit], actions, target: S.Place, lang: str) -> list[dict]:
    """What the decision waits on: unknown necessary factors of the verdicts acted on, KPIs with no
    baseline, and the target's own data gaps."""
    acted = {a.mechanism_id for a in actions}
    out, seen = [], set()
    for f in sorted(fits, key=lambda f: (_MODE_RANK[f.mode], -f.score)):
        if f.mode in POSITIVE or f.mechanism_id in acted:
            for v in f.verification:
                if v.text not in seen:
                    seen.add(v.text)
                    out.append(item(f"{f.mechanism_id}：{v.text}" if lang == "zh" else f"{f.mechanism_id}: {v.text}",
                                    v.cites[:1]))
    for a in actions:
        for k in a.kpis:
            if k.baseline is None and k.label not in seen:
                seen.add(k.label)
                out.append(item(t(lang, "kpi_data_gap", label=k.label, action=a.id)))
    for i, c in enumerate(target.challenges):
        if c.type == "data_gaps":
            cites = [f"{target.id}/{n}" for n in c.notes[:1]] or [f"{target.id}:challenges.{c.id}"]
            out.append(item(S.text(c.text, lang), cites))
    return out[:MAX_VERIFY]
