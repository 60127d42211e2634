"""The llm engine driven as a user drives it: `transfer analyze liling jinjiang --base-url ... --model m`
against a real OpenAI-compatible HTTP server on 127.0.0.1 with scripted behaviours.

The must-show runs use the real case (liling -> jinjiang). The transport and re-ask behaviours
do not depend on the case, so they run on the small synthetic pair (alpha -> beta) to keep the
suite fast: a liling run renders ~75k prompt tokens and verifies ~240 claims per run.
"""

from __future__ import annotations

import json
import re

import pytest

from fakeserver import FakeServer, artifact_responder, hang, prompt_tokens, reply, status
from conftest import SYNTHETIC
from llm_helpers import KEY, draft_of, json_reply, llm_env, replies

STAGES = ["extract", "fit", "actions"]
SMALL = dict(source="alpha", target="beta", cases=str(SYNTHETIC))


@pytest.fixture
def server():
    with FakeServer(responder=artifact_responder(replies())) as s:
        yield s


@pytest.fixture
def small():
    """A server answering for the synthetic pair alpha -> beta."""
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as s:
        s.pair = ("alpha", "beta", "--cases", str(SYNTHETIC))
        yield s


@pytest.fixture
def env(tmp_path):
    return llm_env(tmp_path)


def analyze(cli, server, env, *extra):
    pair = getattr(server, "pair", ("liling", "jinjiang"))
    return cli("analyze", *pair, "--base-url", server.url, "--model", "m", *extra, env=env)


def memo_of(tmp_path, name="memo.json") -> dict:
    return json.loads((tmp_path / name).read_text(encoding="utf-8"))


def assert_no_key_anywhere(tmp_path, *results):
    for r in results:
        assert KEY not in r.stdout and KEY not in r.stderr
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f"the API key leaked into {f}"


