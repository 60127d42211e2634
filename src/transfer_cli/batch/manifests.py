"""A batch's manifests: the commit marker written after each pair's outputs.

A manifest records the pair's input hashes, the engine/model/prompt versions and the formats,
so a re-run skips the pairs that are complete and unchanged and redoes the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..places.loader import _place_files, file_hashes
from .plan import Pair

MANIFEST_VERSION = 1
EXT = {"md": "md", "json": "json", "html": "html", "docx": "docx"}


def engine_key(engine) -> dict:
    """What, besides the inputs, decides a memo's content: engine, model, endpoint, prompts, tool."""
    prompts = getattr(engine, "prompt_records", None) or []
    return {"engine": engine.name, "model": getattr(engine, "model", None),
            "endpoint": getattr(engine, "endpoint", None),
            "prompts": [p.model_dump() if hasattr(p, "model_dump") else p for p in prompts],
            "tool_version": __version__}


def place_hashes(lib, place_id: str) -> dict[str, str]:
    """The hashes a memo's run record keeps for a place, without parsing the place."""
    path, _root = lib.paths()[place_id]
    return file_hashes(f for f in _place_files(path) if f.is_file())


def _same_files(a, b: dict) -> bool:
    # compare the hashes, not the shown paths: those depend on the working directory
    if not isinstance(a, dict) or not all(isinstance(v, str) for v in a.values()):
        return False  # a damaged manifest: the work is redone
    return sorted(a.values()) == sorted(b.values())


def pair_dir(out: Path, pair: Pair) -> Path:
    return out / pair.source


def manifest_path(out: Path, pair: Pair) -> Path:
    return pair_dir(out, pair) / f"{pair.target}.manifest.json"


def output_path(out: Path, pair: Pair, fmt: str) -> Path:
    return pair_dir(out, pair) / f"{pair.target}.{EXT[fmt]}"


def read_json(path: Path) -> dict | None:
    """A JSON object from a file, or None when there is none; a damaged one is set aside."""
    from ..files import set_aside
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    except (ValueError, RecursionError) as e:
        set_aside(path, type(e).__name__)
        return None
    if not isinstance(data, dict):
        set_aside(path, "not a JSON object")
        return None
    return data


def read_manifest(path: Path) -> dict | None:
    """A manifest, or None when there is none (the pair is redone); a damaged one is set aside."""
    data = read_json(path)
    return data if data and data.get("version") == MANIFEST_VERSION else None


def is_current(man: dict | None, out: Path, pair: Pair, lang: str, ekey: dict, formats: list[str],
               src_hashes: dict, tgt_hashes: dict) -> bool:
    if not man or man.get("status") != "ok" or man.get("lang") != lang or man.get("engine") != ekey:
        return False
    inputs = man.get("inputs")
    if not isinstance(inputs, dict) or not (_same_files(inputs.get("source"), src_hashes)
                                            and _same_files(inputs.get("target"), tgt_hashes)):
        return False
    if not isinstance(man.get("formats"), list) or not set(formats) <= set(map(str, man["formats"])):
        return False
    return all(output_path(out, pair, f).is_file() for f in formats)
