"""`transfer batch --via batch-api`: fit and actions as jobs of the provider's Batch API.

Run as a user runs it, against the scripted server's /v1/files and /v1/batches (fakeserver.py):
each job's lines are answered with the target's own canned replies, as the interactive
requests are, so a memo built from the wrong reply fails verification and shows.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from conftest import SYNTHETIC, run_cli
from fakeserver import FakeServer, per_target_responder, reply, stage_of, status, target_of
from llm_helpers import batch_replies, llm_env
from synth import source_dir, write_targets


def summary(stderr: str) -> dict[str, int]:
    m = re.search(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) not run; (\d+) requests",
                  stderr)
    assert m, stderr
    return dict(zip(("pairs", "done", "skipped", "failed", "not_run", "requests"), map(int, m.groups())))


def places(tmp_path, n):
    """(cases dir, target ids, env, a responder answering each target with its canned replies)."""
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    targets = write_targets(cases, n)
    return cases, targets, llm_env(tmp_path), per_target_responder(batch_replies("alpha", targets, str(cases)))


def batch(server, cases, targets, out, env, *extra, cache=False):
    return run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--base-url", server.url,
                   "--model", "m", *([] if cache else ["--no-cache"]), "--format", "md", *extra, env=env)


def via(server, cases, targets, out, env, *extra, cache=False):
    return batch(server, cases, targets, out, env, "--via", "batch-api", "--poll", "0.01", *extra, cache=cache)


def sent_once(server) -> None:
    bodies = [json.dumps(b, sort_keys=True) for b in server.sent]
    assert len(bodies) == len(set(bodies)), "a request was sent twice"


def jobs_of(server) -> list[dict]:
    return list(server.batches.values())


def lines_of(server) -> list[Counter]:
    """Per job: (stage, target) of its lines."""
    return [Counter((stage_of(x["body"]), target_of(x["body"])) for x in j["lines"]) for j in jobs_of(server)]


def test_a_small_batch_runs_as_one_fit_job_then_one_actions_job(tmp_path):
    cases, targets, env, canned = places(tmp_path, 3)
    with FakeServer(responder=canned) as server:
        r = via(server, cases, targets, tmp_path / "api", env, "--format", "json")
        assert r.returncode == 0, r.stderr
        assert summary(r.stderr) == {"pairs": 3, "done": 3, "skipped": 0, "failed": 0, "not_run": 0, "requests": 7}
        assert server.count == 1 and stage_of(server.chats[0].body) == "extract"
        assert lines_of(server) == [Counter(("fit", t) for t in targets), Counter(("actions", t) for t in targets)]
        assert sorted(x["custom_id"] for j in jobs_of(server) for x in j["lines"]) == \
            sorted(f"alpha/{t}/{s}/part1/ask1" for t in targets for s in ("fit", "actions"))
        sent_once(server)
    man = json.loads((tmp_path / "api" / "_batchapi.json").read_text(encoding="utf-8"))
    assert [(j["id"], j["stage"], j["status"], j["downloaded"]) for j in man["jobs"]] == \
        [("batch_1", "fit", "completed", True), ("batch_2", "actions", "completed", True)]
    for t in targets:
        memo = json.loads((tmp_path / "api" / "alpha" / f"{t}.json").read_text(encoding="utf-8"))
        assert memo["fit"]["target"] == t and memo["run"]["verification"]["clean"]
        assert [(x["stage"], x["requests"]) for x in memo["run"]["stages"]] == [("extract", 1), ("fit", 1), ("actions", 1)]
    # the run log holds each reply once, as an interactive run's does (not once per round the pair ran in)
    from transfer_cli.llm.runlog import RunLog
    logged = Counter((e["stage"], e["target"]) for e in RunLog(tmp_path / "data" / "logs.sqlite").entries())
    assert logged == Counter({("extract", None): 1, **{(s, t): 1 for t in targets for s in ("fit", "actions")}})


@pytest.mark.slow
def test_fifty_targets_one_job_per_stage_every_memo_as_the_interactive_engines(tmp_path):
    cases, targets, env, canned = places(tmp_path, 50)
    with FakeServer(responder=canned, batch_polls=2) as server:
        r = via(server, cases, targets, tmp_path / "api", env, "--format", "json")
        assert r.returncode == 0, r.stderr
        assert summary(r.stderr)["done"] == 50
        jobs = jobs_of(server)
        # stage 1 interactively, once; then one job of fits, one of actions (they need the fits)
        assert server.count == 1 and stage_of(server.chats[0].body) == "extract"
        assert lines_of(server) == [Counter(("fit", t) for t in targets), Counter(("actions", t) for t in targets)]
        assert [j["status"] for j in jobs] == ["completed", "completed"]
        sent_once(server)
        assert canned.unknown == []
        assert "in_progress 0/50" in r.stderr  # progress from the provider's counts
        # the same pairs interactively, from the same replies: the same memos
        local = batch(server, cases, targets, tmp_path / "local", env, "--format", "json")
        assert local.returncode == 0, local.stderr
    for t in targets:
        api, loc = (tmp_path / "api" / "alpha"), (tmp_path / "local" / "alpha")
        assert (api / f"{t}.md").read_text(encoding="utf-8") == (loc / f"{t}.md").read_text(encoding="utf-8")
        a, b = (json.loads((d / f"{t}.json").read_text(encoding="utf-8")) for d in (api, loc))
        timeless = [[{k: v for k, v in st.items() if k != "seconds"} for st in m["run"]["stages"]] for m in (a, b)]
        assert (a["fit"], a["plan"], timeless[0]) == (b["fit"], b["plan"], timeless[1])
    index = (tmp_path / "api" / "index.md").read_text(encoding="utf-8")
    assert "Batch API: 2 job(s), 100 requests sent, 100 answered, 0 failed" in index


def instead(responder, when, behaviour, times: float = float("inf")):
    """`responder`, except that a request for which when(body) holds gets `behaviour`, `times` times."""
    left = [times]

    def respond(body):
        if left[0] > 0 and when(body):
            left[0] -= 1
            return behaviour
        return responder(body)
    return respond


def fit_of(target):
    return lambda body: stage_of(body) == "fit" and target_of(body) == target


@pytest.mark.slow
def test_failed_lines_are_sent_once_more_then_reported(tmp_path):
    cases, targets, env, canned = places(tmp_path, 4)
    t0, t1, t2, t3 = targets
    outage = status(500, "scripted outage")
    responder = instead(instead(canned, fit_of(t1),
                                outage, times=1), fit_of(t2), outage)
    with FakeServer(responder=responder) as server:
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 1, r.stderr
        assert summary(r.stderr) == {"pairs": 4, "done": 3, "skipped": 0, "failed": 1, "not_run": 0,
                                     "requests": 7}
        assert re.search(rf"failed: alpha → {t2}: .*Batch API: the request failed in 2 jobs: scripted outage", r.stderr)
        assert lines_of(server) == [Counter(("fit", t) for t in targets),
                                    Counter({("actions", t0): 1, ("actions", t3): 1, ("fit", t1): 1, ("fit", t2): 1}),
                                    Counter({("actions", t1): 1})]
        # t1's and t2's fits went out twice (the retry), every other request once
        sent = Counter(json.dumps(b, sort_keys=True) for b in server.sent)
        assert sorted(target_of(json.loads(b)) for b, n in sent.items() if n == 2) == [t1, t2]
        assert max(sent.values()) == 2
    for name in ("index.md", "index.html"):
        index = (tmp_path / "api" / name).read_text(encoding="utf-8")
        assert "Batch API: 3 job(s), 9 requests sent, 6 answered, 3 failed" in index


@pytest.mark.slow
def test_expired_cancelled_and_failed_jobs_their_lines_retried_once(tmp_path):
    cases, targets, env, canned = places(tmp_path, 4)
    t0, t1, t2, t3 = targets
    script = [{"status": "failed"},                    # the whole file refused: every line is sent again
              {"status": "expired", "answer": 2},      # t0 and t1 answered, t2 and t3 in the error file
              {"status": "cancelled", "answer": 1}]    # t0's actions answered, the rest in no file
    with FakeServer(responder=canned,
                    batch_script=script) as server:
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 1, r.stderr
        got = summary(r.stderr)
        assert (got["done"], got["failed"]) == (2, 2), r.stderr
        for t in (t2, t3):
            assert re.search(rf"failed: alpha → {t}: .*failed in 2 jobs: .*(expired|cancelled)", r.stderr), r.stderr
        assert [j["status"] for j in jobs_of(server)] == ["failed", "expired", "cancelled", "completed"]
        assert lines_of(server)[3] == Counter({("actions", t1): 1})
    man = json.loads((tmp_path / "api" / "_batchapi.json").read_text(encoding="utf-8"))
    assert man["jobs"][1]["failed_lines"][0]["message"].startswith("This request could not be executed")


@pytest.mark.slow
def test_submitted_then_returned_a_rerun_downloads_instead_of_resubmitting(tmp_path):
    cases, targets, env, canned = places(tmp_path, 3)
    with FakeServer(responder=canned,
                    batch_polls=3) as server:
        first = via(server, cases, targets, tmp_path / "api", env, "--no-wait")
        assert first.returncode == 0, first.stderr
        assert summary(first.stderr)["not_run"] == 3 and "transfer jobs resume b" in first.stderr
        assert len(server.batches) == 1 and not server.batch_lines  # submitted, not yet run
        listed = run_cli("jobs", env=env)
        bid = re.search(r"^(b[0-9a-f]{8})\t", listed.stdout, re.M).group(1)
        assert "batch_1\tfit\t" in listed.stdout
        # the job runs on at the provider; `transfer jobs resume` picks it up
        again = run_cli("jobs", "resume", bid, env=env)
        assert again.returncode == 0, again.stderr
        assert summary(again.stderr)["done"] == 3
        assert len(server.batches) == 2 and len(server.files) == 4  # two inputs, two outputs: nothing re-sent
        assert server.count == 1  # stage 1 once: the re-run reused the source's logic
        sent_once(server)
        # --force asks again: the earlier jobs' replies are not reused
        forced = via(server, cases, targets, tmp_path / "api", env, "--force")
        assert forced.returncode == 0, forced.stderr
        assert summary(forced.stderr)["done"] == 3 and len(server.batches) == 4


@pytest.mark.slow
def test_a_reply_failing_validation_is_re_asked_in_the_next_job(tmp_path):
    cases, targets, env, canned = places(tmp_path, 3)
    respond = instead(canned, fit_of(targets[1]),
                      reply('{"mechanisms": "not a list"}'), times=1)
    with FakeServer(responder=respond) as server:
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 0, r.stderr
        assert lines_of(server) == [Counter(("fit", t) for t in targets),
                                    Counter({("actions", targets[0]): 1, ("actions", targets[2]): 1,
                                             ("fit", targets[1]): 1}),
                                    Counter({("actions", targets[1]): 1})]
        assert f"alpha/{targets[1]}/fit/part1/ask2" in [x["custom_id"] for x in jobs_of(server)[1]["lines"]]
        assert "asking again" in r.stderr
        memo = json.loads((tmp_path / "api" / "alpha" / f"{targets[1]}.manifest.json").read_text(encoding="utf-8"))
        assert memo["usage"]["requests"] == 3  # the invalid reply, its re-ask, the actions


@pytest.mark.slow
def test_the_reply_cache_is_shared_with_interactive_runs_both_ways(tmp_path):
    cases, targets, env, canned = places(tmp_path, 4)
    with FakeServer(responder=canned) as server:
        local = batch(server, cases, targets[:2], tmp_path / "local", env, cache=True)
        assert local.returncode == 0, local.stderr
        chats = server.count
        api = via(server, cases, targets, tmp_path / "api", env, cache=True)
        assert api.returncode == 0, api.stderr
        # the two pairs answered interactively are cache hits: only the other two go into the jobs
        assert server.count == chats
        assert lines_of(server) == [Counter(("fit", t) for t in targets[2:]), Counter(("actions", t) for t in targets[2:])]
        again = batch(server, cases, targets, tmp_path / "local2", env, cache=True)
        assert again.returncode == 0, again.stderr
        assert server.count == chats and len(server.batches) == 2  # every reply from the cache
        sent_once(server)


@pytest.mark.slow
def test_per_file_limits_split_a_stage_and_batch_prices_cost_the_pairs(tmp_path):
    cases, targets, env, canned = places(tmp_path, 3)
    with FakeServer(responder=canned) as server:
        config = tmp_path / "config"
        config.mkdir()
        (config / "config.toml").write_text(
            f'[providers.fake]\nbase_url = "{server.url}"\nmodel = "m"\nprices = {{ input = 1.0, output = 2.0 }}\n'
            'batch_half_price = true\nbatch_max_requests = 2\nbatch_via = "batch-api"\nbatch_poll = 0.01\n',
            encoding="utf-8")
        r = run_cli("batch", "alpha", *targets, "--cases", cases, "-o", tmp_path / "api", "--provider", "fake",
                    "--no-cache", "--format", "json", env=env)
        assert r.returncode == 0, r.stderr
        assert [sum(c.values()) for c in lines_of(server)] == [2, 1, 2, 1]  # two files per stage
        assert "file 1 of 2" in r.stderr
        sent_once(server)
    memo = json.loads((tmp_path / "api" / "alpha" / f"{targets[0]}.json").read_text(encoding="utf-8"))
    fit = next(s for s in memo["run"]["stages"] if s["stage"] == "fit")
    assert fit["tokens_in"] > 0 and fit["cost"] == pytest.approx(
        (fit["tokens_in"] * 1.0 + fit["tokens_out"] * 2.0) / 2e6, abs=1e-6)
    assert re.search(r"cost \$\d", (tmp_path / "api" / "index.md").read_text(encoding="utf-8"))


def test_a_bad_batch_setting_is_one_line_naming_it(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('[providers.p]\nmodel = "m"\nbatch_max_requests = 0\n', encoding="utf-8")
    r = run_cli("batch", "liling", "jinjiang", "-o", tmp_path / "out", "--provider", "p", env=llm_env(tmp_path))
    assert r.returncode == 2 and "providers.p: batch_max_requests: must be at least 1" in r.stderr, r.stderr
    r = run_cli("batch", "liling", "jinjiang", "-o", tmp_path / "out", "--engine", "offline", "--via", "batch-api",
                env=llm_env(tmp_path))
    assert r.returncode == 2 and "needs the llm engine" in r.stderr, r.stderr


@pytest.mark.slow
def test_killed_while_waiting_a_rerun_picks_the_job_up(tmp_path):
    import os
    import signal
    import subprocess
    import time
    from conftest import TRANSFER
    cases, targets, env, canned = places(tmp_path, 3)
    with FakeServer(responder=canned,
                    batch_polls=10_000) as server:
        args = [TRANSFER, "batch", "alpha", *targets, "--cases", cases, "-o", tmp_path / "api", "--base-url",
                server.url, "--model", "m", "--no-cache", "--via", "batch-api", "--poll", "0.01"]
        full = {**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}, **env}
        proc = subprocess.Popen(list(map(str, args)), env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        manifest = tmp_path / "api" / "_batchapi.json"
        deadline = time.monotonic() + 60
        while not (manifest.exists() and '"batch_1"' in manifest.read_text(encoding="utf-8")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up: the manifest already holds the job
        proc.wait()
        server.batches["batch_1"]["polls"] = 0  # meanwhile the provider finishes it
        server.batch_polls = 1
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 0, r.stderr
        assert summary(r.stderr)["done"] == 3
        assert lines_of(server) == [Counter(("fit", t) for t in targets), Counter(("actions", t) for t in targets)]
        sent_once(server)


@pytest.mark.slow
def test_a_structured_output_mode_the_batch_endpoint_rejects_steps_down_in_the_next_job(tmp_path):
    cases, targets, env, canned = places(tmp_path, 2)
    # stage 1, interactive, is answered in json_schema; the jobs' endpoint refuses it
    respond = instead(canned,
                      lambda body: stage_of(body) != "extract"
                      and (body.get("response_format") or {}).get("type") == "json_schema",
                      status(400, "This response_format type is unavailable now (json_schema)"))
    with FakeServer(responder=respond) as server:
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 0, r.stderr
        modes = [Counter((stage_of(x["body"]), (x["body"].get("response_format") or {}).get("type")) for x in j["lines"])
                 for j in jobs_of(server)]
        assert modes == [Counter({("fit", "json_schema"): 2}), Counter({("fit", "json_object"): 2}),
                         Counter({("actions", "json_object"): 2})]
        assert "mode json_schema not accepted" in r.stderr


@pytest.mark.slow
def test_on_a_small_model_each_stage_part_is_a_line_of_the_stages_one_job(tmp_path):
    env = llm_env(tmp_path, TRANSFER_CONTEXT_WINDOW="8192", TRANSFER_MAX_OUTPUT="2048")
    targets = ["jinjiang", "wuhou"]
    with FakeServer(responder=per_target_responder(batch_replies("liling", targets)), context_window=8192,
                    max_output=2048) as server:
        r = run_cli("batch", "liling", *targets, "-o", tmp_path / "api", "--base-url", server.url, "--model", "m",
                    "--no-cache", "--via", "batch-api", "--poll", "0.01", "--format", "json", env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        jobs = jobs_of(server)
        assert [{stage_of(x["body"]) for x in j["lines"]} for j in jobs] == [{"fit"}, {"actions"}]
        fit_ids = [x["custom_id"] for x in jobs[0]["lines"]]
        for t in targets:  # the planner split each target's fit; every part went in the one fit job
            parts = {i for i in fit_ids if i.startswith(f"liling/{t}/fit/")}
            assert len(parts) > 1 and parts == {f"liling/{t}/fit/part{k}/ask1" for k in range(1, len(parts) + 1)}
        assert all(n + 2048 <= 8192 for n in server.prompt_sizes)
        sent_once(server)
    for t in targets:
        memo = json.loads((tmp_path / "api" / "liling" / f"{t}.json").read_text(encoding="utf-8"))
        assert memo["run"]["verification"]["clean"], memo["run"]["verification"]["findings"]
        fit = next(s for s in memo["run"]["stages"] if s["stage"] == "fit")
        assert fit["requests"] == sum(1 for i in fit_ids if i.startswith(f"liling/{t}/"))
