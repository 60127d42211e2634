"""What the listing commands print with --json: plain data, one JSON document on stdout, for scripts.

The shapes are those the text outputs show: a script reads the same facts a person sees.
"""

from __future__ import annotations

import json
import sys


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def library_entries(lib) -> list[dict]:
    """One entry per place in the library; a broken place has `error` (its first problem) instead of counts."""
    from .errors import CaseError
    from .places.loader import BUNDLED
    out = []
    for pid, (path, root) in lib.paths().items():
        origin = "bundled" if root == BUNDLED else str(path)
        try:
            p = lib.load(pid).place
        except CaseError as e:
            out.append({"id": pid, "role": "invalid", "error": e.problems[0], "file": origin})
            continue
        out.append({"id": p.id, "zh": p.names.zh, "en": p.names.en, "aliases": list(p.aliases),
                    "admin_level": p.admin_level, "role": p.role, "notes": len(p.notes),
                    "mechanisms": len(p.mechanisms), "indicators": len(p.indicators), "file": origin})
    return out


def place_data(place) -> dict:
    """The whole profile, as the schema defines it (the place file's fields, validated)."""
    return place.model_dump(mode="json", exclude_none=True)


def matrix_data(matrix, lang: str) -> dict:
    from .batch.compare import cell_text
    return {"source": matrix.source, "lang": lang,
            "targets": [{"id": tid, "name": name, "overall": overall} for tid, name, overall in matrix.targets],
            "mechanisms": [{"id": mid, "name": name,
                            "cells": {tid: ({**matrix.cells[(mid, tid)], "text": cell_text(matrix.cells[(mid, tid)], lang)}
                                            if (mid, tid) in matrix.cells else None)
                                      for tid, _n, _o in matrix.targets}}
                           for mid, name in matrix.mechanisms]}


def doctor_data(settings, probe: tuple[list[str], bool] | None) -> dict:
    from .llm import tokens
    from .llm.config import config_files
    data = {"settings": settings.public(), "sources": dict(settings.sources),
            "config_files": [{"path": str(p), "present": p.is_file()} for p in config_files()],
            "tokenizer": tokens.tokenizer_label(settings.model)}
    if probe is not None:
        lines, ok = probe
        data["probe"] = {"ok": ok, "lines": lines}
    return data


def prompt_entries(prompts) -> list[dict]:
    return [{"id": p.id, "lang": p.lang, "version": p.version, "stage": p.stage, "sha256": p.sha256,
             "origin": p.origin, "description": p.description} for p in prompts]
