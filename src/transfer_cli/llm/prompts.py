"""Prompt templates: versioned Jinja2 files with a front-matter header, bundled or overridden.

A template is `<id>.<lang>.j2`: a YAML header between `---` lines (id, version, stage,
description), then two blocks, `system` and `user`. `--prompts DIR` (or TRANSFER_PROMPTS)
puts DIR's files ahead of the bundled ones, file by file. The run record gets each used
template's id, version and SHA-256, so a memo names the exact prompt that made it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..pipeline.artifacts import PromptRecord
from ..errors import InputError
from ..paths import bundled

BUNDLED = bundled("prompts")
STAGE_PROMPTS = {"extract": "extract_logic", "fit": "check_fit", "actions": "draft_actions"}
# The data block's fences. Data containing the closing fence is defused so it cannot end the block.
DATA_OPEN, DATA_CLOSE = "<<<DATA", "DATA>>>"


@dataclass
class Prompt:
    id: str
    lang: str
    version: str
    stage: str
    description: str
    path: Path
    sha256: str
    body: str

    @property
    def record(self) -> PromptRecord:
        return PromptRecord(id=f"{self.id}.{self.lang}", version=self.version, sha256=self.sha256)

    @property
    def origin(self) -> str:
        return "bundled" if self.path.parent == BUNDLED else str(self.path)

    def compile(self):
        """The compiled template (once per body and process)."""
        return _compiled(self.body)

    def render(self, **variables) -> list[dict]:
        """The chat messages: [system, user]."""
        try:
            tmpl = self.compile()
            ctx = tmpl.new_context({"prompt": self, "data_open": DATA_OPEN, "data_close": DATA_CLOSE,
                                    **variables})
            parts = {name: "".join(tmpl.blocks[name](ctx)).strip() + "\n" for name in ("system", "user")}
        except KeyError as e:
            raise InputError(f"{self.path}: the template needs a {{% block {e.args[0]} %}}")
        except Exception as e:  # a template error names the file, not a traceback
            raise InputError(f"{self.path}: cannot render: {e}")
        return [{"role": "system", "content": parts["system"]}, {"role": "user", "content": parts["user"]}]


def data_block(text: str) -> str:
    return text.replace(DATA_CLOSE, "DATA> >>")


def _env():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment
    return SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


@lru_cache(maxsize=64)
def _compiled(body: str):
    # compiling a template costs ~10 ms, rendering ~1 ms: a batch renders the same few thousands of times
    # (a compiled jinja template is safe to render from several threads)
    return _env().from_string(body)


def _parse(path: Path) -> Prompt:
    # the file is read every time (an edited override counts), parsed only when its bytes are new
    from ..inputs import read_bytes
    return _parse_bytes(path, read_bytes(path))


@lru_cache(maxsize=64)
def _parse_bytes(path: Path, raw: bytes) -> Prompt:
    from ..inputs import load_yaml
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8")
    if not text.startswith("---"):
        raise InputError(f"{path}: a prompt starts with a front-matter header between '---' lines")
    _, header, body = text.split("---", 2) if text.count("---") >= 2 else ("", "", "")
    meta = load_yaml(header, str(path)) or {}
    if not isinstance(meta, dict):
        raise InputError(f"{path}: the front matter must be a mapping of id, version, stage, description")
    missing = [k for k in ("id", "version", "stage", "description") if k not in meta]
    if missing:
        raise InputError(f"{path}: front matter lacks {', '.join(missing)}")
    stem_id, _, lang = path.name[:-len(".j2")].rpartition(".")
    if meta["id"] != stem_id or lang not in ("zh", "en"):
        raise InputError(f"{path}: name it <id>.<zh|en>.j2 with the id of its header ('{meta['id']}')")
    return Prompt(id=str(meta["id"]), lang=lang, version=str(meta["version"]), stage=str(meta["stage"]),
                  description=str(meta["description"]), path=path, sha256=hashlib.sha256(raw).hexdigest(),
                  body=body)


class PromptSet:
    def __init__(self, override: Path | None = None):
        override = override or (Path(os.environ["TRANSFER_PROMPTS"]) if os.environ.get("TRANSFER_PROMPTS") else None)
        if override is not None and not override.is_dir():
            raise InputError(f"--prompts {override}: no such directory")
        self.dirs = ([override] if override else []) + [BUNDLED]
        # read once per set: every prompt of a run (a batch's thousands) comes from the same file version
        self._got: dict[tuple[str, str], Prompt] = {}

    def get(self, prompt_id: str, lang: str) -> Prompt:
        got = self._got.get((prompt_id, lang))
        if got is not None:
            return got
        for d in self.dirs:
            path = d / f"{prompt_id}.{lang}.j2"
            if path.is_file():
                got = self._got[(prompt_id, lang)] = _parse(path)
                return got
        raise InputError(f"no prompt '{prompt_id}' in {lang} (looked in {', '.join(map(str, self.dirs))})")

    def for_stage(self, stage: str, lang: str) -> Prompt:
        return self.get(STAGE_PROMPTS[stage], lang)

    def all(self) -> list[Prompt]:
        seen: dict[str, Prompt] = {}
        for d in self.dirs:
            for path in sorted(d.glob("*.j2")):
                if path.name not in seen:
                    seen[path.name] = _parse(path)
        return sorted(seen.values(), key=lambda p: (list(STAGE_PROMPTS.values()).index(p.id)
                                                    if p.id in STAGE_PROMPTS.values() else 9, p.id, p.lang))
