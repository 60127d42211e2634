"""The batch report people look at: index.html and the heatmap SVG, drawn by our own templates.

The heatmap is a grid of coloured cells with a letter and a score in each: an HTML table and an
SVG need no plotting library (matplotlib was ~170 MB of a ~300 MB install for this one picture,
and could not draw Chinese labels without a CJK font; a browser draws them with the reader's).
The colour scale is viridis, sampled at eleven stops: sequential, perceptually uniform, readable
by the common forms of colour blindness and in greyscale. Colour is never the only signal: each
cell carries its verdict letter and score, and the text colour is whichever of black or white
contrasts more with the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..files import write_output
from .compare import MODE_ABBR, Matrix, _L, _mode_name, index_markdown, matrices, summary_csv

# viridis at 0.0, 0.1, ..., 1.0 (matplotlib's table)
VIRIDIS = ("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725")
# the verdict's letter in a cell, in the memo's language (the legend spells each out)
LETTERS = {"en": MODE_ABBR, "zh": {"copy": "照", "adapt": "改", "in_place": "已", "inspire": "鉴", "avoid": "避"}}
WIDE = 12  # beyond this many targets the grid puts targets on the rows (as index.md does)
DETAILED = 2000  # cells with letters and hover titles; a larger SVG shows colour only (index.html has the letters)
_TEXT = {
    "en": {"heatmap": "{source}: transfer score by mechanism and target", "scale": "score 0–100",
           "conditional": "* conditional"},
    "zh": {"heatmap": "{source}：各机制在各目标地的迁移得分", "scale": "得分 0–100", "conditional": "* 有条件"},
}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def fill(score: float) -> str:
    """The cell colour for a 0–100 score, interpolated between the viridis stops."""
    x = min(max(score, 0.0), 100.0) / 10.0
    i = min(int(x), 9)
    a, b = _rgb(VIRIDIS[i]), _rgb(VIRIDIS[i + 1])
    t = x - i
    return "#" + "".join(f"{round(p + (q - p) * t):02x}" for p, q in zip(a, b))


def _luminance(hex_colour: str) -> float:
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink(background: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG contrast ratio)."""
    lum = _luminance(background)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


@dataclass
class Cell:
    text: str    # letter, * when conditional, score
    title: str   # the verdict spelt out, for a hover and for screen readers
    fill: str
    ink: str


@dataclass
class Grid:
    """A matrix laid out for drawing: `rows` of (label, cells), `columns` of labels."""
    source: str
    title: str
    corner: str
    columns: list[str]
    rows: list[tuple[str, list[Cell | None]]]
    key: list[str]  # mechanism id = name, when the columns carry only ids


def _cell(c: dict | None, lang: str) -> Cell | None:
    if c is None:
        return None
    letters = LETTERS.get(lang, LETTERS["en"])
    colour = fill(c["score"])
    star = "*" if c["conditional"] else ""
    return Cell(f"{letters[c['mode']]}{star} {c['score']}", f"{_mode_name(lang, c['mode'])}{star} {c['score']}",
                colour, ink(colour))


def grid(m: Matrix, lang: str) -> Grid:
    L, T = _L.get(lang, _L["en"]), _TEXT.get(lang, _TEXT["en"])
    title = T["heatmap"].format(source=m.source)
    if len(m.targets) <= WIDE:
        rows = [(f"{mid} {name}", [_cell(m.cells.get((mid, tid)), lang) for tid, _n, _o in m.targets])
                for mid, name in m.mechanisms]
        return Grid(m.source, title, L["mechanism"], [name for _t, name, _o in m.targets], rows, [])
    rows = [(f"{name} ({overall})", [_cell(m.cells.get((mid, tid)), lang) for mid, _ in m.mechanisms])
            for tid, name, overall in m.targets]
    return Grid(m.source, title, L["target"], [mid for mid, _ in m.mechanisms], rows,
                [f"{mid} = {name}" for mid, name in m.mechanisms])


