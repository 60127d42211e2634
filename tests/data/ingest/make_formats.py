"""Writes the bulletin's .html, .pdf and .docx from qinglan-2023-bulletin.txt (run once; the outputs
are committed, so the tests need neither fpdf2 nor a font).

    python tests/data/ingest/make_formats.py   # needs fpdf2 and a CJK TrueType font (FONT=...)

Each format is laid out as such documents usually are: the HTML page has a menu and a footer the
reader must skip, the PDF wraps lines at the page edge over three pages, the Word file is one
paragraph per paragraph.
"""

from __future__ import annotations

import datetime
import html
import os
from pathlib import Path

HERE = Path(__file__).parent
FONT = os.environ.get("FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def paragraphs() -> list[str]:
    return [x.strip() for x in (HERE / "qinglan-2023-bulletin.txt").read_text("utf-8").splitlines() if x.strip()]


def write_html(paras: list[str]) -> None:
    title, body = paras[0], paras[1:]
    page = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title></head><body>",
            '<div class="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | '
            '<a href="/tjsj/">统计数据</a> | <a href="/hdjl/">互动交流</a></div>',
            '<div class="article">', f"<h1>{html.escape(title)}</h1>"]
    page += [f"<p>{html.escape(p)}</p>" for p in body]
    page += ["</div>", '<div class="footer"><p>主办：云川市青岚区人民政府办公室 网站标识码 0000000000</p>'
             "<p>版权所有 联系我们 网站地图</p></div>", "</body></html>"]
    (HERE / "qinglan-2023-bulletin.html").write_text("\n".join(page) + "\n", "utf-8")


def write_pdf(paras: list[str]) -> None:
    from fpdf import FPDF
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_compression(True)
    pdf.set_creation_date(datetime.datetime(2024, 3, 20, tzinfo=datetime.timezone.utc))
    pdf.add_font("cjk", fname=FONT, collection_font_number=0)
    pdf.set_font("cjk", size=10)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    for i, p in enumerate(paras):
        if p.startswith("五、"):  # a page break where a printed bulletin might have one
            pdf.add_page()
        pdf.multi_cell(0, 6, p, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(HERE / "qinglan-2023-bulletin.pdf"))


def write_docx(paras: list[str]) -> None:
    import docx
    d = docx.Document()
    d.add_heading(paras[0], level=1)
    for p in paras[1:]:
        d.add_paragraph(p)
    d.core_properties.created = datetime.datetime(2024, 3, 20)  # a fixed date: same bytes each run
    d.save(str(HERE / "qinglan-2023-bulletin.docx"))


if __name__ == "__main__":
    paras = paragraphs()
    write_html(paras)
    write_pdf(paras)
    write_docx(paras)
