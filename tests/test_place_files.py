"""Place files: folders, symlinks, the cache, `new`; a malformed file gets one line naming file, line and field."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import DATA, SYNTHETIC, run_cli

MALFORMED = DATA / "malformed"  # the corpus itself runs in test_malformed.py


def test_debug_shows_a_traceback(tmp_path):
    shutil.copy(SYNTHETIC / "alpha.yaml", tmp_path / "alpha.yaml")
    shutil.copy(MALFORMED / "dangling-note.yaml", tmp_path / "gamma.yaml")
    (tmp_path / "gamma.yaml").write_text((tmp_path / "gamma.yaml").read_text().replace("dangling-note", "gamma"))
    r = run_cli("--debug", "analyze", "alpha", "gamma", "--cases", tmp_path)
    assert r.returncode != 0 and "Traceback" in r.stderr
    r = run_cli("analyze", "alpha", "gamma", "--cases", tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "gamma.yaml:16: mechanisms[0].evidence[1]" in r.stderr


def test_symlink_escaping_the_cases_dir_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SYNTHETIC / "beta.yaml", outside / "beta.yaml")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "beta.yaml").symlink_to(outside / "beta.yaml")
    r = run_cli("validate", "--cases", cases, cwd=tmp_path)
    assert r.returncode == 2
    assert "path escapes the cases directory" in r.stderr


def test_folder_place_reports_the_right_file(tmp_path):
    place = tmp_path / "alpha"
    place.mkdir()
    text = (SYNTHETIC / "alpha.yaml").read_text(encoding="utf-8")
    (place / "place.yaml").write_text(text, encoding="utf-8")
    (place / "more.yaml").write_text(
        "notes:\n  - {id: A-09, period: '2020', domain: economy, text: x, sources: [nope]}\n", encoding="utf-8")
    r = run_cli("validate", place, cwd=tmp_path)
    assert r.returncode == 2
    assert "alpha/more.yaml:2: notes[3].sources[0]: source 'nope' is not in sources" in r.stderr


@pytest.mark.slow  # seven runs
def test_new_writes_a_skeleton_that_is_refused_until_filled_and_refuses_to_overwrite(tmp_path):
    r = run_cli("new", "qingyang", "--dir", tmp_path)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "qingyang.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Place profile") and "id: qingyang" in text
    # untouched, it names each placeholder (not a memo titled "TODO 中文名")
    bare = run_cli("validate", path)
    assert bare.returncode == 2
    assert "qingyang.yaml:7: names.zh: placeholder not replaced: 'TODO 中文名'" in bare.stderr
    memo = run_cli("analyze", "liling", "qingyang", "--cases", tmp_path)
    assert memo.returncode == 2 and not memo.stdout and "placeholder not replaced" in memo.stderr
    # filled in, with every commented example uncommented where it stands, it validates
    filled = (text.replace('"TODO 中文名"', "青阳区").replace('"TODO English name"', "Qingyang")
              .replace('"TODO municipal_district"', "municipal_district").replace('"TODO 上级"', "某市")
              .replace('"TODO parent"', "Some City").replace('"TODO: the document your figures come from"', "公报")
              .replace('"TODO"', "x"))
    path.write_text(re.sub(r"^  # ", "  ", filled, flags=re.M), encoding="utf-8")
    ok = run_cli("validate", path)
    assert ok.returncode == 0, ok.stderr
    assert "gdp" in run_cli("cases", "show", "qingyang", "--cases", tmp_path).stdout
    again = run_cli("new", "qingyang", "--dir", tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    assert run_cli("new", "Bad Id", "--dir", tmp_path).returncode == 2


def test_validate_a_folder_of_place_files_checks_each_place(tmp_path):
    for name in ("alpha.yaml", "gamma.yaml"):
        shutil.copy(SYNTHETIC / name, tmp_path / name)
    r = run_cli("validate", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 valid, 0 invalid" in r.stderr
    (tmp_path / "gamma.yaml").write_text((SYNTHETIC / "gamma.yaml").read_text(encoding="utf-8")
                                         .replace("domain: economy", "domain: econ"), encoding="utf-8")
    r = run_cli("validate", tmp_path)
    assert r.returncode == 2 and "1 valid, 1 invalid" in r.stderr
    assert "gamma.yaml" in r.stderr and "unknown note domain 'econ'" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("validate", empty)
    assert r.returncode == 2 and "no place files" in r.stderr


def test_unknown_indicator_key_is_a_warning_naming_the_nearest(tmp_path):
    text = (SYNTHETIC / "beta.yaml").read_text(encoding="utf-8").replace("cluster_output:", "cluster_outptu:")
    (tmp_path / "beta.yaml").write_text(text, encoding="utf-8")
    r = run_cli("validate", tmp_path / "beta.yaml")
    assert r.returncode == 0
    assert "indicators.cluster_outptu: unknown indicator key" in r.stderr
    assert "did you mean 'cluster_output'?" in r.stderr


def test_a_cached_place_is_revalidated_when_its_file_changes(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("alpha.yaml", "gamma.yaml"):
        shutil.copy(SYNTHETIC / name, cases / name)
    env = {"TRANSFER_CACHE_DIR": str(tmp_path / "cache")}
    assert run_cli("analyze", "alpha", "gamma", "--cases", cases, env=env).returncode == 0
    assert list((tmp_path / "cache" / "places").glob("*.pickle"))
    text = (cases / "gamma.yaml").read_text(encoding="utf-8").replace("domain: economy", "domain: econ")
    (cases / "gamma.yaml").write_text(text, encoding="utf-8")
    r = run_cli("analyze", "alpha", "gamma", "--cases", cases, env=env)
    assert r.returncode == 2 and "notes[0].domain: unknown note domain 'econ'" in r.stderr
