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


def render(memo, source, target, fmt: str) -> str | bytes:
    """The memo in one format; each renderer module is imported only when used."""
    if fmt == "json":
        return memo.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        from .markdown import render_markdown
        return render_markdown(memo, source, target)
    if fmt == "html":
        from .html import render_html
        return render_html(memo, source, target)
    if fmt == "docx":
        from .docx import render_docx
        return render_docx(memo, source, target)
    raise ValueError(fmt)
