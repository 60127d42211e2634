"""Running `transfer ingest`: read the documents, draft, and write (or merge into) ID.yaml."""

from __future__ import annotations

from dataclasses import dataclass
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


def draft_place(place_id: str, files: list[Path], directory: Path, lang: str = "zh") -> Draft:
    """Read the documents and write nothing: the draft's text and where it would go."""
    from ..places.schema import SLUG
    if not SLUG.match(place_id):
        raise InputError(f"'{place_id}' is not a valid id: use lowercase letters, digits and '-'")
    if lang not in ("zh", "en"):
        raise InputError(f"--lang must be zh or en, not '{lang}'")
    if not files:
        raise InputError("give at least one document to read")
    docs = [read_document(Path(f)) for f in files]
    figures = [f for d in docs for f in find_figures(d)]
    return Draft(directory / f"{place_id}.yaml", render(place_id, docs, figures, lang=lang), docs, figures)


def run(place_id: str, files: list[Path], directory: Path, *, lang: str = "zh", merge: bool = False,
        force: bool = False) -> list[str]:
    """Write the draft; return the status lines for the user."""
    from ..files import write_atomic
    draft = draft_place(place_id, files, directory, lang)
    if draft.path.exists() and not (force or merge):
        raise InputError(f"{draft.path} exists; --merge updates it without losing your edits, --force overwrites it")
    if merge and draft.path.exists():
        from .merge import merge_into
        text, lines = merge_into(draft.path, draft.text)
        if text is not None:
            write_atomic(draft.path, text)
        return lines
    write_atomic(draft.path, draft.text)
    todo = draft.text.count('"TODO')
    return [f"wrote {draft.path}: {len(draft.figures)} figures found in {len(draft.documents)} document(s)",
            f"review it: {todo} TODO value(s) to replace, checklist at the end; then `transfer validate {draft.path}`"]
