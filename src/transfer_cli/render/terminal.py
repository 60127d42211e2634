"""The terminal view: rich rendering for an analyst at a terminal (stdout only when a TTY)."""

from __future__ import annotations


def print_markdown(text: str) -> None:
    from rich.console import Console
    from rich.markdown import Markdown
    Console().print(Markdown(text))


def print_place(place) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..conditions import fmt_number
    from ..schema import text
    lang = place.language
    con = Console()
    con.print(f"[bold]{place.id}[/bold]  {place.names.zh or ''} {place.names.en or ''}  "
              f"({place.admin_level}, {text(place.parent, lang)}, {place.country}); role: {place.role}")
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
