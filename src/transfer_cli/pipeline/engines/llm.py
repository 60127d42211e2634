"""The llm engine: the three stages run by a model on any OpenAI-compatible endpoint.

Stage 1 works from the source's notes; authored mechanisms, when present, go in as a draft
for the model to check, correct and extend. Stages 2 and 3 get the CaseLogic, the target's
profile fields and every computed condition evaluation, so the model reasons from computed
facts. Each reply is validated (llm/client.py), then checked by the verifier; when it finds
problems the model is asked once more with them, and the second answer is accepted with
whatever findings remain — the memo's verification report lists them.
"""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path

from ...llm import evidence as E
from ...places import schema as S
from ...llm import runlog, tokens
from ...llm.runlog import RunLog
from ...places import vocabulary as V
from ..artifacts import ActionPlan, CaseLogic, Claim, ContextRow, FitAssessment
from ...places.conditions import Evaluation
from ...llm.config import Settings, resolve
from ...errors import InputError
from ...llm.prompts import STAGE_PROMPTS, PromptSet, data_block
from ...llm.planner import (MIN_ACTIONS, PER_ACTIONS_MECHANISM, PER_REVIEW, CAPS, PER_REQUEST_OUT, Budget, Planned, budget, caps, count,
                            fit_data, fit_out, item_tokens, pack, request_tokens)
from ...llm.replies import (FitReply, LogicReply, LogicReview, NewMechanisms, PlanReply, ReviewOnly, apply_review,
                            fit_from, logic_from, plan_from, to_reply)
from ...llm.schemas import schema_text
from .offline import OfflineEngine, find_analog



