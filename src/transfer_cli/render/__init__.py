"""One renderer per format, all from the same view (render/view.py)."""

from __future__ import annotations

FORMATS = ("md", "json", "html", "docx")


def format_for(path, explicit: str | None = None) -> str:
    """The output format: the --format flag, else the file extension, else Markdown."""
    from ..errors import InputError
    fmt = (explicit or (path.suffix.lstrip(".").lower() if path is not None else "") or "md")
    fmt = {"markdown": "md"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    return fmt


def hint_full(lang: str) -> str:
    from ..pipeline.i18n import t
    return t(lang, "hint_full")


def render(memo, source, target, fmt: str, brief_only: bool = False) -> str | bytes:
    """The memo in one format: the decision brief, then the annexes (brief_only: the brief alone).
    JSON is the artifacts with the brief as data. Each renderer module is imported only when used."""
    if fmt == "json":
        from .view import build_view
        brief = build_view(memo, source, target)["brief"]
        return memo.model_copy(update={"brief": brief}).model_dump_json(indent=2) + "\n"
    if fmt == "md":
        from .markdown import render_markdown
        return render_markdown(memo, source, target, brief_only=brief_only)
    if fmt == "html":
        from .html import render_html
        return render_html(memo, source, target, brief_only=brief_only)
    if fmt == "docx":
        from .docx import render_docx
        return render_docx(memo, source, target, brief_only=brief_only)
    raise ValueError(fmt)
