"""Reading a district's documents into located passages: every paragraph (or page) keeps where it was.

.txt and .md are read as they are; HTML through readability-lxml (the main text, without menus and
footers);
PDF through pypdf (one page at a time); Word through python-docx. Nothing is downloaded. A passage's
location is what a reviewer needs to find it again: the page for a PDF, the paragraph elsewhere.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..inputs import check_file, read_bytes

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"


@dataclass(frozen=True)
class Passage:
    doc: str            # the document's file name
    para: int           # paragraph number, 1-based (within the page for a PDF)
    text: str
    page: int | None = None

    @property
    def loc(self) -> str:
        """Where to look: "p. 2" in a PDF, "¶7" elsewhere."""
        return f"p. {self.page}" if self.page is not None else f"¶{self.para}"


@dataclass
class Document:
    path: Path
    passages: list[Passage]
    title: str = ""
    kind: str = ""
    year_hint: list[str] = field(default_factory=list)  # text near the top: title, date line

    @property
    def name(self) -> str:
        return self.path.name

    def text(self) -> str:
        return "\n".join(p.text for p in self.passages)


def read_document(path: Path) -> Document:
    """A document's passages, or an InputError naming the file in one line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: cannot read {suffix or 'files without an extension'}; "
                         f"give {', '.join(SUFFIXES)}")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    check_file(path)  # a FIFO would block the PDF and Word readers; a huge file would exhaust memory
    try:
        meta_title, passages = _read(path, suffix)
    except InputError:
        raise
    except Exception as e:  # a damaged file: the libraries raise many kinds; say which file, once
        raise InputError(f"{path}: cannot read this {suffix[1:]} file ({type(e).__name__}: {e})")
    if not passages:
        raise InputError(f"{path}: no text found (a scanned PDF needs OCR first)")
    first = [p.text for p in passages[:4]]
    title = meta_title or next((t for t in first if len(t) <= 80), passages[0].text[:80])
    return Document(path, passages, title=title, year_hint=[meta_title, *first])


def _read(path: Path, suffix: str) -> tuple[str, list[Passage]]:
    """(the title the file's metadata gives, or "", its passages)."""
    # the libraries log what they repair or skip; a file they cannot read raises, and we say that once
    for name in ("pypdf", "readability"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if suffix == ".pdf":
        return "", [Passage(path.name, i, para, page=n)
                    for n, page in enumerate(_pdf_pages(path), 1) for i, para in enumerate(page, 1)]
    if suffix in (".html", ".htm"):
        title, paras = _html(path)
        return title, _numbered(path.name, paras)
    if suffix == ".docx":
        return "", _numbered(path.name, _docx(path))
    return "", _numbered(path.name, _plain(_decode(path), markdown=suffix == ".md"))


def _numbered(doc: str, paras: list[str]) -> list[Passage]:
    return [Passage(doc, i, t) for i, t in enumerate((p for p in paras if p), 1)]


def _decode(path: Path) -> str:
    raw = read_bytes(path)
    for enc in ("utf-8-sig", "gb18030"):  # Chinese government text files are often GBK
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not UTF-8 or GB18030 text; save it as UTF-8")


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one string: no space between Chinese characters, one elsewhere."""
    out = ""
    for line in (x.strip() for x in lines):
        if not line:
            continue
        if out and _spaced(out[-1], line[0]):
            out += " "
        out += line
    return out


def _spaced(left: str, right: str) -> bool:
    """Whether a line break between these characters was a space: not beside Chinese, and not
    inside a number a PDF wrapped at the page edge ("187." / "25亿元")."""
    if re.match(f"[{_CJK}]", left) or re.match(f"[{_CJK}]", right):
        return False
    return not (left in "0123456789." and right in "0123456789.%")


def _plain(text: str, markdown: bool = False) -> list[str]:
    """Paragraphs of plain text: blocks between blank lines; a file without blank lines has one
    paragraph per line (the usual layout of a bulletin saved as text)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if markdown:
        lines = [re.sub(r"^\s{0,3}(#{1,6}\s+|[-*+]\s+|>\s?)", "", x) for x in lines]
    if not any(not x.strip() for x in lines[1:-1]):
        return [x.strip() for x in lines if x.strip()]
    blocks, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            blocks.append(_join(cur))
            cur = []
    if cur:
        blocks.append(_join(cur))
    return blocks


_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "pre", "blockquote")


def _html(path: Path) -> tuple[str, list[str]]:
    """The page's title and the paragraphs of its main text (readability's scoring drops menus,
    footers and link lists); a table row is one paragraph, its cells separated by spaces."""
    import lxml.html
    from readability import Document as Readable
    page = Readable(_decode(path))
    main = lxml.html.fromstring(page.summary(html_partial=True))
    paras = []
    for el in main.iter(*_BLOCKS):
        if any(child.tag in _BLOCKS for child in el.iterdescendants()):
            continue  # its inner blocks are paragraphs of their own
        if el.tag == "tr":
            text = " ".join(" ".join(c.text_content().split()) for c in el.iterchildren("td", "th"))
        else:
            text = " ".join(el.text_content().split())
        paras.append(text)
    return (page.short_title() or "").strip(), paras


def _docx(path: Path) -> list[str]:
    import docx
    return [p.text.strip() for p in docx.Document(str(path)).paragraphs]


def _pdf_pages(path: Path) -> list[list[str]]:
    """Each page's paragraphs. PDF text is lines wrapped at the page edge: a line much shorter than
    the page's longest ends a paragraph (a heading, a paragraph's last line); others run on."""
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    pages = []
    for page in reader.pages:
        lines = [x.strip() for x in (page.extract_text() or "").split("\n")]
        lines = [x for x in lines if x]
        width = max((len(x) for x in lines), default=0)
        paras, cur = [], []
        for line in lines:
            cur.append(line)
            if len(line) < 0.8 * width or re.search(r"[。！？：]$", line):
                paras.append(_join(cur))
                cur = []
        if cur:
            paras.append(_join(cur))
        pages.append(paras)
    return pages


_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]?")


def sentences(text: str) -> list[str]:
    """A passage's sentences, each with its closing mark: the quotes a figure is cited by."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
