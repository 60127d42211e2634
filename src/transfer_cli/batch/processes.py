"""The offline engine's CPU-bound pairs on a process pool, one worker per core.

A pair of the offline engine is all computation (~25 ms), so pairs on threads would queue for
the interpreter's one lock: a standard ProcessPoolExecutor gives each core its own. Each worker
receives the batch's PairWork once (its initializer), builds one engine and runs pairs sent to
it by name. Workers ignore Ctrl-C — the batch decides what stops, and sets `discard` when the
pairs in flight must write nothing — and die with the batch: on Linux a worker asks the kernel
for SIGTERM when its parent dies, so a SIGKILLed batch leaves no worker running. A worker that
dies breaks the pool: the pairs then in flight fail and the batch goes on with a new pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace

from ..errors import InputError
from .pair import PairResult, PairWork
from .plan import Pair

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def allowed() -> int:
    """Worker processes a batch may use: TRANSFER_PROCESSES, else one per core this process may
    run on (the affinity mask, not the machine's count). 1 means threads only."""
    raw = os.environ.get("TRANSFER_PROCESSES", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise InputError(f"TRANSFER_PROCESSES must be a whole number, not '{raw}'") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def die_with_parent(parent: int) -> None:
    """Ask the kernel (Linux) to SIGTERM this process when its parent dies; elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_work: PairWork | None = None
_engine = None


def _init(parent: int, work: PairWork) -> None:
    global _work, _engine
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent while it started us
    _work, _engine = work, work.engine_factory()


def _run(pair: Pair) -> PairResult:
    return _work.run(pair, _engine)


@contextmanager
def _sigint_blocked():
    """Ctrl-C held back while workers start: one that arrived before a worker ignores it would kill it."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class WorkerProcesses:
    """`processes` workers running `work.run` for the pairs submitted."""

    def __init__(self, work: PairWork, processes: int):
        self._ctx = multiprocessing.get_context()
        self.discard = self._ctx.Event()
        self._work = replace(work, discard=self.discard)
        self._n = processes
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._n, mp_context=self._ctx, initializer=_init,
                                   initargs=(os.getpid(), self._work))

    def submit(self, pair: Pair) -> Future:
        with _sigint_blocked():
            try:
                return self._pool.submit(_run, pair)
            except BrokenProcessPool:  # a worker died: its pairs have failed, the rest go on in a new pool
                self._pool.shutdown(wait=False)
                self._pool = self._new()
                return self._pool.submit(_run, pair)

    def __enter__(self) -> "WorkerProcesses":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)
