"""Checks made before any work starts: a request that cannot succeed is refused at once (exit 2),
not after a run that may have cost model calls."""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..errors import InputError, validation_problems
from ..places import schema as S
from ..places import vocabulary as V
from .artifacts import CaseLogic

BINARY_FORMATS = ("docx",)  # cannot go to a terminal: they need -o FILE


def check_pair(source: str, target: str, allow_same: bool) -> None:
    if source == target and not allow_same:
        raise InputError(f"'{source}' is both source and target: a place learning from itself is no transfer "
                         "(--allow-same runs it anyway)")


def check_output(fmt: str, output: Path | None) -> None:
    if output is None and fmt in BINARY_FORMATS:
        raise InputError(f"the {fmt} format is binary; give -o FILE")


def check_logic(logic: CaseLogic, source: S.Place, path: Path) -> None:
    """A hand-edited CaseLogic, checked as a place file's mechanisms are (vocabulary, the condition
    language) and its citations against the source, before stage 2 uses it. One line per problem."""
    from ..verify.report import check_artifact
    problems = []
    if logic.source != source.id:
        problems.append(f"{path}: source: the logic is for '{logic.source}', not '{source.id}'")
    for i, m in enumerate(logic.mechanisms):
        where = f"{path}: mechanisms[{i}]"
        problems += _vocab(f"{where}.what_is_transferred", [m.what_is_transferred], V.TRANSFER_OBJECTS,
                           "transfer object")
        problems += _vocab(f"{where}.lever_powers", m.lever_powers, V.POWERS, "power")
        problems += _vocab(f"{where}.kpis", m.kpis, V.INDICATORS, "indicator key")
        for j, f in enumerate(m.support_factors):
            spec = f.model_dump(include={"id", "name", "kind", "necessity", "condition", "analog"}, exclude_none=True)
            try:
                _FACTOR.validate_python(spec)
            except ValidationError as e:
                problems += validation_problems(f"{where}.support_factors[{j}]", e, sep=".")
    if not problems:  # citations only once the shape is right: the checker reads conditions
        problems += [f"{path}: {f.where.removeprefix('logic.')}: {f.message}"
                     for f in check_artifact(logic, {source.id: source}) if f.kind == "citation"]
    if problems:
        raise InputError(problems[0], problems)


_FACTOR = TypeAdapter(S.SupportFactor)


def _vocab(where: str, values: list[str], known, what: str) -> list[str]:
    out = []
    for v in values:
        if v not in known:
            hint = V.nearest(v, known)
            out.append(f"{where}: unknown {what} '{v}'" + (f"; did you mean '{hint}'?" if hint else ""))
    return out
