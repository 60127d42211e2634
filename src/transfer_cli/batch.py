"""The batch runner: one source's logic checked against many targets, resumable.

A plan is a list of (source, target) pairs. Stage 1 runs once per source and its CaseLogic is
shared by all of that source's targets (and kept on disk, so a resumed batch does not extract
again); fit and actions run concurrently across targets in worker threads (the llm engine does
blocking HTTP), within request/token rate limits and a cost budget.

Each pair's outputs are written atomically and then a small manifest, which is the commit
marker: it records the input hashes, the engine/model/prompt versions and the formats, so a
re-run skips the pairs that are complete and unchanged and redoes the rest. The manifest is
removed before a pair's outputs are rewritten, so an interruption never leaves a manifest that
vouches for half-new outputs.

Library code: no typer, no rich. Progress goes to an optional reporter object.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .errors import InputError, TransferError
from .files import write_atomic
from .plan import Pair, plan_from_args, read_plan  # noqa: F401 (the CLI imports them from here)

MANIFEST_VERSION = 1
CPU_BOUND = {"offline"}  # engines that compute rather than wait: run in processes
EXT = {"md": "md", "json": "json", "html": "html", "docx": "docx"}


# ---- rate limits ----------------------------------------------------------------------------

class RateLimiter:
    """Token buckets for requests per minute and tokens per minute, shared by the workers.

    A bucket holds at most ten seconds' worth, so a burst at start stays well under the
    provider's per-minute window. Token use is estimated before a request and settled with
    the real count afterwards (the bucket may go negative, which delays the next request).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        now = clock()
        # name -> [rate per second, capacity, level, last refill]
        self._b: dict[str, list[float]] = {}
        for name, per_min in (("requests", rpm), ("tokens", tpm)):
            if per_min:
                rate = per_min / 60.0
                cap = max(1.0, rate * 10)
                self._b[name] = [rate, cap, cap, now]

    @property
    def active(self) -> bool:
        return bool(self._b)

    def _refill(self, now: float) -> None:
        for b in self._b.values():
            b[2] = min(b[1], b[2] + (now - b[3]) * b[0])
            b[3] = now

    def acquire(self, requests: float = 1, tokens: float = 0, stop: threading.Event | None = None) -> bool:
        """Block until the buckets allow this request; False if `stop` was set meanwhile."""
        want = {"requests": requests, "tokens": tokens}
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                waits = []
                for name, b in self._b.items():
                    need = min(want[name], b[1])  # never wait for more than a full bucket
                    if b[2] < need:
                        waits.append((need - b[2]) / b[0])
                if not waits:
                    for name, b in self._b.items():
                        b[2] -= want[name]
                    return True
                delay = max(waits)
            if stop is not None and stop.is_set():
                return False
            self._sleep(min(delay, 0.5))

    def settle(self, requests: float = 0, tokens: float = 0) -> None:
        """Charge what a call really used beyond its estimate (retries, re-asks, long replies)."""
        with self._lock:
            self._refill(self._clock())
            for name, amount in (("requests", requests), ("tokens", tokens)):
                if name in self._b:
                    self._b[name][2] -= amount


def _usage(engine) -> dict:
    return dict(getattr(engine, "usage", None) or {})


class LimitedEngine:
    """An engine whose stage calls wait for the rate limiter; everything else passes through."""

    def __init__(self, engine, limiter: RateLimiter, tokens_per_call: int = 0,
                 stop: threading.Event | None = None):
        self._engine, self._limiter, self._est, self._stop = engine, limiter, tokens_per_call, stop

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def _call(self, method: str, *args):
        if not self._limiter.acquire(1, self._est, self._stop):
            raise Interrupted()
        before = _usage(self._engine)
        try:
            return getattr(self._engine, method)(*args)
        finally:
            after = _usage(self._engine)
            if after:
                reqs = after.get("requests", 0) - before.get("requests", 0)
                toks = sum(after.get(k, 0) - before.get(k, 0) for k in ("tokens_in", "tokens_out"))
                self._limiter.settle(requests=reqs - 1, tokens=toks - self._est)

    def extract(self, *a):
        return self._call("extract", *a)

    def fit(self, *a):
        return self._call("fit", *a)

    def actions(self, *a):
        return self._call("actions", *a)


class Interrupted(Exception):
    """Raised inside a worker when the batch was stopped before the pair could start."""


# ---- manifests ----------------------------------------------------------------------------------

def engine_key(engine) -> dict:
    """What, besides the inputs, decides a memo's content: engine, model, endpoint, prompts, tool."""
    prompts = getattr(engine, "prompt_records", None) or []
    return {"engine": engine.name, "model": getattr(engine, "model", None),
            "endpoint": getattr(engine, "endpoint", None),
            "prompts": [p.model_dump() if hasattr(p, "model_dump") else p for p in prompts],
            "tool_version": __version__}