@pytest.mark.slow  # two llm runs on the real case; alpha->beta covers the path in the fast suite
def test_normal_run_one_request_per_stage_then_zero(cli, server, env, tmp_path):
    r = analyze(cli, server, env, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert [q.stage for q in server.chats] == STAGES
    assert {q.mode for q in server.chats} == {"json_schema"}
    assert all(q.headers.get("authorization") == f"Bearer {KEY}" for q in server.chats)
    memo = memo_of(tmp_path)
    run = memo["run"]
    assert (run["engine"], run["model"], run["endpoint"]) == ("llm", "m", server.url)
    assert [(s["stage"], s["requests"], s["cached"]) for s in run["stages"]] == [(s, 1, 0) for s in STAGES]
    assert all(s["tokens_in"] > 1000 and s["tokens_out"] > 100 for s in run["stages"])
    assert sorted(p["id"] for p in run["prompts"]) == ["check_fit.zh", "draft_actions.zh", "extract_logic.zh"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", p["sha256"]) for p in run["prompts"])
    assert run["verification"]["clean"], run["verification"]["findings"]
    # the model's judgements arrive intact, the computed facts are the pipeline's own
    assert [m["mode"] for m in memo["fit"]["mechanisms"]] == [m["mode"] for m in replies()["fit"]["mechanisms"]]
    assert memo["fit"]["context"] and memo["fit"]["mechanisms"][0]["factors"][0]["readings"]

    again = analyze(cli, server, env, "-o", "memo2.json")
    assert again.returncode == 0, again.stderr
    assert server.count == 3, "a repeated run must be served from the cache"
    assert [(s["requests"], s["cached"]) for s in memo_of(tmp_path, "memo2.json")["run"]["stages"]] == [(0, 1)] * 3
    assert_no_key_anywhere(tmp_path, r, again)


@pytest.mark.slow
def test_server_rejecting_json_schema_gets_json_object_remembered(cli, env, tmp_path):
    with FakeServer(responder=artifact_responder(replies()), reject={"json_schema"}) as server:
        r = analyze(cli, server, env, "-o", "memo.json")
        assert r.returncode == 0, r.stderr
        assert [(q.stage, q.mode) for q in server.chats] == [
            ("extract", "json_schema"), ("extract", "json_object"), ("fit", "json_object"), ("actions", "json_object")]
        assert "trying json_object" in r.stderr
        # the endpoint's mode is remembered: a fresh run (no reply cache) does not try json_schema again
        r2 = analyze(cli, server, env, "--no-cache")
        assert r2.returncode == 0, r2.stderr
        assert [q.mode for q in server.chats[4:]] == ["json_object"] * 3
    assert "mode" in (stats := cli("cache", "stats", env=env)).stdout and "json_object" in stats.stdout


def test_plain_text_server_gets_fenced_json(cli, env):
    with FakeServer(responder=artifact_responder(replies(**SMALL)), reject={"json_schema", "json_object", "tools"}) as server:
        server.pair = ("alpha", "beta", "--cases", str(SYNTHETIC))
        r = analyze(cli, server, env)
        assert r.returncode == 0, r.stderr
        assert [q.mode for q in server.chats] == ["json_schema", "json_object", "text", "text", "text"]
        assert r.stdout.startswith("#")  # the memo itself


def test_tools_mode_reads_the_function_call_arguments(cli, small, env, tmp_path):
    # providers whose JSON modes are weak but whose function calling is strong: the artifact
    # comes back as the arguments of a call to the one declared function
    r = analyze(cli, small, {**env, "TRANSFER_MODE": "tools"}, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    assert [(q.stage, q.mode) for q in small.chats] == [(s, "tools") for s in STAGES]
    tool = small.chats[0].body["tools"][0]["function"]
    assert small.chats[0].body["tool_choice"]["function"]["name"] == tool["name"]
    assert "mechanisms" in tool["parameters"]["properties"]
    memo = memo_of(tmp_path)
    assert [m["mode"] for m in memo["fit"]["mechanisms"]] == [m["mode"] for m in replies(**SMALL)["fit"]["mechanisms"]]
    assert memo["run"]["verification"]["clean"], memo["run"]["verification"]["findings"]


def test_invalid_json_then_valid_counts_tokens_of_both(cli, small, env, tmp_path):
    small.script.append(reply('{"mechanisms": [ this is not json'))
    r = analyze(cli, small, env, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    extract = [q for q in small.chats if q.stage == "extract"]
    assert len(extract) == 2 and small.count == 4
    assert "not valid JSON" in extract[1].body["messages"][-1]["content"]
    # usage is summed over the failed attempt and the re-ask, as the server reported it
    reported = sum(prompt_tokens(q.body) for q in extract)
    stage = memo_of(tmp_path)["run"]["stages"][0]
    assert (stage["stage"], stage["requests"], stage["tokens_in"]) == ("extract", 2, reported)


def test_schema_invalid_then_valid_reasks_with_the_errors(cli, small, env):
    bad = replies(**SMALL)["extract"]
    del bad["mechanisms"][0]["edits"]
    small.script.append(json_reply(bad))
    bad = replies(**SMALL)["extract"]  # schema-valid, but the edit leaves the mechanism invalid
    bad["mechanisms"][1]["edits"] = [{"path": "support_factors.0.necessity", "value": '"essential"'}]
    small.script.append(json_reply(bad))
    r = analyze(cli, small, env)
    assert r.returncode == 0, r.stderr
    assert small.count == 5
    reask = small.chats[1].body["messages"]
    assert reask[-2]["role"] == "assistant" and "does not match the schema" in reask[-1]["content"]
    assert "mechanisms.0.edits: Field required" in reask[-1]["content"]
    reask = small.chats[2].body["messages"][-1]["content"]
    assert "support_factors.0.necessity" in reask and "'necessary' or 'helpful'" in reask


def test_model_that_never_validates_fails_cleanly(cli, small, env):
    small.script += [reply("no json here")] * 3
    r = analyze(cli, small, env)
    assert r.returncode == 1
    assert small.count == 3  # the first try and two re-asks, then it stops
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("error: extract: no valid reply from m after 3 attempts")
    assert "Traceback" not in r.stderr


def test_429_honours_retry_after(cli, small, env):
    small.script.append(status(429, "slow down", headers={"Retry-After": "1"}))
    r = analyze(cli, small, env)
    assert r.returncode == 0, r.stderr
    assert small.count == 4
    first, second = small.chats[:2]
    assert second.time - first.time >= 0.9, "Retry-After: 1 must be waited out (the backoff base is 0.01 s)"
    assert "rate limited" in r.stderr


@pytest.mark.slow
def test_500s_are_retried_then_a_clear_error(cli, small, env):
    small.script += [status(500), status(502, "bad gateway")]
    r = analyze(cli, small, env)
    assert r.returncode == 0, r.stderr
    assert small.count == 5
    # a server that keeps failing: bounded retries, one line, exit 1
    env2 = dict(env, TRANSFER_RETRIES="2")
    small.script += [status(503, "overloaded")] * 10
    before = small.count
    r2 = analyze(cli, small, env2, "--no-cache")
    assert r2.returncode == 1
    assert small.count - before == 3
    assert r2.stderr.strip().splitlines()[-1] == f"error: {small.url}: HTTP 503; gave up after 3 attempts"


@pytest.mark.slow
def test_timeout_is_retried(cli, small, env):
    small.script.append(hang(4))
    # the timeout bounds each attempt's whole round trip: 1.5 s leaves room for a loaded machine
    r = analyze(cli, small, dict(env, TRANSFER_TIMEOUT="1.5"))
    assert r.returncode == 0, r.stderr
    assert small.count == 4
    assert "no reply within 1.5s" in r.stderr


@pytest.mark.slow
def test_truncated_output_is_reasked_then_reported(cli, small, env):
    text = json.dumps(replies(**SMALL)["extract"], ensure_ascii=False)
    small.script.append(reply(text[:2000], finish_reason="length"))
    r = analyze(cli, small, env)
    assert r.returncode == 0, r.stderr
    assert small.count == 4
    assert "cut off" in small.chats[1].body["messages"][-1]["content"]
    assert small.chats[1].body["messages"][-1]["role"] == "user"  # the partial reply is not sent back
    small.script += [reply(text[:2000], finish_reason="length")] * 3
    r2 = analyze(cli, small, env, "--no-cache")
    assert r2.returncode == 1
    assert "cut off" in r2.stderr and "max_output_tokens" in r2.stderr


@pytest.mark.slow
def test_think_blocks_and_refusals(cli, small, env):
    text = json.dumps(replies(**SMALL)["extract"], ensure_ascii=False)
    small.script.append(reply("<think>Let me reason about Liling first.</think>\n" + text))
    r = analyze(cli, small, env)
    assert r.returncode == 0, r.stderr
    assert small.count == 3
    small.script.append(reply(None, refusal="I can't help with that."))
    r2 = analyze(cli, small, env, "--no-cache")
    assert r2.returncode == 1
    assert r2.stderr.strip().splitlines()[-1] == "error: the model refused: I can't help with that."


@pytest.mark.slow
def test_citation_to_missing_note_is_reasked_once_then_flagged_in_memo(cli, server, env, tmp_path):
    bad = replies()["extract"]
    lever = draft_of("liling").mechanisms[0].lever.cites
    bad["mechanisms"][0]["edits"] = [{"path": "lever.cites", "value": json.dumps(lever + ["liling/NOPE-99"])}]
    server.script += [json_reply(bad), json_reply(bad)]  # a stubborn model repeats the bad citation
    r = analyze(cli, server, env, "-o", "memo.json")
    assert r.returncode == 0, r.stderr
    extract = [q for q in server.chats if q.stage == "extract"]
    assert len(extract) == 2 and server.count == 4
    assert "NOPE-99" in extract[1].body["messages"][-1]["content"]  # the re-ask carries the finding
    ver = memo_of(tmp_path)["run"]["verification"]
    assert not ver["clean"]
    assert [(f["kind"], f["where"]) for f in ver["findings"] if "NOPE-99" in f["message"]] == [
        ("citation", "logic.mechanisms[0].lever.cites[7]")]
    md = analyze(cli, server, env, "--full")  # the whole Markdown memo, from the cache
    assert md.returncode == 0 and server.count == 4
    assert "NOPE-99" in md.stdout


def test_dry_run_needs_no_network_and_no_key(cli, tmp_path):
    env = llm_env(tmp_path)
    del env["OPENAI_API_KEY"]
    r = cli("analyze", "liling", "jinjiang", "--dry-run", "--model", "gpt-4o-mini",
            "--base-url", "http://127.0.0.1:9/v1", env=env)
    assert r.returncode == 0, r.stderr
    for pid in ("extract_logic.zh", "check_fit.zh", "draft_actions.zh"):
        assert pid in r.stdout
    assert len(re.findall(r"^<<<DATA$", r.stdout, re.M)) == 3 and "liling/" in r.stdout and "jinjiang:indicators." in r.stdout
    rows = {m.group(1): int(m.group(2).replace(",", "")) for m in
            re.finditer(r"^\s+(extract|fit|actions)\s+~([\d,]+) tokens in", r.stderr, re.M)}
    assert set(rows) == {"extract", "fit", "actions"} and all(v > 1000 for v in rows.values())
    assert "nothing sent" in r.stderr and "estimate" in r.stderr
    assert not (tmp_path / "cache" / "responses.sqlite").exists()


def test_dry_run_prices_from_a_provider_profile(cli, tmp_path):
    env = llm_env(tmp_path)
    (tmp_path / "transfer.toml").write_text(
        '[providers.cheap]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        'prices = { input = 1.0, output = 2.0 }\n', encoding="utf-8")
    r = cli("extract", "liling", "--dry-run", "--provider", "cheap", env=env)
    assert r.returncode == 0, r.stderr
    m = re.search(r"extract\s+~([\d,]+) tokens in, ~([\d,]+) out \(estimated\) in 1 request\(s\), ~\$([\d.]+)", r.stderr)
    t_in, t_out, cost = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), float(m.group(3))
    assert cost == pytest.approx((t_in * 1.0 + t_out * 2.0) / 1e6, abs=1e-4)


def test_bad_flags_are_usage_errors(cli, tmp_path):
    env = llm_env(tmp_path)
    r = cli("analyze", "liling", "jinjiang", "--provider", "nosuch", env=env)
    assert r.returncode == 2 and r.stderr.startswith("error: unknown provider 'nosuch'")
    r = cli("analyze", "liling", "jinjiang", "--model", "m", "--prompts", "no/such/dir", env=env)
    assert r.returncode == 2 and "no such directory" in r.stderr
    r = cli("analyze", "liling", "jinjiang", "--engine", "llm", env=env)
    assert r.returncode == 2 and "needs a model" in r.stderr
