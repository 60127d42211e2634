"""Shared pieces of the llm tests: canned model replies built from the offline engine, and env."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from fakeserver import reply, stage_of

KEY = "sk-FAKE-transfer-key-5e1f0c9a77d3"  # distinctive: any trace of it in a file or output is a leak


@lru_cache(maxsize=None)
def canned(source: str = "liling", target: str = "jinjiang", lang: str = "zh", cases: str | None = None) -> dict:
    """What a well-behaved model replies for each stage: the offline engine's artifacts, reply-shaped."""
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.places.loader import Library
    from transfer_cli.llm.replies import review_of, to_reply
    from transfer_cli.pipeline.facts import context_rows, evaluate_conditions, scale_differences
    lib = Library([Path(cases)] if cases else [])
    s, t = lib.load(source).place, lib.load(target).place
    o = OfflineEngine()
    logic = o.extract(s, lang)
    ev = evaluate_conditions(logic, t)
    fit = o.fit(logic, s, t, lang, ev, context_rows(s, t, lang), scale_differences(s, t, lang))
    plan = o.actions(logic, fit, s, t, lang)
    # stage 1 on a drafted source: the model agrees with the draft (edits none, adds none)
    return {"extract": review_of(logic), "fit": to_reply(fit, logic), "actions": to_reply(plan)}


def replies(**kw) -> dict:
    return copy.deepcopy(canned(**kw))


def batch_replies(source: str, targets, cases: str | None = None, lang: str = "zh") -> dict[str, dict]:
    """{target: its canned replies}: what per_target_responder serves to a batch."""
    return {t: canned(source, t, lang, cases) for t in targets}


def llm_env(tmp_path: Path, **extra) -> dict:
    env = {"TRANSFER_CACHE_DIR": str(tmp_path / "cache"), "TRANSFER_CONFIG_DIR": str(tmp_path / "config"),
           "TRANSFER_DATA_DIR": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
           "OPENAI_API_KEY": KEY, "TRANSFER_RETRY_BASE": "0.01",
           # the fake model "m" has a large model's limits unless a test gives it others
           "TRANSFER_CONTEXT_WINDOW": "128000", "TRANSFER_MAX_OUTPUT": "16384"}
    env.update(extra)
    return env


def for_stage(stage: str, behaviour, otherwise):
    """A scripted item that applies `behaviour` only to `stage`'s request (others get `otherwise(body)`)."""
    def item(body):
        if stage_of(body) == stage:
            return behaviour(body) if callable(behaviour) else behaviour
        return otherwise(body)
    return item


def json_reply(data) -> dict:
    import json
    return reply(json.dumps(data, ensure_ascii=False))


def draft_of(source: str, lang: str = "zh", cases: str | None = None):
    """The draft CaseLogic the llm engine shows the model for a source with authored mechanisms."""
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.places.loader import Library
    return OfflineEngine().extract(Library([Path(cases)] if cases else []).load(source).place, lang)
