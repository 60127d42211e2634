"""The three stages, as functions from typed inputs to typed artifacts.

The engine is chosen once by the caller; the stages do not know which one runs them. What
does not need judgement — the context table, the scale differences and the evaluation of
every machine-checkable condition — is computed here, the same for every engine.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from pydantic import TypeAdapter

from .. import __version__
from ..places import schema as S
from .artifacts import (ActionPlan, CaseLogic, Claim, ContextRow, FitAssessment, InputRecord, Memo,
                        RunRecord, StageRecord)
from ..places.conditions import Evaluation, evaluate, fmt_number
from ..errors import InputError
from .i18n import admin_level, indicator_name, t
from ..identity import ByIdentity
from ..places.loader import Loaded, _display

CONTEXT_KEYS = ("area", "population_resident", "population_registered", "population_density", "gdp",
                "gdp_per_capita", "gdp_growth", "primary_share", "secondary_share", "tertiary_share",
                "fiscal_revenue_general_budget", "fiscal_revenue_total", "retail_sales", "urbanisation_rate",
                "ageing_60plus_share", "ageing_65plus_share", "tourism_visitors", "cluster_output")
SCALE_KEYS = ("area", "population_resident", "population_density", "secondary_share")
_COND = TypeAdapter(S.Condition)


def _value(place: S.Place, key: str) -> tuple[str | None, str | None]:
    ind = place.indicators.get(key)
    if ind is None:
        return None, None
    return f"{fmt_number(ind.value)} {ind.unit} ({ind.year})", f"{place.id}:indicators.{key}"


def context_rows(source: S.Place, target: S.Place, lang: str) -> list[ContextRow]:
    rows = [ContextRow(key="admin_level", label=t(lang, "ctx_level"),
                       source_value=admin_level(lang, source.admin_level), source_cite=f"{source.id}:admin_level",
                       target_value=admin_level(lang, target.admin_level), target_cite=f"{target.id}:admin_level")]
    if source.parent or target.parent:
        rows.append(ContextRow(key="parent", label=t(lang, "ctx_parent"),
                               source_value=S.text(source.parent, lang) or None,
                               source_cite=f"{source.id}:parent" if source.parent else None,
                               target_value=S.text(target.parent, lang) or None,
                               target_cite=f"{target.id}:parent" if target.parent else None))
    for key in CONTEXT_KEYS:
        sv, sc = _value(source, key)
        tv, tc = _value(target, key)
        if sv or tv:
            rows.append(ContextRow(key=key, label=indicator_name(lang, key), source_value=sv, source_cite=sc,
                                   target_value=tv, target_cite=tc))
    return rows


def scale_differences(source: S.Place, target: S.Place, lang: str) -> list[Claim]:
    sname, tname = source.name(lang), target.name(lang)
    cites = [f"{source.id}:admin_level", f"{target.id}:admin_level"]
    if source.admin_level == target.admin_level:
        out = [Claim(text=t(lang, "scale_admin_same", level=admin_level(lang, source.admin_level)), cites=cites)]
    else:
        out = [Claim(text=t(lang, "scale_admin", source=sname, target=tname,
                             source_level=admin_level(lang, source.admin_level),
                             target_level=admin_level(lang, target.admin_level)), cites=cites)]
    for key in SCALE_KEYS:
        (sv, sc), (tv, tc) = _value(source, key), _value(target, key)
        label = indicator_name(lang, key)
        if sv and tv:
            out.append(Claim(text=t(lang, "scale_row", label=label, source=sname, sv=sv, target=tname, tv=tv),
                             cites=[sc, tc]))
        elif sv or tv:
            lacking = tname if sv else sname
            out.append(Claim(text=t(lang, "scale_missing", label=label, place=lacking), cites=[sc or tc]))
    return out


def evaluate_conditions(logic: CaseLogic, target: S.Place) -> dict[tuple[str, str], Evaluation]:
    """(mechanism id, factor id) -> evaluation, for every factor with a condition.

    Kept per logic and target: the fit stage and the verifier both ask (the verifier re-evaluates
    rather than trusting the fit's `computed`, and this is still that evaluation); the parsed
    conditions are kept per logic, which a batch shares across its targets."""
    def run() -> dict:
        conds = _CONDITIONS.get((logic,), lambda: [((m.id, sf.id), _COND.validate_python(sf.condition))
                                                   for m in logic.mechanisms for sf in m.support_factors
                                                   if sf.condition is not None])
        return {key: evaluate(cond, target) for key, cond in conds}
    return dict(_EVALUATIONS.get((logic, target), run))


_CONDITIONS = ByIdentity()
_EVALUATIONS = ByIdentity(size=2)


def file_hashes(loaded: Loaded) -> dict[str, str]:
    return {_display(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in loaded.files}


def now_stamp() -> str:
    """UTC time of the run; SOURCE_DATE_EPOCH pins it for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    ts = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
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
                    endpoint=getattr(engine, "endpoint", None), created=now_stamp(), lang=lang,
                    inputs=[InputRecord(place=source.place.id, role="source", files=file_hashes(source)),
                            InputRecord(place=target.place.id, role="target", files=file_hashes(target))],
                    logic_file=_display(logic_file) if logic_file else None,
                    prompts=list(getattr(engine, "prompt_records", []) or []), stages=records)
    memo = Memo(logic=logic, fit=fit, plan=plan, run=run)
    from ..verify.checks import verify_memo  # verify imports this module: keep the import here
    memo.run.verification = verify_memo(memo, {p.place.id: p.place for p in (source, target)}).as_record()
    return memo
