"""Word: the memo as a .docx for handing to leaders, built from the same view as every format.

Headings use Word's built-in Heading styles (navigation pane, table of contents), the context
table, fit matrix and actions are real tables, every run names a Latin and an east-Asian font,
the footer numbers the pages, and the file's bytes depend only on the memo.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone

from .view import MODE_COLOURS, STATUS_COLOURS, STATUS_SYMBOLS, build_view

# Fonts every Windows/macOS Office has; Word picks the east-Asian one for CJK characters.
LATIN = "Calibri"
LATIN_HEADING = "Calibri"
CJK = "SimSun"              # 宋体: the usual body face of Chinese government documents
CJK_HEADING = "Microsoft YaHei"
MONO = "Consolas"
MUTED = "59636E"
SOFT = "F6F8FA"


def render_docx(memo, source, target, view: dict | None = None) -> bytes:
    import docx

    v = view or build_view(memo, source, target)
    doc = docx.Document()
    w = _Writer(doc, v)
    _setup(doc, v)
    w.body()
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue(), _created(v))


# ---- document set-up --------------------------------------------------------------------------

def _created(v) -> datetime:
    try:
        return datetime.strptime(v["run"]["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, TypeError, ValueError):
        return datetime(2000, 1, 1, tzinfo=timezone.utc)


def _setup(doc, v) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    for section in doc.sections:  # A4 is the paper size in China and the UK alike
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(22)
        section.top_margin = section.bottom_margin = Mm(20)

    styles = doc.styles
    _style_fonts(styles["Normal"], LATIN, CJK, lang=v["lang"])
    styles["Normal"].font.size = Pt(10.5)  # 五号
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        _style_fonts(styles[name], LATIN_HEADING, CJK_HEADING)

    cp = doc.core_properties
    created = _created(v)
    cp.title = v["title"]
    cp.subject = f"{v['source_name']} → {v['target_name']}"
    cp.author = cp.last_modified_by = f"transfer {v['run']['tool_version']}"
    cp.created = cp.modified = cp.last_printed = created
    cp.revision = 1
    cp.language = "zh-CN" if v["lang"] == "zh" else "en-GB"
    cp.keywords = cp.comments = cp.category = cp.content_status = cp.identifier = cp.version = ""

    footer = doc.sections[0].footer
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p, "PAGE", "1")
    _font(p.add_run(" / "), LATIN, CJK)
    _field(p, "NUMPAGES", "1")


def _style_fonts(style, latin: str, east_asia: str, lang: str | None = None) -> None:
    """Explicit fonts on a style, dropping the theme fonts that would otherwise win in Word."""
    from docx.oxml.ns import qn
    style.font.name = latin
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), east_asia)
    if lang:
        rpr = style.element.get_or_add_rPr()
        el = rpr.find(qn("w:lang"))
        if el is None:
            el = rpr.makeelement(qn("w:lang"), {})
            rpr.append(el)
        el.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-GB")
        el.set(qn("w:eastAsia"), "zh-CN")


def _font(run, latin: str, east_asia: str):
    from docx.oxml.ns import qn
    run.font.name = latin
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
    return run


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A complex field (PAGE, NUMPAGES): Word fills in the value when it lays the page out."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind):
        r = _font(paragraph.add_run(), LATIN, CJK)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._element.append(el)

    char("begin")
    r = _font(paragraph.add_run(), LATIN, CJK)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    r._element.append(instr)
    char("separate")
    _font(paragraph.add_run(placeholder), LATIN, CJK)
    char("end")


def _fixed_zip(data: bytes, when: datetime) -> bytes:
    """The package re-zipped with one timestamp, so the same memo gives the same bytes."""
    stamp = max(when, datetime(1980, 1, 1, tzinfo=timezone.utc)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


# ---- the body ---------------------------------------------------------------------------------

class _Writer:
    """Writes the view's sections in SECTION_ORDER; one method per section."""

    def __init__(self, doc, v):
        self.doc, self.v, self.L = doc, v, v["L"]
        self._bookmark_id = 0
        self._style_ids: dict[str, str] = {}

    # -- building blocks

    def run(self, p, text, *, bold=False, italic=False, size=None, colour=None, mono=False, heading=False):
        """A run built as XML directly: python-docx's per-property setters made a memo take seconds."""
        from docx.oxml.ns import qn
        from docx.text.run import Run
        from lxml.etree import SubElement
        r = SubElement(p._p, qn("w:r"))
        rpr = SubElement(r, qn("w:rPr"))  # children of rPr in the order the schema requires
        latin = MONO if mono else LATIN_HEADING if heading else LATIN
        east_asia = CJK_HEADING if heading else CJK
        SubElement(rpr, qn("w:rFonts"), {qn("w:ascii"): latin, qn("w:hAnsi"): latin, qn("w:eastAsia"): east_asia,
                                         qn("w:cs"): latin})
        if bold:
            SubElement(rpr, qn("w:b"))
        if italic:
            SubElement(rpr, qn("w:i"))
        if colour:
            SubElement(rpr, qn("w:color"), {qn("w:val"): _hex(colour)})
        if size:
            SubElement(rpr, qn("w:sz"), {qn("w:val"): str(int(size * 2))})
            SubElement(rpr, qn("w:szCs"), {qn("w:val"): str(int(size * 2))})
        for i, line in enumerate(str(text).split("\n")):
            if i:
                SubElement(r, qn("w:br"))
            t = SubElement(r, qn("w:t"), {"{http://www.w3.org/XML/1998/namespace}space": "preserve"})
            t.text = line
        return Run(r, p)

    def text(self, p, text):
        """Text with `code` spans in a monospace face (the generated scope line uses them)."""
        for i, part in enumerate(re.split(r"`([^`]+)`", str(text))):
            if part:
                self.run(p, part, mono=bool(i % 2))

    def cites(self, p, cites):
        """[a; b] with each citation a link to its evidence-appendix entry (a bookmark)."""
        if not cites:
            return
        self.run(p, " [", size=8, colour=MUTED)
        for i, c in enumerate(cites):
            if i:
                self.run(p, "; ", size=8, colour=MUTED)
            anchor = self.v["anchors"].get(c)
            if anchor:
                self.link(p, c, anchor)
            else:
                self.run(p, c, size=8, colour=MUTED)
        self.run(p, "]", size=8, colour=MUTED)

    def link(self, p, text, anchor):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        h = OxmlElement("w:hyperlink")
        h.set(qn("w:anchor"), anchor)
        h.set(qn("w:history"), "1")
        r = self.run(p, text, size=8, colour="#0969DA")
        h.append(r._element)  # moves the run from the paragraph into the hyperlink
        p._p.append(h)

    def bookmark(self, p, name):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        self._bookmark_id += 1
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), str(self._bookmark_id))
        start.set(qn("w:name"), name)
        end.set(qn("w:id"), str(self._bookmark_id))
        if p._p.pPr is not None:
            p._p.pPr.addnext(start)
        else:
            p._p.insert(0, start)
        p._p.append(end)

    def claim(self, p, c):
        self.run(p, c["text"])
        self.cites(p, c["cites"])

    def para(self, style=None):
        p = self.doc.add_paragraph()
        if style:  # by id: python-docx's lookup by name walks every style on every call
            p._p.get_or_add_pPr().get_or_add_pStyle().val = self._style_id(style)
        return p

    def _style_id(self, name):
        if name not in self._style_ids:
            self._style_ids[name] = self.doc.styles[name].style_id
        return self._style_ids[name]

    def bullet(self, claim=None, text=None, prefix=None):
        p = self.para("List Bullet")
        if prefix:
            self.run(p, prefix)
        if claim is not None:
            self.claim(p, claim)
        elif text is not None:
            self.run(p, text)
        return p

    def labelled(self, label, claim=None, text=None):
        p = self.para()
        self.run(p, f"{label}: ", bold=True)
        if claim is not None:
            self.claim(p, claim)
        else:
            self.run(p, text)
        return p

    def heading(self, text, level):
        p = self.para("Title" if level == 0 else f"Heading {level}")
        self.run(p, text, heading=True)
        return p

    def table(self, header, widths=None):
        """A grid table with a bold, shaded header row that repeats on every page."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm
        t = self.doc.add_table(rows=1, cols=len(header))
        t.style = self.doc.styles["Table Grid"]
        t.autofit = widths is None
        for cell, label in zip(t.rows[0].cells, header):
            self.run(cell.paragraphs[0], label, bold=True, size=9)
            self.shade(cell, SOFT)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        trpr.append(repeat)
        if widths:
            for col, width in zip(t.columns, widths):
                for cell in col.cells:
                    cell.width = Mm(width)
        return t

    def row(self, t, widths=None):
        from docx.shared import Mm
        cells = t.add_row().cells
        if widths:
            for cell, width in zip(cells, widths):
                cell.width = Mm(width)
        return cells

    def cell(self, cell, text="", *, cites=None, bold=False, colour=None, size=9):
        p = cell.paragraphs[0]
        if text:
            self.run(p, text, bold=bold, colour=colour, size=size)
        if cites:
            self.cites(p, cites)
        return p

    @staticmethod
    def shade(cell, fill):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), _hex(fill))
        cell._tc.get_or_add_tcPr().append(shd)

    # -- the sections, in SECTION_ORDER

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

    def orient(self, landscape: bool):
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))

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
