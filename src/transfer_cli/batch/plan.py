"""The plan of a batch: which (source, target) pairs to run, from the command line or a file."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import InputError


@dataclass(frozen=True)
class Pair:
    source: str
    target: str


def plan_from_args(lib, source: str, targets: Iterable[str], all_targets: bool) -> list[Pair]:
    """Pairs for one source: the named targets, or every other place in the library."""
    src = lib.resolve_id(source)
    names = list(targets)
    if all_targets and names:
        raise InputError("give target places or --all-targets, not both")
    if all_targets:
        tids = [pid for pid in lib.paths() if pid != src]
    else:
        if not names:
            raise InputError("no targets: name target places, or use --all-targets or --plan FILE")
        tids = [lib.resolve_id(n) for n in names]
    pairs = []
    for tid in tids:
        if tid == src:
            raise InputError(f"'{tid}' is the source; a place cannot be its own target")
        pairs.append(Pair(src, tid))
    return list(dict.fromkeys(pairs))  # a target named twice runs once


def read_plan(path: Path, lib) -> list[Pair]:
    """Pairs from a CSV (header source,target) or YAML (list of {source, target}) file.

    Every bad row is reported as `file:line: field: message` (InputError, exit 2).
    """
    from ..inputs import read_text
    if not path.exists():
        raise InputError(f"{path}: plan file not found")
    text = read_text(path).removeprefix("\ufeff")
    rows = _yaml_rows(path, text) if path.suffix.lower() in (".yaml", ".yml") else _csv_rows(path, text)
    problems: list[str] = []
    pairs: list[Pair] = []
    for line, row in rows:
        ids = {}
        for fld in ("source", "target"):
            value = row.get(fld)
            if value is None or not str(value).strip():
                problems.append(f"{path}:{line}: {fld}: missing")
                continue
            try:
                ids[fld] = lib.resolve_id(str(value).strip())
            except InputError as e:
                problems.append(f"{path}:{line}: {fld}: {e}")
        if len(ids) == 2:
            if ids["source"] == ids["target"]:
                problems.append(f"{path}:{line}: target: '{ids['target']}' is also the source")
            else:
                pairs.append(Pair(ids["source"], ids["target"]))
    if not rows and not problems:
        problems.append(f"{path}: the plan has no pairs")
    if problems:
        raise InputError(problems[0], problems)
    return list(dict.fromkeys(pairs))


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict]]:
    reader = csv.reader(text.splitlines())
    try:
        return _csv_read(path, reader)
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV: {e}")


def _csv_read(path: Path, reader) -> list[tuple[int, dict]]:
    header = next(reader, None)
    if header is None:
        return []
    header = [h.strip().lower() for h in header]
    for need in ("source", "target"):
        if need not in header:
            raise InputError(f"{path}:1: {need}: the header must name the columns source,target")
    rows = []
    for i, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        rows.append((i, dict(zip(header, cells))))
    return rows


def _yaml_rows(path: Path, text: str) -> list[tuple[int, dict]]:
    import yaml

    from ..inputs import compose_yaml
    node, loader = compose_yaml(text, str(path))
    loader.dispose()  # the nodes carry the lines; no data needs constructing
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(f"{path}:{node.start_mark.line + 1}: the plan must be a list of {{source, target}}")
    rows = []
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise InputError(f"{path}:{line}: each entry must be a mapping with source and target")
        row = {}
        for k, v in item.value:
            if k.value not in ("source", "target"):
                raise InputError(f"{path}:{k.start_mark.line + 1}: {k.value}: unknown field (use source, target)")
            row[k.value] = v.value if isinstance(v, yaml.ScalarNode) else None
        rows.append((line, row))
    return rows
