"""Model-server faults as real servers produce them, driven through the CLI against the HTTP fake
server: mode rejections by body (llama-cpp-python's 500, OpenAI's invalid-schema 400), replies the
schema allows but the data does not, a trickling server, a damaged cache, a dead endpoint, and a key
echoed back by a server. Each is recovered or reported in one line, never with the key."""

from __future__ import annotations

import json
import time

import pytest

from conftest import SYNTHETIC
from fakeserver import FakeServer, artifact_responder, hang, reply, reset, status, trickle
from llm_helpers import KEY, json_reply, llm_env, replies

SMALL = dict(source="alpha", target="beta", cases=str(SYNTHETIC))
PAIR = ("alpha", "beta", "--cases", str(SYNTHETIC))
LLAMA_CPP_PY_500 = ("1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be "
                    "'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]")
OPENAI_INVALID_SCHEMA = ("Invalid schema for response_format 'LogicReply': In context=('properties', 'condition'), "
                         "'additionalProperties' is required to be supplied and to be false.")


@pytest.fixture
def env(tmp_path):
    return llm_env(tmp_path)


def run(cli, server, env, *extra):
    return cli("analyze", *PAIR, "--base-url", server.url, "--model", "m", *extra, env=env)


def no_key(*results):
    for r in results:
        assert KEY not in r.stdout and KEY not in r.stderr


@pytest.mark.parametrize("code,message", [(500, LLAMA_CPP_PY_500),
                                          pytest.param(400, OPENAI_INVALID_SCHEMA, marks=pytest.mark.slow)],
                         ids=["llama-cpp-python-500", "openai-invalid-schema-400"])
def test_a_mode_rejection_is_recognised_by_its_body_and_steps_down_at_once(cli, env, code, message):
    with FakeServer(responder=artifact_responder(replies(**SMALL)), reject={"json_schema"},
                    rejection=lambda mode: status(code, message)) as server:
        r = run(cli, server, env)
        assert r.returncode == 0, r.stderr
        modes = [q.mode for q in server.chats]
        assert modes == ["json_schema", "json_object", "json_object", "json_object"], "one rejected request, no retries"
        first, then = server.chats[0].body, server.chats[1].body
        assert first["response_format"]["json_schema"]["strict"] is True
        # json_object carries the schema, which llama.cpp's servers decode under
        schema = then["response_format"]["schema"]
        assert "mechanisms" in schema["properties"] and schema["additionalProperties"] is False
        assert "retry" not in r.stderr and "trying json_object" in r.stderr


def test_a_server_refusing_the_schema_key_gets_bare_json_object(cli, env):
    def refuse_schema(body):
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_object" and "schema" in fmt:
            return status(400, "Unrecognized request argument supplied: response_format.schema")
        return artifact_responder(replies(**SMALL))(body)
    with FakeServer(responder=refuse_schema, reject={"json_schema"}) as server:
        r = run(cli, server, env)
        assert r.returncode == 0, r.stderr
        fmts = [q.body.get("response_format") for q in server.chats]
        assert [f["type"] for f in fmts] == ["json_schema", "json_object", "json_object", "json_object", "json_object"]
        assert "schema" in fmts[1] and all("schema" not in f for f in fmts[2:])


@pytest.mark.slow
def test_an_empty_condition_is_reasked_then_reported_in_one_line(cli, env):
    bad = replies(**SMALL)["extract"]
    bad["mechanisms"][0]["edits"] = [{"path": "support_factors.0.condition", "value": "{}"}]
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        server.script.append(json_reply(bad))
        r = run(cli, server, env)
        assert r.returncode == 0, r.stderr
        assert server.count == 4
        reask = server.chats[1].body["messages"][-1]["content"]
        assert "support_factors.0.condition" in reask and "a condition needs one of" in reask, reask
        server.script += [json_reply(bad)] * 3
        r2 = run(cli, server, env, "--no-cache")
        assert r2.returncode == 1
        lines = r2.stderr.strip().splitlines()
        assert lines[-1].startswith("error: extract: no valid reply from m after 3 attempts: the reply does not "
                                    "match the schema: ValueError: M1 after edits: support_factors.0.condition")
        assert "Traceback" not in r2.stderr


