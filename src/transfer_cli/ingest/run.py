"""Running `transfer ingest`: read the documents, draft, and write (or merge into) ID.yaml."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .bulletin import Figure, find_figures
from .draft import render
from .readers import Document, read_document


@dataclass
class Draft:
    path: Path
    text: str
    documents: list[Document]
    figures: list[Figure]
    proposed: list | None = None   # the model's items that passed the quote check; None: no model asked
    dropped: list[str] = field(default_factory=list)
    usage: dict = field(default_factory=dict)


def draft_place(place_id: str, files: list[Path], directory: Path, lang: str = "zh", *,
                engine: str | None = None, llm: dict | None = None, notify=None) -> Draft:
    """Read the documents and write nothing: the draft's text and where it would go.

    With a model configured (and `engine` not "offline"), the model proposes the other fields."""
    from ..places.schema import SLUG
    if not SLUG.match(place_id):
        raise InputError(f"'{place_id}' is not a valid id: use lowercase letters, digits and '-'")
    if lang not in ("zh", "en"):
        raise InputError(f"--lang must be zh or en, not '{lang}'")
    if engine not in (None, "offline", "llm"):
        raise InputError(f"--engine must be offline or llm, not '{engine}'")
    if not files:
        raise InputError("give at least one document to read")
    docs = [read_document(Path(f)) for f in files]
    figures = [f for d in docs for f in find_figures(d)]
    llm = {k: v for k, v in (llm or {}).items() if v is not None}
    settings = None
    if engine != "offline":
        from ..llm.config import resolve
        settings = resolve(**{k: llm[k] for k in ("model", "base_url", "provider") if k in llm})
        if not settings.model:
            if engine == "llm":
                raise InputError("--engine llm needs a model: give --model, set TRANSFER_MODEL, or choose a --provider")
            settings = None
    if settings is None:
        return Draft(directory / f"{place_id}.yaml", render(place_id, docs, figures, lang=lang), docs, figures)
    from .draft import guess_identity
    from .model import propose
    from ..llm.runlog import RunLog
    name = guess_identity(docs)[0] or place_id
    with RunLog().scope("ingest", place_id) if settings.log else nullcontext():  # every request in `transfer logs`
        proposed, dropped, usage = propose(docs, place_id=place_id, place_name=name, lang=lang, settings=settings,
                                           prompts=llm.get("prompts"), no_cache=bool(llm.get("no_cache")),
                                           notify=notify)
    text = render(place_id, docs, figures, lang=lang, proposed=proposed, dropped=dropped,
                  model=f"{settings.model} (prompt ingest_profile.{lang})")
    return Draft(directory / f"{place_id}.yaml", text, docs, figures, proposed, dropped, usage)


def run(place_id: str, files: list[Path], directory: Path, *, lang: str = "zh", merge: bool = False,
        force: bool = False, engine: str | None = None, llm: dict | None = None,
        notify=None) -> tuple[list[str], str]:
    """Write the draft (or merge it into the existing file); return the status lines for the user
    and, for a merge, the diff of the file."""
    from ..files import write_output
    path = directory / f"{place_id}.yaml"
    if path.exists() and not (force or merge):  # before any work: a model's time costs money
        raise InputError(f"{path} exists; --merge updates it without losing your edits, --force overwrites it")
    draft = draft_place(place_id, files, directory, lang, engine=engine, llm=llm, notify=notify)
    lines = [f"{len(draft.figures)} figures found in {len(draft.documents)} document(s)"]
    if draft.proposed is not None:
        lines.append(f"the model proposed {len(draft.proposed) + len(draft.dropped)} item(s): "
                     f"{len(draft.proposed)} kept, {len(draft.dropped)} dropped (quote not in the documents "
                     f"or a figure not in its quote); {draft.usage.get('requests', 0)} request(s)")
        lines += [f"dropped: {d}" for d in draft.dropped]
    if merge and path.exists():
        from .merge import merge_into
        text, report, diff = merge_into(path, draft.text)
        if text is not None:
            write_output(path, text)
        return lines + report, diff
    write_output(path, draft.text)
    todo = draft.text.count('"TODO')
    return lines + [f"wrote {path}: review it, {todo} TODO value(s) to replace, checklist at the end; "
                    f"then `transfer validate {path}`"], ""
