"""The batch runner: one source's logic checked against many targets, resumable.

A plan is a list of (source, target) pairs. Stage 1 runs once per source and its CaseLogic is
shared by all of that source's targets (and kept on disk, so a resumed batch does not extract
again). Then up to --jobs pairs run at once (pair.py): llm pairs as tasks on threads, which
spend their time waiting for the model, within request/token rate limits (limits.py) and a cost
budget; the offline engine's CPU-bound pairs on a process pool, one worker per core
(processes.py). Each pair writes its outputs and then its manifest (manifests.py), so a re-run
skips the pairs that are complete and unchanged and redoes the rest.

Library code: no typer, no rich. Progress goes to an optional reporter object.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError, TransferError
from ..files import set_aside, write_atomic
from .report import write_comparison
from .limits import LimitedEngine, RateLimiter
from .manifests import (MANIFEST_VERSION, _same_files, engine_key, is_current, manifest_path, place_hashes,
                        read_manifest)
from .pair import PairResult, PairWork, Source, error_text, usage_of
from .plan import Pair


@dataclass
class BatchResult:
    results: list[PairResult]
    interrupted: bool = False
    budget_stopped: bool = False
    processes: int = 1  # worker processes the pairs ran in (1: threads of the batch's own)
    requests: int = 0
    tokens: int = 0
    cost: float = 0.0
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[PairResult]:
        return [r for r in self.results if r.status == "failed"]


class Reporter:
    """Progress hooks; the CLI passes a rich progress bar, the library default is silent."""

    def start(self, total: int, skipped: int) -> None: ...
    def pair_done(self, result: PairResult, totals: BatchResult) -> None: ...
    def note(self, message: str) -> None: ...
    def request(self, label: str, event) -> None: ...  # a model request of a pair (llm/progress.Event)
    def stop(self) -> None: ...


class BatchRunner:
    def __init__(self, lib, pairs: list[Pair], out: Path, *, engine_factory: Callable[[], Any],
                 formats: list[str] | None = None, lang: str | None = None, jobs: int = 4,
                 rpm: float | None = None, tpm: float | None = None, max_cost: float | None = None,
                 force: bool = False, reporter: Reporter | None = None, tokens_per_call: int = 0,
                 estimate_pair_cost: Callable[[Pair], float | None] | None = None, handle_sigint: bool = True):
        self.lib, self.pairs, self.out = lib, pairs, Path(out)
        self.formats = list(dict.fromkeys(formats or ["md"]))
        self.lang, self.jobs, self.force = lang, max(1, jobs), force
        self.max_cost = max_cost
        self.reporter = reporter or Reporter()
        self.engine_factory = engine_factory
        self.limiter = RateLimiter(rpm, tpm)
        self.tokens_per_call = tokens_per_call
        self.estimate_pair_cost = estimate_pair_cost
        self.handle_sigint = handle_sigint
        self.stop = threading.Event()      # first Ctrl-C: start nothing new, let in-flight pairs finish
        self.discard = threading.Event()   # second Ctrl-C: in-flight pairs write nothing
        self._local = threading.local()

    # one engine per thread: the llm engine's usage counters (read by the stage timers) then
    # belong to the pair that thread is running, not to whatever ran concurrently.
    def _engine(self):
        eng = getattr(self._local, "engine", None)
        if eng is None:
            eng = self.engine_factory()
            self._watch(eng, None)  # an llm engine's own stderr lines would flood a batch: the reporter shows them
            if self.limiter.active:
                eng = LimitedEngine(eng, self.limiter, self.tokens_per_call, self.stop)
            self._local.engine = eng
        return eng

    def _watch(self, engine, label: str | None) -> None:
        """Route an llm engine's request progress to the reporter under `label` (a pair, a source)."""
        watch = getattr(engine, "set_progress", None)
        if watch is not None:
            watch((lambda ev: self.reporter.request(label, ev)) if label else (lambda ev: None))

    def _run_pair(self, work: PairWork, pair: Pair) -> PairResult:
        engine = self._engine()
        self._watch(engine, f"{pair.source} → {pair.target}")
        return work.run(pair, engine)

    def _sigint(self, signum, frame):
        if self.stop.is_set():
            self.discard.set()
            self.reporter.note("interrupted again: discarding in-flight pairs")
        else:
            self.stop.set()
            self.reporter.note("interrupted: finishing the pairs in flight (Ctrl-C again to discard them)")

    def run(self) -> BatchResult:
        t0 = time.perf_counter()
        old = None
        if self.handle_sigint and threading.current_thread() is threading.main_thread():
            old = signal.signal(signal.SIGINT, self._sigint)
        try:
            result = self._run()
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
            self.reporter.stop()
        result.seconds = time.perf_counter() - t0
        return result

    def _run(self) -> BatchResult:
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.out}: is a file; batch -o names a directory for the memos")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{self.out}: cannot create the output directory: {e.strerror or e}")
        main_engine = self._engine()
        ekey = engine_key(main_engine)
        totals = BatchResult(results=[])
        by_pair: dict[Pair, PairResult] = {}
        sources: dict[str, Source] = {}
        hash_cache: dict[str, dict] = {}

        def hashes(pid: str) -> dict:
            if pid not in hash_cache:
                hash_cache[pid] = place_hashes(self.lib, pid)
            return hash_cache[pid]

        pending: list[Pair] = []
        for pair in self.pairs:
            if pair.source not in sources:
                try:
                    loaded = self.lib.load(pair.source)
                    lang = self.lang or loaded.place.language
                    if lang not in ("zh", "en"):
                        raise InputError(f"--lang must be zh or en, not '{lang}'")
                    sources[pair.source] = Source(loaded, lang, hashes(pair.source))
                except TransferError as e:
                    sources[pair.source] = Source(None, self.lang or "zh", {}, error=error_text(e))
            src = sources[pair.source]
            man = read_manifest(manifest_path(self.out, pair))
            tgt_hashes = hash_cache.pop(pair.target, None) or place_hashes(self.lib, pair.target)
            if (not self.force and src.error is None
                    and is_current(man, self.out, pair, src.lang, ekey, self.formats, src.hashes, tgt_hashes)):
                by_pair[pair] = PairResult(pair, "skipped", fit=man.get("fit"), formats=man.get("formats") or [])
            else:
                pending.append(pair)

        self.reporter.start(len(self.pairs), len(self.pairs) - len(pending))
        for r in by_pair.values():
            totals.results.append(r)
            self.reporter.pair_done(r, totals)

        # stage 1, once per source that still has work
        for sid in dict.fromkeys(p.source for p in pending):
            src = sources[sid]
            if src.error is None and not self.stop.is_set():
                self._logic(sid, src, main_engine, ekey, totals)

        work = PairWork(self.lib, self.out, self.formats, sources, ekey, self.engine_factory, self.discard)
        self._dispatch(pending, work, main_engine, totals, by_pair)
        totals.results = [by_pair[p] for p in self.pairs]
        totals.interrupted = self.stop.is_set()
        totals.written = write_comparison(self.out, totals.results, self._langs(sources), self.formats,
                                          self.index_notes(totals))
        return totals

    def index_notes(self, totals: BatchResult) -> list[str]:
        """Lines for the batch index about how the batch ran (batchapi.py: its jobs and their cost)."""
        return []

    def _langs(self, sources: dict[str, Source]) -> str:
        langs = {s.lang for s in sources.values()}
        return langs.pop() if len(langs) == 1 else "en"

    def _logic(self, sid: str, src: Source, engine, ekey: dict, totals: BatchResult) -> None:
        """The source's CaseLogic: reused from DIR/<source>/_logic.json when its inputs are unchanged.
        The leading underscore keeps it apart from the memos: no place id can start with one."""
        from ..pipeline.artifacts import CaseLogic, StageRecord
        from ..pipeline.stages import extract_logic
        path = self.out / sid / "_logic.json"
        man_path = self.out / sid / "_logic.manifest.json"
        man = read_manifest(man_path)
        if (not self.force and man and man.get("lang") == src.lang and man.get("engine") == ekey
                and _same_files(man.get("inputs"), src.hashes)):
            try:
                src.logic = CaseLogic.model_validate_json(path.read_text(encoding="utf-8"))
                src.records = [StageRecord.model_validate(r) for r in man.get("stages") or []]
                return
            except OSError:
                pass  # no logic file: extract again
            except (ValueError, TypeError) as e:
                set_aside(path, type(e).__name__)
        try:
            records: list = []
            self._watch(engine, f"{sid} (stage 1)")
            src.logic = extract_logic(engine, src.loaded.place, src.lang, records)
            src.records = records
        except Exception as e:  # noqa: BLE001 — one source's failure must not stop the others
            src.error = f"extract: {error_text(e)}"
            return
        reqs, toks, cost = usage_of(src.records)
        totals.requests += reqs
        totals.tokens += toks
        totals.cost += cost
        try:
            man_path.unlink(missing_ok=True)
            write_atomic(path, src.logic.model_dump_json(indent=2) + "\n")
            write_atomic(man_path, json.dumps({"version": MANIFEST_VERSION, "kind": "logic", "source": sid,
                                               "lang": src.lang, "engine": ekey, "inputs": src.hashes,
                                               "stages": [r.model_dump() for r in src.records]},
                                              ensure_ascii=False, indent=2) + "\n")
        except OSError as e:  # its pairs fail with this line; the other sources go on
            src.error = f"cannot write {path}: {e.strerror or e}"

    # ---- stages 2 and 3, concurrently ----------------------------------------------------------
    def _dispatch(self, pending: list[Pair], work: PairWork, engine, totals: BatchResult,
                  by_pair: dict[Pair, PairResult]) -> None:
        queue = list(reversed(pending))
        in_flight: dict[Future, tuple[Pair, float]] = {}  # result -> (pair, cost reserved for it)
        observed: list[float] = []

        def record(r: PairResult) -> None:
            self._record(r, totals, by_pair)

        with self._pool(work, engine, len(pending), totals) as (submit, discard):
            while queue or in_flight:
                if self.discard.is_set():
                    discard()  # here, not in the signal handler: it may take a lock
                while queue and not self.stop.is_set():
                    pair = queue[-1]
                    src = work.sources[pair.source]
                    if src.error is not None:
                        queue.pop()
                        record(PairResult(pair, "failed", error=src.error))
                        continue
                    limit, reserve = self.jobs, 0.0
                    if self.max_cost is not None:
                        est = self.estimate_pair_cost(pair) if self.estimate_pair_cost else None
                        if observed:  # what pairs really cost corrects a pre-flight estimate that ran low
                            est = max(est or 0.0, max(observed))
                        if est is None:  # no estimate yet: learn one pair's cost before going wide
                            limit, est = 1, 0.0
                        committed = totals.cost + sum(e for _, e in in_flight.values())
                        if committed + est > self.max_cost:
                            if not in_flight:
                                totals.budget_stopped = True
                                self.stop.set()
                            break  # wait for in-flight pairs: their real cost may leave room
                        reserve = est
                    if len(in_flight) >= limit:
                        break
                    queue.pop()
                    in_flight[submit(pair)] = (pair, reserve)
                if not in_flight:
                    if queue and self.stop.is_set():
                        break
                    continue
                done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    pair, _ = in_flight.pop(fut)
                    r = _result(fut, pair)
                    if r.status == "done" and r.cost:
                        observed.append(r.cost)
                    record(r)
            for pair in reversed(queue):
                reason = "--max-cost reached" if totals.budget_stopped else "interrupted"
                record(PairResult(pair, "not_run", error=reason))

    def _record(self, r: PairResult, totals: BatchResult, by_pair: dict[Pair, PairResult]) -> None:
        by_pair[r.pair] = r
        totals.results.append(r)
        totals.requests += r.requests
        totals.tokens += r.tokens
        totals.cost += r.cost
        self.reporter.pair_done(r, totals)

    @contextmanager
    def _pool(self, work: PairWork, engine, pending: int, totals: BatchResult):
        """(submit, discard): the offline engine's CPU-bound pairs in worker processes, one per core;
        every other engine's pairs (which wait on a model) on --jobs threads of this process, which
        also hold the rate limiter's buckets."""
        from . import processes
        procs = min(self.jobs, pending, processes.allowed())
        if getattr(engine, "cpu_bound", False) and procs > 1 and not self.limiter.active:
            totals.processes = procs
            with processes.WorkerProcesses(work, procs) as pool:
                yield pool.submit, pool.discard.set
        else:
            with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="pair") as pool:
                yield (lambda pair: pool.submit(self._run_pair, work, pair)), lambda: None


def _result(fut: Future, pair: Pair) -> PairResult:
    from concurrent.futures.process import BrokenProcessPool
    try:
        return fut.result()
    except BrokenProcessPool:  # a worker process died (killed, out of memory) with this pair in it
        return PairResult(pair, "failed", error="worker process lost: it died running this pair or beside it")
    except Exception as e:  # noqa: BLE001 — a pair's own errors are results; this is a last resort
        return PairResult(pair, "failed", error=error_text(e))


def run_batch(lib, pairs: list[Pair], out: Path, **options) -> BatchResult:
    return BatchRunner(lib, pairs, out, **options).run()
