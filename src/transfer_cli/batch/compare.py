"""The cross-target comparison: which targets suit which mechanisms.

Built from the small fit summaries the batch keeps per pair (mechanism id, name, mode,
conditional, score; overall score), so a resumed batch needs no memo re-read: index.md and
summary.csv here, index.html and the heatmap SVG in report.py.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..render.safe_text import csv_cell, md_cell

MODE_ABBR = {"copy": "C", "adapt": "A", "in_place": "E", "inspire": "I", "avoid": "X"}
_L = {
    "en": {"title": "Batch comparison", "ranked": "Targets ranked by overall transferability",
           "rank": "rank", "target": "target", "overall": "overall", "memo": "memo", "matrix": "Mechanisms × targets",
           "mechanism": "mechanism", "legend": "Cells: transfer mode and score (0–100); * = conditional on a "
           "factor the target profile cannot decide (see the memo's verification steps).",
           "failures": "Failures", "error": "error", "not_run": "Not run", "reason": "reason",
           "source": "source", "none": "No pair has a result yet."},
    "zh": {"title": "批量比较", "ranked": "按总体可迁移度排序的目标地", "rank": "名次", "target": "目标地",
           "overall": "总分", "memo": "备忘录", "matrix": "机制 × 目标地", "mechanism": "机制",
           "legend": "单元格：迁移方式与得分（0–100）；* 表示取决于目标地资料无法判定的因素（见备忘录中的核实步骤）。",
           "failures": "失败", "error": "错误", "not_run": "未运行", "reason": "原因", "source": "源地",
           "none": "尚无任何结果。"},
}


def _mode_name(lang: str, mode: str) -> str:
    # the memo's own verdict labels, so a verdict reads the same in the memo, compare and the index
    from ..pipeline.i18n import t
    return t(lang, mode)
CSV_HEADER = ["source", "target", "mechanism_id", "mechanism", "mode", "conditional", "score", "overall"]
# wide batches (hundreds of targets) put targets on the rows so the table stays readable
_WIDE = 12


@dataclass
class Matrix:
    source: str
    mechanisms: list[tuple[str, str]]  # (id, name), in the logic's order
    targets: list[tuple[str, str, int]]  # (id, name, overall), best first
    cells: dict[tuple[str, str], dict]  # (mechanism id, target id) -> {mode, conditional, score}


def fit_summary(fit, target_name: str) -> dict:
    """What the comparison keeps of a pair's fit (a batch keeps it in the pair's manifest)."""
    return {"overall": fit.overall_score, "target_name": target_name,
            "mechanisms": [{"id": m.mechanism_id, "name": m.name, "mode": m.mode, "conditional": m.conditional,
                            "score": m.score} for m in fit.mechanisms]}


def matrices(results) -> list[Matrix]:
    """One matrix per source, from PairResults (or anything with .pair and .fit)."""
    out: dict[str, Matrix] = {}
    for r in results:
        if not r.fit:
            continue
        m = out.setdefault(r.pair.source, Matrix(r.pair.source, [], [], {}))
        known = {mid for mid, _ in m.mechanisms}
        for mech in r.fit["mechanisms"]:
            if mech["id"] not in known:
                m.mechanisms.append((mech["id"], mech["name"]))
                known.add(mech["id"])
            m.cells[(mech["id"], r.pair.target)] = mech
        m.targets.append((r.pair.target, r.fit.get("target_name") or r.pair.target, r.fit["overall"]))
    for m in out.values():
        m.targets.sort(key=lambda t: (-t[2], t[0]))
    return list(out.values())


def cell_text(cell: dict | None, lang: str = "en", short: bool = False) -> str:
    if cell is None:
        return "–"
    mode = MODE_ABBR[cell["mode"]] if short else _mode_name(lang, cell["mode"])
    return f"{mode}{'*' if cell['conditional'] else ''} {cell['score']}"


def index_markdown(results, lang: str, formats: list[str], heatmaps: dict[str, str],
                   notes: list[str] | None = None) -> str:
    L = _L.get(lang, _L["en"])
    lines = [f"# {L['title']}", ""]
    mats = matrices(results)
    if not mats:
        lines += [L["none"], ""]
    by_pair = {(r.pair.source, r.pair.target): r for r in results}
    for m in mats:
        if len(mats) > 1:
            lines += [f"## {L['source']}: {m.source}", ""]
        lines += [f"### {L['ranked']} ({m.source})", "",
                  f"| {L['rank']} | {L['target']} | {L['overall']} | "
                  + " | ".join(_mode_name(lang, k) for k in MODE_ABBR) + f" | {L['memo']} |",
                  "|---:|---|---:|" + "---:|" * len(MODE_ABBR) + "---|"]
        for rank, (tid, name, overall) in enumerate(m.targets, start=1):
            counts = [sum(1 for mid, _ in m.mechanisms if (m.cells.get((mid, tid)) or {}).get("mode") == k)
                      for k in MODE_ABBR]
            fmts = [f for f in formats if f in (by_pair[(m.source, tid)].formats or formats)]
            links = " · ".join(f"[{f}]({m.source}/{tid}.{f})" for f in fmts)
            lines.append(f"| {rank} | {md_cell(name)} (`{tid}`) | {overall} | "
                         + " | ".join(str(c) for c in counts) + f" | {links} |")
        lines += ["", f"### {L['matrix']} ({m.source})", "", L["legend"], ""]
        if len(m.targets) <= _WIDE:
            lines.append(f"| {L['mechanism']} | " + " | ".join(f"`{t[0]}`" for t in m.targets) + " |")
            lines.append("|---|" + "---|" * len(m.targets))
            for mid, name in m.mechanisms:
                lines.append(f"| {mid} {md_cell(name)} | "
                             + " | ".join(cell_text(m.cells.get((mid, t[0])), lang) for t in m.targets) + " |")
        else:
            lines.append(f"| {L['target']} | " + " | ".join(mid for mid, _ in m.mechanisms) + f" | {L['overall']} |")
            lines.append("|---|" + "---|" * (len(m.mechanisms) + 1))
            for tid, _name, overall in m.targets:
                lines.append(f"| `{tid}` | " + " | ".join(cell_text(m.cells.get((mid, tid)), lang, short=True)
                                                       for mid, _ in m.mechanisms) + f" | {overall} |")
            lines += ["", "; ".join(f"{mid} = {md_cell(name)}" for mid, name in m.mechanisms)]
        if m.source in heatmaps:
            lines += ["", f"![{L['matrix']}]({heatmaps[m.source]})"]
        lines.append("")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        lines += [f"## {L['failures']}", "", f"| {L['source']} | {L['target']} | {L['error']} |", "|---|---|---|"]
        lines += [f"| {r.pair.source} | {r.pair.target} | {md_cell(r.error)} |" for r in failed]
        lines.append("")
    not_run = [r for r in results if r.status == "not_run"]
    if not_run:
        lines += [f"## {L['not_run']}", "", f"| {L['source']} | {L['target']} | {L['reason']} |", "|---|---|---|"]
        lines += [f"| {r.pair.source} | {r.pair.target} | {md_cell(r.error)} |" for r in not_run]
        lines.append("")
    if notes:  # how the batch ran (the Batch API's jobs and their cost)
        lines += [*notes, ""]
    return "\n".join(lines)


def summary_csv(results) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for r in results:
        if not r.fit:
            continue
        for mech in r.fit["mechanisms"]:
            w.writerow([csv_cell(x) for x in (r.pair.source, r.pair.target, mech["id"], mech["name"], mech["mode"],
                        "yes" if mech["conditional"] else "no", mech["score"], r.fit["overall"])])
    return buf.getvalue()


def compare_fits(lib, source_id: str, target_ids: list[str], engine, lang: str | None = None) -> Matrix:
    """Stage 1 once, then stage 2 for every target: the matrix without actions or memos."""
    from types import SimpleNamespace

    from .plan import Pair
    from ..pipeline.stages import check_fit, extract_logic
    src = lib.load(source_id).place
    lang = lang or src.language
    logic = extract_logic(engine, src, lang)
    rows = []
    for tid in target_ids:
        tgt = lib.load(tid).place
        fit = check_fit(engine, logic, src, tgt, lang)
        rows.append(SimpleNamespace(pair=Pair(source_id, tid), fit=fit_summary(fit, tgt.name(lang))))
    return matrices(rows)[0]
