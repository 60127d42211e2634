"""The terminal view: rich rendering for an analyst at a terminal (stdout only when a TTY).

Consoles here have markup off: case text with `[link=...]` or `[bold]` in it is text, and rich's
Text drops control characters, so neither styles nor escape sequences come from a place file.
"""

from __future__ import annotations

import re
import sys


def print_markdown(text: str) -> None:
    from rich.console import Console
    from rich.markdown import Markdown
    Console(markup=False).print(Markdown(text))


def print_memo(memo, source, target, brief_only: bool = False, console=None) -> None:
    """The Markdown memo rendered by rich, with the fit matrix as a colour-coded table.

    The text is the Markdown renderer's own output, from the same view, so the terminal shows
    exactly the sections of every other format; only the matrix section is drawn differently.
    """
    from rich.console import Console
    from rich.markdown import Markdown

    from .markdown import render_markdown
    from .view import build_view
    view = build_view(memo, source, target)
    text = render_markdown(memo, source, target, view=view, brief_only=brief_only)
    con = console or Console(markup=False)
    keys = [s["key"] for s in view["sections"] if s["brief"] or not brief_only]
    chunks = re.split(r"(?m)^(?=## )", text)  # the title block, then one chunk per section
    if len(chunks) != len(keys) + 1:  # a template that no longer matches: plain rich Markdown
        con.print(Markdown(text))
        return
    for key, chunk in zip(("title", *keys), chunks):
        if key == "fit_matrix":  # the Markdown table drawn as a coloured one; the text around it as is
            con.print(Markdown(chunk.split("\n", 1)[0]))
            con.print(Markdown(view["overall_line"]))
            con.print(fit_table(view))
            rest = chunk.find("\n### ")
            if rest >= 0:
                con.print(Markdown(chunk[rest:]))
        else:
            con.print(Markdown(chunk))


def fit_table(view: dict):
    """The fit matrix as a rich Table: verdicts in their mode colour, one status symbol per factor."""
    from rich.table import Table
    from rich.text import Text

    from .view import MODE_COLOURS, STATUS_COLOURS, STATUS_SYMBOLS
    L = view["L"]
    table = Table(show_lines=False, header_style="bold")
    for name, kw in ((L["mechanism"], {"ratio": 3, "overflow": "fold"}), (L["verdict"], {"ratio": 2, "overflow": "fold"}), (L["score"], {"justify": "right"}),
                     (view["matrix_header"][0], {"justify": "center"}), (view["matrix_header"][1], {"justify": "center"}),
                     (L["factors"], {})):
        table.add_column(name, **kw)
    for r in view["matrix"]:
        strip = Text()
        for x in r["cells"]:
            strip.append(STATUS_SYMBOLS[x["status"]], style=STATUS_COLOURS[x["status"]][0] + (" bold" if x["necessary"] else ""))
        table.add_row(f"{r['id']} {r['name']}", Text(r["mode_label"], style=f"bold {MODE_COLOURS[r['mode']][0]}"),
                      str(r["score"]), r["necessary_text"], r["helpful_text"], strip)
    legend = Text("  ".join(f"{STATUS_SYMBOLS[k]} {L[k]}" for k in ("present", "analog", "partial", "absent", "unknown")),
                  style="dim")
    table.caption = legend
    return table


def print_place(place) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..places.conditions import fmt_number
    from ..places.schema import text
    lang = place.language
    from rich.text import Text
    con = Console(markup=False)
    con.print(Text.assemble((place.id, "bold"), f"  {place.names.zh or ''} {place.names.en or ''}  "
              f"({place.admin_level}, {text(place.parent, lang)}, {place.country}); role: {place.role}"))
    if place.aliases:
        con.print("aliases: " + ", ".join(place.aliases))
    if place.summary:
        con.print(text(place.summary, lang))
    t = Table(title="indicators")
    for c in ("key", "value", "unit", "year", "source"):
        t.add_column(c)
    for k, i in place.indicators.items():
        t.add_row(k, fmt_number(i.value), i.unit, str(i.year), i.source + (" ⚠" if i.conflict else ""))
    con.print(t)
    con.print("industries: " + "; ".join(f"{i.tag} ({i.weight})" for i in place.industries))
    con.print("assets: " + "; ".join(f"{a.kind}: {text(a.name, lang)}" for a in place.assets))
    if place.powers:
        con.print("powers: " + "; ".join(f"{p.power}={p.holds}" for p in place.powers))
    con.print(f"notes: {len(place.notes)}; sources: {len(place.sources)}")
    for m in place.mechanisms:
        nec = sum(f.necessity == "necessary" for f in m.support_factors)
        con.print(f"  {m.id} {text(m.name, lang)} [{m.phase}] — {len(m.evidence)} notes, "
                  f"{len(m.support_factors)} factors ({nec} necessary){' ⚠ hazard' if m.hazard else ''}")


def print_library(entries: list[dict]) -> None:
    """The case library (cli_json.library_entries) as a table: id, names, admin level, role, counts, file."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="transfer case library")
    cols = ("id", "zh", "en", "admin_level", "role", "notes", "mechanisms", "indicators", "file")
    for col in cols:
        table.add_column(col.replace("_", " "))
    for e in entries:
        cells = [str(e.get(c) if e.get(c) is not None else "") for c in cols]
        table.add_row(*(cells[:-1] + [e.get("error", cells[-1])]))
    Console(width=200 if not sys.stdout.isatty() else None, markup=False).print(table)

