"""Tokens per memo (issue 12): what each request carries, what a reply may leave to the engine,
and the progress a user sees while the model works.

The planner's figures are checked in-process (fast); the slow tests run the CLI against the
scripted server configured like a 16k and an 8k local model and read the server's request log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading

import pytest

from conftest import TRANSFER
from fakeserver import FakeServer, artifact_responder, per_target_responder, prompt_tokens
from llm_helpers import batch_replies, llm_env, replies
from transfer_cli.llm import dryrun
from transfer_cli.llm.config import Settings
from transfer_cli.llm.replies import FitReply, fit_from, to_reply
from transfer_cli.llm.schemas import CARRIED, schema_text
from transfer_cli.pipeline.engines.llm import LLMEngine
from transfer_cli.pipeline.engines.offline import OfflineEngine
from transfer_cli.pipeline.facts import context_rows, evaluate_conditions, scale_differences
from transfer_cli.places.loader import Library


@pytest.fixture(scope="module")
def pair():
    lib = Library([])
    s, t = lib.load("liling").place, lib.load("jinjiang").place
    logic = OfflineEngine().extract(s, "zh")
    ev = evaluate_conditions(logic, t)
    return s, t, logic, ev, context_rows(s, t, "zh"), scale_differences(s, t, "zh")


def _plan(window: int, output: int, model: str = "m"):
    s = Settings(model=model, context_window=window, max_output_tokens=output)
    lib = Library([])
    return {p.stage: p.requests for p in dryrun.preview(LLMEngine(s, no_log=True), lib.load("liling").place,
                                                         lib.load("jinjiang").place, "zh")}


@pytest.mark.parametrize("window,output", [(128_000, 16_384), (16_384, 4_096)])
def test_a_further_target_costs_under_the_issues_budget(window, output):
    plan = _plan(window, output)
    every = [r for rs in plan.values() for r in rs]
    assert all(r.tokens_in <= 12_000 for r in every) or window > 16_384
    assert all(r.tokens_out <= output for r in every)
    # stage 1 is cached per source: each further target of a batch costs fit + actions
    per_target = sum(r.tokens_in for st in ("fit", "actions") for r in plan[st])
    assert per_target <= 40_000
    if window > 16_384:  # a large window takes each stage in one request, its data still held to the caps
        assert [len(plan[st]) for st in ("extract", "fit", "actions")] == [1, 1, 1]
        # the issue's goal is 40k per memo: 39.9k measured (bench/RESULTS.md; 125k before), a margin for case edits
        assert sum(r.tokens_in for r in every) <= 42_000


def test_the_target_profile_goes_only_with_what_the_mechanisms_read(pair):
    s, t, logic, ev, ctx, sc = pair
    [p] = LLMEngine(Settings(model="m", context_window=128_000, max_output_tokens=16_384),
                    no_log=True).plan_fit(logic, s, t, "zh", ev, ctx, sc)
    user = p.messages[1]["content"]
    data = json.loads(user[user.index("<<<DATA") + 7:user.rindex("DATA>>>")])
    sent = {f["cite"] for f in data["target_profile_fields"]}
    read = {f"jinjiang:{r.field}" for e in ev.values() for r in e.readings}
    assert len(sent) < len(t.indicators) + len(t.assets) + len(t.industries)  # not the whole profile
    assert "jinjiang:admin_level" in sent and read & sent  # what the conditions read goes first
    # a computed factor carries its status and readings, not its condition; names and notes are not repeated
    factors = [f for m in data["mechanisms"] for f in m["support_factors"]]
    assert all("condition" not in f for f in factors) and any("computed_status" in f for f in factors)
    assert "context_table" not in data and "computed_evaluations" not in data


def test_a_fit_reply_may_leave_computed_factors_to_the_engine(pair):
    s, t, logic, ev, ctx, sc = pair
    offline = OfflineEngine().fit(logic, s, t, "zh", ev, ctx, sc)
    reply = to_reply(offline, logic)
    judged = [f for m in reply["mechanisms"] for f in m["factors"]]
    assert sum(len(m["risks"]) for m in reply["mechanisms"]) < sum(len(m.risks) for m in offline.mechanisms)
    assert judged and len(judged) < sum(len(m.factors) for m in offline.mechanisms)
    assert not any("name" in m or "score" in m for m in reply["mechanisms"]) and not any("name" in f for f in judged)
    rebuilt = fit_from(FitReply.model_validate(reply), logic, s, t, "zh", ev, ctx, sc)
    # the engine fills what the reply left out exactly as the computed facts say: nothing is lost
    assert rebuilt.model_dump() == offline.model_dump()
    bad = json.loads(json.dumps(reply))
    bad["mechanisms"][0]["mechanism_id"] = "M99"
    with pytest.raises(ValueError, match="'M99' is not a mechanism in the data"):
        fit_from(FitReply.model_validate(bad), logic, s, t, "zh", ev, ctx, sc)


def test_the_schema_goes_once_per_request():
    from transfer_cli.llm.cache import Cache
    from transfer_cli.llm.client import ModelClient
    from transfer_cli.llm.schemas import strict_schema
    client = ModelClient(Settings(model="m", base_url="http://127.0.0.1:9/v1"), Cache(enabled=False))
    schema, strict = strict_schema(FitReply)
    messages = [{"role": "system", "content": f"rules\n{schema_text(FitReply)}\n"}, {"role": "user", "content": "json"}]
    carried = client.request(messages, "json_schema", "FitReply", schema, strict)
    assert schema_text(FitReply) not in carried["messages"][0]["content"] and CARRIED in carried["messages"][0]["content"]
    assert carried["response_format"]["json_schema"]["schema"] == schema
    plain = client.request(messages, "text", "FitReply", schema, strict)
    assert schema_text(FitReply) in plain["messages"][0]["content"]  # the prompt is the only place it can go


# ---- end to end, as a user runs it ---------------------------------------------------------------

def _progress(stderr: str) -> list[tuple[str, int, int, int, int]]:
    return [(m[1], int(m[2]), int(m[3]), int(m[4].replace(",", "")), int(m[5].replace(",", "")))
            for m in re.finditer(r"^(extract|fit|actions): request (\d+)/(\d+) done · ([\d,]+) tokens in, "
                                 r"([\d,]+) out so far · [\d.]+s$", stderr, re.M)]


@pytest.mark.slow
@pytest.mark.parametrize("window,output", [(16_384, 4_096), (8_192, 2_048)])
def test_a_local_model_completes_within_its_limits_and_shows_progress(cli, tmp_path, window, output):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW=str(window), TRANSFER_MAX_OUTPUT=str(output))
    with FakeServer(responder=artifact_responder(replies()), context_window=window, max_output=output) as server:
        r = cli("analyze", "liling", "jinjiang", "--model", "m", "--base-url", server.url, "--no-cache",
                env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        memo = r.stdout  # piped: the memo alone, no progress in it
        assert memo.startswith("#") and "request 1/" not in memo
        chats = server.chats
    sizes = [prompt_tokens(q.body) for q in chats]
    assert all(n + output <= window for n in sizes) and all(q.body["max_tokens"] <= output for q in chats)
    # one progress line per request, in order, tokens growing; no request was asked twice
    lines = _progress(r.stderr)
    assert [(st, i) for st, i, *_ in lines] == [(q.stage, i) for q, (_, i, *_) in zip(chats, lines)]
    assert len(lines) == len(chats) and all(i <= n for _, i, n, *_ in lines)
    assert all(a[3] < b[3] for a, b in zip(lines, lines[1:]))
    assert lines[-1][3] == sum(sizes)  # the tokens the server counted
    per_target_in = sum(n for q, n in zip(chats, sizes) if q.stage != "extract")
    first_fit = next(k for k, q in enumerate(chats) if q.stage == "fit")
    per_target_out = lines[-1][4] - lines[first_fit - 1][4]
    if window == 16_384:  # the issue's goal, measured: no request over 12k in / 4k out; a further target
        assert max(sizes) <= 12_000 and per_target_in <= 40_000 and per_target_out <= 12_000
    assert "Annex" in memo or "附录" in memo


def _on_a_terminal(args: list, env: dict, cwd) -> tuple[str, str, int]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe: (stdout, terminal text, exit)."""
    import pty
    main, child = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_")) and k != "NO_COLOR"}
    full.update({"COLUMNS": "200", "TERM": "xterm-256color", **env})
    p = subprocess.Popen([TRANSFER, *map(str, args)], stdout=subprocess.PIPE, stderr=child, env=full, cwd=cwd)
    os.close(child)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
    reader.start()
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    code = p.wait(timeout=300)
    reader.join()
    term = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    return out[0].decode("utf-8"), term, code


