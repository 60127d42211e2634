"""Bad input of every kind: one line naming the file (line, field), exit 2, nothing written.

The corpus tests/data/malformed/ runs in-process through the real command line (typer's runner,
the same `app` the `transfer` script calls), one file per case; a few cases that need a real
process (a FIFO that must not hang, --debug) run `transfer` as a subprocess.
"""

from __future__ import annotations

import os
import stat
import tomllib

import pytest
from typer.testing import CliRunner

from conftest import SESSION_DIR, run_cli
from malformed_cases import EXPECTED, MALFORMED, command

CASES = tomllib.loads(EXPECTED.read_text(encoding="utf-8"))


@pytest.fixture
def invoke(tmp_path, monkeypatch):
    """Run the CLI in-process in tmp_path, with the environment run_cli gives a subprocess."""
    from transfer_cli.cli import app
    for k in list(os.environ):
        if k.startswith(("OPENAI_", "TRANSFER_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(SESSION_DIR / "cache"))
    monkeypatch.setenv("TRANSFER_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.chdir(tmp_path)

    def run(args, env=None):
        return CliRunner().invoke(app, [str(a) for a in args], env=env or {})
    return run


def test_corpus_is_complete():
    files = sorted(p.name for p in MALFORMED.iterdir() if p.name != "expected.toml")
    assert files == sorted(CASES)
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_gets_one_line_naming_file_and_field(name, tmp_path, invoke):
    args, env, shown = command(name, tmp_path)
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    r = invoke(args, env)
    assert r.exit_code == 2, (r.exit_code, r.stderr, r.exception)
    assert not isinstance(r.exception, (AssertionError, TypeError, ValueError, RecursionError)), r.exception
    first = r.stderr.splitlines()[0]
    case = CASES[name]
    where = f"error: {shown}:{case['line']}: " if "line" in case else f"error: {shown}: "
    if "field" in case:
        where += f"{case['field']}: "
    assert first.startswith(where), first
    assert case["message"] in first, first
    assert "\x1b" not in r.stderr and "Traceback" not in r.stderr
    # nothing half-written: no output, no temporary file left beside the input
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == before, "a bad input wrote a file"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    r = run_cli("validate", "fifo.yaml", cwd=tmp_path, timeout=30)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "error: fifo.yaml: not a regular file (a pipe, socket or device); give a file"


def test_debug_shows_the_traceback_of_a_bad_input(tmp_path):
    (tmp_path / "plan.yaml").write_text("- {source: alpha, target: \"b\x01\"}\n", encoding="utf-8")
    r = run_cli("--debug", "batch", "--plan", "plan.yaml", "-o", "out", cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" in r.stderr and "InputProblem" in r.stderr


@pytest.mark.parametrize("args, env, expected", [
    (["analyze", "alpha", "beta", "-o", "somedir"], {}, "error: somedir: is a directory, not a file"),
    (["analyze", "alpha", "beta", "-o", "locked/memo.md"], {}, "error: locked/memo.md: cannot write: Permission denied"),
    (["analyze", "alpha", "beta", "-o", "afile/memo.md"], {}, "error: afile/memo.md: cannot write:"),
    (["batch", "alpha", "beta", "-o", "afile"], {}, "error: afile: is a file; batch -o names a directory"),
    (["analyze", "alpha", "beta"], {"SOURCE_DATE_EPOCH": "yesterday"},
     "error: SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC (e.g. 1767225600), not 'yesterday'"),
    (["analyze", "alpha", "beta"], {"TRANSFER_MAX_INPUT_MB": "lots"},
     "error: TRANSFER_MAX_INPUT_MB must be a number of megabytes, not 'lots'"),
    (["analyze", "alpha", "beta", "--model", "m"], {"TRANSFER_RETRIES": "-1"},
     "error: TRANSFER_RETRIES: retries: must be between 0 and 100, not -1"),
])
def test_bad_options_and_environment_get_one_line(args, env, expected, tmp_path, invoke):
    command("empty.yaml", tmp_path)  # the cases dir
    (tmp_path / "somedir").mkdir()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0 and "locked" in " ".join(args):
        pytest.skip("root writes into read-only folders")
    try:
        r = invoke([*args, "--cases", "cases"], env)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert r.exit_code == 2, (r.stderr, r.exception)
    assert r.stderr.splitlines()[-1].startswith(expected), r.stderr
    assert not list(tmp_path.rglob("*.tmp")) and not list((tmp_path / "somedir").iterdir())


def test_ingest_refuses_a_fifo_document_and_an_alias_bomb_to_merge_into(tmp_path):
    os.mkfifo(tmp_path / "bulletin.txt")
    r = run_cli("ingest", "qingyang", "bulletin.txt", "--cases", ".", cwd=tmp_path, timeout=30)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1].startswith("error: bulletin.txt: not a regular file"), r.stderr
    (tmp_path / "bulletin.txt").unlink()
    (tmp_path / "bulletin.txt").write_text("2023年全区地区生产总值100亿元。\n", encoding="utf-8")
    (tmp_path / "qingyang.yaml").write_bytes((MALFORMED / "alias-bomb.yaml").read_bytes())
    r = run_cli("ingest", "qingyang", "bulletin.txt", "--cases", ".", "--merge", cwd=tmp_path, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "qingyang.yaml: aliases expand the file to" in r.stderr and "Traceback" not in r.stderr
