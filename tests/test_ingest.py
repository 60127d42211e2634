"""`transfer ingest`: a synthetic district's bulletin in four formats and a work-report excerpt.

The corpus (tests/data/ingest) is written for a place that does not exist; EXPECTED is what its
bulletin states, figure by figure, so a pattern that finds too much or too little fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import DATA, run_cli
from transfer_cli.errors import InputError
from transfer_cli.ingest.bulletin import find_figures, reference_year
from transfer_cli.ingest.readers import read_document, sentences

CORPUS = DATA / "ingest"
BULLETIN = [CORPUS / f"qinglan-2023-bulletin.{ext}" for ext in ("txt", "html", "pdf", "docx")]
REPORT = CORPUS / "qinglan-2024-work-report.txt"

# key -> (the number as the bulletin writes it, unit); all refer to 2023
EXPECTED = {
    "gdp": ("612.48", "亿元"), "gdp_growth": ("5.8", "%"), "primary_share": ("1.6", "%"),
    "secondary_share": ("30.6", "%"), "tertiary_share": ("67.8", "%"), "gdp_per_capita": ("80587", "元"),
    "population_resident": ("76.12", "万人"), "population_urban": ("63.57", "万人"),
    "urbanisation_rate": ("83.51", "%"), "population_registered": ("58.36", "万人"),
    "industrial_value_added_growth": ("7.4", "%"), "above_scale_firms": ("218", "家"),
    "high_tech_firms": ("146", "家"), "fixed_asset_investment_growth": ("3.9", "%"),
    "retail_sales": ("286.74", "亿元"), "trade_total": ("58.91", "亿元"), "exports": ("41.27", "亿元"),
    "fiscal_revenue_general_budget": ("42.18", "亿元"), "tax_revenue": ("33.05", "亿元"),
    "fiscal_expenditure": ("68.90", "亿元"),
    "tourism_visitors": ("1268.5", "万人次"), "tourism_revenue": ("142.36", "亿元"),
    "disposable_income": ("51236", "元"), "disposable_income_urban": ("56870", "元"),
    "disposable_income_rural": ("29415", "元"), "market_entities": ("9.86", "万户"),
}


@pytest.mark.parametrize("path", BULLETIN, ids=lambda p: p.suffix)
def test_each_format_gives_every_standard_figure_with_unit_year_and_its_sentence(path):
    doc = read_document(path)
    assert doc.title == "青岚区2023年国民经济和社会发展统计公报"
    assert reference_year(doc) == 2023
    figures = find_figures(doc)
    found = {f.key: (f.written, f.unit) for f in figures}
    assert found == EXPECTED
    assert len(figures) == len(EXPECTED)  # nothing found twice, nothing extra
    assert {f.year for f in figures} == {2023}
    texts = [p.text for p in doc.passages]
    for f in figures:
        assert f.written in f.quote                        # the number is in the sentence quoted...
        assert any(f.quote in t for t in texts)            # ...and the sentence is in the document,
        assert f.quote in sentences(f.passage.text)        # at the location the figure gives
        assert float(f.written) == f.value


def test_locations_are_pages_in_a_pdf_and_paragraphs_elsewhere():
    pdf = read_document(BULLETIN[2])
    assert {p.page for p in pdf.passages} == {1, 2}
    exports = next(f for f in find_figures(pdf) if f.key == "exports")
    assert exports.passage.loc == "p. 2"
    docx = read_document(BULLETIN[3])
    gdp = next(f for f in find_figures(docx) if f.key == "gdp")
    assert gdp.passage.loc == "¶6" and docx.passages[5].text.startswith("初步核算")


def test_html_main_text_leaves_out_the_menu_and_the_footer():
    text = read_document(BULLETIN[1]).text()
    assert "初步核算" in text
    assert "首页" not in text and "网站标识码" not in text


def test_a_work_report_gives_last_years_figures_and_no_targets():
    doc = read_document(REPORT)
    assert reference_year(doc) == 2023  # a 2024 report reviews 2023
    found = {(f.key, f.written, f.year) for f in find_figures(doc)}
    # the 2024 targets (5.5%, 5%), the five-year average (6.3%) and "从160家" are not facts of 2023
    assert found == {("gdp", "612.5", 2023), ("gdp_growth", "5.8", 2023),
                     ("fiscal_revenue_general_budget", "42.2", 2023)}


def test_unreadable_input_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(InputError, match="broken.pdf: cannot read this pdf file"):
        read_document(bad)
    with pytest.raises(InputError, match="cannot read .xls"):
        read_document(tmp_path / "table.xls")
    r = run_cli("ingest", "x", bad, "--cases", tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "x.yaml").exists()


def _draft(tmp_path: Path, *docs: Path) -> str:
    r = run_cli("ingest", "qinglan", *docs, "--cases", tmp_path)
    assert r.returncode == 0, r.stderr
    return (tmp_path / "qinglan.yaml").read_text(encoding="utf-8")


def test_conflicting_documents_are_listed_not_resolved_and_block_validation(tmp_path):
    other = tmp_path / "yearbook.txt"
    other.write_text("云川统计年鉴摘录\n2023年，青岚区地区生产总值598.10亿元。\n", encoding="utf-8")
    text = _draft(tmp_path, BULLETIN[0], REPORT, other)
    gdp = next(line for line in text.splitlines() if line.startswith("  gdp:"))
    # the work report's 612.5 agrees with the bulletin's 612.48 at its precision; the yearbook does not
    assert "TODO pick one: 612.48亿元 (qinglan-2023-bulletin.txt ¶6) | 598.10亿元 (yearbook.txt ¶2)" in gdp
    assert "conflict:" in gdp and "612.5亿元" not in gdp
    assert "# [ ] conflict in gdp" in text
    r = run_cli("validate", tmp_path / "qinglan.yaml")
    assert r.returncode == 2 and "indicators.gdp.value: placeholder not replaced" in r.stderr


def test_unknown_figures_and_missing_years_are_marked_for_review(tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# 青岚区概况\n\n全年地区生产总值100.5亿元。\n", encoding="utf-8")
    text = _draft(tmp_path, note)
    assert 'year: "TODO year: the document does not say"' in text
    unknown = text.split("# not found in the documents (unknown, not absent")[1].split("\n\n")[0]
    assert "population_resident" in unknown and "  gdp " not in unknown.replace("#   gdp_", "")
    assert text.rstrip().splitlines()[-1].startswith("# [ ]")  # the checklist ends the draft


def test_ingest_refuses_to_overwrite_without_merge_or_force(tmp_path):
    _draft(tmp_path, REPORT)
    again = run_cli("ingest", "qinglan", REPORT, "--cases", tmp_path)
    assert again.returncode == 2 and "--merge" in again.stderr


@pytest.mark.slow  # ~7 s: five documents, an analysis and a check
def test_from_documents_to_a_verified_memo_whose_figures_trace_to_sentences(tmp_path):
    cases = tmp_path / "cases"
    text = _draft(cases, *BULLETIN, REPORT)
    assert run_cli("validate", cases).returncode == 2  # an unreviewed draft never validates silently
    # the review: confirm the level and parent the draft proposes
    reviewed = text.replace('"TODO municipal_district?"', "municipal_district").replace('"TODO 云川市?"', "云川市")
    (cases / "qinglan.yaml").write_text(reviewed, encoding="utf-8")
    ok = run_cli("validate", cases)
    assert ok.returncode == 0, ok.stderr
    shown = run_cli("cases", "show", "qinglan", "--cases", cases)
    assert "qinglan-2023-bulletin-txt-para6" in shown.stdout  # the source names the file and paragraph
    r = run_cli("analyze", "liling", "qinglan", "--cases", cases, "-o", tmp_path / "memo.json")
    assert r.returncode == 0, r.stderr
    check = run_cli("check", tmp_path / "memo.json", "--cases", cases)
    assert check.returncode == 0, check.stdout + check.stderr
    import yaml
    profile = yaml.safe_load(reviewed)
    docs = {d.name: d for d in map(read_document, [*BULLETIN, REPORT])}
    cited = set(re.findall(r"qinglan:indicators\.(\w+)", (tmp_path / "memo.json").read_text(encoding="utf-8")))
    assert {"gdp", "population_resident", "tertiary_share"} <= cited
    for key in cited & set(profile["indicators"]):  # (a memo also cites a figure as unknown)
        ind = profile["indicators"][key]
        quote = ind["note"].strip("«»")
        source = profile["sources"][ind["source"]]
        file, loc = re.match(r"file (\S+), (.+)", source["note"]).groups()
        passage = [p for p in docs[file].passages if p.loc == loc]
        assert any(quote in p.text for p in passage), (key, file, loc)
        assert re.sub(r"\.0$", "", str(ind["value"])) in quote.replace(",", "")
    memo = json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))
    assert "qinglan" in json.dumps(memo["run"], ensure_ascii=False)


# A scripted model reply: sound items, and three that must not reach the draft — a challenge whose
# quote is in no document, an institution the documents never name, and a note whose text has a
# figure its quote does not.
MODEL_REPLY = {
    "industries": [
        {"tag": "electronics", "name": "电子信息", "weight": "pillar", "quote": "电子信息产业集群产值突破300亿元"},
        {"tag": "new_materials", "name": "新材料", "weight": "emerging", "quote": "新材料产业加快成长"}],
    "assets": [{"kind": "development_zone", "name": "青岚经济开发区", "quote": "青岚经济开发区获批省级开发区"},
               {"kind": "heritage_site", "name": "岚江历史街区", "quote": "岚江历史街区完成保护性修缮"}],
    "challenges": [
        {"type": "skills_shortage", "weight": "high", "text": "高技能人才不足", "quote": "高技能人才不足"},
        {"type": "connectivity", "weight": "high", "text": "至今没有高铁站", "quote": "青岚区至今没有高铁站，出行不便"}],
    "goals": [{"type": "slow_growth", "text": "2024年地区生产总值增长5.5%左右",
               "quote": "2024年全区经济社会发展的主要预期目标是：地区生产总值增长5.5%左右"}],
    "institutions": [{"name": "青岚区投资促进局", "handles": ["investment_promotion"],
                      "quote": "区投资促进局牵头开展产业链招商"}],
    "notes": [{"domain": "industry", "period": "2023", "text": "电子信息产业集群产值突破350亿元",
               "quote": "电子信息产业集群产值突破300亿元"}],
}


def test_a_model_drafts_the_other_fields_and_the_quote_check_drops_what_the_documents_do_not_say(tmp_path):
    from fakeserver import FakeServer
    from llm_helpers import KEY, json_reply, llm_env
    # asked again with the checker's findings, the model corrects one item and keeps two
    corrected = json.loads(json.dumps(MODEL_REPLY))
    corrected["challenges"][1] = {"type": "old_housing", "weight": "medium", "text": "老旧小区改造任务较重",
                                  "quote": "老旧小区改造任务较重"}
    with FakeServer(script=[json_reply(MODEL_REPLY)], responder=lambda body: json_reply(corrected)) as server:
        r = run_cli("ingest", "qinglan", BULLETIN[0], REPORT, "--cases", tmp_path, "--model", "m",
                    "--base-url", server.url, env=llm_env(tmp_path))
        first, reask = (json.dumps(c.body, ensure_ascii=False) for c in server.chats)
    assert r.returncode == 0, r.stderr
    assert "岚江历史街区完成保护性修缮" in first  # the passages went to the model
    assert "至今没有高铁站 — its quote is not in the documents" in reask
    assert KEY not in r.stderr
    # both requests are in the run log, as sent
    (run,) = json.loads(run_cli("logs", "--json", env=llm_env(tmp_path)).stdout)
    logged = json.loads(run_cli("logs", "--json", "--run", run["run_id"], env=llm_env(tmp_path)).stdout)
    assert [(e["stage"], e["source"]) for e in logged] == [("ingest", "qinglan")] * 2
    assert [e["prompt"] for e in logged] == [c.body["messages"] for c in server.chats]
    text = (tmp_path / "qinglan.yaml").read_text(encoding="utf-8")
    body = text.split("# Review checklist")[0]
    assert "tag: electronics" in body and "kind: heritage_site" in body and "type: skills_shortage" in body
    assert "type: old_housing" in body and "高铁站" not in body
    assert "5.5%左右" in body  # a target is a goal, not an indicator
    for planted in ("投资促进局", "350"):
        assert planted not in body
        assert planted in r.stderr
    checklist = text.split("# Review checklist")[1]
    assert "dropped: institutions: 青岚区投资促进局 — its quote is not in the documents" in checklist
    assert "dropped: notes: 电子信息产业集群产值突破350亿元 — figures not in its quote: 350" in checklist
    # each kept item cites the paragraph its quote is in
    assert re.search(r"tag: electronics, .*sources: \[qinglan-2024-work-report-txt-para6\]", body)
    reviewed = text.replace('"TODO municipal_district?"', "municipal_district").replace('"TODO 云川市?"', "云川市")
    (tmp_path / "qinglan.yaml").write_text(reviewed, encoding="utf-8")
    ok = run_cli("validate", tmp_path / "qinglan.yaml")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.slow  # four runs
def test_merge_adds_what_the_profile_lacks_keeps_what_a_person_wrote_and_shows_the_diff(tmp_path):
    text = _draft(tmp_path, REPORT)
    # a person reviewed the draft: chose the level and parent, corrected GDP, added a comment
    path = tmp_path / "qinglan.yaml"
    edited = (text.replace('"TODO municipal_district?"', "municipal_district").replace('"TODO 上级"', "云川市")
              .replace("value: 612.5,", "value: 600,")) + "# checked against the printed report\n"
    path.write_text(edited, encoding="utf-8")
    r = run_cli("ingest", "qinglan", BULLETIN[2], "--cases", tmp_path, "--merge")
    assert r.returncode == 0, r.stderr
    merged = path.read_text(encoding="utf-8")
    assert "value: 600," in merged and "# checked against the printed report" in merged
    assert "kept yours: indicators.gdp = 600 亿元 (2023); the documents say 612.48 亿元" in r.stderr
    assert "added: indicators.population_resident = 76.12 万人 (2023)" in r.stderr
    assert r.stdout.startswith("---") and "+  population_resident: {value: 76.12" in r.stdout
    assert "+  qinglan-2023-bulletin-pdf-p1: {title:" in r.stdout  # the new figures' source comes along
    assert not any(line.startswith("-") and not line.startswith("---") for line in r.stdout.splitlines())
    assert run_cli("validate", path).returncode == 0
    again = run_cli("ingest", "qinglan", BULLETIN[2], "--cases", tmp_path, "--merge")
    assert again.returncode == 0 and "nothing to add" in again.stderr and not again.stdout


@pytest.mark.parametrize("sentence, expected", [
    ("年末全市户籍总人口105.30万人。", ("population_registered", "105.30", "万人")),
    ("城镇常住居民人均可支配收入48000元，增长4.5%。", ("disposable_income_urban", "48000", "元")),
    ("农村常住居民人均可支配收入21000元。", ("disposable_income_rural", "21000", "元")),
    ("全体常住居民人均可支配收入36000元。", ("disposable_income", "36000", "元")),
    ("全年固定资产投资比上年下降2.1%。", ("fixed_asset_investment_growth", "-2.1", "%")),
    ("外贸出口总值12.5亿美元。", ("exports_usd", "12.5", "亿美元")),
    ("第三产业增加值占地区生产总值的比重为55.2%。", ("tertiary_share", "55.2", "%")),
    ("全区总面积62.12平方公里。", ("area", "62.12", "km²")),
    ("全年固定资产投资总额215.3亿元。", ("fixed_asset_investment", "215.3", "亿元")),
    ("全年完成一般公共预算收入38500万元。", ("fiscal_revenue_general_budget", "38500", "万元")),
])
def test_usual_variants_of_a_bulletin_sentence(tmp_path, sentence, expected):
    doc = tmp_path / "b.txt"
    doc.write_text(f"某县2022年国民经济和社会发展统计公报\n{sentence}\n", encoding="utf-8")
    found = [(f.key, f.written, f.unit) for f in find_figures(read_document(doc))]
    assert found == [expected]
    assert {f.year for f in find_figures(read_document(doc))} == {2022}


def test_requests_are_planned_to_fit_the_window_in_reading_order():
    from transfer_cli.ingest.model import plan_requests
    docs = [read_document(BULLETIN[0]), read_document(REPORT)]
    everything = [p for d in docs for p in d.passages]
    assert plan_requests(docs, 10**6) == [everything]
    chunks = plan_requests(docs, 600)
    assert len(chunks) > 3 and [p for c in chunks for p in c] == everything
    assert all(sum(len(p.text.encode()) + 40 for p in c) <= 600 for c in chunks if len(c) > 1)


def test_a_gbk_text_file_reads_and_a_pdf_without_text_says_it_needs_ocr(tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("某县2022年国民经济和社会发展统计公报\n年末常住人口30.5万人。\n".encode("gb18030"))
    assert [(f.key, f.written) for f in find_figures(read_document(gbk))] == [("population_resident", "30.5")]
    from pypdf import PdfWriter
    blank = PdfWriter()
    blank.add_blank_page(width=420, height=595)
    scan = tmp_path / "scan.pdf"
    with open(scan, "wb") as f:
        blank.write(f)
    with pytest.raises(InputError, match="scan.pdf: no text found .*OCR"):
        read_document(scan)