def place_hashes(lib, place_id: str) -> dict[str, str]:
    """The same {shown path: sha256} as stages.file_hashes, without parsing the place."""
    from .loader import _display, _place_files
    path, _root = lib.paths()[place_id]
    return {_display(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in _place_files(path) if f.is_file()}


def _same_files(a: dict, b: dict) -> bool:
    # compare the hashes, not the shown paths: those depend on the working directory
    return sorted(a.values()) == sorted(b.values())


def pair_dir(out: Path, pair: Pair) -> Path:
    return out / pair.source


def manifest_path(out: Path, pair: Pair) -> Path:
    return pair_dir(out, pair) / f"{pair.target}.manifest.json"


def output_path(out: Path, pair: Pair, fmt: str) -> Path:
    return pair_dir(out, pair) / f"{pair.target}.{EXT[fmt]}"


def read_manifest(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or unreadable: the pair is redone
    return data if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION else None


def is_current(man: dict | None, out: Path, pair: Pair, lang: str, ekey: dict, formats: list[str],
               src_hashes: dict, tgt_hashes: dict) -> bool:
    if not man or man.get("status") != "ok" or man.get("lang") != lang or man.get("engine") != ekey:
        return False
    inputs = man.get("inputs") or {}
    if not (_same_files(inputs.get("source") or {}, src_hashes) and _same_files(inputs.get("target") or {}, tgt_hashes)):
        return False
    if not set(formats) <= set(man.get("formats") or []):
        return False
    return all(output_path(out, pair, f).is_file() for f in formats)


def fit_summary(fit, target_name: str) -> dict:
    return {"overall": fit.overall_score, "target_name": target_name,
            "mechanisms": [{"id": m.mechanism_id, "name": m.name, "mode": m.mode, "conditional": m.conditional,
                            "score": m.score} for m in fit.mechanisms]}


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
        self._engines: list = []
        self._lock = threading.Lock()

    # one engine per worker thread: the llm engine's usage counters (read by the stage timers)
    # then belong to the pair that thread is running, not to whatever ran concurrently.
    def _engine(self):
        eng = getattr(self._local, "engine", None)
        if eng is None:
            eng = self.engine_factory()
            with self._lock:
                self._engines.append(eng)
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

        # stage 1, once per source that still has work
        for sid in dict.fromkeys(p.source for p in pending):
            src = sources[sid]
            if src.error is None and not self.stop.is_set():
                self._logic(sid, src, main_engine, ekey, totals)

        self._sources = sources
        self._dispatch(pending, sources, ekey, totals, by_pair)
        totals.results = [by_pair[p] for p in self.pairs]
        totals.interrupted = self.stop.is_set()
        from .compare import write_comparison
        totals.written = write_comparison(self.out, totals.results, self._langs(sources), self.formats)
        return totals

    def _langs(self, sources: dict[str, _Source]) -> str:
        langs = {s.lang for s in sources.values()}
        return langs.pop() if len(langs) == 1 else "en"

    def _logic(self, sid: str, src: _Source, engine, ekey: dict, totals: BatchResult) -> None:
        """The source's CaseLogic: reused from DIR/<source>/logic.json when its inputs are unchanged."""
        from .artifacts import CaseLogic, StageRecord
        from .stages import extract_logic
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
        in_flight: dict[Future, tuple[Pair, float]] = {}
        estimate = None  # cost of one pair: from the engine's pre-flight estimate, else observed
        observed: list[float] = []

        def record(r: PairResult) -> None:
            by_pair[r.pair] = r
            totals.results.append(r)
            totals.requests += r.requests
            totals.tokens += r.tokens
            totals.cost += r.cost
            self.reporter.pair_done(r, totals)

        with self._pool() as pool:
            while queue or in_flight:
                while queue and not self.stop.is_set():
                    pair = queue[-1]
                    src = sources[pair.source]
                    if src.error is not None:
                        queue.pop()
                        record(PairResult(pair, "failed", error=src.error))
                        continue
                    limit = self.jobs
                    reserve = 0.0
                    if self.max_cost is not None:
                        est = self.estimate_pair_cost(pair) if self.estimate_pair_cost else None
                        if observed:  # what pairs really cost corrects a pre-flight estimate that ran low
                            est = max(est or 0.0, max(observed))
                        if est is None:
                            limit = 1  # no estimate yet: learn one pair's cost before going wide
                            est = 0.0
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
                    fut = (pool.submit(_forked_pair, pair, ekey) if self._forked
                           else pool.submit(self._pair, pair, src, ekey))
                    in_flight[fut] = (pair, reserve)
                if not in_flight:
                    if queue and self.stop.is_set():
                        break
                    continue
                done, _ = wait(list(in_flight), timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    pair, _res = in_flight.pop(fut)
                    r = fut.result()
                    if r.status == "done" and r.cost:
                        observed.append(r.cost)
                    record(r)
            for pair in reversed(queue):
                reason = "--max-cost reached" if totals.budget_stopped else "interrupted"
                record(PairResult(pair, "not_run", error=reason))

    def _pool(self):
        """Threads for engines that wait on the network; processes for CPU-bound engines.

        The offline engine is pure Python computation, so threads would queue on the GIL; forked
        worker processes use every core. They inherit the runner (library, shared logic) at fork
        time and ignore SIGINT: the parent decides what stops, and a pair in flight finishes.
        """
        import multiprocessing
        import os
        cpu_bound = getattr(self._main_engine, "cpu_bound", self._main_engine.name in CPU_BOUND)
        self._forked = (cpu_bound and self.jobs > 1
                        and "fork" in multiprocessing.get_all_start_methods() and not self.limiter.active)
        if not self._forked:
            return ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="pair")
        from concurrent.futures import ProcessPoolExecutor
        global _FORK_RUNNER
        _FORK_RUNNER = self
        return ProcessPoolExecutor(max_workers=min(self.jobs, os.cpu_count() or 1),
                                   mp_context=multiprocessing.get_context("fork"), initializer=_ignore_sigint)

    def _pair(self, pair: Pair, src: _Source, ekey: dict) -> PairResult:
        from .loader import load_place
        from .render import render
        from .stages import analyze
        t0 = time.perf_counter()
        n_logic = len(src.records)
        memo = None
        try:
            if self.discard.is_set():
                raise Interrupted()
            engine = self._engine()
            path, root = self.lib.paths()[pair.target]
            # loaded per pair and dropped after: memory stays flat over thousands of targets
            tgt = load_place(path, root)
            memo = analyze(engine, src.loaded, tgt, src.lang, logic=src.logic, logic_records=src.records)
            rendered = {fmt: render(memo, src.loaded.place, tgt.place, fmt) for fmt in self.formats}
            if self.discard.is_set():
                raise Interrupted()
            summary = fit_summary(memo.fit, tgt.place.name(src.lang))
            man_path = manifest_path(self.out, pair)
            man_path.unlink(missing_ok=True)
            for fmt, data in rendered.items():
                write_atomic(output_path(self.out, pair, fmt), data)
            reqs, toks, cost = _usage_of(memo.run.stages[n_logic:])
            man = {"version": MANIFEST_VERSION, "kind": "pair", "status": "ok", "source": pair.source,
                   "target": pair.target, "lang": src.lang, "engine": ekey,
                   "inputs": {"source": memo.run.inputs[0].files, "target": memo.run.inputs[1].files},
                   "formats": self.formats,
                   "outputs": {f: output_path(self.out, pair, f).name for f in self.formats},
                   "fit": summary, "usage": {"requests": reqs, "tokens": toks, "cost": round(cost, 6)}}
            write_atomic(man_path, json.dumps(man, ensure_ascii=False, indent=2) + "\n")
            return PairResult(pair, "done", fit=summary, formats=self.formats, requests=reqs, tokens=toks,
                              cost=cost, seconds=time.perf_counter() - t0)
        except Interrupted:
            return PairResult(pair, "not_run", error="interrupted")
        except Exception as e:  # noqa: BLE001 — failure isolation: one pair's error is recorded, the rest go on
            if self.discard.is_set():
                return PairResult(pair, "not_run", error="interrupted")
            err = _error_text(e)
            reqs, toks, cost = self._usage_since_failure(memo)
            try:
                write_atomic(manifest_path(self.out, pair),
                             json.dumps({"version": MANIFEST_VERSION, "kind": "pair", "status": "failed",
                                         "source": pair.source, "target": pair.target, "lang": src.lang,
                                         "engine": ekey, "error": err}, ensure_ascii=False, indent=2) + "\n")
            except OSError:
                pass
            return PairResult(pair, "failed", error=err, requests=reqs, tokens=toks, cost=cost,
                              seconds=time.perf_counter() - t0)

    def _usage_since_failure(self, memo) -> tuple[int, int, float]:
        # a stage that raised leaves no StageRecord; its usage is lost to the pair's total but
        # still counted by the engine, which the CLI's final summary reads from engine_usage()
        return _usage_of(memo.run.stages) if memo is not None else (0, 0, 0.0)

    def engine_usage(self) -> dict:
        """Usage summed over every engine this batch created (includes failed calls)."""
        out: dict[str, float] = {}
        for eng in self._engines:
            for k, v in _usage(eng).items():
                if isinstance(v, (int, float)):
                    out[k] = out.get(k, 0) + v
        return out


_FORK_RUNNER: BatchRunner | None = None


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _forked_pair(pair: Pair, ekey: dict) -> PairResult:
    runner = _FORK_RUNNER
    return runner._pair(pair, runner._sources[pair.source], ekey)


def run_batch(lib, pairs: list[Pair], out: Path, **options) -> BatchResult:
    return BatchRunner(lib, pairs, out, **options).run()
