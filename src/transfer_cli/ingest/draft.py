"""The draft place file: figures with their sources, what is unknown, conflicts, and a checklist.

Written as text, not dumped, so that it reads like a hand-written profile with comments where a
reviewer needs them. Whatever the tool cannot know (the admin level, a conflicting figure, a
year no sentence gives) is a `TODO …` value: the loader refuses a file that still holds one, so
an unreviewed draft never validates silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..places import vocabulary as V
from .bulletin import STANDARD, UNMAPPED, Figure, is_known_unit
from .readers import Document, Passage


@dataclass
class Entry:
    """One indicator across the documents: the figure written, the ones that agree, the ones that do not."""
    key: str
    chosen: Figure
    agreeing: list[Figure] = field(default_factory=list)
    conflicting: list[Figure] = field(default_factory=list)
    older: list[Figure] = field(default_factory=list)


def _decimals(written: str) -> int:
    return len(written.split(".")[1]) if "." in written else 0


def agree(a: Figure, b: Figure) -> bool:
    """Two figures say the same when they match at the precision of the rougher one
    (a work report's 612.5亿元 and the bulletin's 612.48亿元)."""
    ca, cb = V.canonical(a.key, a.value, a.unit), V.canonical(b.key, b.value, b.unit)
    if ca is None or cb is None:
        return a.value == b.value and a.unit == b.unit
    tol = max(0.5 * 10 ** -_decimals(f.written) * (c / f.value if f.value else 1)
              for f, c in ((a, ca), (b, cb)))
    return abs(ca - cb) <= tol + 1e-9


def collect(figures: list[Figure]) -> dict[str, Entry]:
    """Figures by key: the latest year's, the most precise of those that agree, conflicts kept."""
    out: dict[str, Entry] = {}
    by_key: dict[str, list[Figure]] = {}
    for f in figures:
        if is_known_unit(f):
            by_key.setdefault(f.key, []).append(f)
    for key, figs in by_key.items():
        years = [f.year for f in figs if f.year is not None]
        latest = max(years) if years else None
        current = [f for f in figs if f.year == latest]
        older = [f for f in figs if f.year != latest]
        best = max(current, key=lambda f: _decimals(f.written))  # first of the most precise
        entry = Entry(key, best, older=older)
        for f in current:
            if f is not best:
                (entry.agreeing if agree(f, best) else entry.conflicting).append(f)
        out[key] = entry
    return out