def test_the_sdk_does_not_retry_behind_our_back(cli, env):
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        server.script.append(status(500, "boom"))
        r = run(cli, server, dict(env, TRANSFER_RETRIES="0"))
        assert r.returncode == 1 and server.count == 1
        assert r.stderr.strip().splitlines()[-1] == f"error: {server.url}: HTTP 500; gave up after 1 attempt"


@pytest.mark.slow
def test_a_trickling_server_cannot_stretch_a_request(cli, env):
    text = json.dumps(replies(**SMALL)["extract"], ensure_ascii=False)
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        server.script.append(trickle(0.05, text))  # ~10 KB at 20 bytes/s: minutes, each read quick
        t0 = time.monotonic()
        r = run(cli, server, dict(env, TRANSFER_TIMEOUT="1"))
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - t0 < 30
        assert "no reply within 1s; retry 1/4" in r.stderr
        # a server that always trickles: the request's deadline ends it, whatever the retries left
        server.script += [trickle(0.05, text)] * 10
        t0 = time.monotonic()
        r2 = run(cli, server, dict(env, TRANSFER_TIMEOUT="0.5", TRANSFER_DEADLINE="1.5", TRANSFER_RETRIES="8"),
                 "--no-cache")
        assert r2.returncode == 1
        assert time.monotonic() - t0 < 20
        assert "the request's deadline is 1.5s" in r2.stderr.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_a_damaged_cache_is_set_aside_with_one_warning(cli, env, tmp_path, damage):
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        assert run(cli, server, env).returncode == 0
        db = tmp_path / "cache" / "responses.sqlite"
        for extra in ("-wal", "-shm"):
            (tmp_path / "cache" / f"responses.sqlite{extra}").unlink(missing_ok=True)
        if damage == "garbage":
            db.write_bytes(b"this is not a database" * 100)
        elif damage == "truncated":
            db.write_bytes(db.read_bytes()[:1500])
        else:
            db.unlink()
            db.mkdir()
        r = run(cli, server, env)
        assert r.returncode == 0, r.stderr
        warnings = [x for x in r.stderr.splitlines() if "damaged" in x]
        assert len(warnings) == 1 and warnings[0].startswith("warning: the response cache")
        assert db.is_file() and list(db.parent.glob("responses.sqlite.damaged-*"))
        # the repairs work too, on a damaged file
        db.write_bytes(b"garbage" * 500)
        for cmd in (("cache", "stats"), ("cache", "clear")):
            c = cli(*cmd, env=env)
            assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr


