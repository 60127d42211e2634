"""`transfer batch --via batch-api`: stages 2 and 3 of every pair as jobs of the provider's Batch API.

Stage 1 runs as in a local batch (once per source). Then rounds: every pair still to do is run
with a replay engine (llm/jobs.py ReplayClient) that answers from finished jobs and the reply
cache and collects the requests it cannot answer; those go into one job (or several, when the
provider's per-file limits require), the runner waits for it, downloads its results, and runs
the pairs again. Round one asks every pair's fit, round two their actions (which need the
fits), later rounds only re-asks of replies that failed validation and lines that failed at
the provider's end (sent once more, then reported). A pair that completes is written exactly
as a local run writes it (pair.py): the memo is the interactive engine's for the same replies.

The jobs are in the batch manifest (jobstate.py) from the moment they exist: a re-run of the
same command picks them up, downloads what finished and submits only what is missing.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import InputError, Pending
from ..llm.cache import Cache
from ..llm.client import ModelClient
from ..llm.config import cost_text
from ..llm.jobs import JobsApi, ReplayClient, outcome, request_line, split
from ..pipeline.engines.llm import LLMEngine
from .jobstate import JobState
from .pair import PairResult, PairWork
from .plan import Pair
from .runner import BatchResult, BatchRunner

MAX_ROUNDS = 24  # fit and actions, each with its re-asks and a retry of failed lines, fit well within


class CollectingEngine(LLMEngine):
    """The llm engine whose stages gather every request they wait on, across all of a stage's
    planned parts, and then end Pending with them (each labelled for its custom_id)."""

    def fit(self, *args, **kw):
        return self._collect(super().fit, *args, **kw)

    def actions(self, *args, **kw):
        return self._collect(super().actions, *args, **kw)

    def _collect(self, stage, *args, **kw):
        self._waiting, self._part = [], 0
        try:
            out = stage(*args, **kw)
        except Exception:
            if self._waiting:  # a part answered None (it waits): whatever failed on it waits too
                raise Pending(self._waiting) from None
            raise
        if self._waiting:
            raise Pending(self._waiting)
        return out

    def _ask(self, p, build, places, logic, pair):
        part = self._part = self._part + 1
        self.client.answered = 0
        try:
            return super()._ask(p, build, places, logic, pair)
        except Pending as e:
            for line in e.lines:
                line["id"] = f"{pair[0]}/{pair[1]}/{p.stage}/part{part}/ask{line['ask'] + 1}"
            self._waiting += e.lines
            return None


class HeldLog:
    """The run log's rows of one pair's run, written only if the run completes the pair (a pair is
    run once per round; only its last run is the one that made the memo)."""

    def __init__(self, log):
        self.log, self.rows, self._warned = log, [], False

    def scope(self, *args, **kw):
        return type(self.log).scope(self, *args, **kw)

    def add(self, row: dict) -> None:
        self.rows.append(row)

    def flush(self, keep: bool) -> None:
        rows, self.rows = self.rows, []
        for row in rows if keep else []:
            self.log.add(row)


class BatchApiRunner(BatchRunner):
    def __init__(self, lib, pairs: list[Pair], out: Path, *, wait: bool = True, poll: float | None = None,
                 command: list[str] | None = None, cwd: str | None = None, **options):
        super().__init__(lib, pairs, out, **options)
        self.wait, self.poll = wait, poll
        self.command, self.cwd = command, cwd
        self.jobs_used: list[dict] = []
        self.priced = False

    def index_notes(self, totals: BatchResult) -> list[str]:
        return usage_lines(self, totals, self.priced)

    def _dispatch(self, pending: list[Pair], work: PairWork, engine, totals: BatchResult,
                  by_pair: dict[Pair, PairResult]) -> None:
        s = engine.settings
        ep, model = s.endpoint, s.model
        self._interval = s.batch_poll
        self.priced = bool(s.prices) and s.batch_cost(0, 0) is not None
        state = JobState.open(self.out, self.command, self.cwd)
        if self.force:  # the earlier jobs' replies are not reused (the reply cache still is, as locally)
            state.since = time.time()
        state.save()
        state.register()
        api = JobsApi(ModelClient(s, Cache(enabled=False), engine.notify))
        replay = _replay_engine(engine)
        said: set[tuple] = set()
        current: list = [None]

        def once(msg: str) -> None:  # a pair runs once per round: what it says, it says once
            if (current[0], msg) not in said:
                said.add((current[0], msg))
                engine.notify(msg)
        replay.notify = once

        def record(r: PairResult) -> None:
            self._record(r, totals, by_pair)
        todo = []
        for pair in pending:
            src = work.sources[pair.source]
            if src.error is not None:
                record(PairResult(pair, "failed", error=src.error))
            else:
                todo.append(pair)
        t0 = time.monotonic()
        for _ in range(MAX_ROUNDS):
            self._bring_in(api, state, ep, model, t0)
            replay.client.results = state.results(ep, model)
            asked: dict[str, dict] = {}
            still = []
            for pair in todo:
                current[0] = pair
                try:
                    r = work.run(pair, replay)
                except Pending as e:
                    still.append(pair)
                    for line in e.lines:
                        asked.setdefault(line["key"], line)
                    if replay.log:
                        replay.log.flush(keep=False)
                    continue
                if replay.log:
                    replay.log.flush(keep=True)
                record(r)
            todo = still
            if not todo or self.stop.is_set():
                break
            flying = state.in_flight(ep, model)
            new = [line for key, line in asked.items() if key not in flying]
            if new:
                self._submit(api, state, new, s, model)
            elif not flying:
                break  # nothing to send and nothing to wait for: these pairs cannot progress
            if not self.wait:
                break
            self._bring_in(api, state, ep, model, t0, needed=set(asked))
        self.jobs_used = [j for j in state.jobs if state.mine(j, ep, model)]
        waiting = state.waiting(ep, model)
        why = (f"waiting on Batch API job(s) {', '.join(j['id'] for j in waiting)}: run the same command again, "
               f"or `transfer jobs resume {state.id}`") if waiting else "interrupted" if self.stop.is_set() \
            else "no progress through the Batch API"
        for pair in todo:
            record(PairResult(pair, "not_run", error=why))

    def _submit(self, api: JobsApi, state: JobState, lines: list[dict], s, model: str) -> None:
        stages = sorted({line["id"].split("/")[2] for line in lines})
        encoded = [request_line(line["id"], line["body"]) for line in lines]
        by_id = {line["id"]: line["key"] for line in lines}
        files = split(encoded, s.batch_max_requests, s.batch_max_bytes)
        done = 0
        for i, chunk in enumerate(files, start=1):
            ids = [line["id"] for line in lines[done:done + len(chunk)]]
            done += len(chunk)
            name = f"transfer-{state.id}-{len(state.jobs) + 1}.jsonl"
            file_id, job = api.submit(name, b"".join(chunk), {"tool": "transfer", "batch": state.id,
                                                               "stage": ",".join(stages)})
            state.add(job, ",".join(stages), {cid: by_id[cid] for cid in ids}, s.endpoint, model, file_id)
            self.reporter.note(f"batch api: submitted job {job['id']} ({len(chunk)} requests: {', '.join(stages)}"
                               + (f"; file {i} of {len(files)}" if len(files) > 1 else "") + ")")

    def _bring_in(self, api: JobsApi, state: JobState, ep: str, model: str, t0: float,
                  needed: set[str] | None = None) -> None:
        """Each waiting job's state from the provider; a finished job's results downloaded. Given the
        `needed` requests, until every job holding one is finished (or Ctrl-C), reporting progress."""
        interval = self.poll if self.poll is not None else self._interval
        shown = ""
        while True:
            left = []
            for job in state.waiting(ep, model):
                if state.update(job, api.retrieve(job["id"])):
                    outcomes = [outcome(line) for line in api.lines(job.get("output_file_id"))
                                + api.lines(job.get("error_file_id"))]
                    state.store(job, outcomes)
                    failed = job["unanswered"]
                    self.reporter.note(f"batch api: job {job['id']} {job['status']}: {job['answered']} answered"
                                       + (f", {failed} failed (sent once more where the provider was at fault)"
                                          if failed else ""))
                elif needed and needed & set(job["lines"].values()):
                    left.append(job)
            if not left or self.stop.is_set():
                return
            line = progress(left, time.monotonic() - t0)
            if line != shown:
                self.reporter.note(line)
                shown = line
            self.stop.wait(interval)


def progress(jobs: list[dict], elapsed: float) -> str:
    """One line: each waiting job's status and the provider's counts, and the time waited."""
    parts = []
    for j in jobs:
        c = j.get("request_counts") or {}
        parts.append(f"{j['id']} {j.get('stage')} {j['status']} {c.get('completed', 0)}/{c.get('total', len(j['lines']))}"
                     + (f" ({c['failed']} failed)" if c.get("failed") else ""))
    return f"batch api: {len(jobs)} job(s) running: " + "; ".join(parts) + f"; {elapsed:.0f}s"


def _replay_engine(main: LLMEngine) -> CollectingEngine:
    """The collecting engine with `main`'s settings, prompts and caches, answering through a ReplayClient."""
    # no request progress: a pair is replayed once per round and its requests wait on jobs (the runner
    # reports the jobs)
    eng = CollectingEngine(main.settings, no_cache=main.no_cache, no_log=True, notify=main.notify,
                           progress=lambda event: None)
    eng.prompts = main.prompts
    eng.log = HeldLog(main.log) if main.log else None
    eng._client = ReplayClient(main.settings, Cache(enabled=not main.no_cache), {}, notify=lambda m: eng.notify(m))
    return eng