def _q(s: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def _slug(text: str, n: int) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s if s and s[0].isalpha() else f"doc{n}" + (f"-{s}" if s else "")


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


@dataclass
class Sources:
    """Source ids per document and location: the memo's evidence appendix shows the page."""
    docs: list[Document]
    used: dict[str, str] = field(default_factory=dict)  # id -> YAML flow mapping

    def __post_init__(self):
        # the file name with its extension: a bulletin read as .txt and as .pdf are two sources
        self._slugs: dict[str, str] = {}
        for i, d in enumerate(self.docs, 1):
            slug = _slug(d.name, i)
            self._slugs[d.name] = slug if slug not in self._slugs.values() else f"{slug}-{i}"
        self._titles = {d.name: d.title for d in self.docs}

    def cite(self, f: Figure) -> str:
        return self.cite_passage(f.passage)

    def cite_passage(self, p: Passage) -> str:
        sid = self._slugs[p.doc] + (f"-p{p.page}" if p.page is not None else f"-para{p.para}")
        if sid not in self.used:
            title = f"{self._titles[p.doc]} ({p.doc}, {p.loc})"
            self.used[sid] = f"{{title: {_q(title)}, note: {_q('file ' + p.doc + ', ' + p.loc)}}}"
        return sid


def _where(f: Figure) -> str:
    return f"{f.doc} {f.passage.loc}"


def guess_identity(docs: list[Document]) -> tuple[str | None, str | None, str | None]:
    """(zh name, admin level, parent) as the documents' titles suggest; all three go to review."""
    for d in docs:
        m = re.match(r"\s*(\S{1,10}?(?:区|县|市|旗))(?:19|20)\d\d年", d.title)
        if not m:
            continue
        name = m.group(1)
        level = {"区": "municipal_district", "县": "county", "旗": "county"}.get(name[-1], "county_level_city")
        parent = next((pm.group(1) for t in d.year_hint for pm in [re.search(r"(\S{2,6}?[市州盟])" + re.escape(name), t)]
                       if pm), None)
        return name, level, parent
    return None, None, None


def indicator_lines(entries: dict[str, Entry], sources: Sources) -> list[str]:
    lines = []
    for key in sorted(entries, key=lambda k: list(V.INDICATORS).index(k)):
        e = entries[key]
        f = e.chosen
        sid = sources.cite(f)
        for other in e.agreeing + e.conflicting:
            sources.cite(other)
        year = str(f.year) if f.year is not None else _q("TODO year: the document does not say")
        value = _number(f.value)
        extra = ""
        if e.conflicting:
            options = " | ".join(f"{x.written}{x.unit} ({_where(x)})" for x in [f, *e.conflicting])
            value = _q(f"TODO pick one: {options}")
            extra = f", conflict: {_q('documents disagree: ' + options)}"
        note = f"«{f.quote}»"
        lines.append(f"  {key}: {{value: {value}, unit: {_q(f.unit)}, year: {year}, source: {sid}{extra}, "
                     f"note: {_q(note)}}}")
        if e.agreeing:
            lines.append(f"    # also in {', '.join(sorted({_where(x) for x in e.agreeing}))}")
        for x in e.older:
            lines.append(f"    # earlier: {x.written}{x.unit} ({x.year}) in {_where(x)}")
    return lines


def render(place_id: str, docs: list[Document], figures: list[Figure], *, lang: str = "zh",
           proposed: list | None = None, dropped: list[str] | None = None, model: str | None = None) -> str:
    """The draft as YAML text. `proposed`: the model's items that passed the quote check (None:
    no model was asked); `dropped`: a line for each item the check removed; `model`: who proposed."""
    entries = collect(figures)
    sources = Sources(docs)
    name, level, parent = guess_identity(docs)
    from .bulletin import reference_year
    reference = next((str(y) for y in map(reference_year, docs) if y), None)
    conflicts = [e for e in entries.values() if e.conflicting]
    no_year = [k for k, e in entries.items() if e.chosen.year is None]
    unknown = [k for k in STANDARD if k not in entries]
    unmapped = [f for f in figures if f.key in UNMAPPED]
    odd_units = [f for f in figures if f.key not in UNMAPPED and not is_known_unit(f)]
    out = [
        f"# Draft place file written by `transfer ingest` from {len(docs)} document(s):",
        *[f"#   {d.name} — {d.title}" for d in docs],
        "# Every value cites the document, page or paragraph and sentence it came from. The file does",
        "# not validate until each TODO is replaced: see the review checklist at the end.",
        f"id: {place_id}",
        f"names: {{zh: {_q(name or 'TODO 中文名')}}}" + ("" if name else "   # the documents do not say"),
        f"admin_level: {_q('TODO ' + (level + '?' if level else 'admin level'))}   "
        f"# one of: {', '.join(V.ADMIN_LEVELS)}",
        f"parent: {_q('TODO ' + (parent + '?' if parent else '上级'))}   # the city or province above; delete if none",
        "country: CN",
        f"language: {lang}",
        "",
    ]
    rows = indicator_lines(entries, sources)
    out += ["indicators:", *rows] if rows else ["indicators: {}"]
    if unknown:
        out += ["# not found in the documents (unknown, not absent; add them from another source):",
                *[f"#   {k} — {V.INDICATORS[k][2]}" for k in unknown]]
    if unmapped or odd_units:
        out.append("# found, but no indicator key or unit for them in the vocabulary (left out):")
        out += [f"#   {UNMAPPED.get(f.key, f.key)}: {f.written}{f.unit} ({f.year}) — {_where(f)}"
                for f in unmapped + odd_units]
    out.append("")
    if proposed is None:
        out += ["# industries, assets, challenges, goals and institutions are unknown: the documents",
                "# were read for figures only. With a model configured, `transfer ingest` drafts them.",
                "industries: []", "assets: []", "challenges: []"]
    else:
        out += [f"# proposed by {model}: each item's quote (in the comment after it) was found in the",
                "# document its source names; items whose quote was not are listed in the checklist.",
                *model_lines(proposed, sources, reference or "TODO period")]
    out += ["", "sources:", *[f"  {sid}: {m}" for sid, m in sources.used.items()]]
    if not sources.used:
        out[-1:] = ["sources:", f"  todo: {{title: {_q('TODO the document this profile comes from')}}}"]
    out += ["", *checklist(conflicts, no_year, unknown, dropped or [])]
    return "\n".join(out) + "\n"


def checklist(conflicts: list[Entry], no_year: list[str], unknown: list[str], dropped: list[str]) -> list[str]:
    items = ["names, admin_level and parent: confirm or replace the TODO values (the level decides "
             "which powers the analysis assumes)",
             "each indicator: read the quoted sentence in the document; the year is the year the figure "
             "refers to, not the year of publication"]
    items += [f"conflict in {e.key}: the documents disagree; pick the figure to use (keep `conflict:` "
              "so the memo says so)" for e in conflicts]
    items += [f"{k}: no year in the document; write the year the figure refers to" for k in no_year]
    if unknown:
        items.append(f"{len(unknown)} standard figure(s) not found (listed under indicators): add them "
                     "with their own source, or leave them out (unknown)")
    items += [f"dropped: {d}" for d in dropped]
    items += ["industries, assets, challenges, goals, institutions: check each against its quote; add "
              "what the documents do not say",
              "then: transfer validate FILE, and analyze"]
    return ["# Review checklist", *[f"# [ ] {x}" for x in items]]


def _flow(fields: dict) -> str:
    parts = []
    for k, v in fields.items():
        if isinstance(v, list):
            parts.append(f"{k}: [{', '.join(v)}]")
        else:
            parts.append(f"{k}: {_q(v) if k in ('name', 'text', 'period') else v}")
    return "{" + ", ".join(parts) + "}"


def model_lines(proposed: list, sources: Sources, period: str) -> list[str]:
    """The model's checked items as YAML blocks, each citing the passage its quote is in."""
    out: list[str] = []
    counters = {"institutions": 0, "notes": 0}
    for section in ("industries", "assets", "challenges", "goals", "institutions", "notes"):
        items = [p for p in proposed if p.section == section]
        out.append(f"{section}:" + ("" if items else " []"))
        for p in items:
            x, sid = p.item, sources.cite_passage(p.passage)
            if section == "industries":
                fields = {"tag": x.tag, "name": x.name, "weight": x.weight}
            elif section == "assets":
                fields = {"kind": x.kind, "name": x.name}
            elif section == "challenges":
                fields = {"type": x.type, "weight": x.weight, "text": x.text}
            elif section == "goals":
                fields = {"type": x.type, "text": x.text}
            elif section == "institutions":
                counters[section] += 1
                fields = {"id": f"I{counters[section]}", "name": x.name, "handles": list(x.handles)}
            else:
                counters[section] += 1
                fields = {"id": f"DOC-{counters[section]:02d}", "period": x.period or period,
                          "domain": x.domain, "text": x.text, "confidence": "medium"}
            out.append(f"  - {_flow({**fields, 'sources': [sid]})}")
            out.append(f"    # «{x.quote}» ({p.passage.doc} {p.passage.loc})")
    return out
