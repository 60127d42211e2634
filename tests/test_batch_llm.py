"""`transfer batch` on the llm engine, run as a user runs it, against the scripted HTTP server.

Each target's fit and actions requests are answered with that target's own canned replies (the
server reads the target id from the request's data block), so a memo built from another
target's reply would fail verification and show up as an extra request. Runs use --no-cache:
the request counts then show what the batch's manifests skip, not what the reply cache hides.

The runner runs llm pairs as tasks on threads of its own process, --jobs at a time.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import time
from collections import Counter

import pytest

from conftest import SYNTHETIC, TRANSFER, run_cli
from fakeserver import FakeServer, per_target_responder, stage_of, status, target_of
from llm_helpers import batch_replies, llm_env
from synth import source_dir, write_targets


def summary(stderr: str) -> dict[str, int]:
    m = re.search(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) not run; (\d+) requests",
                  stderr)
    assert m, stderr
    return dict(zip(("pairs", "done", "skipped", "failed", "not_run", "requests"), map(int, m.groups())))


def asked(server, since: int = 0) -> Counter:
    """(stage, target) -> how many requests the server got for it."""
    return Counter((q.stage, target_of(q.body)) for q in server.chats[since:])


def in_one_process(stderr: str) -> bool:
    """llm pairs run on threads of the batch's own process, whatever the cores (TRANSFER_PROCESSES=2 below)."""
    return "worker processes" not in stderr


@pytest.fixture
def places(tmp_path):
    """The synthetic source alpha with generated targets; returns (cases dir, target ids)."""
    def make(n):
        cases = source_dir(tmp_path / "cases", SYNTHETIC)
        return cases, write_targets(cases, n)
    return make


def batch(server, cases, targets, out, env, *extra, **kw):
    return run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--base-url", server.url,
                   "--model", "m", "--no-cache", *extra, env=env, **kw)


@pytest.mark.slow
def test_one_extract_and_two_requests_per_target_each_answered_for_its_target(tmp_path, places):
    cases, targets = places(8)
    env = llm_env(tmp_path, TRANSFER_PROCESSES="2")
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    out = tmp_path / "out"
    with FakeServer(responder=responder, latency=0.15) as server:
        r = batch(server, cases, targets, out, env, "--jobs", "4", "--format", "md", "--format", "json")
        assert r.returncode == 0, r.stderr
        n = len(targets)
        assert server.count == 1 + 2 * n
        assert asked(server) == Counter({("extract", None): 1, **{(s, t): 1 for t in targets for s in ("fit", "actions")}})
        assert responder.unknown == []
        assert summary(r.stderr) == {"pairs": n, "done": n, "skipped": 0, "failed": 0, "not_run": 0,
                                     "requests": 1 + 2 * n}
        assert in_one_process(r.stderr), r.stderr
        # the tokens the summary reports are the stages' own, counted in whichever process ran them
        logic_tokens = sum(s["tokens_in"] + s["tokens_out"] for s in json.loads(
            (out / "alpha" / "_logic.manifest.json").read_text(encoding="utf-8"))["stages"])
        pair_tokens = sum(json.loads((out / "alpha" / f"{t}.manifest.json").read_text(encoding="utf-8"))
                          ["usage"]["tokens"] for t in targets)
        reported = int(re.search(r"requests, ([\d,]+) tokens", r.stderr).group(1).replace(",", ""))
        assert pair_tokens > 0 and reported == logic_tokens + pair_tokens
        # the pairs overlapped: with 0.15 s per request, one after another would take 17 x 0.15 s
        times = sorted(q.time for q in server.chats)
        assert max(sum(1 for t in times if s <= t < s + 0.1) for s in times) >= 3
        for t in targets:
            memo = json.loads((out / "alpha" / f"{t}.json").read_text(encoding="utf-8"))
            assert memo["fit"]["target"] == t
            want = batch_replies("alpha", [t], str(cases))[t]
            assert [m["mode"] for m in memo["fit"]["mechanisms"]] == [m["mode"] for m in want["fit"]["mechanisms"]]
            assert memo["run"]["verification"]["clean"], memo["run"]["verification"]["findings"]
            assert [(s["stage"], s["requests"]) for s in memo["run"]["stages"]] == \
                [("extract", 1), ("fit", 1), ("actions", 1)]
            man = json.loads((out / "alpha" / f"{t}.manifest.json").read_text(encoding="utf-8"))
            assert man["usage"]["requests"] == 2 and man["engine"]["engine"] == "llm"
        # the same command again: every pair is complete and unchanged, nothing is asked
        again = batch(server, cases, targets, out, env, "--jobs", "4", "--format", "md", "--format", "json")
        assert again.returncode == 0, again.stderr
        assert summary(again.stderr)["skipped"] == n and server.count == 1 + 2 * n


def failing(responder, stage: str, failures: dict[str, float]):
    """`responder`, except that `stage` answers 500 for a target while its failures[target] > 0."""
    def respond(body):
        t = target_of(body)
        if t in failures and failures[t] > 0 and stage_of(body) == stage:
            failures[t] -= 1
            return status(500, "scripted outage")
        return responder(body)
    return respond


