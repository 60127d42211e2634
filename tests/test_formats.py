"""The memo formats people deliver: HTML in a real browser, Word read back, the terminal view.

Every format renders the same view, so each test compares against the Markdown memo's own
section headings rather than a list written here.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import tempfile
import zipfile
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SYNTHETIC, TRANSFER, run_cli

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots for a human to look at; gitignored
SCRIPT = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.title='PWNED'\">"
CLOSER = "</title></style><script>document.title='PWNED'</script>"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ---- helpers ----------------------------------------------------------------------------------

def browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def chromium(url: str, *extra: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Headless Chromium with a throwaway profile and nothing that phones home."""
    exe = browser()
    if exe is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium); the HTML browser test needs one")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}", *extra, url],
            capture_output=True, text=True, timeout=timeout)


class Page(HTMLParser):
    """Tags, attributes and text of an HTML document, as the browser's DOM dump shows them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self._in: list[str] = []
        self.title = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br", "meta", "img", "input", "link", "hr"):
            self._in.append(tag)

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if "title" in self._in:
            self.title += data
        elif "style" not in self._in:
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def h2s(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html)]


def md_headings(md: str) -> list[str]:
    return [line[3:] for line in md.splitlines() if line.startswith("## ")]


def analyze(source: str, target: str, out: Path, *args) -> subprocess.CompletedProcess:
    r = run_cli("analyze", source, target, "-o", out, *args, cwd=out.parent)
    assert r.returncode == 0, r.stderr
    return r


@lru_cache(maxsize=None)
def rendered(source: str, target: str, lang: str, cases: str | None = None) -> dict:
    """One pair through the CLI in every format: {fmt: text or bytes}, plus the memo JSON."""
    tmp = Path(tempfile.mkdtemp(prefix="transfer-formats-"))
    extra = ("--lang", lang) + (("--cases", cases) if cases else ())
    out = {}
    for fmt in ("md", "json", "html", "docx"):
        analyze(source, target, tmp / f"memo.{fmt}", *extra)
        data = (tmp / f"memo.{fmt}").read_bytes()
        out[fmt] = data if fmt == "docx" else data.decode("utf-8")
    out["memo"] = json.loads(out["json"])
    out["dir"] = tmp
    return out


def docx_doc(data: bytes):
    import io

    import docx
    return docx.Document(io.BytesIO(data))


def docx_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return " ".join(" ".join(parts).split())


def table_by_header(doc, first: str, second: str):
    found = [t for t in doc.tables if t.rows[0].cells[0].text == first and t.rows[0].cells[1].text == second]
    assert len(found) == 1, [[c.text for c in t.rows[0].cells] for t in doc.tables]
    return found[0]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The synthetic library with script payloads planted in a cited note, a name and a source."""
    cases = tmp_path_factory.mktemp("hostile-cases")
    for f in SYNTHETIC.glob("*.yaml"):
        shutil.copy(f, cases / f.name)
    alpha = yaml.safe_load((cases / "alpha.yaml").read_text(encoding="utf-8"))
    note = next(n for n in alpha["notes"] if n["id"] == "A-01")  # cited by mechanism M1's lever
    note["text"] += f" {SCRIPT} {IMG}"
    alpha["names"]["zh"] += CLOSER
    alpha["sources"]["s1"]["title"] += " " + IMG
    alpha["sources"]["s1"]["url"] = "javascript:document.title='PWNED'"
    (cases / "alpha.yaml").write_text(yaml.safe_dump(alpha, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cases


# ---- HTML in a real browser ----------------------------------------------------------------------

@pytest.mark.slow
def test_html_in_chromium_renders_every_section_and_runs_no_planted_script(hostile, tmp_path):
    html_path = tmp_path / "memo.html"
    analyze("alpha", "gamma", html_path, "--cases", hostile)
    md = run_cli("analyze", "alpha", "gamma", "--cases", hostile, "--full", cwd=tmp_path).stdout
    analyze("alpha", "gamma", tmp_path / "memo.json", "--cases", hostile)
    memo = json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))

    r = chromium(html_path.as_uri(), "--dump-dom", "--virtual-time-budget=2000")
    assert r.returncode == 0 and "<html" in r.stdout, r.stderr[-2000:]
    dom = Page(r.stdout)

    # the payloads did not run: no script element, no onerror handler, no javascript: link,
    # and the title is still the memo's (a script would have set it to PWNED)
    assert dom.title.startswith("经验借鉴可行性备忘录") and "PWNED" not in dom.title.replace(CLOSER, "")
    assert dom.title.endswith(f"能从阿尔法市{CLOSER}学什么")
    assert not dom.all("script") and not dom.all("img") and not dom.all("iframe")
    assert not [a for _, a in dom.tags if any(k.startswith("on") for k in a)]
    assert not [a for a in dom.all("a") if (a.get("href") or "").lower().startswith("javascript:")]
    # ... and they are shown as the text they are
    assert SCRIPT in dom.text and IMG in dom.text and CLOSER in dom.text

    # the same sections, in the same order, as the Markdown memo: the brief first, then the annexes
    assert [s["id"] for s in dom.all("section")] == [
        "answer", "lessons", "dont_copy", "todo", "verify_first", "notes", "context", "logic", "cards",
        "fit_matrix", "actions", "risks", "gaps", "appendix", "verification", "run_record"]
    assert h2s(r.stdout) == md_headings(md)

    # the fit matrix: one row per mechanism, each coloured by its mode
    body = r.stdout[r.stdout.index('<table class="matrix">'):]
    body = body[:body.index("</table>")]
    rows = Page(body).all("tr")
    modes = [f["mode"] for f in memo["fit"]["mechanisms"]]
    assert [row.get("data-mode") for row in rows[1:]] == modes
    for mode in set(modes):
        assert f'class="verdict m-{mode}"' in body
    assert f"--m-{modes[0]}:" in r.stdout  # the palette reached the page

    # every citation link lands on an evidence-appendix entry; the planted note is one of them
    ids = {a["id"] for _, a in dom.tags if "id" in a}
    links = [a["href"][1:] for a in dom.all("a") if (a.get("href") or "").startswith("#")]
    assert links and set(links) <= ids
    entry = next(a for a in dom.all("li") if a.get("id") in ids and a["id"].startswith("ev"))
    assert entry

    # a reader clicks the brief's first footnote: the page jumps to that evidence-appendix entry
    from cdp import Browser
    b = Browser(browser())
    try:
        b.open(html_path.as_uri())
        landed = b.evaluate("""new Promise(done => {
          const a = document.querySelector('#answer a[href^="#ev"], #lessons a[href^="#ev"]');
          const before = Math.round(scrollY);
          a.click();
          setTimeout(() => {
            const t = document.querySelector(':target');
            done({href: a.getAttribute('href'), number: a.textContent, cite: a.title, hash: location.hash,
                  target: t && t.id, section: t && t.closest('section').id, value: t && t.value,
                  text: t && t.textContent, top: t && t.getBoundingClientRect().top, height: innerHeight,
                  moved: Math.round(scrollY) > before});
          }, 300);
        })""")
    finally:
        b.close()
    assert landed["hash"] == landed["href"] == f"#{landed['target']}" and landed["section"] == "appendix", landed
    assert landed["moved"] and 0 <= landed["top"] < landed["height"] / 2, landed  # scrolled into view
    assert str(landed["value"]) == landed["number"] and landed["text"].startswith(f"[{landed['cite']}]"), landed

    # screenshots for a human: desktop and phone width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("memo-desktop.png", "1200,3000"), ("memo-phone.png", "390,2400")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        s = chromium(html_path.as_uri(), f"--screenshot={shot}", f"--window-size={size}", "--hide-scrollbars")
        assert s.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", s.stderr[-2000:]