@pytest.mark.slow
def test_progress_on_a_terminal_single_run_and_batch(tmp_path):
    targets = ["jinjiang", "wuhou"]
    env = llm_env(tmp_path)
    with FakeServer(responder=per_target_responder(batch_replies("liling", targets)), latency=0.3) as server:
        base = ["--model", "m", "--base-url", server.url]
        memo, term, code = _on_a_terminal(["analyze", "liling", "jinjiang", *base], env, tmp_path)
        assert code == 0 and memo.startswith("#") and "request" not in memo
        # the spinner while the model works, then a line per request
        assert re.search(r"fit: request 1/1 waiting for the model · [\d,]+ tokens in", term)
        assert re.search(r"actions: request 1/1 done · [\d,]+ tokens in, [\d,]+ out so far · [\d.]+s", term)
        out, term, code = _on_a_terminal(["batch", "liling", *targets, "-o", tmp_path / "out", *base], env, tmp_path)
        assert code == 0 and out == ""
        for t in targets:  # each pair in flight has its own line with its request
            assert re.search(rf"liling → {t} · (fit|actions): request 1/1 (waiting|done)", term)
        assert "liling (stage 1) · extract: request 1/1" in term
        # not on a terminal, a batch prints no line per request (thousands of pairs would flood it)
        piped = subprocess.run([TRANSFER, "batch", "liling", *targets, "-o", tmp_path / "out2", *base],
                               capture_output=True, text=True, env={**os.environ, **env}, cwd=tmp_path, timeout=300)
        assert piped.returncode == 0 and "request 1/1" not in piped.stderr


