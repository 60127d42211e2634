"""Markdown: the memo's plain form, for stdout when piped and for `-o memo.md`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .safe_text import md_cell, md_code, md_text, md_url
from .view import build_view

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def view_environment():
    """The jinja2.Environment class for templates that read the view (plain dicts)."""
    import jinja2
    dict_attrs = frozenset(dir(dict))

    class ViewEnvironment(jinja2.Environment):
        # `v.title` is an item of a dict. Jinja tries the attribute first and takes the item after an
        # AttributeError, thousands of times per memo; where dict has no such attribute the item is
        # what jinja would return anyway, so look it up first.
        def getattr(self, obj, attribute):
            if type(obj) is dict and attribute not in dict_attrs:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)
    return ViewEnvironment


@lru_cache(maxsize=1)
def environment():
    import jinja2
    env = view_environment()(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             bytecode_cache=bytecode_cache(), finalize=md_text)  # case text is text
    env.filters["cell"] = md_cell
    env.filters["url"] = md_url
    env.filters["code"] = md_code
    return env


def bytecode_cache():
    """Compiled templates kept in the user cache: compiling the memo template costs more than rendering it."""
    import jinja2

    from ..paths import cache_dir
    path = cache_dir() / "templates"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home still renders, just slower
    return jinja2.FileSystemBytecodeCache(str(path))


def render_markdown(memo, source, target, view: dict | None = None, brief_only: bool = False) -> str:
    """The memo: the decision brief, then the annexes (none with brief_only)."""
    view = dict(view or build_view(memo, source, target), brief_only=brief_only)
    return environment().get_template("memo.md.j2").render(v=view)
