"""HTML: one self-contained page (inline CSS, no requests) for sharing a memo as a web page."""

from __future__ import annotations

import re
from functools import lru_cache

from .markdown import TEMPLATES, view_environment
from .view import MODE_COLOURS, STATUS_COLOURS, STATUS_SYMBOLS, build_view

_WEB_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def _palette() -> str:
    """CSS variables from the shared palette, so the page's colours are the other formats' colours."""
    rules = [f"--m-{k}: {fg}; --m-{k}-bg: {bg};" for k, (fg, bg) in MODE_COLOURS.items()]
    rules += [f"--s-{k}: {fg}; --s-{k}-bg: {bg};" for k, (fg, bg) in STATUS_COLOURS.items()]
    return ":root { " + " ".join(rules) + " }"


def _is_web_url(value) -> bool:
    # Autoescape stops markup but not a `javascript:` href; only http(s) sources become links.
    return isinstance(value, str) and bool(_WEB_URL.match(value))


@lru_cache(maxsize=1)
def environment():
    import jinja2
    from markupsafe import Markup, escape

    def ticks(text) -> Markup:
        """`code` spans in generated labels; the text is escaped before any tag is added."""
        return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))

    env = view_environment()(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.filters["ticks"] = ticks
    env.tests["web_url"] = _is_web_url
    env.globals.update(symbols=STATUS_SYMBOLS, palette=Markup(_palette()),
                       css=Markup((TEMPLATES / "memo.css").read_text(encoding="utf-8")))
    return env


def render_html(memo, source, target, view: dict | None = None, brief_only: bool = False) -> str:
    view = dict(view or build_view(memo, source, target), brief_only=brief_only)
    return environment().get_template("memo.html.j2").render(v=view)