@pytest.mark.slow
def test_pairs_failing_beyond_the_retry_budget_are_reported_and_a_rerun_finishes_them(tmp_path, places):
    cases, targets = places(6)
    # two attempts per request, a few ms apart: t0001 recovers on its retry, t0003 and t0004 do not
    env = llm_env(tmp_path, TRANSFER_RETRIES="1", TRANSFER_RETRY_BASE="0.01", TRANSFER_PROCESSES="2")
    failures = {"t0001": 1, "t0003": math.inf, "t0004": math.inf}
    responder = failing(per_target_responder(batch_replies("alpha", targets, str(cases))), "fit", failures)
    out = tmp_path / "out"
    with FakeServer(responder=responder, latency=0.05) as server:
        r = batch(server, cases, targets, out, env, "--jobs", "3")
        assert r.returncode == 1, r.stderr
        first = summary(r.stderr)
        assert (first["done"], first["failed"], first["not_run"]) == (4, 2, 0)
        # the failed pairs' attempts count too: every request the server saw is in the summary
        assert first["requests"] == server.count
        for t in ("t0003", "t0004"):
            assert re.search(rf"failed: alpha → {t}: .*HTTP 500.*gave up after 2 attempts", r.stderr), r.stderr
            assert not (out / "alpha" / f"{t}.md").exists()
            assert json.loads((out / "alpha" / f"{t}.manifest.json").read_text(encoding="utf-8"))["status"] == "failed"
        assert "Traceback" not in r.stderr
        # 1 extract, 2 per finished pair, t0001's retried fit, two fit attempts for each failed pair
        assert server.count == 1 + 2 * 4 + 1 + 2 * 2
        assert asked(server)[("actions", "t0003")] == asked(server)[("actions", "t0004")] == 0
        index = (out / "index.md").read_text(encoding="utf-8")
        assert "t0003" in index and "t0004" in index  # the failures section names them

        # the outage is over: the same command redoes only the failed pairs
        failures.update(t0003=0, t0004=0)
        before = server.count
        r = batch(server, cases, targets, out, env, "--jobs", "3")
        assert r.returncode == 0, r.stderr
        second = summary(r.stderr)
        assert (second["done"], second["skipped"], second["failed"]) == (2, 4, 0)
        assert asked(server, before) == Counter({(s, t): 1 for t in ("t0003", "t0004") for s in ("fit", "actions")})
    assert sorted(p.stem for p in out.glob("alpha/*.md")) == sorted(targets)


