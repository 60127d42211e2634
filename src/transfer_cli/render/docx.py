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


def render_docx(memo, source, target, view: dict | None = None) -> bytes:
    import docx

    v = clean_tree(view or build_view(memo, source, target))  # XML cannot hold control characters
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
        self.run(p, f"{L['scope']}. ", bold=True)
        self.text(p, v["scope"])
        for s in v["sections"]:
            if s["key"] == "actions":  # eight columns need the width of a landscape page
                self.orient(landscape=True)
            self.heading(s["title"], 1)
            getattr(self, s["key"])()
            if s["key"] == "actions":
                self.orient(landscape=False)

    def bottom_line(self):
        p = self.para()
        self.run(p, f"{self.v['overall_score']}/100", bold=True, size=14)
        for c in self.v["bottom_line"]:
            self.bullet(c)

    def problem(self):
        for c in self.v["problem"]:
            self.bullet(c)
        if not self.v["problem"]:
            self.bullet(text=self.L["no_problem"])

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
        self.heading(L["scale"], 2)
        for c in v["scale"]:
            self.bullet(c)

    def logic(self):
        L = self.L
        for ph in self.v["phases"]:
            self.heading(f"{L['phase']} {ph['period']}", 2)
            self.bullet(text=f"{L['mechanisms_in_phase']}: " + "; ".join(f"{m['id']} {m['name']}" for m in ph["mechanisms"]))
            if ph["milestones"]:
                self.bullet(text=f"{L['notes_timeline']}:")
                for n in ph["milestones"]:
                    p = self.para("List Bullet 2")
                    self.run(p, f"{n['period']}: {n['text']}")
                    self.cites(p, [n["id"]])

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
            self.labelled(L["lever"], c["lever"])
            self.labelled(L["chain"], c["chain"])
            self.labelled(L["outcome"], c["outcome"])
            for f in c["figures"]:
                p = self.para("List Bullet 2")
                self.run(p, f["text"])
                self.cites(p, [f["cite"]])
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
                    self.bullet(r)
            if c["rationale"]:
                self.labelled(L["verdict"], c["rationale"])
            widths = (32, 16, 18, 30, 70)
            t = self.table([L["factor"], L["necessity"], L["status"], L["analog"], L["evidence_read"]], widths)
            for f in c["factors"]:
                cells = self.row(t, widths)
                self.cell(cells[0], f["name"])
                self.cell(cells[1], f["necessity"])
                fg, bg = STATUS_COLOURS[f["status"]]
                self.cell(cells[2], f["status_label"], colour=fg, bold=True)
                self.shade(cells[2], bg)
                self.cell(cells[3], f["analog"] or "–", cites=[f["analog_cite"]] if f["analog_cite"] else None)
                p = self.cell(cells[4], f["rationale"]["text"])
                for reading in f["readings"]:
                    self.run(p, f" {reading}", mono=True, size=8, colour=MUTED)
                self.cites(p, f["rationale"]["cites"])

    def fit_matrix(self):
        v, L = self.v, self.L
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

    def not_to_copy(self):
        for c in self.v["not_to_copy"]:
            self.bullet(c)
        if not self.v["not_to_copy"]:
            self.bullet(text=self.L["none"])

    def actions(self):
        L = self.L
        widths = (14, 30, 28, 16, 38, 40, 18, 38, 24)  # fits 253 mm: landscape A4 less margins
        t = self.table(["#", L["action"], L["lead"], L["horizon"], L["first_step"], L["kpi"], L["builds"], L["review"],
                        L["cites"]], widths)
        for a in self.v["actions"]:
            cells = self.row(t, widths)
            self.cell(cells[0], f"{a['id']} ({a['mechanism']})")
            self.cell(cells[1], a["title"])
            p = self.cell(cells[2], a["lead"])
            if a["approval"]:
                self.run(p, f"\n⚑ {a['approval']}", size=9, colour=MODE_COLOURS["inspire"][0])
            self.cell(cells[3], a["horizon"])
            self.cell(cells[4], a["first_step"])
            for i, k in enumerate(a["kpi_items"]):
                p = cells[5].paragraphs[0] if i == 0 else cells[5].add_paragraph()
                self.run(p, k["text"], size=9)
                if k["cite"]:
                    self.cites(p, [k["cite"]])
            self.cell(cells[6], ", ".join(a["builds"]) or "–")
            self.cell(cells[7], a["review"] or "–")
            self.cell(cells[8], "", cites=a["cites"])

    def risks(self):
        for r in self.v["risks"]:
            self.bullet(r, prefix=f"({r['mechanism']}) ")
        if not self.v["risks"]:
            self.bullet(text=self.L["none"])

    def gaps(self):
        for g in self.v["gaps"]:
            self.bullet(g, prefix=f"({g['mechanism']}) ")
        if not self.v["gaps"]:
            self.bullet(text=self.L["no_gaps"])

    def appendix(self):
        v, L = self.v, self.L
        for e in v["appendix"]:
            p = self.para()
            self.run(p, f"[{e['cite']}] ", bold=True, mono=True, size=9)
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
