"""Word's building blocks for the .docx memo: page set-up, fonts, fields, runs, citation links,
bookmarks, tables and shading, and the re-zip that makes the file's bytes depend only on the memo.
The memo's sections are written with them in docx.py.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone

# Fonts every Windows/macOS Office has; Word picks the east-Asian one for CJK characters.
LATIN = "Calibri"
LATIN_HEADING = "Calibri"
CJK = "SimSun"              # 宋体: the usual body face of Chinese government documents
CJK_HEADING = "Microsoft YaHei"
MONO = "Consolas"
MUTED = "59636E"
SOFT = "F6F8FA"


# ---- document set-up --------------------------------------------------------------------------

def created(v) -> datetime:
    try:
        return datetime.strptime(v["run"]["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, TypeError, ValueError):
        return datetime(2000, 1, 1, tzinfo=timezone.utc)


def setup(doc, v) -> None:
    """A4 pages, explicit Latin and east-Asian fonts, fixed document properties, page numbers."""
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
    when = created(v)
    cp.title = v["title"]
    cp.subject = f"{v['source_name']} → {v['target_name']}"
    cp.author = cp.last_modified_by = f"transfer {v['run']['tool_version']}"
    cp.created = cp.modified = cp.last_printed = when
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


def fixed_zip(data: bytes, when: datetime) -> bytes:
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


# ---- the blocks -------------------------------------------------------------------------------

class Blocks:
    """Paragraphs, runs, links, bookmarks and tables in one document, for the memo's writer."""

    def __init__(self, doc, v):
        self.doc, self.v, self.L = doc, v, v["L"]
        self._bookmark_id = 0
        self._style_ids: dict[str, str] = {}

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
        """[3, 17]: footnote numbers, each an internal link to its evidence-appendix entry (a bookmark)."""
        if not cites:
            return
        self.run(p, " [", size=8, colour=MUTED)
        for i, c in enumerate(dict.fromkeys(cites)):
            if i:
                self.run(p, ", ", size=8, colour=MUTED)
            anchor = self.v["anchors"].get(c)
            if anchor:
                self.link(p, str(self.v["numbers"][c]), anchor)
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

    def orient(self, landscape: bool):
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