def legend(lang: str) -> list[tuple[str, str]]:
    letters = LETTERS.get(lang, LETTERS["en"])
    return [(letters[k], _mode_name(lang, k)) for k in MODE_ABBR]


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    from ..render.markdown import TEMPLATES
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def heatmap_svg(m: Matrix, lang: str) -> str:
    """The heatmap as a standalone SVG: the same grid, labels in the memo's language."""
    g = grid(m, lang)
    cw, ch, pad = (34 if g.key else 92), 22, 8
    label_w = min(520, 12 + 7 * max((_width(label) for label, _ in g.rows), default=10))
    head_h = 110 if g.key else 130
    return _environment().get_template("heatmap.svg.j2").render(
        g=g, lang=lang, cw=cw, ch=ch, pad=pad, label_w=label_w, head_h=head_h, stops=VIRIDIS,
        detailed=len(g.rows) * len(g.columns) <= DETAILED,
        legend=legend(lang), scale=_TEXT.get(lang, _TEXT["en"])["scale"],
        conditional=_TEXT.get(lang, _TEXT["en"])["conditional"],
        width=label_w + cw * len(g.columns) + 2 * pad, height=head_h + ch * len(g.rows) + 70 + 16 * len(g.key))


def _width(text: str) -> int:
    """Display width in half-width characters: a CJK character is two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def index_html(results, lang: str, formats: list[str], heatmaps: dict[str, str], notes: list[str] | None = None) -> str:
    """index.html: the ranked targets, the matrix as a coloured table, links to every memo, failures."""
    L, T = _L.get(lang, _L["en"]), _TEXT.get(lang, _TEXT["en"])
    by_pair = {(r.pair.source, r.pair.target): r for r in results}
    sections = []
    for m in matrices(results):
        ranked = []
        for rank, (tid, name, overall) in enumerate(m.targets, start=1):
            counts = [sum(1 for mid, _ in m.mechanisms if (m.cells.get((mid, tid)) or {}).get("mode") == k)
                      for k in MODE_ABBR]
            fmts = [f for f in formats if f in (by_pair[(m.source, tid)].formats or formats)]
            ranked.append({"rank": rank, "id": tid, "name": name, "overall": overall, "counts": counts,
                           "colour": fill(overall), "ink": ink(fill(overall)),
                           "links": [(f, f"{m.source}/{tid}.{f}") for f in fmts]})
        sections.append({"source": m.source, "ranked": ranked, "grid": grid(m, lang),
                         "heatmap": heatmaps.get(m.source)})
    return _environment().get_template("batch_index.html.j2").render(
        L=L, T=T, lang=lang, sections=sections, modes=[_mode_name(lang, k) for k in MODE_ABBR],
        legend=legend(lang), stops=VIRIDIS,
        failed=[r for r in results if r.status == "failed"], not_run=[r for r in results if r.status == "not_run"],
        notes=notes or [])


def write_comparison(out: Path, results, lang: str, formats: list[str], notes: list[str] | None = None) -> list[Path]:
    """index.md, index.html, summary.csv and the heatmap SVG(s) in `out`; returns the paths written."""
    written: list[Path] = []
    heatmaps: dict[str, str] = {}
    mats = matrices(results)
    for m in mats:
        name = "heatmap.svg" if len(mats) == 1 else f"heatmap-{m.source}.svg"
        write_output(out / name, heatmap_svg(m, lang))
        written.append(out / name)
        heatmaps[m.source] = name
    # BOM: Excel, which most analysts open a CSV with, otherwise misreads UTF-8 Chinese
    write_output(out / "summary.csv", "\ufeff" + summary_csv(results))
    write_output(out / "index.md", index_markdown(results, lang, formats, heatmaps, notes))
    write_output(out / "index.html", index_html(results, lang, formats, heatmaps, notes))
    return [out / "index.md", out / "index.html", out / "summary.csv", *written]