@pytest.mark.slow
def test_sigint_mid_batch_resumes_without_lost_duplicated_or_repeated_work(tmp_path, places):
    cases, targets = places(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    env.update(llm_env(tmp_path, TRANSFER_PROCESSES="2"), SOURCE_DATE_EPOCH="1767225600")
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    out = tmp_path / "out"
    latency = 0.3
    with FakeServer(responder=responder, latency=latency) as server:
        proc = subprocess.Popen([TRANSFER, "batch", "alpha", *targets, "--cases", str(cases), "-o", str(out),
                                 "--base-url", server.url, "--model", "m", "--no-cache", "--jobs", "4"],
                                stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        deadline = time.time() + 60

        def in_flight() -> bool:  # a request the server is still holding (under load, gaps between pairs occur)
            chats = server.chats
            return bool(chats) and time.time() - chats[-1].time < latency / 2

        while time.time() < deadline and not (len(list(out.glob("alpha/t*.manifest.json"))) >= 4 and in_flight()):
            time.sleep(0.005)
        signalled = time.time()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        # requests were in flight when the signal came (sent less than one latency before it)
        assert any(signalled - latency < q.time <= signalled for q in server.chats)
        first = summary(err)
        assert first["done"] >= 4 and first["not_run"] > 0 and first["failed"] == 0, err
        assert in_one_process(err), err
        # the pairs in flight finished: every request made belongs to a finished pair
        assert server.count == 1 + 2 * first["done"] == first["requests"]
        mans = list(out.glob("alpha/t*.manifest.json"))
        assert len(mans) == first["done"]
        for m in mans:
            assert (out / "alpha" / m.name.replace(".manifest.json", ".md")).stat().st_size > 0
        assert not [p for p in out.rglob("*") if ".tmp" in p.name]
        n_first = server.count

        r = batch(server, cases, targets, out, env, "--jobs", "4")
        assert r.returncode == 0, r.stderr
        second = summary(r.stderr)
        assert second["skipped"] == first["done"] and second["done"] == len(targets) - first["done"]
        # stage 1 is reused from disk and no finished pair is asked again
        assert server.count - n_first == 2 * second["done"]
        assert asked(server) == Counter({("extract", None): 1,
                                         **{(s, t): 1 for t in targets for s in ("fit", "actions")}})
    assert sorted(p.name for p in out.glob("alpha/*.md")) == sorted(f"{t}.md" for t in targets)


def price_config(tmp_path, server, input_price: float, output_price: float) -> None:
    cfg = tmp_path / "config"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.toml").write_text(
        'provider = "fake"\n\n[providers.fake]\n'
        f'base_url = "{server.url}"\nmodel = "m"\n'
        f"prices = {{ input = {input_price}, output = {output_price} }}\n", encoding="utf-8")


@pytest.mark.slow
def test_max_cost_stops_before_the_budget_from_the_preflight_estimate(tmp_path, places, monkeypatch):
    from transfer_cli.batch.plan import Pair
    from transfer_cli.llm.dryrun import PairCostEstimator
    from transfer_cli.pipeline.engines.llm import LLMEngine
    from transfer_cli.places.loader import Library
    cases, targets = places(10)
    env = llm_env(tmp_path, TRANSFER_PROCESSES="2")
    for k, v in env.items():  # the in-process estimate below reads the same config dir as the CLI
        monkeypatch.setenv(k, v)
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    out = tmp_path / "out"
    with FakeServer(responder=responder, latency=0.05) as server:
        price_config(tmp_path, server, 1000.0, 4000.0)  # dear, so that a few pairs cost dollars
        # what the pre-flight will say for each pair (the same estimate `--dry-run` gives)
        est = PairCostEstimator(Library([cases]), LLMEngine())
        estimates = {t: est(Pair("alpha", t)) for t in targets}
        assert all(e and e > 0 for e in estimates.values())
        budget = 3.5 * max(estimates.values()) + 10.0  # room for stage 1 and about three pairs
        r = run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--no-cache", "--jobs", "4",
                    "--max-cost", f"{budget:.2f}", env=env, cwd=tmp_path)
        assert r.returncode == 1, r.stderr
        first = summary(r.stderr)
        assert "stopped: --max-cost would be exceeded" in r.stderr and in_one_process(r.stderr)
        assert 1 <= first["done"] < len(targets) and first["not_run"] == len(targets) - first["done"]
        spent = float(re.search(r"cost \$([\d.]+)", r.stderr).group(1))
        assert 0 < spent <= budget < spent + max(estimates.values())  # stopped in time, not early
        # with an estimate up front the pairs start side by side (without one the runner would run a
        # first pair alone to learn its cost)
        stages = [q.stage for q in server.chats]
        assert stages[1:3] == ["fit", "fit"]
        # stopped before, not after: no request for a pair that was not run, none wasted
        assert server.count == 1 + 2 * first["done"]
        done = [t for t in targets if (out / "alpha" / f"{t}.md").exists()]
        usage = [json.loads((out / "alpha" / f"{t}.manifest.json").read_text(encoding="utf-8"))["usage"]["cost"]
                 for t in done]
        assert all(u > 0 for u in usage)  # actual usage, priced, is what the batch kept counting

        # a larger budget finishes the batch without asking again for the pairs already paid for
        before = server.count
        r = run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--no-cache", "--jobs", "4",
                    "--max-cost", "100000", env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert server.count - before == 2 * (len(targets) - len(done))


def test_max_cost_without_prices_is_a_usage_error(tmp_path, places, cli):
    cases, targets = places(2)
    with FakeServer() as server:
        r = cli("batch", "alpha", *targets, "--cases", cases, "-o", "out", "--base-url", server.url, "--model", "m",
                "--max-cost", "1", env=llm_env(tmp_path))
        assert r.returncode == 2 and "--max-cost needs prices" in r.stderr, r.stderr
        assert server.count == 0


@pytest.mark.slow
def test_concurrent_pairs_share_the_reply_cache_and_a_rate_limited_batch_completes(tmp_path, places):
    cases, targets = places(6)
    env = llm_env(tmp_path, TRANSFER_PROCESSES="2")
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    with FakeServer(responder=responder, latency=0.05) as server:
        def run(out, *extra):
            return run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--base-url", server.url,
                           "--model", "m", "--jobs", "4", "--format", "json", *extra, env=env)
        r = run(tmp_path / "out")  # the reply cache on: the pairs' threads write it side by side
        assert r.returncode == 0 and in_one_process(r.stderr), r.stderr
        assert server.count == 1 + 2 * len(targets)
        # every reply the pairs received is in the cache: a forced re-run sends nothing
        again = run(tmp_path / "again", "--force")
        assert again.returncode == 0 and summary(again.stderr)["done"] == len(targets), again.stderr
        assert server.count == 1 + 2 * len(targets)
        for t in targets:  # the same memos (their run records differ: cached replies use no tokens)
            first, cached = (json.loads((tmp_path / d / "alpha" / f"{t}.json").read_text(encoding="utf-8"))
                             for d in ("out", "again"))
            assert (cached["fit"], cached["plan"]) == (first["fit"], first["plan"])
        # within a rate limit (the runner's buckets, shared by the pairs' threads)
        limited = run(tmp_path / "limited", "--no-cache", "--rpm", "6000")
        assert limited.returncode == 0 and summary(limited.stderr)["done"] == len(targets), limited.stderr
        assert server.count == 2 * (1 + 2 * len(targets))
