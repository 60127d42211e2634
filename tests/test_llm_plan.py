"""Request planning against a model's limits, shown by --dry-run and enforced by a server that has them.

The must-show: a fake server with an 8k context window and 2k max output (it rejects an oversized
request with OpenAI's error shape, as real servers do) completes liling -> jinjiang end to end, no
request over its limits, and the memo verifies.
"""

from __future__ import annotations

import json
import re

import pytest

from fakeserver import FakeServer, artifact_responder, prompt_tokens
from llm_helpers import llm_env, replies


def _rows(stderr: str) -> dict:
    return {m.group(1): (int(m.group(2).replace(",", "")), int(m.group(4)))
            for m in re.finditer(r"^\s+(extract|fit|actions)\s+~([\d,]+) tokens in, ~([\d,]+) out \(estimated\) "
                                 r"in (\d+) request", stderr, re.M)}


@pytest.mark.slow
def test_dry_run_shows_the_plan_per_stage(cli, tmp_path):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW="8192", TRANSFER_MAX_OUTPUT="2048")
    r = cli("analyze", "liling", "jinjiang", "--dry-run", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", env=env)
    assert r.returncode == 0, r.stderr
    rows = _rows(r.stderr)
    assert set(rows) == {"extract", "fit", "actions"} and all(n > 1 for _, n in rows.values())
    per_request = [(int(a.replace(",", "")), int(b.replace(",", "")))
                   for a, b in re.findall(r"^\s+\d+\. .*: ~([\d,]+) in, ~([\d,]+) out", r.stderr, re.M)]
    assert len(per_request) == sum(n for _, n in rows.values())
    assert all(i <= 8192 - 2048 and o <= 2048 for i, o in per_request)
    assert "every request fits the model's limits" in r.stderr and "DOES NOT FIT" not in r.stderr
    assert r.stdout.count("===== request ") == len(per_request)
    # the same case on a large model: one request per stage
    env = llm_env(tmp_path)
    big = cli("analyze", "liling", "jinjiang", "--dry-run", "--model", "gpt-4o-mini", env={**env,
              "TRANSFER_CONTEXT_WINDOW": "", "TRANSFER_MAX_OUTPUT": ""})
    assert big.returncode == 0, big.stderr
    assert {k: n for k, (_, n) in _rows(big.stderr).items()} == {"extract": 1, "fit": 1, "actions": 1}
    assert "output 16,384" in big.stderr


@pytest.mark.slow
def test_a_request_that_cannot_fit_is_said_before_sending(cli, tmp_path):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW="3000", TRANSFER_MAX_OUTPUT="1000")
    r = cli("analyze", "liling", "jinjiang", "--dry-run", "--model", "m", env=env)
    assert r.returncode == 0 and "DO NOT FIT" in r.stderr
    with FakeServer(responder=artifact_responder(replies())) as server:
        r = cli("analyze", "liling", "jinjiang", "--model", "m", "--base-url", server.url, env=env)
        assert r.returncode == 2 and server.count == 0
        assert re.search(r"^error: extract: request \d+ of \d+ needs ~[\d,]+ tokens in", r.stderr, re.M)


@pytest.mark.slow
def test_an_8k_model_completes_liling_to_jinjiang(cli, tmp_path):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW="8192", TRANSFER_MAX_OUTPUT="2048")
    with FakeServer(responder=artifact_responder(replies()), context_window=8192, max_output=2048) as server:
        r = cli("analyze", "liling", "jinjiang", "--model", "m", "--base-url", server.url, "-o", "memo.json",
                env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        stages = [q.stage for q in server.chats]
        assert stages.count("extract") > 1 and stages.count("fit") > 1
        assert all(q.body["max_tokens"] <= 2048 for q in server.chats)
        assert all(n + 2048 <= 8192 for n in server.prompt_sizes) and len(server.prompt_sizes) == server.count
        memo = json.loads((tmp_path / "memo.json").read_text(encoding="utf-8"))
        full = replies()
        assert [m["mechanism_id"] for m in memo["fit"]["mechanisms"]] == [m["mechanism_id"] for m in full["fit"]["mechanisms"]]
        assert len(memo["logic"]["mechanisms"]) == len(full["extract"]["mechanisms"])
        assert memo["run"]["verification"]["clean"], memo["run"]["verification"]["findings"]
        assert {s["stage"]: s["requests"] for s in memo["run"]["stages"]} == {
            s: stages.count(s) for s in ("extract", "fit", "actions")}
        print(f"8k run: {server.count} requests, max prompt {max(server.prompt_sizes)}")
