"""`transfer ingest --merge`: add what a profile lacks, keep everything a person wrote.

The existing file is edited as text, not rewritten from data, so its comments, order and layout
stay: new indicators, list items and sources are inserted at the end of their blocks. What the
documents say differently from the file is reported, never applied. The result is parsed back
and compared with what was intended before anything is written.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from ..errors import InputError

LISTS = {"industries": "tag", "assets": "name", "challenges": "text", "goals": "text",
         "institutions": "name", "notes": "text"}


def _blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (its line, the line after its block)."""
    starts = [(i, m.group(1)) for i, line in enumerate(lines) for m in [re.match(r"^([A-Za-z_]\w*):", line)] if m]
    out = {}
    for n, (i, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        while end > i + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1  # trailing blank lines and comments belong to what follows
        out[key] = (i, end)
    return out


def _insert(lines: list[str], key: str, new: list[str]) -> list[str]:
    """`new` (indented entries) added to the block of top-level `key`, created at the end if absent."""
    blocks = _blocks(lines)
    if key not in blocks:
        return lines + [f"{key}:", *new]
    start, end = blocks[key]
    head = lines[start]
    value = head.split(":", 1)[1].split("#", 1)[0].strip()
    if value in ("{}", "[]"):  # an empty flow collection becomes a block
        return lines[:start] + [f"{key}:"] + new + lines[start + 1:]
    if value:
        raise InputError(f"cannot merge into '{key}:' written on one line ({head.strip()[:60]}); "
                         "write it as a block, one entry per line, and merge again")
    return lines[:end] + new + lines[end:]


def _entries(draft_lines: list[str], key: str) -> list[list[str]]:
    """The draft's entries under top-level `key`: each entry's lines (with its comment lines)."""
    blocks = _blocks(draft_lines)
    if key not in blocks:
        return []
    start, end = blocks[key]
    entries: list[list[str]] = []
    for line in draft_lines[start + 1:end]:
        if re.match(r"^  (- |[A-Za-z_])", line):
            entries.append([line])
        elif entries and line.startswith("    "):
            entries[-1].append(line)
    return entries


def merge_into(path: Path, draft_text: str) -> tuple[str | None, list[str], str]:
    """(the merged text or None when nothing changes, status lines, a unified diff)."""
    import yaml

    from ..inputs import load_yaml, read_text
    old_text = read_text(path)
    old = load_yaml(old_text, str(path)) or {}
    if not isinstance(old, dict):
        raise InputError(f"{path}: cannot merge: the file is not a mapping of fields")
    draft = yaml.safe_load(draft_text)
    draft_lines = draft_text.splitlines()
    lines = old_text.splitlines()
    report: list[str] = []
    needed: set[str] = set()
    expected = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in old.items()}

    have = old.get("indicators") or {}
    new_ind = []
    for entry in _entries(draft_lines, "indicators"):
        key = entry[0].split(":", 1)[0].strip()
        mine = draft["indicators"][key]
        if key in have:
            yours = have[key] or {}
            if (yours.get("value"), yours.get("year")) != (mine["value"], mine["year"]):
                report.append(f"kept yours: indicators.{key} = {yours.get('value')} {yours.get('unit')} "
                              f"({yours.get('year')}); the documents say {mine['value']} {mine['unit']} "
                              f"({mine['year']}, {mine['source']})")
            continue
        new_ind += [x for x in entry if not x.lstrip().startswith("#")]
        needed.add(mine["source"])
        expected.setdefault("indicators", {})
        expected["indicators"] = {**(expected["indicators"] or {}), key: mine}
        report.append(f"added: indicators.{key} = {mine['value']} {mine['unit']} ({mine['year']})")
    if new_ind:
        lines = _insert(lines, "indicators", new_ind)

    for section, ident in LISTS.items():
        known = {str(x.get(ident)) for x in (old.get(section) or []) if isinstance(x, dict)}
        added = []
        for entry, item in zip(_entries(draft_lines, section), draft.get(section) or []):
            if str(item.get(ident)) in known:
                continue
            added += entry
            needed.update(item.get("sources") or [])
            expected[section] = [*(expected.get(section) or []), item]
            report.append(f"added: {section}: {item.get(ident)}")
        if added:
            lines = _insert(lines, section, added)

    old_sources = old.get("sources") or {}
    new_src = [line for line in (e[0] for e in _entries(draft_lines, "sources"))
               if line.split(":", 1)[0].strip() in needed - set(old_sources)]
    if new_src:
        lines = _insert(lines, "sources", new_src)
        expected["sources"] = {**old_sources, **{k: draft["sources"][k] for k in needed - set(old_sources)}}

    if not new_ind and not new_src and not any(r.startswith("added") for r in report):
        return None, report + [f"{path}: nothing to add; left as it was"], ""
    new_text = "\n".join(lines) + "\n"
    try:
        same = yaml.safe_load(new_text) == expected  # the text edit must mean exactly the intended data
    except yaml.YAMLError:
        same = False
    if not same:
        raise InputError(f"{path}: the merge would change more than it adds (an unusual layout); "
                         "nothing written — merge by hand from a fresh draft")
    diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                        f"{path} (yours)", f"{path} (merged)"))
    return new_text, report + [f"merged into {path}: your values kept, additions shown in the diff"], diff