def usage_lines(runner: BatchApiRunner, result: BatchResult, priced: bool) -> list[str]:
    """The batch index's and the summary's account of the jobs: how many, what they answered, at what price."""
    jobs = runner.jobs_used
    if not jobs:
        return []
    answered = sum(j.get("answered", 0) for j in jobs)
    failed = sum(j.get("unanswered", 0) for j in jobs)
    waiting = sorted({r.error for r in result.results if r.status == "not_run" and r.error})
    return [*(f"not run: {why}" for why in waiting), f"Batch API: {len(jobs)} job(s), {sum(len(j['lines']) for j in jobs)} requests sent, {answered} answered, "
            f"{failed} failed; usage as the provider reports it: {result.tokens:,} tokens, cost "
            f"{cost_text(result.cost if priced else None)} (stage 1 at the profile's prices, fit and actions at "
            "batch prices)"]


def run_batch_api(lib, pairs: list[Pair], out: Path, **options) -> tuple[BatchResult, list[str], bool]:
    """(result, the lines on its jobs, whether its cost is known)."""
    if options.get("max_cost") is not None:
        raise InputError("--max-cost stops a local batch between pairs; a Batch API job's cost is known "
                         "when it is done: use --via local with --max-cost")
    runner = BatchApiRunner(lib, pairs, out, **options)
    result = runner.run()
    return result, usage_lines(runner, result, runner.priced), runner.priced