class LLMEngine:
    name = "llm"
    cpu_bound = False  # it waits on the model: a batch runs its pairs on threads

    def __init__(self, settings: Settings | None = None, *, model: str | None = None, base_url: str | None = None,
                 provider: str | None = None, mode: str | None = None, prompts: Path | None = None,
                 no_cache: bool = False, no_log: bool = False, notify=None, progress=None):
        self.settings = settings or resolve(model=model, base_url=base_url, provider=provider, mode=mode)
        if not self.settings.model:
            raise InputError("the llm engine needs a model: give --model, set TRANSFER_MODEL, or choose a --provider")
        self.prompts = PromptSet(prompts)
        self.no_cache = no_cache
        self.log = None if (no_log or not self.settings.log) else RunLog()
        self.notify = notify or (lambda msg: print(msg, file=sys.stderr))
        self._client = None
        self._used: dict[str, object] = {}
        self.last_findings: list = []
        self.set_progress(progress)

    def set_progress(self, progress=None) -> None:
        """Where request progress goes (llm/progress.py; default: stderr), counted from now: a batch
        sets it per pair, on the engine its thread reuses."""
        if progress is None:
            from ...llm.progress import StderrProgress
            progress = StderrProgress()
        self.progress = progress
        self._since = (time.perf_counter(), dict(self.usage))

    # ---- what the run record and the stage timers read ---------------------------------------
    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def endpoint(self) -> str:
        from ...redact import redact
        return redact(self.settings.endpoint)  # the run record is written to a file

    @property
    def run_id(self) -> str | None:
        """The run log's id for this run (None with the log off): `transfer logs --run ID`."""
        return runlog.run_id() if self.log else None

    @property
    def client(self):
        if self._client is None:
            from ...llm.cache import Cache
            from ...llm.client import ModelClient
            self._client = ModelClient(self.settings, Cache(enabled=not self.no_cache), notify=self.notify)
        return self._client

    @property
    def usage(self) -> dict:
        return self._client.usage if self._client else {}

    @property
    def prompt_records(self) -> list:
        """The prompts used so far; before any stage, every stage prompt (a batch keys its manifests on it)."""
        if self._used:
            return [p.record for p in self._used.values()]
        return [p.record for p in self.prompts.all() if p.id in STAGE_PROMPTS.values()]

    # ---- stages: each planned into requests that fit the model (llm/planner.py) --------------
    def extract(self, source: S.Place, lang: str) -> CaseLogic:
        plans = self.plan_extract(source, lang)
        self._check_fit("extract", plans)
        places = {source.id: source}
        draft = plans[0].extra.get("draft")
        if draft is None:
            return self._ask(plans[0], lambda r: logic_from(r, source, lang), places, None, (source.id, None))
        mechanisms, lessons, new = [], draft.negative_lessons, []
        drafted = {m.id for m in draft.mechanisms}
        for p in plans:
            part = self._ask(p, lambda r, p=p: self._reviewed(r, p, draft, source, lang), places, None,
                             (source.id, None))
            if part is None:
                continue
            for m in part.mechanisms:
                if m.id in drafted and p.covers != ["new"]:
                    mechanisms.append(m)
                elif m.id not in drafted and m.id not in {x.id for x in new}:
                    new.append(m)
            if p.reply_model is LogicReview:
                lessons = part.negative_lessons
        order = {m.id: i for i, m in enumerate(draft.mechanisms)}
        mechanisms.sort(key=lambda m: order[m.id])
        return CaseLogic(source=source.id, lang=lang, mechanisms=mechanisms + new, negative_lessons=lessons)

    @staticmethod
    def _reviewed(reply, p, draft: CaseLogic, source: S.Place, lang: str) -> CaseLogic | None:
        group = [m for m in draft.mechanisms if m.id in p.covers]
        if isinstance(reply, NewMechanisms):
            mechs = reply.new_mechanisms
        else:
            mechs = apply_review(group if p.covers != ["all"] else draft.mechanisms, reply.mechanisms)
            mechs += getattr(reply, "new_mechanisms", [])
        lessons = getattr(reply, "negative_lessons", None)
        if not mechs:
            return None
        return CaseLogic(source=source.id, lang=lang, mechanisms=mechs,
                         negative_lessons=draft.negative_lessons if lessons is None else lessons)

    def fit(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
            evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
            scale: list[Claim]) -> FitAssessment:
        plans = self.plan_fit(logic, source, target, lang, evaluations, context, scale)
        self._check_fit("fit", plans)
        parts = [self._ask(p, lambda r: fit_from(r, logic, source, target, lang, evaluations, context, scale),
                           {source.id: source, target.id: target}, _part(logic, p), (source.id, target.id))
                 for p in plans]
        return parts[0] if len(parts) == 1 else merge_fits(parts, lang)

    def actions(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                lang: str) -> ActionPlan:
        plans = self.plan_actions(logic, fit, source, target, lang)
        if not plans:
            return ActionPlan(source=source.id, target=target.id, lang=lang, actions=[])
        self._check_fit("actions", plans)
        parts = [self._ask(p, lambda r: plan_from(r, source, target, lang), {source.id: source, target.id: target},
                           _part(logic, p), (source.id, target.id)) for p in plans]
        return parts[0] if len(parts) == 1 else merge_plans(parts)

    def _check_fit(self, stage: str, plans: list[Planned]) -> None:
        b = self.budget
        for i, p in enumerate(plans):
            p.extra.update(i=i + 1, n=len(plans))
            if p.kept:
                self.notify(f"{stage} request {i + 1}/{len(plans)}: {p.kept}, chosen by relevance to its mechanisms")
            if not p.fits(b):
                raise InputError(f"{stage}: request {i + 1} of {len(plans)} needs ~{p.tokens_in:,} tokens in and "
                                 f"~{p.tokens_out:,} out, over the budget of {b.prompt:,} in / {b.reply:,} out for "
                                 f"{self.settings.model}; set context_window and max_output_tokens in the provider "
                                 "profile if the model has larger ones")
        if len(plans) > 1:
            self.notify(f"{stage}: {len(plans)} requests to fit {self.settings.model}'s limits "
                        f"({b.window:,}-token window, {b.output:,} out)")

    def _ask(self, p: Planned, build, places: dict, logic, pair: tuple):
        self._report(p, done=False)
        with self.log.scope(p.stage, *pair) if self.log else nullcontext():
            out = self._ask_verified(p, build, places, logic)
        self._report(p, done=True)
        return out

    def _report(self, p: Planned, done: bool) -> None:
        from ...llm.progress import Event
        t0, before = self._since
        u = self.usage
        self.progress(Event(p.stage, p.extra.get("i", 1), p.extra.get("n", 1),
                            u.get("tokens_in", 0) - before.get("tokens_in", 0),
                            u.get("tokens_out", 0) - before.get("tokens_out", 0), time.perf_counter() - t0, done))

    def _ask_verified(self, p: Planned, build, places: dict, logic):
        from ...verify.report import check_artifact, format_findings
        stage = p.stage
        # the artifact is assembled inside the client's validation loop: what assembling finds wrong
        # (a reply the schema allowed but the data does not) is re-asked like a schema error
        artifact, convo = self.client.structured(p.messages, p.reply_model, stage, accept=build)
        findings = check_artifact(artifact, places, logic=logic) if artifact is not None else []
        if findings:
            ask = {"role": "user", "content":
                   "A verifier checked your JSON against the data and found these problems:\n"
                   + format_findings(findings)
                   + "\nCorrect them (cite only ids and fields present in the data; state only figures "
                     "found in what you cite) and reply with the complete corrected JSON object only."}
            if tokens.count_messages(convo + [ask]) + p.tokens_in - tokens.count_messages(p.messages) > self.budget.prompt:
                self.notify(f"{stage}: the verifier found {len(findings)} problem(s); no room in the model's window "
                            "to ask again; the memo's verification report lists them")
            else:
                self.notify(f"{stage}: the verifier found {len(findings)} problem(s); asking the model once more")
                artifact, _ = self.client.structured(convo + [ask], p.reply_model, stage, accept=build)
                findings = check_artifact(artifact, places, logic=logic) if artifact is not None else []
                if findings:
                    self.notify(f"{stage}: {len(findings)} problem(s) remain; the memo's verification report lists them")
        self.last_findings = findings
        return artifact

    @property
    def budget(self) -> Budget:
        return budget(self.settings)

    # ---- plans -------------------------------------------------------------------------------
    def plan_extract(self, source: S.Place, lang: str) -> list[Planned]:
        draft = OfflineEngine().extract(source, lang) if source.mechanisms else None
        names = dict(source=source.name(lang), source_id=source.id, has_draft=draft is not None,
                     example_note=source.notes[0].id if source.notes else "NOTE-ID",
                     factor_kinds=", ".join(V.FACTOR_KINDS), transfer_objects=", ".join(V.TRANSFER_OBJECTS))
        base = {"source": E.identity(source, lang), "profile_fields": E.profile_fields(source, lang),
                "notes": E.note_items(source)}
        if draft is None:
            return [self._plan("extract", ["all"], base, [], LogicReply, 4 * self.budget.reply // 5, lang,
                               names, review="none")]
        views = {m.id: E.review_view(m) for m in draft.mechanisms}
        cited = {m.id: set(m.evidence) | {c for f in m.support_factors for c in f.cites} for m in draft.mechanisms}
        steer = {m.id: (E.mechanism_text(m), cited[m.id]) for m in draft.mechanisms}
        all_cited = set().union(*cited.values())
        # the pass for what the draft lacks reads the notes no mechanism cites, alternating domains
        uncited = [n for n in base["notes"] if n["cite"] not in all_cited]
        new_notes = E.select_notes(uncited, [], caps("new", 1)["notes"], item_tokens)

        def review_data(group, **more):
            notes = E.select_notes(base["notes"], [steer[g] for g in group], caps("extract", len(group))["notes"],
                                   item_tokens)
            keep = {n["cite"] for n in notes + more.pop("notes", [])}
            return {**base, "notes": [n for n in base["notes"] if n["cite"] in keep],
                    "profile_fields": [f for f in base["profile_fields"] if any(f["cite"] in cited[g] for g in group)],
                    **more}

        draft_data = {"mechanisms": list(views.values()),
                      "negative_lessons": [c.model_dump() for c in draft.negative_lessons]}
        whole = self._plan("extract", ["all"], review_data(list(views), draft=draft_data, notes=new_notes),
                           list(steer.values()), LogicReview, PER_REVIEW * len(views) + self.budget.reply // 4, lang,
                           names, review="all")
        if whole.fits(self.budget) and not whole.kept:
            whole.extra["draft"] = draft
            return [whole]
        notes = {n["cite"]: n for n in base["notes"]}
        fixed = request_tokens(self.prompts.for_stage("extract", lang).render(
            data="{}", schema=schema_text(ReviewOnly), review="part", **names))
        per = caps("extract", 1)["notes"]
        items = [(mid, count(v) + min(per, sum(item_tokens(notes[c]) for c in cited[mid] if c in notes)), PER_REVIEW)
                 for mid, v in views.items()]
        plans = [self._plan("extract", group, review_data(group, draft={"mechanisms": [views[g] for g in group]}),
                            [steer[g] for g in group], ReviewOnly, PER_REVIEW * len(group), lang, names, review="part")
                 for group in pack(items, fixed, 0, self.budget)]
        drafted = [{"id": m.id, "name": m.name} for m in draft.mechanisms]
        plans.append(self._plan("extract", ["new"], {**base, "notes": new_notes, "profile_fields": [],
                                                     "drafted": drafted}, [], NewMechanisms,
                                self.budget.reply // 2, lang, names, review="new"))
        for p in plans:
            p.extra["draft"] = draft
        return plans

    def plan_fit(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
                 evaluations: dict, context: list[ContextRow], scale: list[Claim]) -> list[Planned]:
        candidates: dict[str, list] = {}
        for m in logic.mechanisms:
            for f in m.support_factors:
                ev = evaluations.get((m.id, f.id))
                if f.analog and (ev is None or ev.status in ("absent", "partial")):
                    a = find_analog(target, f.analog, lang)
                    if a:
                        candidates.setdefault(m.id, []).append({"mechanism_id": m.id, "factor_id": f.id,
                                                                **a.model_dump()})
        views = {v["id"]: v for v in E.fit_view(logic, evaluations, target.id)}
        base = {"source": E.identity(source, lang), "target": E.identity(target, lang),
                "negative_lessons": [c.model_dump() for c in logic.negative_lessons],
                "scale_differences": [c.model_dump() for c in scale],
                "target_profile_fields": E.profile_fields(target, lang), "notes": E.note_items(target)}
        steer = {m.id: (E.mechanism_text(m), E.needed_fields(m, evaluations, target.id)) for m in logic.mechanisms}

        first = logic.mechanisms[0].id
        once = ("negative_lessons", "scale_differences")

        def data(group):
            # what the whole assessment says once (what not to copy, the scale gap in the bottom line)
            # goes with the first group; the parts' answers are merged (merge_fits)
            return {**base, **{k: base[k] if first in group else [] for k in once},
                    "mechanisms": [views[g] for g in group],
                    "analog_candidates": [c for g in group for c in candidates.get(g, [])]}

        said_once = sum(count(base[k]) for k in once)
        items = [(mid, count(v) + count(candidates.get(mid, [])) + (said_once if mid == first else 0), fit_out(v))
                 for mid, v in views.items()]
        return self._planned("fit", items, data, steer, FitReply, 600, lang, self._names(source, target, lang),
                             {k: base[k] for k in ("source", "target")})

    def plan_actions(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                     lang: str) -> list[Planned]:
        views = {v["id"]: v for v in E.actions_view(logic, fit, target)}
        if not views:
            return []  # no mechanism meets a problem of the target's own: nothing to act on, nothing to ask
        base = {"source": E.identity(source, lang), "target": E.identity(target, lang),
                "target_agenda": E.agenda(target, lang, {p for v in views.values() for p in v["answers"]}),
                "target_profile_fields": E.profile_fields(target, lang), "notes": E.note_items(target)}
        read = {(mf.mechanism_id, f.factor_id): f for mf in fit.mechanisms for f in mf.factors}
        steer = {m.id: (E.mechanism_text(m), E.needed_fields(m, read, target.id))
                 for m in logic.mechanisms if m.id in views}
        items = [(mid, count(v), PER_ACTIONS_MECHANISM) for mid, v in views.items()]
        return self._planned("actions", items, lambda group: {**base, "mechanisms": [views[g] for g in group]},
                             steer, PlanReply, MIN_ACTIONS, lang, self._names(source, target, lang),
                             {k: base[k] for k in ("source", "target", "target_agenda")})

    def _planned(self, stage, items, data, steer, model, min_out, lang, names, fixed_data) -> list[Planned]:
        """One request when the whole fits, else groups packed against the budget."""
        out = max(min_out, sum(i[2] for i in items))
        whole = self._plan(stage, ["all"], data([i[0] for i in items]), list(steer.values()), model, out, lang, names)
        if whole.fits(self.budget) and not whole.kept:
            return [whole]
        # each group brings its own notes and fields up to the caps (a floor, then a share per mechanism)
        floor, per = (sum(c[i] for c in CAPS[stage].values()) for i in (1, 0))
        fixed = request_tokens(self.prompts.for_stage(stage, lang).render(
            data=E.dumps(fixed_data), schema=schema_text(model), **names)) + floor
        return [self._plan(stage, g, data(g), [steer[x] for x in g if x in steer], model,
                           max(min_out, sum(i[2] for i in items if i[0] in g)), lang, names)
                for g in pack([(m, c_in + per, c_out) for m, c_in, c_out in items], fixed, PER_REQUEST_OUT.get(stage, 0),
                               self.budget)]

    @staticmethod
    def _names(source: S.Place, target: S.Place, lang: str) -> dict:
        return {"source": source.name(lang), "source_id": source.id, "target": target.name(lang),
                "target_id": target.id, "example_note": source.notes[0].id if source.notes else "NOTE-ID"}

    def _plan(self, stage: str, covers: list[str], data: dict, steer, model, out: int, lang: str, variables: dict,
              **extra_vars) -> Planned:
        prompt = self.prompts.for_stage(stage, lang)
        self._used[stage] = prompt
        schema = schema_text(model)

        def render(d):
            return prompt.render(data=data_block(E.dumps(E.compact(d))), schema=schema, **variables, **extra_vars)

        kind = "new" if covers == ["new"] else stage
        n = len(steer) if covers == ["all"] else len(covers)
        # stage 1's notes are chosen per group before planning (the review's and the new pass's differ)
        cap = {} if stage == "extract" else caps(kind, n)
        messages, used, chose, kept = fit_data(render, data, steer, self.budget.prompt, cap)
        return Planned(stage, covers, messages, used, min(out, self.budget.reply) if covers == ["new"] else out,
                       model, kept, chose)


def _part(logic: CaseLogic, p: Planned) -> CaseLogic:
    """The logic a request's answer is checked against: its own mechanisms (a part of a split stage
    cannot cover the others, and asking it again for them would be wasted)."""
    if p.covers == ["all"]:
        return logic
    return logic.model_copy(update={"mechanisms": [m for m in logic.mechanisms if m.id in p.covers]})


def merge_fits(parts: list[FitAssessment], lang: str) -> FitAssessment:
    """The groups' assessments as one: every mechanism, the overall score over all of them, each
    group's first bottom-line sentence (at most three) and every distinct warning."""
    from ..verdicts import overall
    mechs = [m for p in parts for m in p.mechanisms]
    score, basis = overall(mechs, lang)
    def distinct(claims):
        seen: set[str] = set()
        return [c for c in claims if not (c.text in seen or seen.add(c.text))]
    return parts[0].model_copy(update={
        "mechanisms": mechs, "overall_score": score, "overall_basis": basis,
        "bottom_line": distinct(p.bottom_line[0] for p in parts if p.bottom_line)[:3],
        "not_to_copy": distinct(c for p in parts for c in p.not_to_copy)})


def merge_plans(parts: list[ActionPlan]) -> ActionPlan:
    actions, ids = [], set()
    for p in parts:
        for a in p.actions:
            aid, n = a.id, 2
            while aid in ids:  # groups number their actions alike
                aid, n = f"{a.id}-{n}", n + 1
            ids.add(aid)
            actions.append(a if aid == a.id else a.model_copy(update={"id": aid}))
    return parts[0].model_copy(update={"actions": actions})
