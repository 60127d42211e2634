"""The command line behaving like the tools its users know: -h, completion, choices listed and
enforced, --json for scripts, refusals before work, one memo from any directory."""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import ROOT, SYNTHETIC, run_cli
from fakeserver import FakeServer, artifact_responder, per_target_responder
from llm_helpers import batch_replies, llm_env, replies


def test_dash_h_is_help_in_commands_and_subcommands(cli):
    for args in (["-h"], ["analyze", "-h"], ["cases", "show", "-h"], ["cache", "stats", "-h"]):
        r = cli(*args)
        assert r.returncode == 0 and r.stdout.startswith("Usage: transfer"), (args, r.stderr)


def test_choices_are_listed_in_help_and_others_refused_with_exit_2(cli):
    help_text = cli("analyze", "-h").stdout
    assert "md|json|html|docx" in help_text and "zh|en" in help_text and "offline|llm" in help_text
    assert "md|json|html|docx" in cli("batch", "-h").stdout
    for args in (["analyze", "liling", "jinjiang", "--format", "pdf"], ["analyze", "liling", "jinjiang", "--lang", "fr"],
                 ["compare", "liling", "jinjiang", "--engine", "magic"],
                 ["batch", "liling", "jinjiang", "-o", "out", "--format", "txt"]):
        r = cli(*args)
        assert r.returncode == 2 and "Invalid value" in r.stderr, (args, r.stderr)


@pytest.mark.slow  # six runs
def test_completion_script_and_place_completion(cli):
    shown = cli("--show-completion", "bash")
    assert shown.returncode == 0 and "_transfer_completion" in shown.stdout and "complete " in shown.stdout
    assert "--install-completion" in cli("-h").stdout

    def complete(words: str, cword: int) -> list[str]:
        r = cli(env={"_TRANSFER_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert complete("transfer analyze li", 2) == ["liling", "liuyang"]
    assert "锦江区" in complete("transfer analyze liling 锦", 3)
    assert complete("transfer analyze liling jinjiang --format ", 5) == ["md", "json", "html", "docx"]
    assert "beta" in cli(env={"_TRANSFER_COMPLETE": "complete_bash", "COMP_WORDS": "transfer cases show b",
                              "COMP_CWORD": "3", "TRANSFER_CASES": str(SYNTHETIC)}).stdout.split()


def test_json_outputs_parse_and_carry_the_facts(cli):
    cases = json.loads(cli("cases", "--json").stdout)
    liling = next(c for c in cases if c["id"] == "liling")
    assert liling["role"] == "source" and liling["mechanisms"] > 5 and "醴陵" in liling["aliases"]

    shown = cli("cases", "show", "jinjiang", "--json")
    place = json.loads(shown.stdout)
    assert place["id"] == "jinjiang" and place["indicators"]["gdp"]["value"] > 0

    matrix = json.loads(cli("compare", "liling", "jinjiang", "dehua", "--json").stdout)
    assert {t["id"] for t in matrix["targets"]} == {"jinjiang", "dehua"}
    cell = matrix["mechanisms"][0]["cells"]["jinjiang"]
    assert cell["mode"] in ("copy", "adapt", "in_place", "inspire", "avoid") and 0 <= cell["score"] <= 100

    stats = json.loads(cli("cache", "stats", "--json").stdout)
    assert {"path", "entries", "bytes", "hits"} <= set(stats)
    doctor = json.loads(cli("doctor", "--json").stdout)
    assert doctor["settings"]["model"] is None and "probe" not in doctor
    assert doctor["settings"]["api_key"].startswith("not set")
    prompts = json.loads(cli("prompts", "--json").stdout)
    assert {(p["id"], p["lang"]) for p in prompts} >= {("extract_logic", "zh"), ("check_fit", "en")}


def test_doctor_json_reports_the_probe(cli, tmp_path):
    with FakeServer(responder=artifact_responder(replies(), probe={"ok": True})) as server:
        r = cli("doctor", "--json", "--base-url", server.url, "--model", "m", env=llm_env(tmp_path))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["probe"]["ok"] is True and data["settings"]["base_url"] == server.url


def test_cases_option_before_the_subcommand_reaches_it(cli):
    r = cli("cases", "--cases", str(SYNTHETIC), "show", "beta")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("beta")


def test_a_place_is_not_its_own_target_unless_allowed(cli, tmp_path):
    r = cli("analyze", "liling", "醴陵")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "both source and target" in r.stderr
    ok = cli("analyze", "alpha", "alpha", "--cases", str(SYNTHETIC), "--allow-same", "-o", "m.md")
    assert ok.returncode == 0, ok.stderr


def test_binary_format_without_output_is_refused_before_the_run(cli, tmp_path):
    # with a dead endpoint configured: a refusal after the run would first fail to connect
    env = llm_env(tmp_path, TRANSFER_RETRIES="0")
    r = cli("analyze", "liling", "jinjiang", "--format", "docx", "--base-url", "http://127.0.0.1:9/v1",
            "--model", "m", env=env)
    assert r.returncode == 2 and r.stderr.strip() == "error: the docx format is binary; give -o FILE"


@pytest.fixture(scope="module")
def logic_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("logic")
    r = run_cli("extract", "liling", "-o", "logic.json", cwd=d)
    assert r.returncode == 0, r.stderr
    return d / "logic.json"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["mechanisms"][0]["support_factors"][0].update(kind="bogus"),
     "mechanisms[0].support_factors[0].kind: unknown factor kind 'bogus'"),
    (lambda d: d["mechanisms"][1]["evidence"].__setitem__(0, "liling/NOPE-99"),
     "mechanisms[1].evidence[0]: note 'liling/NOPE-99' does not exist"),
    (lambda d: d["mechanisms"][0].update(what_is_transferred="vibes"),
     "mechanisms[0].what_is_transferred: unknown transfer object 'vibes'"),
    (lambda d: d["mechanisms"][0]["support_factors"][0].update(condition={"indicator": "gdpx", "op": ">=", "value": 1}),
     "mechanisms[0].support_factors[0].condition.indicator: unknown indicator key 'gdpx'"),
])
def test_an_edited_logic_file_is_checked_before_stage_2(cli, tmp_path, logic_file, edit, message):
    data = json.loads(logic_file.read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "edited.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = cli("analyze", "liling", "jinjiang", "--logic", "edited.json", "-o", "memo.md")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: edited.json: {message}"), r.stderr
    assert not (tmp_path / "memo.md").exists()


