"""Word: the memo as a .docx for handing to leaders, built from the same view as every format.

Headings use Word's built-in Heading styles (navigation pane, table of contents), the context
table, fit matrix and actions are real tables, every run names a Latin and an east-Asian font,
the footer numbers the pages, and the file's bytes depend only on the memo (docx_blocks.py).
"""

from __future__ import annotations

import io

from .safe_text import clean_tree
from .docx_blocks import MUTED, Blocks, created, fixed_zip, setup
from .view import MODE_COLOURS, STATUS_COLOURS, STATUS_SYMBOLS, build_view


def render_docx(memo, source, target, view: dict | None = None, brief_only: bool = False) -> bytes:
    import docx

    v = dict(clean_tree(view or build_view(memo, source, target)), brief_only=brief_only)  # XML cannot hold control characters
    doc = docx.Document()
    w = _Writer(doc, v)
    setup(doc, v)
    w.body()
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue(), created(v))


class _Writer(Blocks):
    """Writes the view's sections in SECTION_ORDER; one method per section."""

    def body(self):
        v, L = self.v, self.L
        self.heading(v["title"], 0)
        p = self.para()
        self.run(p, f"{L['question']}{L['colon']}", bold=True)
        self.text(p, v["brief"]["question"])
        self.run(self.para(), v["brief"]["scope"], colour=MUTED, size=9)
        for s in v["sections"]:
            if v["brief_only"] and not s["brief"]:
                break
            if s["key"] == "context":  # the annexes start on a new page, after the brief
                self.doc.add_page_break()
            if s["key"] == "actions":  # the action table's columns need the width of a landscape page
                self.orient(landscape=True)
            self.heading(s["title"], 1)
            getattr(self, s["key"])()
            if s["key"] == "actions":
                self.orient(landscape=False)

    # ---- the brief
    def answer(self):
        for c in self.v["brief"]["answer"]:
            self.claim(self.para(), c)

    def lessons(self):
        L = self.L
        for x in self.v["brief"]["lessons"]:
            p = self.para("List Number")
            self.run(p, f"{x['id']} {x['name']} — ", bold=True)
            self.run(p, x["verdict"], bold=True, colour=MODE_COLOURS.get(x["mode"], ("#57606A", ""))[0])
            p = self.para()
            self.run(p, f"{L['why']}{L['colon']}", bold=True)
            self.claim(p, x)
            p = self.para()
            self.run(p, f"{L['takes']}{L['colon']}", bold=True)
            self.run(p, x["takes"])
        if not self.v["brief"]["lessons"]:
            self.bullet(text=L["no_lessons"])

    def dont_copy(self):
        for c in self.v["brief"]["not_to_copy"]:
            self.bullet(c)
        if not self.v["brief"]["not_to_copy"]:
            self.bullet(text=self.L["none"])

    def todo(self):
        L = self.L
        for a in self.v["brief"]["actions"]:
            p = self.para()
            self.run(p, f"{a['id']} {a['text']}", bold=True)
            self.cites(p, a["cites"])
            line = f"{L['answers_problem']}{L['colon']}{a['problem']}{L['sep']}{L['lead']}{L['colon']}{a['lead']}"
            if a["approval"]:
                line += f"{L['sep']}⚑ {a['approval']}"
            self.bullet(text=f"{line}{L['sep']}{L['horizon']}{L['colon']}{a['horizon']}")
            for k in a["kpis"]:
                self.bullet(text=f"KPI{L['colon']}{k}")
            self.bullet(text=f"{L['review']}{L['colon']}{a['rule']}")
        if not self.v["brief"]["actions"]:
            self.bullet(text=L["no_actions"])

    def verify_first(self):
        for c in self.v["brief"]["verify"]:
            self.bullet(c)
        if not self.v["brief"]["verify"]:
            self.bullet(text=self.L["no_verify"])

    def notes(self):
        p = self.para()
        for i, n in enumerate(self.v["brief"]["notes"]):
            if i:
                self.run(p, " · ", size=8, colour=MUTED)
            if self.v["brief_only"]:  # no appendix to link to: the list itself is the target
                q = self.para()
                self.bookmark(q, n["anchor"])
                self.run(q, f"[{n['n']}] {n['cite']}", size=8, colour=MUTED)
                continue
            self.run(p, "[", size=8, colour=MUTED)
            self.link(p, str(n["n"]), n["anchor"])
            self.run(p, f"] {n['cite']}", size=8, colour=MUTED)

    # ---- the annexes
    def context(self):
        v, L = self.v, self.L
        t = self.table([L["indicator"], v["source_name"], v["target_name"]], widths=(40, 63, 63))
        for r in v["context"]:
            cells = self.row(t, widths=(40, 63, 63))
            self.cell(cells[0], r["label"], bold=True)
            for cell, value, cite in ((cells[1], r["source_value"], r["source_cite"]),
                                      (cells[2], r["target_value"], r["target_cite"])):
                self.cell(cell, value or L["unknown"], cites=[cite] if cite else None,
                          colour=None if value else MUTED)
        self.heading(L["problem"], 2)
        for c in v["problem"]:
            self.bullet(c)
        if not v["problem"]:
            self.bullet(text=L["no_problem"])
        self.heading(L["scale"], 2)
        for c in v["scale"]:
            self.bullet(c)

    def logic(self):
        L = self.L
        for ph in self.v["phases"]:
            self.heading(f"{ph['period']} {ph['name']}".strip(), 2)
            if ph["mechanisms"]:
                self.bullet(text=f"{L['mechanisms_in_phase']}: " + "; ".join(f"{m['id']} {m['name']}" for m in ph["mechanisms"]))
            for n in ph["events"]:
                p = self.bullet(text=f"{n['period']}: {n['text']}")
                self.cites(p, [n["id"]])
            if ph["event_refs"]:
                self.cites(self.bullet(text=f"{L['events']}:"), ph["event_ids"])

    def cards(self):
        L = self.L
        for c in self.v["cards"]:
            fg = MODE_COLOURS.get(c["mode"], ("#57606A", ""))[0]
            h = self.heading(f"{c['id']}. {c['name']} — ", 2)
            self.run(h, c["mode_label"], colour=fg, heading=True)
            if c["score"] is not None:
                self.run(h, f" ({L['score']} {c['score']})", heading=True)
            p = self.para()
            self.run(p, f"{L['phase']}: {c['phase']}; {L['transfer_object']}: {c['object']}", colour=MUTED, size=9)
            if c["hazard"]:
                self.run(p, f"; ⚠ {L['hazard']}", colour=MODE_COLOURS["avoid"][0], bold=True, size=9)
            self.labelled(L["lever"], text=c["lever"])
            self.labelled(L["chain"], text=c["chain"])
            self.labelled(L["outcome"], text=c["outcome"])
            for f in c["figures"]:
                self.run(self.para("List Bullet 2"), f)
            if c["more_figures"]:
                self.run(self.para("List Bullet 2"), "… " + L["more_figures"].format(n=c["more_figures"]), colour=MUTED)
            if c["confidence"]:
                self.labelled(L["confidence"], text=c["confidence"])
            self.labelled(L["principle"], text=c["principle"])
            if c["form"]:
                self.labelled(L["form"], text=c["form"])
            if c["rivals"]:
                self.labelled(L["rivals"], text="")
                for r in c["rivals"]:
                    self.bullet(text=r)
            if c["rationale"]:
                self.labelled(L["verdict"], text=c["rationale"])
            self.cites(self.labelled(L["card_cites"], text=""), c["cites"])
            widths = (32, 16, 18, 30, 70)
            t = self.table([L["factor"], L["necessity"], L["status"], L["analog"], L["evidence_read"]], widths)
            for f in c["factors"]:
                cells = self.row(t, widths)
                self.cell(cells[0], f["name"])
                self.cell(cells[1], f["necessity"])
                fg, bg = STATUS_COLOURS[f["status"]]
                self.cell(cells[2], f["status_label"], colour=fg, bold=True)
                self.shade(cells[2], bg)
                self.cell(cells[3], f["analog"] or "–")
                p = self.cell(cells[4], f["rationale"])
                for reading in f["readings"]:
                    self.run(p, f" {reading}", mono=True, size=8, colour=MUTED)

    def fit_matrix(self):
        v, L = self.v, self.L
        self.run(self.para(), v["overall_line"], bold=True)
        p = self.para()
        for key in ("present", "analog", "partial", "absent", "unknown"):
            self.run(p, f"{STATUS_SYMBOLS[key]} ", colour=STATUS_COLOURS[key][0], bold=True, size=9)
            self.run(p, f"{L[key]}   ", size=9, colour=MUTED)
        widths = (52, 30, 12, 24, 24, 24)
        t = self.table([L["mechanism"], L["verdict"], L["score"], *v["matrix_header"], L["factors"]], widths)
        for r in v["matrix"]:
            cells = self.row(t, widths)
            self.cell(cells[0], f"{r['id']} {r['name']}")
            fg, bg = MODE_COLOURS[r["mode"]]
            self.cell(cells[1], r["mode_label"], colour=fg, bold=True)
            self.shade(cells[1], bg)
            self.cell(cells[2], str(r["score"]))
            self.cell(cells[3], r["necessary_text"])
            self.cell(cells[4], r["helpful_text"])
            p = cells[5].paragraphs[0]
            for x in r["cells"]:
                self.run(p, STATUS_SYMBOLS[x["status"]], colour=STATUS_COLOURS[x["status"]][0], bold=x["necessary"], size=11)
        self.heading(L["not_to_copy"], 2)
        for c in v["not_to_copy"]:
            self.bullet(c)
        if not v["not_to_copy"]:
            self.bullet(text=L["none"])

    def actions(self):
        L = self.L
        self.heading(L["options"], 2)
        for o in self.v["options"]:
            self.bullet(o, prefix=f"{o['id']} {o['title']}: ")
        self.heading(L["actions"], 2)
        widths = (14, 28, 26, 26, 16, 36, 36, 16, 34, 20)  # fits 253 mm: landscape A4 less margins
        t = self.table(["#", L["action"], L["problem_col"], L["lead"], L["horizon"], L["first_step"], L["kpi"],
                        L["builds"], L["review"], L["cites"]], widths)
        for a in self.v["actions"]:
            cells = self.row(t, widths)
            self.cell(cells[0], f"{a['id']} ({a['mechanism']})")
            self.cell(cells[1], a["title"])
            self.cell(cells[2], a["problem"])
            p = self.cell(cells[3], a["lead"])
            if a["partners"]:
                self.run(p, f"\n{L['partners']}: {a['partners']}", size=9)
            if a["approval"]:
                self.run(p, f"\n⚑ {a['approval']}", size=9, colour=MODE_COLOURS["inspire"][0])
            self.cell(cells[4], a["horizon"])
            self.cell(cells[5], a["first_step"])
            for i, k in enumerate(a["kpi_items"]):
                p = cells[6].paragraphs[0] if i == 0 else cells[6].add_paragraph()
                self.run(p, k["text"], size=9)
            self.cell(cells[7], ", ".join(a["builds"]) or "–")
            self.cell(cells[8], a["review"] or "–")
            self.cell(cells[9], "", cites=a["cites"])

    def risks(self):
        L = self.L
        for r in self.v["risks"]:
            p = self.bullet(r, prefix=f"({r['action']}, {r['mechanism']}) ")
            self.run(p, f" {L['mitigation']}{L['colon']}", bold=True)
            self.run(p, r["mitigation"] or "–")
            self.run(p, f" {L['owner']}{L['colon']}", bold=True)
            self.run(p, r["owner"])
        if not self.v["risks"]:
            self.bullet(text=self.L["none"])

    def gaps(self):
        for g in self.v["gaps"]:
            self.bullet(g, prefix=f"({g['mechanism']}) " if g["mechanism"] else None)
        if not self.v["gaps"]:
            self.bullet(text=self.L["no_gaps"])

    def appendix(self):
        v, L = self.v, self.L
        for e in v["appendix"]:
            p = self.para()
            self.run(p, f"{e['n']}. [{e['cite']}] ", bold=True, mono=True, size=9)
            self.bookmark(p, e["anchor"])
            if e["period"]:
                self.run(p, f"({e['period']}) ")
            self.run(p, e["text"])
            if e["sources"]:
                self.run(p, " — " + ", ".join(e["sources"]), colour=MUTED)
            if e["conflict"]:
                self.run(p, f" — ⚠ {e['conflict']}", colour=MODE_COLOURS["inspire"][0])
        self.heading(L["sources"], 2)
        for s in v["sources"]:
            p = self.para("List Bullet")
            self.run(p, f"{s['place']}:{s['id']} ", mono=True, size=9)
            self.run(p, ", ".join(str(x) for x in (s.get("title"), s.get("publisher"), s.get("date")) if x))
            if s.get("url"):
                self.run(p, f" <{s['url']}>", colour=MUTED, size=9)

    def verification(self):
        ver = self.v["verification"]
        if not ver:
            self.run(self.para(), self.L["verification_pending"], colour=MUTED)
            return
        ok = ver.get("clean", not ver.get("findings"))
        self.run(self.para(), ver.get("summary", ""), bold=True,
                 colour=STATUS_COLOURS["present" if ok else "absent"][0])
        for f in ver.get("findings", []):
            p = self.para("List Bullet")
            self.run(p, f["kind"], bold=True)
            self.run(p, f" ({f['where']}): ", mono=True, size=9)
            self.run(p, f["message"])

    def run_record(self):
        L, run = self.L, self.v["run"]
        line = f"{L['tool_version']}: {run['tool_version']}; {L['engine']}: {run['engine']}"
        if run.get("model"):
            line += f"; {L['model']}: {run['model']}"
        self.bullet(text=f"{line}; {L['generated']}: {run['created']}")
        if run.get("logic_file"):
            self.bullet(text=f"{L['logic_file']}: {run['logic_file']}")
        self.bullet(text=f"{L['inputs']}:")
        for i in run["inputs"]:
            for f, h in i["files"].items():
                p = self.para("List Bullet 2")
                self.run(p, f"{i['place']} ({i['role']}): ")
                self.run(p, f"{f} sha256 {h[:16]}", mono=True, size=9)
        if run.get("prompts"):
            self.bullet(text=f"{L['prompts']}: " + ", ".join(f"{p['id']}@{p['version']} ({p['sha256'][:12]})"
                                                            for p in run["prompts"]))
        self.bullet(text=f"{L['stages']}: " + "; ".join(
            f"{s['stage']} ({L['requests']} {s['requests']}, {L['tokens']} {s['tokens_in']}/{s['tokens_out']})"
            for s in run["stages"]))
