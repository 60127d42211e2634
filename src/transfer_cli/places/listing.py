"""`transfer vocabulary`: the closed lists a place file is written in, printed from the code so the
listing cannot drift from what `transfer validate` accepts (docs/place-format.md explains them)."""

from __future__ import annotations

from . import vocabulary as V


def _section(title: str, items: dict[str, str]) -> list[str]:
    return [f"\n# {title}", *(f"{k} — {desc}" for k, desc in items.items())]


def _families(title: str, table: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    return [f"\n# {title} (name — function: members)",
            *(f"{name} — {desc}: {', '.join(members)}" for name, (desc, members) in table.items())]


def vocabulary_text() -> str:
    lines = ["# indicators (key: canonical unit; accepted units — meaning)"]
    for k, (unit, units, desc) in V.INDICATORS.items():
        mark = " [Chinese statistical category: never a KPI abroad]" if k in V.CN_ONLY_INDICATORS else ""
        mark += " [takes `of: TAG`]" if k in V.CLUSTER_INDICATORS else ""
        lines.append(f"{k}: {unit}; {', '.join(V.accepted_units(k))} — {desc}{mark}")
    lines += ["\n# money units (unit: currency × factor; other currencies compare only with a cited exchange rate)",
              *(f"{u}: {cur} × {f:,.0f}" for u, (cur, f) in V.MONEY_UNITS.items())]
    lines += _section("admin levels", V.ADMIN_LEVELS)
    lines += ["\n# level powers (what a level usually holds when a profile records no `powers` entry)"]
    for level in V.ADMIN_LEVELS:
        table = V.LEVEL_POWERS.get(level) or {}
        held = ", ".join(f"{p} {h}" for p, h in table.items()) if table else "no entry: its own system (unknown)"
        lines.append(f"{level}: {held}")
    lines += _section("industry tags", V.INDUSTRY_TAGS)
    lines.append("\n# industry weights\n" + ", ".join(V.INDUSTRY_WEIGHTS) + " (declining counts as absent)")
    lines += _families("industry families", V.INDUSTRY_FAMILIES)
    lines += _section("asset kinds", V.ASSET_KINDS)
    lines += _families("asset families", V.ASSET_FAMILIES)
    lines += _section("powers", V.POWERS)
    lines += _section("problem types (challenges, goals, a mechanism's `addresses`)", V.PROBLEM_TYPES)
    lines += _section("portfolios (an institution's `handles`, a mechanism's `adoption.lead`)", V.PORTFOLIOS)
    lines += _section("instruments (a mechanism's `instrument`, a place's `policies`)", V.INSTRUMENTS)
    lines.append("\n# policy status\n" + ", ".join(V.POLICY_STATUS))
    lines += _section("note domains", V.NOTE_DOMAINS)
    lines.append("\n# factor kinds\n" + ", ".join(V.FACTOR_KINDS))
    lines.append("\n# transfer objects\n" + ", ".join(V.TRANSFER_OBJECTS))
    return "\n".join(lines) + "\n"
