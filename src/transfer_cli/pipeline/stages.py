"""The three stages, as functions from typed inputs to typed artifacts, and the memo they make.

The engine is chosen once by the caller; the stages do not know which one runs them. What
does not need judgement — the context table, the scale differences and the evaluation of
every machine-checkable condition — comes from facts.py, the same for every engine. Every
memo is verified before it is returned.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..errors import InputError
from ..places import schema as S
from ..places.loader import BUNDLED, Loaded, file_hashes
from ..verify.report import verify_memo
from .artifacts import ActionPlan, CaseLogic, FitAssessment, InputRecord, Memo, RunRecord, StageRecord
from .facts import context_rows, evaluate_conditions, scale_differences


def now_stamp() -> str:
    """UTC time of the run; SOURCE_DATE_EPOCH pins it for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        ts = datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC "
                         f"(e.g. 1767225600), not '{epoch}'")
    return ts.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Timer:
    def __init__(self, stage: str, engine) -> None:
        self.record = StageRecord(stage=stage, engine=engine.name)
        self.engine = engine

    def __enter__(self):
        self._t0 = time.perf_counter()
        self._usage0 = dict(getattr(self.engine, "usage", {}) or {})
        return self.record

    def __exit__(self, *exc):
        self.record.seconds = round(time.perf_counter() - self._t0, 4)
        usage = getattr(self.engine, "usage", None)
        if usage:
            for k in ("requests", "cached", "tokens_in", "tokens_out"):
                setattr(self.record, k, usage.get(k, 0) - self._usage0.get(k, 0))
            if usage.get("cost") is not None:
                self.record.cost = round(usage["cost"] - (self._usage0.get("cost") or 0.0), 6)
        return False


def extract_logic(engine, source: S.Place, lang: str, records: list[StageRecord] | None = None) -> CaseLogic:
    with Timer("extract", engine) as rec:
        logic = engine.extract(source, lang)
    if records is not None:
        records.append(rec)
    return logic


def check_fit(engine, logic: CaseLogic, source: S.Place, target: S.Place, lang: str,
              records: list[StageRecord] | None = None) -> FitAssessment:
    if logic.source != source.id:
        raise InputError(f"the logic file is for '{logic.source}', not '{source.id}'")
    with Timer("fit", engine) as rec:
        fit = engine.fit(logic, source, target, lang, evaluate_conditions(logic, target),
                         context_rows(source, target, lang), scale_differences(source, target, lang))
    if records is not None:
        records.append(rec)
    return fit


def draft_actions(engine, logic: CaseLogic, fit: FitAssessment, source: S.Place, target: S.Place, lang: str,
                  records: list[StageRecord] | None = None) -> ActionPlan:
    with Timer("actions", engine) as rec:
        plan = engine.actions(logic, fit, source, target, lang)
    if records is not None:
        records.append(rec)
    return plan


def analyze(engine, source: Loaded, target: Loaded, lang: str, logic: CaseLogic | None = None,
            logic_file: Path | None = None, logic_records: list[StageRecord] | None = None) -> Memo:
    """All three stages for one pair. A given `logic` (edited by hand, or shared by a batch) skips stage 1."""
    records: list[StageRecord] = list(logic_records or [])
    if logic is None:
        logic = extract_logic(engine, source.place, lang, records)
    fit = check_fit(engine, logic, source.place, target.place, lang, records)
    plan = draft_actions(engine, logic, fit, source.place, target.place, lang, records)
    run = RunRecord(tool_version=__version__, engine=engine.name, model=getattr(engine, "model", None),
                    endpoint=getattr(engine, "endpoint", None), run_id=getattr(engine, "run_id", None),
                    created=now_stamp(), lang=lang,
                    inputs=[InputRecord(place=p.place.id, role=role, files=file_hashes(p.files, p.root or BUNDLED))
                            for p, role in ((source, "source"), (target, "target"))],
                    logic_file=logic_file.name if logic_file else None,  # a name: the memo is the same from any folder
                    prompts=list(getattr(engine, "prompt_records", []) or []), stages=records)
    memo = Memo(logic=logic, fit=fit, plan=plan, run=run)
    memo.run.verification = verify_memo(memo, {p.place.id: p.place for p in (source, target)}).as_record()
    return memo