def test_doctor_against_a_dead_endpoint_answers_fast(cli, env):
    env = {k: v for k, v in env.items() if k != "TRANSFER_RETRY_BASE"}  # the default retries and backoff
    t0 = time.monotonic()
    r = cli("doctor", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", env=env)
    assert r.returncode == 1
    # four retries with the default backoff take 7.5-15 s per probe, and said so ("retry 1/4"); the
    # bound is loose for a loaded machine, the missing retry lines are the sharp check
    assert time.monotonic() - t0 < 25, "a probe must not wait out retries against nothing"
    assert "cannot connect" in r.stdout and "structured call: skipped" in r.stdout
    assert "retry 1/" not in r.stdout + r.stderr


@pytest.mark.slow
def test_a_server_echoing_the_key_never_gets_it_printed(cli, env, tmp_path):
    echo = "bad request; headers were Authorization: {authorization}"
    with FakeServer(responder=artifact_responder(replies(**SMALL)), reject={"json_schema"},
                    rejection=lambda mode: status(400, f"response_format unsupported. {echo}")) as server:
        r = run(cli, server, env)
        r_debug = cli("--debug", "analyze", *PAIR, "--base-url", server.url, "--model", "m", "--no-cache",
                      env=dict(env, TRANSFER_CACHE_DIR=str(tmp_path / "fresh")))  # no remembered mode
        assert r.returncode == 0 and r_debug.returncode == 0, r.stderr
        assert "trying json_object" in r.stderr and "***" in r.stderr and "***" in r_debug.stderr
        # an error that ends the run, with and without --debug (a traceback then)
        server.reject, server.script = set(), [status(400, echo)] * 4
        r2 = run(cli, server, dict(env, TRANSFER_MODE="text"), "--no-cache")
        server.script = [status(400, echo)] * 4
        r3 = cli("--debug", "analyze", *PAIR, "--base-url", server.url, "--model", "m", "--no-cache",
                 env=dict(env, TRANSFER_MODE="text"))
        assert r2.returncode == 1 and "Authorization: Bearer ***" in r2.stderr
        assert r3.returncode != 0 and "Traceback" in r3.stderr and "***" in r3.stderr
        no_key(r, r_debug, r2, r3)


def test_a_key_pasted_as_api_key_env_is_refused_unseen(cli, env, tmp_path):
    (tmp_path / "transfer.toml").write_text(
        f'[providers.oops]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\napi_key_env = "{KEY}"\n', encoding="utf-8")
    r = cli("doctor", "--provider", "oops", env=env)
    assert r.returncode == 2
    assert "api_key_env must name an environment variable" in r.stderr
    no_key(r)


def test_redact_is_the_one_choke_point():
    from transfer_cli.redact import redact, register
    register("sk-live-0123456789abcdef")
    assert redact("key sk-live-0123456789abcdef leaked") == "key *** leaked"
    assert redact('{"authorization": "Bearer abcdefghijklmnop"}') == '{"authorization": "***"}'
    assert redact("api-key: 0123456789abcdef, next") == "api-key: ***, next"
    assert redact("Authorization: Bearer tok_abcdefghijkl") == "Authorization: ***"
    assert redact("api_key: set from OPENAI_API_KEY (redacted)") == "api_key: set from OPENAI_API_KEY (redacted)"


# The fault matrix. One fault on the first request, then a sound server: each recovers (a retry or a re-ask), says
# nothing with the key in it, and the memo is written.
FAULTS = {
    "429-retry-after": lambda: status(429, "rate limited", {"Retry-After": "0"}),
    "500": lambda: status(500, "internal error"),
    "502": lambda: status(502, "bad gateway"),
    "503": lambda: status(503, "overloaded"),
    "timeout": lambda: hang(3.0),
    "connection-reset": lambda: reset(),
    "invalid-json": lambda: reply("{not json"),
    "truncated-length": lambda: reply('{"mechanisms": [', finish_reason="length"),
    "schema-invalid": lambda: reply('{"unexpected": true}'),
    "empty-content": lambda: reply(""),
}


def test_fault_matrix_a_refusal_is_reported_in_one_line(cli, tmp_path):
    # a refusal is the model's answer, not a fault to retry: one line, exit 1, nothing written
    env = llm_env(tmp_path, TRANSFER_MODE="json_schema")
    with FakeServer(responder=artifact_responder(replies(**SMALL)),
                    script=[reply(None, refusal="I can't help with that.")]) as server:
        r = run(cli, server, env, "-o", str(tmp_path / "memo.md"))
        assert r.returncode == 1 and r.stderr.splitlines()[-1] == "error: the model refused: I can't help with that."
        assert server.count == 1 and not (tmp_path / "memo.md").exists()
        no_key(r)


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_matrix_each_fault_recovers_without_the_key(cli, tmp_path, fault):
    env = llm_env(tmp_path, TRANSFER_TIMEOUT="1.5", TRANSFER_MODE="json_schema")
    with FakeServer(responder=artifact_responder(replies(**SMALL)), script=[FAULTS[fault]()]) as server:
        r = run(cli, server, env, "-o", str(tmp_path / "memo.md"))
        assert r.returncode == 0, r.stderr
        assert server.count == 4, "the faulty request was asked once more, then each stage once"
        assert (tmp_path / "memo.md").read_text(encoding="utf-8").startswith("#")
        no_key(r)