@pytest.mark.slow
def test_doctor_shows_the_plan_for_the_configured_limits(cli, tmp_path):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW="16384", TRANSFER_MAX_OUTPUT="4096")
    r = cli("doctor", "--offline", "--model", "m", env=env)
    assert r.returncode == 0, r.stderr
    assert "plan for liling → jinjiang" in r.stdout and "every request fits the model's limits" in r.stdout
    stages = dict(re.findall(r"^\s+(extract|fit|actions)\s+~[\d,]+ tokens in, ~[\d,]+ out \(estimated\) in (\d+) "
                             r"request", r.stdout, re.M))
    assert set(stages) == {"extract", "fit", "actions"} and int(stages["fit"]) > 1
    data = json.loads(cli("doctor", "--offline", "--json", "--model", "m", "--pair", "liling", "wuhou", env=env).stdout)
    assert [p["stage"] for p in data["plan"]] == ["extract", "fit", "actions"]
    assert all(q["fits"] and q["tokens_in"] <= 11_486 for p in data["plan"] for q in p["requests"])
    # the same plan --dry-run shows: one place computes it
    dry = cli("analyze", "liling", "jinjiang", "--dry-run", "--model", "m", env=env)
    assert [ln for ln in dry.stderr.splitlines() if ln.startswith("  ")] == \
        [ln for ln in r.stdout.split("plan for", 1)[1].splitlines() if ln.startswith("  ") and "~" in ln]


def test_the_actions_request_shows_the_ids_an_action_must_name(pair):
    """The verifier holds an action to the target's problem and institution ids: a model not shown
    them cannot write an action that passes (the offline engine's actions are what a good reply names)."""
    s, t, logic, ev, ctx, scale = pair
    o = OfflineEngine()
    fit = o.fit(logic, s, t, "zh", ev, ctx, scale)
    actions = o.actions(logic, fit, s, t, "zh").actions
    eng = LLMEngine(Settings(model="m", context_window=128_000, max_output_tokens=16_384), no_log=True)
    [request] = eng.plan_actions(logic, fit, s, t, "zh")
    shown = request.messages[-1]["content"]
    assert actions and all(a.problem and a.lead_id for a in actions)
    for a in actions:
        assert f'"id":"{a.problem}"' in shown, a.problem
        assert f'"id":"{a.lead_id}"' in shown, a.lead_id
    # a problem is cited the way the memo's notes cite it
    assert f'"cite":"{t.id}:challenges.C1"' in shown