def test_the_unedited_logic_file_goes_through(cli, tmp_path, logic_file):
    assert cli("analyze", "liling", "jinjiang", "--logic", str(logic_file), "-o", "memo.md").returncode == 0
    assert (tmp_path / "memo.md").stat().st_size > 0


@pytest.mark.slow
def test_the_same_memo_from_any_working_directory(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    digests = set()
    for cwd in (ROOT, ROOT.parent, tmp_path / "deep" / "er"):
        for args in (("liling", "jinjiang"), ("alpha", "beta", "--cases", str(SYNTHETIC))):
            r = run_cli("analyze", *args, "--format", "md", cwd=cwd)  # json has stage timings
            assert r.returncode == 0, r.stderr
            digests.add((args[0], hashlib.sha256(r.stdout.encode()).hexdigest()))
    assert len(digests) == 2, "one memo per pair, whatever the working directory"


@pytest.mark.slow  # an llm batch run (~6 s); CI runs it
def test_batch_cost_is_unknown_without_prices(tmp_path):
    targets = ["beta", "gamma"]
    with FakeServer(responder=per_target_responder(batch_replies("alpha", targets, str(SYNTHETIC)))) as server:
        r = run_cli("batch", "alpha", *targets, "--cases", str(SYNTHETIC), "-o", tmp_path / "out",
                    "--base-url", server.url, "--model", "m", env=llm_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "cost unknown" in r.stderr and "$0.0000" not in r.stderr
