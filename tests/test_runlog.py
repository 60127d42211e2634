"""The run log, as a user meets it: `transfer analyze ... --model m` against the scripted server, then
`transfer logs`. It must hold exactly what the server saw (and what the cache served), never the key."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import SYNTHETIC
from fakeserver import FakeServer, artifact_responder, status
from llm_helpers import KEY, llm_env, replies

PAIR = ("alpha", "beta", "--cases", str(SYNTHETIC))


@pytest.fixture
def server():
    with FakeServer(responder=artifact_responder(replies(source="alpha", target="beta", cases=str(SYNTHETIC)))) as s:
        yield s


@pytest.fixture
def env(tmp_path):
    return llm_env(tmp_path)


def analyze(cli, server, env, *extra):
    return cli("analyze", *PAIR, "--base-url", server.url, "--model", "m", *extra, env=env)


def logs_json(cli, env, *args) -> list[dict]:
    r = cli("logs", "--json", *args, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.slow
def test_the_log_holds_exactly_the_requests_the_server_saw_and_no_key(cli, server, env, tmp_path):
    server.script += [status(500)]  # one retry: two requests on the wire, one logged request with 2 attempts
    r = analyze(cli, server, env, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    run_id = json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))["run"]["run_id"]
    assert run_id

    entries = logs_json(cli, env, "--run", run_id)
    chats = [q for q in server.log if q.path.endswith("/chat/completions")]
    assert len(chats) == 4
    assert [e["stage"] for e in entries] == ["extract", "fit", "actions"]
    assert [(e["source"], e["target"]) for e in entries] == [("alpha", None), ("alpha", "beta"), ("alpha", "beta")]
    assert [e["attempts"] for e in entries] == [2, 1, 1] and not any(e["cached"] for e in entries)
    # what was sent is what the server received, message for message; the reply is the one it gave
    assert [e["prompt"] for e in entries] == [q.body["messages"] for q in chats[1:]]
    assert [e["params"]["response_format"]["type"] for e in entries] == [q.mode for q in chats[1:]]
    canned = replies(source="alpha", target="beta", cases=str(SYNTHETIC))
    assert json.loads(entries[1]["reply"]) == canned["fit"]
    assert all(e["model"] == "m" and e["endpoint"] == server.url for e in entries)
    assert all(e["tokens_in"] > 100 and e["tokens_out"] > 10 and e["seconds"] > 0 for e in entries)
    assert all(e["cost"] is None for e in entries), "no prices configured: cost is unknown, not 0"

    # a repeated run is served from the cache: logged as cache hits under a new run id
    again = analyze(cli, server, env, "-o", "memo2.json")
    assert again.returncode == 0, again.stderr
    run2 = json.loads((tmp_path / "memo2.json").read_text(encoding="utf-8"))["run"]["run_id"]
    assert run2 != run_id
    assert [e["cached"] for e in logs_json(cli, env, "--run", run2)] == [True, True, True]

    runs = logs_json(cli, env)
    assert [r["run_id"] for r in runs] == [run2, run_id]  # newest first
    assert [r["run_id"] for r in logs_json(cli, env, "-n", "1")] == [run2]
    assert runs[1]["requests"] == 3 and runs[1]["cost"] is None and runs[1]["pairs"] == ["alpha", "alpha → beta"]
    text = cli("logs", env=env)
    assert run_id in text.stdout and "cost unknown" in text.stdout
    shown = cli("logs", "--pair", "alpha", "beta", "-n", "1", env=env)
    assert shown.returncode == 0 and shown.stdout.count("\n## ") == 0 and "### reply (stop)" in shown.stdout

    db = tmp_path / "data" / "logs.sqlite"
    assert db.is_file()
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f"the API key leaked into {f}"


def test_a_key_that_appears_in_a_prompt_is_redacted(cli, server, tmp_path):
    # a careless profile: the key pasted into a prompt override's text would reach the log
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    from transfer_cli.llm.prompts import PromptSet
    for p in PromptSet(None).all():
        text = p.path.read_text(encoding="utf-8")
        (prompts / p.path.name).write_text(text.replace("{{ schema }}", "{{ schema }} " + KEY, 1), encoding="utf-8")
    env = llm_env(tmp_path)
    r = analyze(cli, server, env, "--prompts", str(prompts), "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert any(KEY in json.dumps(q.body) for q in server.log if q.path.endswith("/chat/completions"))
    entries = logs_json(cli, env, "--pair", "alpha", "beta")
    assert entries and "***" in json.dumps(entries)
    assert KEY.encode() not in (tmp_path / "data" / "logs.sqlite").read_bytes()


@pytest.mark.slow
def test_no_log_flag_and_config_setting_turn_it_off(cli, server, tmp_path):
    env = llm_env(tmp_path)
    r = analyze(cli, server, env, "--no-log", "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))["run"]["run_id"] is None
    assert logs_json(cli, env) == []

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("log = false\n", encoding="utf-8")
    r = analyze(cli, server, env, "--no-cache", "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert logs_json(cli, env) == []
    db = tmp_path / "data" / "logs.sqlite"
    assert not db.exists() or sqlite3.connect(db).execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0

    (tmp_path / "config" / "config.toml").write_text('log = "no"\n', encoding="utf-8")
    bad = analyze(cli, server, env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "log must be true or false" in bad.stderr


def test_offline_runs_log_nothing_and_carry_no_run_id(cli, tmp_path):
    r = cli("analyze", *PAIR, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))["run"]["run_id"] is None


@pytest.mark.slow
def test_a_batch_is_one_run_and_each_request_names_its_pair(cli, tmp_path):
    from fakeserver import per_target_responder, target_of
    from llm_helpers import batch_replies
    targets = ["beta", "gamma", "delta"]
    env = llm_env(tmp_path)
    with FakeServer(responder=per_target_responder(batch_replies("alpha", targets, str(SYNTHETIC)))) as s:
        r = cli("batch", "alpha", *targets, "--cases", str(SYNTHETIC), "-o", "out", "--jobs", "3",
                "--base-url", s.url, "--model", "m", env=env)
        sent = s.count
    assert r.returncode == 0, r.stderr
    (run,) = logs_json(cli, env)
    assert run["requests"] == sent == 1 + 2 * len(targets)
    assert run["pairs"] == ["alpha"] + [f"alpha → {t}" for t in sorted(targets)]
    for t in targets:
        entries = logs_json(cli, env, "--pair", "alpha", t)
        assert [e["stage"] for e in entries] == ["fit", "actions"] and {e["run_id"] for e in entries} == {run["run_id"]}
        assert {target_of({"messages": e["prompt"]}) for e in entries} == {t}  # the request was that pair's