# Measures, under the print rules, whether each table fits the width of a printed page; the
# result comes back in the title (the memo's own CSP forbids scripts, so the test copy drops it).
_MEASURE = """<script>
addEventListener('load', () => {
  const page = document.documentElement.clientWidth;
  const over = [...document.querySelectorAll('table')]
    .filter(t => Math.max(t.getBoundingClientRect().right, t.scrollWidth) > page + 1).map(t => t.className || 'table');
  document.title = 'OVER:' + JSON.stringify(over);
});
</script>"""


@pytest.mark.slow
def test_printed_memo_keeps_every_table_on_the_page(tmp_path):
    """The action table's last columns were cut at the page edge on paper (29 pages)."""
    analyze("liling", "jinjiang", tmp_path / "memo.html")
    html = (tmp_path / "memo.html").read_text(encoding="utf-8")
    assert "@media print {" in html and "#actions { page: wide; }" in html
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    (tmp_path / "print.html").write_text(html.replace("@media print {", "@media all {")
                                         .replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    # printable width in CSS pixels: A4 portrait with the memo's margins, and landscape for the actions
    for width, tables in ((688, "portrait"), (1032, "landscape")):
        r = chromium((tmp_path / "print.html").as_uri(), "--dump-dom", "--virtual-time-budget=3000",
                     f"--window-size={width},2000")
        assert r.returncode == 0, r.stderr[-2000:]
        over = json.loads(re.search(r"<title>OVER:(.*?)</title>", r.stdout).group(1))
        if tables == "portrait":
            assert [c for c in over if c != "actions"] == [], over
        else:
            assert over == [], over


def test_html_is_one_file_that_requests_nothing(tmp_path):
    out = rendered("alpha", "gamma", "en", str(SYNTHETIC))
    html = out["html"]
    page = Page(html)
    # no element that would fetch anything: scripts, stylesheets, images, frames, fonts
    for tag in ("script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"):
        assert not page.all(tag), tag
    style = html[html.index("<style>"):html.index("</style>")]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    assert page.all("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"].startswith("default-src 'none'")
    # phone and print: a viewport, sideways-scrolling tables, print rules
    assert page.all("meta", name="viewport")
    assert html.count('<div class="table-wrap"><table') == html.count("<table")
    assert "@media print" in style and "@media (max-width" in style
    assert page.all("html")[0]["lang"] == "en"


# ---- Word ---------------------------------------------------------------------------------------

def test_docx_reads_back_with_heading_styles_tables_fonts_and_page_numbers():
    out = rendered("alpha", "gamma", "zh", str(SYNTHETIC))
    doc, memo = docx_doc(out["docx"]), out["memo"]

    assert doc.paragraphs[0].style.name == "Title" and doc.paragraphs[0].text.startswith("经验借鉴可行性备忘录")
    h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert h1 == md_headings(out["md"])
    h2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    for m in memo["logic"]["mechanisms"]:  # one card per mechanism, under the cards section
        assert any(h.startswith(f"{m['id']}. {m['name']}") for h in h2), m["id"]

    n_mech, n_act = len(memo["fit"]["mechanisms"]), len(memo["plan"]["actions"])
    assert n_act > 0
    matrix = table_by_header(doc, "机制", "迁移方式")
    assert len(matrix.rows) == n_mech + 1
    assert [r.cells[0].text.split()[0] for r in matrix.rows[1:]] == [f["mechanism_id"] for f in memo["fit"]["mechanisms"]]
    actions = table_by_header(doc, "#", "行动")
    assert len(actions.rows) == n_act + 1
    context = table_by_header(doc, "指标", "阿尔法市")
    assert len(context.rows) == len(memo["fit"]["context"]) + 1
    # the verdict cell is shaded in its mode's colour
    shd = matrix.rows[1].cells[1]._tc.tcPr.find(f"{W}shd")
    assert shd is not None and shd.get(f"{W}fill") not in (None, "auto", "FFFFFF")

    # every run with Chinese text names an east-Asian font, and a Latin one for the rest
    runs = [r for p in doc.paragraphs for r in p.runs] + \
           [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    chinese = [r for r in runs if CJK.search(r.text)]
    assert len(chinese) > 20
    for r in chinese:
        fonts = r._element.rPr.rFonts
        assert fonts.get(f"{W}eastAsia") and fonts.get(f"{W}ascii"), r.text

    # page numbers: a PAGE field in the footer every section shares
    footer = doc.sections[0].footer._element
    assert any(t.text.strip() == "PAGE" for t in footer.iter(f"{W}instrText"))
    assert all(s.footer.is_linked_to_previous for s in doc.sections[1:])

    # citations are internal links to bookmarks that exist
    body = doc.element.body
    anchors = {h.get(f"{W}anchor") for h in body.iter(f"{W}hyperlink")}
    marks = {b.get(f"{W}name") for b in body.iter(f"{W}bookmarkStart")}
    assert anchors and anchors <= marks

    # the brief comes first; its first footnote links to an entry of the evidence appendix (Annex H)
    assert h1[0] == "1. 结论" and h1[6].startswith("附件A")
    order = [p for p in body.iter(f"{W}p")]
    heading = next(i for i, p in enumerate(order) if "".join(t.text or "" for t in p.iter(f"{W}t")).startswith("附件H"))
    first_link = next((i, h) for i, p in enumerate(order) for h in p.iter(f"{W}hyperlink"))
    target = next(i for i, p in enumerate(order) for b in p.iter(f"{W}bookmarkStart")
                  if b.get(f"{W}name") == first_link[1].get(f"{W}anchor"))
    assert first_link[0] < order.index(next(p for p in order if "".join(t.text or "" for t in p.iter(f"{W}t")) == h1[6]))
    assert target > heading


def test_brief_alone_in_html_and_docx_links_to_its_own_notes(tmp_path):
    analyze("alpha", "gamma", tmp_path / "b.html", "--cases", SYNTHETIC, "--brief")
    analyze("alpha", "gamma", tmp_path / "b.docx", "--cases", SYNTHETIC, "--brief")
    page = Page((tmp_path / "b.html").read_text(encoding="utf-8"))
    assert [s["id"] for s in page.all("section")] == ["answer", "lessons", "dont_copy", "todo", "verify_first", "notes"]
    ids = {a["id"] for _, a in page.tags if "id" in a}
    links = [a["href"][1:] for a in page.all("a") if (a.get("href") or "").startswith("#ev")]
    assert links and set(links) <= ids
    doc = docx_doc((tmp_path / "b.docx").read_bytes())
    assert not [p for p in doc.paragraphs if p.style.name == "Heading 1" and p.text.startswith("附件")]
    body = doc.element.body
    anchors = {h.get(f"{W}anchor") for h in body.iter(f"{W}hyperlink")}
    assert anchors and anchors <= {b.get(f"{W}name") for b in body.iter(f"{W}bookmarkStart")}


def test_docx_is_reproducible_and_dated_by_the_run(tmp_path):
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    analyze("alpha", "beta", a, "--cases", SYNTHETIC)
    analyze("alpha", "beta", b, "--cases", SYNTHETIC)
    assert a.read_bytes() == b.read_bytes()
    doc = docx_doc(a.read_bytes())
    assert doc.core_properties.created.isoformat().startswith("2026-01-01T00:00:00")  # conftest's SOURCE_DATE_EPOCH
    assert doc.core_properties.last_modified_by.startswith("transfer")
    assert {i.date_time for i in zipfile.ZipFile(a).infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_docx_keeps_planted_markup_as_text(hostile, tmp_path):
    analyze("alpha", "gamma", tmp_path / "memo.docx", "--cases", hostile)
    text = docx_text(docx_doc((tmp_path / "memo.docx").read_bytes()))
    assert SCRIPT in text and IMG in text


# ---- every format shows the same content ------------------------------------------------------

# view keys that are structure (ids, colour keys, labels already shown under another key), not content
_NOT_CONTENT = {"L", "run", "anchors", "h", "sections", "anchor", "mode", "status", "kind", "cite_text", "kpis",
                "lang", "necessary", "helpful", "cells", "scope"}


def _content(view, key=None):
    if key in _NOT_CONTENT:
        return
    if isinstance(view, dict):
        for k, v in view.items():
            yield from _content(v, k)
    elif isinstance(view, (list, tuple)):
        for v in view:
            yield from _content(v, key)
    elif isinstance(view, str) and view.strip():
        yield " ".join(view.split())


@pytest.mark.parametrize("target", (pytest.param("beta", marks=pytest.mark.slow), "gamma"))
def test_html_and_docx_show_every_string_of_the_view(target):
    """A field added to the view but left out of a renderer fails here, not in a reader's hands."""
    from transfer_cli.places.loader import Library
    from transfer_cli.render.view import build_view
    from transfer_cli.pipeline.artifacts import Memo

    out = rendered("alpha", target, "en", str(SYNTHETIC))
    lib = Library([SYNTHETIC])
    view = build_view(Memo.model_validate(out["memo"]), lib.load("alpha").place, lib.load(target).place)
    html_text = Page(out["html"]).text
    word_text = docx_text(docx_doc(out["docx"]))
    strings = set(_content(view))
    assert len(strings) > 40
    missing_html = sorted(s for s in strings if s not in html_text)
    missing_word = sorted(s for s in strings if s not in word_text)
    assert not missing_html and not missing_word, (missing_html[:10], missing_word[:10])


# ---- the bundled library: Liling to Jinjiang (zh) and to Stoke-on-Trent (en) -------------------

@pytest.mark.slow
@pytest.mark.parametrize("target, lang, matrix_head, action_head, title", [
    ("jinjiang", "zh", ("机制", "迁移方式"), ("#", "行动"), "经验借鉴可行性备忘录：锦江区能从醴陵市学什么"),
    ("stoke-on-trent", "en", ("Mechanism", "Transfer mode"), ("#", "Action"), "Transferability memo: what can Stoke-on-Trent"),
])
def test_liling_memos_in_html_and_docx(target, lang, matrix_head, action_head, title):
    out = rendered("liling", target, lang)
    memo, headings = out["memo"], md_headings(out["md"])
    n_mech, n_act = len(memo["fit"]["mechanisms"]), len(memo["plan"]["actions"])
    assert n_mech >= 8 and n_act > 0

    page = Page(out["html"])
    assert page.title.startswith(title)
    assert page.all("html")[0]["lang"] == ("zh-CN" if lang == "zh" else "en")
    assert h2s(out["html"]) == headings
    assert out["html"].count('<tr data-mode="') == n_mech
    assert len(page.all("article")) == len(memo["logic"]["mechanisms"])
    links = {a["href"][1:] for a in page.all("a") if (a.get("href") or "").startswith("#ev")}
    assert len(links) > 50 and links <= {a["id"] for a in page.all("li") if "id" in a}

    doc = docx_doc(out["docx"])
    assert doc.paragraphs[0].text.startswith(title)
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == headings
    assert len(table_by_header(doc, *matrix_head).rows) == n_mech + 1
    assert len(table_by_header(doc, *action_head).rows) == n_act + 1
    if lang == "zh":
        runs = [r for p in doc.paragraphs for r in p.runs if CJK.search(r.text)]
        assert runs and all(r._element.rPr.rFonts.get(f"{W}eastAsia") for r in runs)


# ---- the terminal -------------------------------------------------------------------------------

def _on_a_terminal(*args, env: dict, cwd: Path, stderr_too: bool = False) -> str:
    """Run `transfer` with stdout (and stderr) on a pseudo-terminal, as an analyst at a shell sees it."""
    main, child = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_")) and k != "NO_COLOR"}
    full.update({"SOURCE_DATE_EPOCH": "1767225600", "COLUMNS": "160", "TERM": "xterm-256color"}, **env)
    p = subprocess.Popen([TRANSFER, *map(str, args)], stdout=child, stderr=child if stderr_too else subprocess.DEVNULL,
                         env=full, cwd=cwd)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert p.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_terminal_shows_the_brief_and_how_to_see_the_rest(tmp_path):
    args = ("analyze", "alpha", "gamma", "--cases", SYNTHETIC)
    shown = _on_a_terminal(*args, env={"NO_COLOR": "1"}, cwd=tmp_path).replace("\r\n", "\n")
    brief = run_cli(*args, "--brief", cwd=tmp_path).stdout
    full = run_cli(*args, "--full", cwd=tmp_path)
    printed = run_cli(*args, cwd=tmp_path)
    assert shown == brief == printed.stdout and len(brief) < len(full.stdout) / 2  # stdout: the brief alone
    assert "## 附件" not in brief and "## 附件H" in full.stdout
    # ... and one status line says how to see the rest
    both = _on_a_terminal(*args, env={"NO_COLOR": "1"}, cwd=tmp_path, stderr_too=True).replace("\r\n", "\n")
    hint = [line for line in both.splitlines() if "--full" in line]
    assert len(hint) == 1 and "-o memo.md" in hint[0] and "附件A–J" in hint[0]
    # piped, the same brief and the same hint on stderr; --full carries no hint
    assert "--full" in printed.stderr and "--full" not in full.stdout + full.stderr


def test_terminal_full_memo_shows_a_coloured_fit_matrix_and_honours_no_color(tmp_path):
    args = ("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--full")
    coloured = _on_a_terminal(*args, env={}, cwd=tmp_path)
    assert "\x1b[" in coloured
    matrix = coloured[coloured.index("附件D"):coloured.index("附件E")]
    assert "┏" in matrix and "不宜迁移" in matrix  # a drawn table with the verdicts
    # the avoid verdict is drawn in its colour (#cf222e; rich may map it to the nearest ANSI red)
    verdict = matrix[:matrix.index("不宜迁移")]
    assert re.search(r"\x1b\[[0-9;]*(31|91|38;2;207;34;46|38;5;\d+)[0-9;]*m[^\x1b]*$", verdict)
    for heading in md_headings(run_cli(*args, cwd=tmp_path).stdout):
        assert heading in coloured
    assert "--full" not in coloured  # the whole memo: no hint

    plain = _on_a_terminal(*args, env={"NO_COLOR": "1"}, cwd=tmp_path)
    assert "\x1b[" not in plain and "| M2 " in plain  # plain Markdown


def test_piped_output_is_plain_markdown(tmp_path):
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, env={"NO_COLOR": ""}, cwd=tmp_path)
    assert r.returncode == 0 and "\x1b[" not in r.stdout and r.stdout.startswith("# ")


def test_binary_format_to_stdout_is_a_usage_error(tmp_path):
    r = run_cli("analyze", "alpha", "gamma", "--cases", SYNTHETIC, "--format", "docx", cwd=tmp_path)
    assert r.returncode == 2 and "-o FILE" in r.stderr and not r.stdout
