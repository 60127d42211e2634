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
from pathlib import Path

from ...llm import evidence as E
from ...places import schema as S
from ...llm import tokens
from ...places import vocabulary as V
from ..artifacts import ActionPlan, CaseLogic, Claim, ContextRow, FitAssessment
from ...places.conditions import Evaluation
from ...llm.config import Settings, resolve
from ...errors import InputError
from ...llm.prompts import STAGE_PROMPTS, PromptSet, data_block
from ...llm.schemas import schema_text
from ...llm.replies import FitReply, LogicReply, PlanReply, fit_from, logic_from, plan_from
from .offline import OfflineEngine, find_analog

OUTPUT_RESERVE = 16_000  # tokens kept free for the reply when no max_output_tokens is configured


class LLMEngine:
    name = "llm"
    cpu_bound = False  # it waits on the model: a batch runs its pairs on threads

    def __init__(self, settings: Settings | None = None, *, model: str | None = None, base_url: str | None = None,
                 provider: str | None = None, mode: str | None = None, prompts: Path | None = None,
                 no_cache: bool = False, notify=None):
        self.settings = settings or resolve(model=model, base_url=base_url, provider=provider, mode=mode)
        if not self.settings.model:
            raise InputError("the llm engine needs a model: give --model, set TRANSFER_MODEL, or choose a --provider")
        self.prompts = PromptSet(prompts)
        self.no_cache = no_cache
        self.notify = notify or (lambda msg: print(msg, file=sys.stderr))
        self._client = None
        self._used: dict[str, object] = {}
        self.last_findings: list = []

    # ---- what the run record and the stage timers read ---------------------------------------
    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def endpoint(self) -> str:
        from ...redact import redact
        return redact(self.settings.endpoint)  # the run record is written to a file

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

    # ---- stages ------------------------------------------------------------------------------
    def extract(self, source: S.Place, lang: str) -> CaseLogic:
        messages = self.extract_messages(source, lang)
        return self._ask("extract", messages, LogicReply, lambda r: logic_from(r, source, lang),
                         {source.id: source}, None)

    def fit(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
            evaluations: dict[tuple[str, str], Evaluation], context: list[ContextRow],
            scale: list[Claim]) -> FitAssessment:
        messages = self.fit_messages(logic, source, target, lang, evaluations, context, scale)
        return self._ask("fit", messages, FitReply,
                         lambda r: fit_from(r, logic, source, target, lang, evaluations, context, scale),
                         {source.id: source, target.id: target}, logic)

    def actions(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                lang: str) -> ActionPlan:
        messages = self.actions_messages(logic, fit, source, target, lang)
        return self._ask("actions", messages, PlanReply, lambda r: plan_from(r, source, target, lang),
                         {source.id: source, target.id: target}, logic)

    def _ask(self, stage: str, messages: list[dict], reply_model, build, places: dict, logic):
        from ...verify.report import check_artifact, format_findings
        # the artifact is assembled inside the client's validation loop: what assembling finds wrong
        # (a reply the schema allowed but the data does not) is re-asked like a schema error
        artifact, convo = self.client.structured(messages, reply_model, stage, accept=build)
        findings = check_artifact(artifact, places, logic=logic)
        if findings:
            self.notify(f"{stage}: the verifier found {len(findings)} problem(s); asking the model once more")
            convo = convo + [{"role": "user", "content":
                              "A verifier checked your JSON against the data and found these problems:\n"
                              + format_findings(findings)
                              + "\nCorrect them (cite only ids and fields present in the data; state only figures "
                                "found in what you cite) and reply with the complete corrected JSON object only."}]
            artifact, _ = self.client.structured(convo, reply_model, stage, accept=build)
            findings = check_artifact(artifact, places, logic=logic)
            if findings:
                self.notify(f"{stage}: {len(findings)} problem(s) remain; the memo's verification report lists them")
        self.last_findings = findings
        return artifact

    # ---- prompts -----------------------------------------------------------------------------
    def extract_messages(self, source: S.Place, lang: str) -> list[dict]:
        draft = OfflineEngine().extract(source, lang) if source.mechanisms else None
        data = {"source": E.identity(source, lang), "profile_fields": E.profile_fields(source, lang),
                "notes": E.note_items(source)}
        if draft is not None:
            from ...llm.replies import to_reply
            data["draft"] = to_reply(draft)
        steer = [(E.mechanism_text(m), set(m.evidence) | {c for f in m.support_factors for c in f.cites})
                 for m in (draft.mechanisms if draft else [])]
        return self._render("extract", lang, data, steer, LogicReply, source=source.name(lang),
                            source_id=source.id, has_draft=draft is not None,
                            example_note=source.notes[0].id if source.notes else "NOTE-ID",
                            factor_kinds=", ".join(V.FACTOR_KINDS), transfer_objects=", ".join(V.TRANSFER_OBJECTS))

    def fit_messages(self, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
                     evaluations: dict, context: list[ContextRow], scale: list[Claim]) -> list[dict]:
        candidates = []
        for m in logic.mechanisms:
            for f in m.support_factors:
                ev = evaluations.get((m.id, f.id))
                if f.analog and (ev is None or ev.status in ("absent", "partial")):
                    a = find_analog(target, f.analog, lang)
                    if a:
                        candidates.append({"mechanism_id": m.id, "factor_id": f.id, **a.model_dump()})
        data = {"source": E.identity(source, lang), "target": E.identity(target, lang),
                "mechanisms": E.fit_view(logic),
                "negative_lessons": [c.model_dump() for c in logic.negative_lessons],
                "computed_evaluations": E.evaluation_items(evaluations, target.id),
                "analog_candidates": candidates,
                "context_table": [r.model_dump(exclude_none=True) for r in context],
                "scale_differences": [c.model_dump() for c in scale],
                "target_profile_fields": E.profile_fields(target, lang),
                "notes": E.note_items(target)}
        steer = [(E.mechanism_text(m), set()) for m in logic.mechanisms]
        return self._render("fit", lang, data, steer, FitReply, **self._names(source, target, lang))

    def actions_messages(self, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place,
                         lang: str) -> list[dict]:
        data = {"source": E.identity(source, lang), "target": E.identity(target, lang),
                "mechanisms": E.actions_view(logic, fit),
                "target_profile_fields": E.profile_fields(target, lang),
                "notes": E.note_items(target)}
        steer = [(E.mechanism_text(m), set()) for m in logic.mechanisms]
        return self._render("actions", lang, data, steer, PlanReply, **self._names(source, target, lang))

    @staticmethod
    def _names(source: S.Place, target: S.Place, lang: str) -> dict:
        return {"source": source.name(lang), "source_id": source.id, "target": target.name(lang),
                "target_id": target.id, "example_note": source.notes[0].id if source.notes else "NOTE-ID"}

    def _render(self, stage: str, lang: str, data: dict, steer, reply_model, **variables) -> list[dict]:
        """The stage's messages, with notes selected by relevance when the whole data would not fit."""
        prompt = self.prompts.for_stage(stage, lang)
        self._used[stage] = prompt
        schema = schema_text(reply_model)

        def render(d):
            return prompt.render(data=data_block(E.dumps(d)), schema=schema, **variables)

        messages = render(data)
        limit = self.settings.context_window - (self.settings.max_output_tokens or OUTPUT_RESERVE)
        # a token is at least one UTF-8 byte: a prompt with fewer bytes than the budget fits without
        # loading the tokenizer (about a second for cl100k)
        size = sum(len(m["content"].encode("utf-8")) for m in messages)
        used = size if size <= limit else tokens.count_messages(messages)
        if used > limit and data.get("notes"):
            notes = data["notes"]
            base = tokens.count_messages(render({**data, "notes": []}))
            kept = E.select_notes(notes, steer, limit - base, lambda n: tokens.count(E.dumps(n)) + 2)
            self.notify(f"{stage}: the data needs ~{used:,} tokens, over the budget of {limit:,} "
                        f"(context window {self.settings.context_window:,}); kept {len(kept)} of {len(notes)} "
                        "notes, chosen by relevance to each mechanism")
            messages = render({**data, "notes": kept})
            used = tokens.count_messages(messages)
        if used > limit:
            raise InputError(f"{stage}: the prompt needs ~{used:,} tokens, over the budget of {limit:,} for "
                             f"{self.settings.model}; set a larger context_window in the provider profile "
                             "if the model has one")
        return messages
