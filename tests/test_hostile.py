"""Hostile case text reaches every output as text; damaged state on disk is set aside; reserved names.

A place whose note carries raw HTML, a javascript: link, terminal escapes and a bell, whose
mechanism name is a spreadsheet formula and whose source URL is javascript:, run through the
CLI as a user runs it.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile

from conftest import SYNTHETIC, run_cli

NOTE = "陶瓷企业 500 家，产值 300亿元（2010）。"
HOSTILE_NOTE = NOTE + r'<img src=x onerror=alert(1)> [点此](javascript:alert(1)) <javascript:alert(2)> \e[31m红\a'
FORMULA = '=HYPERLINK(\\"http://evil\\")供应商集群'


def hostile_cases(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    text = (SYNTHETIC / "alpha.yaml").read_text(encoding="utf-8")
    for old, new in ((NOTE, HOSTILE_NOTE), ("{zh: 由传统手艺长成的专业供应商集群,", f'{{zh: "{FORMULA}",'),
                     ("s1: {title: Synthetic source, publisher: tests}",
                      's1: {title: Synthetic source, publisher: tests, url: "javascript:alert(3)"}')):
        assert old in text
        text = text.replace(old, new)
    (cases / "alpha.yaml").write_text(text, encoding="utf-8")
    shutil.copy(SYNTHETIC / "beta.yaml", cases / "beta.yaml")
    return cases


def test_markdown_memo_shows_html_and_links_from_case_text_as_text(tmp_path):
    cases = hostile_cases(tmp_path)
    r = run_cli("analyze", "alpha", "beta", "--cases", cases, "-o", tmp_path / "memo.md")
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "memo.md").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)>" in md and "<img" not in md
    assert "[点此]\\(javascript:alert(1))" in md and "](javascript:" not in md
    assert "<javascript:" not in md and "&lt;javascript:alert(2)>" in md
    assert "javascript:alert(3)" in md and "<javascript:alert(3)>" not in md  # a non-http URL is not a link
    assert "\x1b" not in md and "\x07" not in md and "[31m红" in md


def test_stdout_and_word_drop_control_characters(tmp_path):
    cases = hostile_cases(tmp_path)
    r = run_cli("analyze", "alpha", "beta", "--cases", cases)
    assert r.returncode == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout
    r = run_cli("analyze", "alpha", "beta", "--cases", cases, "-o", tmp_path / "memo.docx")
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "memo.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "[31m红" in xml and "\x1b" not in xml and "\x07" not in xml


def test_error_lines_drop_terminal_escapes(tmp_path):
    cases = hostile_cases(tmp_path)
    text = (cases / "beta.yaml").read_text(encoding="utf-8").replace("domain: industry", 'domain: "\\e]0;pwned\\a\\e[2Jeco"', 1)
    (cases / "beta.yaml").write_text(text, encoding="utf-8")
    r = run_cli("analyze", "alpha", "beta", "--cases", cases)
    assert r.returncode == 2
    assert "unknown note domain ']0;pwned[2Jeco'" in r.stderr and "\x1b" not in r.stderr and "\x07" not in r.stderr


def test_batch_index_and_csv_neutralise_formulas_and_markup(tmp_path):
    cases = hostile_cases(tmp_path)
    r = run_cli("batch", "alpha", "beta", "--cases", cases, "-o", tmp_path / "out", env={"TRANSFER_PROCESSES": "1"})
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "summary.csv").read_text(encoding="utf-8-sig"))))
    names = [row[3] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil\")供应商集群" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    index = (tmp_path / "out" / "index.md").read_text(encoding="utf-8")
    assert "=HYPERLINK" in index and "(beta/" not in index.split("HYPERLINK")[1].split("\n")[0]


def test_a_target_named_logic_does_not_overwrite_the_sources_logic(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(SYNTHETIC / "alpha.yaml", cases / "alpha.yaml")
    text = (SYNTHETIC / "beta.yaml").read_text(encoding="utf-8").replace("id: beta", "id: logic", 1)
    (cases / "logic.yaml").write_text(text, encoding="utf-8")
    shutil.copy(SYNTHETIC / "beta.yaml", cases / "beta.yaml")
    env = {"TRANSFER_PROCESSES": "1"}
    out = tmp_path / "out"
    r = run_cli("batch", "alpha", "logic", "beta", "--cases", cases, "-o", out, "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "alpha" / "logic.json").read_text(encoding="utf-8"))["kind"] == "memo"
    assert json.loads((out / "alpha" / "_logic.json").read_text(encoding="utf-8"))["kind"] == "case_logic"
    again = run_cli("batch", "alpha", "logic", "beta", "--cases", cases, "-o", out, "--format", "json", env=env)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "2 skipped" in again.stderr


def test_damaged_batch_state_is_set_aside_with_one_warning(tmp_path):
    out = tmp_path / "out"
    env = {"TRANSFER_PROCESSES": "1"}
    assert run_cli("batch", "alpha", "beta", "gamma", "--cases", SYNTHETIC, "-o", out, env=env).returncode == 0
    (out / "alpha" / "beta.manifest.json").write_text('{"version": 1, "inputs": 5, "formats": 3, "status": "ok",'
                                                      ' "lang": "zh", "engine": {}}', encoding="utf-8")
    (out / "alpha" / "gamma.manifest.json").write_bytes(b"\x00\xff{ truncated")
    (out / "alpha" / "_logic.json").write_text("[]", encoding="utf-8")
    r = run_cli("batch", "alpha", "beta", "gamma", "--cases", SYNTHETIC, "-o", out, env=env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, r.stderr  # the unreadable manifest and the logic file; the odd one is just redone
    assert (out / "alpha" / "gamma.manifest.json.damaged").exists()
    assert json.loads((out / "alpha" / "_logic.json").read_text(encoding="utf-8"))["kind"] == "case_logic"
    assert json.loads((out / "alpha" / "beta.manifest.json").read_text(encoding="utf-8"))["status"] == "ok"


def test_a_damaged_place_cache_entry_is_set_aside_and_rebuilt(tmp_path):
    env = {"TRANSFER_CACHE_DIR": str(tmp_path / "cache")}
    assert run_cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, env=env).returncode == 0
    pickles = sorted((tmp_path / "cache" / "places").glob("*.pickle"))
    assert pickles
    for p in pickles:
        p.write_bytes(b"\x80\x05garbage")
    r = run_cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and all(".pickle: damaged" in w and "moved aside" in w for w in warnings), r.stderr
    again = run_cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, env=env)
    assert again.returncode == 0 and "warning" not in again.stderr


def test_an_alias_bomb_in_a_cases_dir_does_not_stall_alias_lookup(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("alpha.yaml", "beta.yaml"):
        shutil.copy(SYNTHETIC / name, cases / name)
    shutil.copy(SYNTHETIC.parent / "malformed" / "alias-bomb.yaml", cases / "bomb.yaml")
    # by alias: every place's names are read; before the bound this took minutes and gigabytes
    r = run_cli("analyze", "阿尔法", "beta", "--cases", cases, timeout=60)
    assert r.returncode == 0, r.stderr


def test_an_output_path_that_cannot_be_written_fails_its_pair_in_one_line(tmp_path):
    out = tmp_path / "out"
    (out / "alpha" / "beta.md").mkdir(parents=True)
    r = run_cli("batch", "alpha", "beta", "gamma", "--cases", SYNTHETIC, "-o", out, env={"TRANSFER_PROCESSES": "1"})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "failed: alpha → beta: " in r.stderr and "beta.md: is a directory, not a file" in r.stderr
    assert (out / "alpha" / "gamma.md").is_file()
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "alpha").write_text("in the way", encoding="utf-8")
    r = run_cli("batch", "alpha", "beta", "--cases", SYNTHETIC, "-o", tmp_path / "out2")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "_logic.json: Not a directory" in r.stderr
