"""The batch report people look at: index.html and heatmap.svg, drawn without a plotting library,
in the memo's language, on a colour-blind-safe scale, with the case text escaped."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import SYNTHETIC, run_cli

SCRIPT = "<script>document.title='PWNED'</script>"


class Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory) -> Path:
    """A batch over the synthetic places with a script planted in a mechanism's and a target's name."""
    d = tmp_path_factory.mktemp("report")
    cases = d / "cases"
    shutil.copytree(SYNTHETIC, cases)
    alpha = yaml.safe_load((cases / "alpha.yaml").read_text(encoding="utf-8"))
    alpha["mechanisms"][0]["name"]["zh"] += SCRIPT
    (cases / "alpha.yaml").write_text(yaml.safe_dump(alpha, allow_unicode=True, sort_keys=False), encoding="utf-8")
    beta = yaml.safe_load((cases / "beta.yaml").read_text(encoding="utf-8"))
    beta["names"]["zh"] += SCRIPT
    (cases / "beta.yaml").write_text(yaml.safe_dump(beta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = run_cli("batch", "alpha", "beta", "gamma", "delta", "--cases", cases, "-o", d / "out", "--format", "md",
                "--format", "html", cwd=d)
    assert r.returncode == 0, r.stderr
    return d / "out"


def n_cells(out: Path) -> int:
    """Pairs × mechanisms, as summary.csv counts them."""
    return len((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()) - 1


def test_the_colour_scale_is_sequential_and_every_cell_readable():
    from transfer_cli.batch.report import VIRIDIS, _luminance, fill, ink
    assert fill(0) == VIRIDIS[0] and fill(100) == VIRIDIS[-1] and fill(55) not in VIRIDIS
    lum = [_luminance(fill(s)) for s in range(0, 101)]
    assert all(a < b for a, b in zip(lum, lum[1:])), "a sequential scale: lighter with every point of score"
    for s in range(0, 101):
        bg = _luminance(fill(s))
        fg = _luminance(ink(fill(s)))
        ratio = (max(bg, fg) + 0.05) / (min(bg, fg) + 0.05)
        assert ratio >= 4.5, (s, ratio)  # WCAG AA for the letter and score on every colour


def test_index_html_is_self_contained_escaped_and_in_the_memo_language(batch_out):
    html = (batch_out / "index.html").read_text(encoding="utf-8")
    page = Tags(html)
    assert page.all("html")[0]["lang"] == "zh"
    for tag in ("script", "link", "img", "iframe", "object"):
        assert not page.all(tag), tag
    assert SCRIPT not in html and "&lt;script&gt;" in html  # shown as text, never run
    text = "".join(page.text)
    assert "批量比较" in text and "机制 × 目标地" in text
    # rows carry the full mechanism names in the memo's language; cells a letter and a score
    assert f"M1 由传统手艺长成的专业供应商集群{SCRIPT}".replace("<", "&lt;").replace(">", "&gt;") \
        .replace("'", "&#39;") in html
    assert len(re.findall(r'<th class="row" scope="row">M\d+ \S', html)) == 3  # alpha's three mechanisms
    cells = re.findall(r'<td class="cell" style="background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6})" title="([^"]+)">'
                       r"([照改已鉴避])(\*?) (\d+)</td>", html)
    from transfer_cli.batch.report import fill, ink
    assert len(cells) == n_cells(batch_out)  # a cell per pair × mechanism
    for bg, fg, title, letter, star, score in cells:
        assert bg == fill(int(score)) and fg == ink(bg)
        assert title.endswith(f"{star} {score}")
    # every memo link resolves to a file the batch wrote
    links = [a["href"] for a in page.all("a")]
    memo_links = [h for h in links if h.startswith("alpha/")]
    assert len(memo_links) == 3 * 2 and all((batch_out / h).is_file() for h in memo_links)
    assert "heatmap.svg" in links


def test_heatmap_svg_is_valid_with_names_letters_and_legend(batch_out):
    svg = (batch_out / "heatmap.svg").read_text(encoding="utf-8")
    root = ET.fromstring(svg)  # well-formed: the planted markup is escaped
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "alpha：各机制在各目标地的迁移得分"
    assert any(t.startswith("M1 由传统手艺长成的专业供应商集群") and SCRIPT in t for t in texts)
    assert sum(1 for t in texts if re.fullmatch(r"[照改已鉴避]\*? \d+", t)) == n_cells(batch_out)
    assert any("照 照搬" in t for t in texts)  # the letters spelt out in the legend
    assert "matplotlib" not in svg


def test_many_targets_go_on_the_rows_with_a_key_to_the_mechanisms():
    from transfer_cli.batch.compare import Matrix
    from transfer_cli.batch.report import WIDE, grid
    targets = [(f"t{i}", f"目标{i}", 90 - i) for i in range(WIDE + 1)]
    cells = {(m, t): {"mode": "adapt", "conditional": False, "score": 50} for m in ("M1", "M2") for t, _, _ in targets}
    g = grid(Matrix("s", [("M1", "机制一"), ("M2", "机制二")], targets, cells), "zh")
    assert g.columns == ["M1", "M2"] and len(g.rows) == WIDE + 1 and g.rows[0][0] == "目标0 (90)"
    assert g.key == ["M1 = 机制一", "M2 = 机制二"] and g.rows[0][1][0].text == "改 50"
    narrow = grid(Matrix("s", [("M1", "机制一")], targets[:2], cells), "en")
    assert narrow.columns == ["目标0", "目标1"] and narrow.rows[0][0] == "M1 机制一" and narrow.rows[0][1][0].text == "A 50"


def test_matplotlib_is_no_dependency():
    import tomllib

    from conftest import ROOT
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert not [d for d in deps if d.startswith(("matplotlib", "numpy"))]


@pytest.mark.slow
def test_index_html_in_chromium(batch_out, tmp_path):
    from test_formats import chromium
    r = chromium((batch_out / "index.html").as_uri(), "--dump-dom", "--virtual-time-budget=2000")
    assert r.returncode == 0 and "<html" in r.stdout, r.stderr[-2000:]
    dom = Tags(r.stdout)
    title = "".join(dom.text)
    assert "PWNED" not in r.stdout.split("<title>")[1].split("</title>")[0] and "批量比较" in title
    assert not dom.all("script")
    assert len(re.findall(r'<td class="cell"', r.stdout)) == n_cells(batch_out)
    shot = tmp_path / "index.png"
    s = chromium((batch_out / "index.html").as_uri(), f"--screenshot={shot}", "--window-size=1200,1600")
    assert s.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
