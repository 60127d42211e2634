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

from conftest import run_cli
from fakeserver import FakeServer, per_target_responder, stage_of, status, target_of
from llm_helpers import batch_replies, llm_env
from synth import source_dir, write_targets
from conftest import SYNTHETIC


def summary(stderr: str) -> dict[str, int]:
    m = re.search(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) not run; (\d+) requests",
                  stderr)
    assert m, stderr
    return dict(zip(("pairs", "done", "skipped", "failed", "not_run", "requests"), map(int, m.groups())))


def places(tmp_path, n):
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    return cases, write_targets(cases, n)


def batch(server, cases, targets, out, env, *extra):
    return run_cli("batch", "alpha", *targets, "--cases", cases, "-o", out, "--base-url", server.url,
                   "--model", "m", "--no-cache", "--format", "md", *extra, env=env)


def via(server, cases, targets, out, env, *extra):
    return batch(server, cases, targets, out, env, "--via", "batch-api", "--poll", "0.01", *extra)


def sent_once(server) -> None:
    bodies = [json.dumps(b, sort_keys=True) for b in server.sent]
    assert len(bodies) == len(set(bodies)), "a request was sent twice"


def jobs_of(server) -> list[dict]:
    return list(server.batches.values())


def test_fit_then_actions_one_job_each_memos_as_the_interactive_engines(tmp_path):
    cases, targets = places(tmp_path, 4)
    env = llm_env(tmp_path)
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    with FakeServer(responder=responder, batch_polls=2) as server:
        r = via(server, cases, targets, tmp_path / "api", env)
        assert r.returncode == 0, r.stderr
        assert summary(r.stderr)["done"] == 4
        jobs = jobs_of(server)
        # stage 1 interactively, once; then one job of fits, one of actions (they need the fits)
        assert server.count == 1 and stage_of(server.chats[0].body) == "extract"
        assert [Counter(stage_of(x["body"]) for x in j["lines"]) for j in jobs] == \
            [Counter(fit=4), Counter(actions=4)]
        assert [j["status"] for j in jobs] == ["completed", "completed"]
        ids = [x["custom_id"] for j in jobs for x in j["lines"]]
        assert sorted(ids) == sorted(f"alpha/{t}/{s}/part1/ask1" for t in targets for s in ("fit", "actions"))
        sent_once(server)
        assert "in_progress" in r.stderr and "0/4" in r.stderr  # progress from the provider's counts
        # the same pairs interactively, from the same replies: the same memos, byte for byte
        local = batch(server, cases, targets, tmp_path / "local", env)
        assert local.returncode == 0, local.stderr
    for t in targets:
        assert (tmp_path / "api" / "alpha" / f"{t}.md").read_text(encoding="utf-8") == \
            (tmp_path / "local" / "alpha" / f"{t}.md").read_text(encoding="utf-8")
    index = (tmp_path / "api" / "index.md").read_text(encoding="utf-8")
    assert "Batch API: 2 job(s), 8 requests sent, 8 answered, 0 failed" in index
