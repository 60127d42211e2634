"""The case library: lookup by id, alias and name in zh and en; user directories shadow bundled places."""

from __future__ import annotations

import shutil

import pytest

from conftest import SYNTHETIC, run_cli

ALIASES = [("醴陵", "liling"), ("醴陵市", "liling"), ("Liling", "liling"), ("LILING", "liling"),
           ("锦江区", "jinjiang"), ("Jinjiang District", "jinjiang"), ("jinjiang", "jinjiang"),
           ("Stoke-on-Trent", "stoke-on-trent")]


@pytest.mark.parametrize("name,expected", ALIASES)
def test_places_resolve_by_id_alias_or_name(name, expected):
    from transfer_cli.places.loader import Library
    assert Library().resolve_id(name) == expected


def test_names_come_from_the_cache_and_follow_edits(tmp_path, monkeypatch):
    # alias lookup reads each place's names from a small file beside its cached pickle; an edited
    # place gets new names, and a damaged names file is rebuilt, never trusted
    from transfer_cli.places.loader import Library
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(tmp_path / "cache"))
    user = tmp_path / "mycases"
    user.mkdir()
    text = (SYNTHETIC / "gamma.yaml").read_text(encoding="utf-8")
    (user / "gamma.yaml").write_text(text, encoding="utf-8")
    assert Library([user]).resolve_id("伽马区") == "gamma"
    sidecars = sorted((tmp_path / "cache" / "places").glob("*.names"))
    assert len(sidecars) == len(Library([user]).paths())
    (user / "gamma.yaml").write_text(text.replace("伽马区", "新伽马区"), encoding="utf-8")
    assert Library([user]).resolve_id("新伽马区") == "gamma"
    with pytest.raises(Exception, match="unknown place '伽马区'"):
        Library([user]).resolve_id("伽马区")
    for f in (tmp_path / "cache" / "places").glob("*.names"):
        f.write_text("not json", encoding="utf-8")
    assert Library([user]).resolve_id("新伽马区") == "gamma"
    assert Library([user]).resolve_id("醴陵") == "liling"


@pytest.mark.slow  # three analyses; names resolve in-process above
def test_analyze_accepts_chinese_and_english_names_alike(tmp_path):
    by_id = run_cli("analyze", "liling", "jinjiang", cwd=tmp_path)
    by_zh = run_cli("analyze", "醴陵", "锦江区", cwd=tmp_path)
    by_en = run_cli("analyze", "Liling", "Jinjiang", cwd=tmp_path)
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout == by_zh.stdout == by_en.stdout


def test_unknown_name_fails_with_did_you_mean(tmp_path):
    r = run_cli("analyze", "liling", "jinjang", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == "error: unknown place 'jinjang'; did you mean 'jinjiang'?"
    r = run_cli("analyze", "liling", "../../etc/passwd", cwd=tmp_path)
    assert r.returncode == 2 and "unknown place" in r.stderr


def test_user_directory_shadows_a_bundled_place(tmp_path):
    user = tmp_path / "mycases"
    user.mkdir()
    text = (SYNTHETIC / "gamma.yaml").read_text(encoding="utf-8")
    text = text.replace("id: gamma", "id: jinjiang").replace("伽马区", "影子锦江")
    (user / "jinjiang.yaml").write_text(text, encoding="utf-8")
    r = run_cli("analyze", "liling", "jinjiang", "--cases", user, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "影子锦江" in r.stdout
    env = run_cli("analyze", "liling", "jinjiang", env={"TRANSFER_CASES": str(user)}, cwd=tmp_path)
    assert env.stdout == r.stdout
    bundled = run_cli("analyze", "liling", "jinjiang", cwd=tmp_path)
    assert "影子锦江" not in bundled.stdout


def test_cases_lists_the_seven_bundled_places():
    r = run_cli("cases")
    assert r.returncode == 0, r.stderr
    for pid in ("liling", "jinjiang", "wuhou", "liuyang", "dehua", "jingdezhen", "stoke-on-trent"):
        assert pid in r.stdout
    assert "source" in r.stdout and "target" in r.stdout


def test_cases_show_and_validate_the_library():
    show = run_cli("cases", "show", "锦江")
    assert show.returncode == 0 and "jinjiang" in show.stdout and "indicators" in show.stdout
    v = run_cli("validate")
    assert v.returncode == 0, v.stderr
    assert "7 valid, 0 invalid" in v.stderr


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("transfer ")
    h = run_cli("--help")
    for cmd in ("analyze", "extract", "cases", "validate", "new"):
        assert cmd in h.stdout


def test_missing_cases_directory_is_bad_usage(tmp_path):
    r = run_cli("cases", "--cases", tmp_path / "nope")
    assert r.returncode == 2 and "cases directory not found" in r.stderr
