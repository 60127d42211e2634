"""Case text made safe for where it goes: a terminal, Word's XML, Markdown, a spreadsheet.

Place files and model replies are data, not markup: a terminal escape, an XML-illegal
character, raw HTML, a `javascript:` link or a spreadsheet formula in them must reach the reader
as text. HTML is escaped by its template (autoescape); everything else goes through here.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (terminal escapes start with ESC or CSI),
# lone surrogates and the two non-characters XML 1.0 forbids
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """The text without control characters: safe on a terminal and in XML."""
    return _CONTROL.sub("", text)


def printable(text) -> str:
    return clean(str(text))


def clean_tree(x):
    """Every string in a tree of dicts, lists and tuples cleaned (the view, before Word gets it)."""
    if isinstance(x, str):
        return clean(x)
    if isinstance(x, dict):
        return {k: clean_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(clean_tree(v) for v in x)
    return x


class Md(str):
    """Markdown already made safe: md_text leaves it as it is."""


def md_text(value) -> Md:
    """Text that Markdown shows as text: no raw HTML or autolinks (`<`), no links or images (`](`)."""
    if isinstance(value, Md):
        return value
    return Md(clean(str(value)).replace("<", "&lt;").replace("](", "]\\("))


def md_cell(value) -> Md:
    """md_text safe inside a Markdown table cell."""
    return Md(md_text(value).replace("|", "\\|").replace("\n", " "))


def md_code(value) -> Md:
    """Text for a code span inside a table cell: shown verbatim, so only backticks, pipes and newlines matter."""
    return Md(clean(str(value)).replace("`", "'").replace("|", "\\|").replace("\n", " "))


def md_url(url) -> Md:
    """A link for http(s) URLs only; any other scheme (javascript:, data:, file:) stays text."""
    url = clean(str(url))
    if re.match(r"(?i)https?://[^\s<>]+$", url):
        return Md(f"<{url}>")
    return md_text(url)


def csv_cell(value):
    """A spreadsheet shows a cell starting with = + - @ (or tab, CR) as a formula: prefix a quote."""
    if isinstance(value, str):
        return clean("'" + value if value.startswith(_FORMULA) else value)
    return value
