"""The batch runner: one source's logic checked against many targets, resumable.

A plan is a list of (source, target) pairs. Stage 1 runs once per source and its CaseLogic is
shared by all of that source's targets (and kept on disk, so a resumed batch does not extract
again); fit and actions run concurrently across targets, on threads or in forked worker
processes (workers.py), within request/token rate limits and a cost budget.

Each pair's outputs are written atomically and then a small manifest, which is the commit
marker: it records the input hashes, the engine/model/prompt versions and the formats, so a
re-run skips the pairs that are complete and unchanged and redoes the rest. The manifest is
removed before a pair's outputs are rewritten, so an interruption never leaves a manifest that
vouches for half-new outputs.

Library code: no typer, no rich. Progress goes to an optional reporter object.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError, TransferError
from ..files import write_atomic
from .compare import fit_summary, write_comparison
from .limits import Interrupted, LimitedEngine, RateLimiter, engine_usage
from .manifests import (MANIFEST_VERSION, _same_files, engine_key, is_current, manifest_path, output_path,
                        place_hashes, read_manifest)
from .plan import Pair
from .turns import Baton, in_turn, later, waiting

# ---- results ---------------------------------------------------------------------------------------

@dataclass
class PairResult:
    pair: Pair
    status: str  # done | skipped | failed | not_run
    error: str | None = None
    fit: dict | None = None  # fit_summary, for the comparison
    formats: list[str] = field(default_factory=list)
    requests: int = 0
    tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0


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
    def stop(self) -> None: ...


@dataclass
class _Source:
    loaded: Any
    lang: str
    hashes: dict
    logic: Any = None
    records: list = field(default_factory=list)
    error: str | None = None


def _usage_of(records) -> tuple[int, int, float]:
    reqs = sum(r.requests for r in records)
    toks = sum(r.tokens_in + r.tokens_out for r in records)
    cost = sum(r.cost or 0.0 for r in records)
    return reqs, toks, cost


def _error_text(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return msg if isinstance(e, TransferError) else f"{type(e).__name__}: {msg}" if msg else type(e).__name__


# ---- the runner -----------------------------------------------------------------------------------

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
        self.processes = 1

    # one engine per worker thread: the llm engine's usage counters (read by the stage timers)
    # then belong to the pair that thread is running, not to whatever ran concurrently.
    def _engine(self):
        eng = getattr(self._local, "engine", None)
        if eng is None:
            eng = self.engine_factory()
            if self.limiter.active:
                eng = LimitedEngine(eng, self.limiter, self.tokens_per_call, self.stop)
            self._local.engine = eng
        return eng

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
        self.out.mkdir(parents=True, exist_ok=True)
        main_engine = self._main_engine = self._engine()
        ekey = engine_key(main_engine)
        totals = BatchResult(results=[])
        by_pair: dict[Pair, PairResult] = {}
        sources: dict[str, _Source] = {}
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
                    sources[pair.source] = _Source(loaded, lang, hashes(pair.source))
                except TransferError as e:
                    sources[pair.source] = _Source(None, self.lang or "zh", {}, error=_error_text(e))
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

        warming = self._warm({sources[p.source].lang for p in pending}, pending[:self.jobs]) if pending else None
        # stage 1, once per source that still has work
        for sid in dict.fromkeys(p.source for p in pending):
            src = sources[sid]
            if src.error is None and not self.stop.is_set():
                self._logic(sid, src, main_engine, ekey, totals)
        if warming is not None:
            warming.join()  # before any fork: a child must not inherit a thread mid-work

        self._sources = sources
        self._dispatch(pending, sources, ekey, totals, by_pair)
        totals.processes = self.processes
        totals.results = [by_pair[p] for p in self.pairs]
        totals.interrupted = self.stop.is_set()
        totals.written = write_comparison(self.out, totals.results, self._langs(sources), self.formats)
        return totals

    def _warm(self, langs: set[str], first: list[Pair]) -> threading.Thread:
        """The first round's one-off costs, paid in the background while stage 1 waits for its
        reply rather than by every worker at once afterwards: model builds, schemas, compiled
        prompts, the SDK client, and the first round's targets (a place parsed once is kept in the
        place cache: its pair then reads a pickle instead of parsing YAML between two requests)."""
        from ..places.loader import load_place

        def warm() -> None:
            try:
                _build_models()
                engine = self.engine_factory()  # its own: the main engine is busy with stage 1
                for lang in sorted(langs):
                    getattr(engine, "warm", lambda _lang: None)(lang)
                for pair in first:
                    load_place(*self.lib.paths()[pair.target])
            except Exception:  # noqa: BLE001 — the first pair meets the same problem and reports it
                pass
        thread = threading.Thread(target=warm, name="warm", daemon=True)
        thread.start()
        return thread

    def _langs(self, sources: dict[str, _Source]) -> str:
        langs = {s.lang for s in sources.values()}
        return langs.pop() if len(langs) == 1 else "en"

    def _logic(self, sid: str, src: _Source, engine, ekey: dict, totals: BatchResult) -> None:
        """The source's CaseLogic: reused from DIR/<source>/logic.json when its inputs are unchanged."""
        from ..pipeline.artifacts import CaseLogic, StageRecord
        from ..pipeline.stages import extract_logic
        path = self.out / sid / "logic.json"
        man_path = self.out / sid / "logic.manifest.json"
        man = read_manifest(man_path)
        if (not self.force and man and man.get("lang") == src.lang and man.get("engine") == ekey
                and _same_files(man.get("inputs") or {}, src.hashes)):
            try:
                src.logic = CaseLogic.model_validate_json(path.read_text(encoding="utf-8"))
                src.records = [StageRecord.model_validate(r) for r in man.get("stages") or []]
                return
            except (OSError, ValueError):
                pass  # a damaged logic file: extract again
        try:
            records: list = []
            src.logic = extract_logic(engine, src.loaded.place, src.lang, records)
            src.records = records
        except Exception as e:  # noqa: BLE001 — one source's failure must not stop the others
            src.error = f"extract: {_error_text(e)}"
            return
        reqs, toks, cost = _usage_of(src.records)
        totals.requests += reqs
        totals.tokens += toks
        totals.cost += cost
        man_path.unlink(missing_ok=True)
        write_atomic(path, src.logic.model_dump_json(indent=2) + "\n")
        write_atomic(man_path, json.dumps({"version": MANIFEST_VERSION, "kind": "logic", "source": sid,
                                           "lang": src.lang, "engine": ekey, "inputs": src.hashes,
                                           "stages": [r.model_dump() for r in src.records]},
                                          ensure_ascii=False, indent=2) + "\n")

    # ---- fit + actions, concurrently -------------------------------------------------------------
    def _dispatch(self, pending: list[Pair], sources: dict[str, _Source], ekey: dict, totals: BatchResult,
                  by_pair: dict[Pair, PairResult]) -> None:
        queue = list(reversed(pending))
        in_flight: dict[Future, tuple[Pair, float]] = {}  # result -> (pair, cost reserved for it)
        slots: set[Future] = set()  # pairs still talking to the model (--jobs bounds these)
        observed: list[float] = []

        def record(r: PairResult) -> None:
            by_pair[r.pair] = r
            totals.results.append(r)
            totals.requests += r.requests
            totals.tokens += r.tokens
            totals.cost += r.cost
            self.reporter.pair_done(r, totals)

        with self._pool(pending) as pool:
            while queue or in_flight:
                if self.discard.is_set():
                    pool.discard()  # here, not in the signal handler: a pipe write must not interleave
                while queue and not self.stop.is_set():
                    pair = queue[-1]
                    src = sources[pair.source]
                    if src.error is not None:
                        queue.pop()
                        record(PairResult(pair, "failed", error=src.error))
                        continue
                    limit, busy = self.jobs, slots
                    reserve = 0.0
                    if self.max_cost is not None:
                        est = self.estimate_pair_cost(pair) if self.estimate_pair_cost else None
                        if observed:  # what pairs really cost corrects a pre-flight estimate that ran low
                            est = max(est or 0.0, max(observed))
                        if est is None:  # no estimate yet: learn one pair's cost before going wide
                            limit, busy = 1, in_flight
                            est = 0.0
                        committed = totals.cost + sum(e for _, e in in_flight.values())
                        if committed + est > self.max_cost:
                            if not in_flight:
                                totals.budget_stopped = True
                                self.stop.set()
                            break  # wait for in-flight pairs: their real cost may leave room
                        reserve = est
                    if len(busy) >= limit:
                        break
                    queue.pop()
                    slot, result = pool.submit(pair, ekey)
                    slots.add(slot)
                    in_flight[result] = (pair, reserve)
                if not in_flight:
                    if queue and self.stop.is_set():
                        break
                    continue
                done, _ = wait([*in_flight, *slots], timeout=0.2, return_when=FIRST_COMPLETED)
                slots -= done
                for fut in done:
                    if fut in in_flight:
                        in_flight.pop(fut)
                        r = fut.result()
                        if r.status == "done" and r.cost:
                            observed.append(r.cost)
                        record(r)
            for pair in reversed(queue):
                reason = "--max-cost reached" if totals.budget_stopped else "interrupted"
                record(PairResult(pair, "not_run", error=reason))

    @contextmanager
    def _pool(self, pending: list[Pair]):
        """Worker threads, or forked worker processes with threads in each (workers.py).

        Processes, one per core, for engines whose pairs spend CPU that would queue on one GIL: a
        CPU-bound engine (offline) runs one pair at a time per process; an engine that waits on the
        network (llm, `forkable`) spreads --jobs threads over the processes, and its pairs take
        turns (`takes_turns`). Threads only when fork is unavailable or a rate limiter is active
        (its buckets live in this process). Twice the threads of the slots: a pair that has given
        its slot back still renders and writes while the next one starts.
        """
        from . import workers
        eng = self._main_engine
        cpu_bound = getattr(eng, "cpu_bound", False)
        procs = min(self.jobs, len(pending), workers.allowed())
        run = self._run_pair
        if getattr(eng, "takes_turns", False):
            run = in_turn(Baton(), run)
        if (procs > 1 and (cpu_bound or getattr(eng, "forkable", False)) and workers.can_fork()
                and not self.limiter.active):
            self.processes = procs
            pool = workers.Processes(run, procs, 1 if cpu_bound else 2 * -(-self.jobs // procs),
                                     on_discard=self.discard.set, lost=self._lost)
        else:
            pool = workers.Threads(run, 2 * self.jobs)
        with pool:
            yield pool

    def _run_pair(self, pair: Pair, ekey: dict, release: Callable[[], None]) -> PairResult:
        return self._pair(pair, self._sources[pair.source], ekey, release)

    @staticmethod
    def _lost(pair: Pair, _ekey: dict, message: str) -> PairResult:
        return PairResult(pair, "failed", error=message)

    def _pair(self, pair: Pair, src: _Source, ekey: dict, release: Callable[[], None] = lambda: None) -> PairResult:
        from ..places.loader import load_place
        from ..render import render
        from ..pipeline.stages import analyze
        t0 = time.perf_counter()
        n_logic = len(src.records)
        engine, before = None, {}
        try:
            if self.discard.is_set():
                raise Interrupted()
            engine = self._engine()
            before = engine_usage(engine)
            path, root = self.lib.paths()[pair.target]
            # loaded per pair and dropped after: memory stays flat over thousands of targets
            tgt = load_place(path, root)
            memo = analyze(engine, src.loaded, tgt, src.lang, logic=src.logic, logic_records=src.records)
            release()  # the model is done with this pair: the next one may start talking to it
            with later():
                rendered = {fmt: render(memo, src.loaded.place, tgt.place, fmt) for fmt in self.formats}
                if self.discard.is_set():
                    raise Interrupted()
                summary = fit_summary(memo.fit, tgt.place.name(src.lang))
                reqs, toks, cost = _usage_of(memo.run.stages[n_logic:])
                man = {"version": MANIFEST_VERSION, "kind": "pair", "status": "ok", "source": pair.source,
                       "target": pair.target, "lang": src.lang, "engine": ekey,
                       "inputs": {"source": memo.run.inputs[0].files, "target": memo.run.inputs[1].files},
                       "formats": self.formats,
                       "outputs": {f: output_path(self.out, pair, f).name for f in self.formats},
                       "fit": summary, "usage": {"requests": reqs, "tokens": toks, "cost": round(cost, 6)}}
                with waiting():  # file system waits (fsync): another pair's turn meanwhile
                    man_path = manifest_path(self.out, pair)
                    man_path.unlink(missing_ok=True)
                    for fmt, data in rendered.items():
                        write_atomic(output_path(self.out, pair, fmt), data)
                    write_atomic(man_path, json.dumps(man, ensure_ascii=False, indent=2) + "\n")
            return PairResult(pair, "done", fit=summary, formats=self.formats, requests=reqs, tokens=toks,
                              cost=cost, seconds=time.perf_counter() - t0)
        except Interrupted:
            return PairResult(pair, "not_run", error="interrupted")
        except Exception as e:  # noqa: BLE001 — failure isolation: one pair's error is recorded, the rest go on
            if self.discard.is_set():
                return PairResult(pair, "not_run", error="interrupted")
            err = _error_text(e)
            # what the failed pair's calls used, retries and re-asks included: its stage records are lost
            used = {k: v - (before.get(k) or 0) for k, v in engine_usage(engine).items() if isinstance(v, (int, float))}
            reqs, toks, cost = (used.get("requests", 0), used.get("tokens_in", 0) + used.get("tokens_out", 0),
                                used.get("cost", 0.0))
            try:
                write_atomic(manifest_path(self.out, pair),
                             json.dumps({"version": MANIFEST_VERSION, "kind": "pair", "status": "failed",
                                         "source": pair.source, "target": pair.target, "lang": src.lang,
                                         "engine": ekey, "error": err}, ensure_ascii=False, indent=2) + "\n")
            except OSError:
                pass
            return PairResult(pair, "failed", error=err, requests=reqs, tokens=toks, cost=cost,
                              seconds=time.perf_counter() - t0)


def _build_models() -> None:
    """Build the deferred pydantic models a pair uses (~60 ms): once here, before workers fork,
    rather than in every worker's first pair."""
    from pydantic import BaseModel

    from ..llm import replies
    from ..pipeline import artifacts
    from ..places import conditions, schema
    for module in (schema, conditions, artifacts, replies):
        for obj in list(vars(module).values()):
            if (isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
                    and not obj.__pydantic_complete__):
                obj.model_rebuild(raise_errors=False)


def run_batch(lib, pairs: list[Pair], out: Path, **options) -> BatchResult:
    return BatchRunner(lib, pairs, out, **options).run()
