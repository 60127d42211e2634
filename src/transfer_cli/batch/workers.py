"""How a batch's pairs share the machine: threads, or forked worker processes with threads in each.

A pair holds one of --jobs slots while it talks to the model and hands it back (`release`) before
it renders and writes its memo, so the next pair's first request is not kept waiting for that.

Why processes: a pair's CPU work (building prompts, parsing and verifying replies, rendering,
~15 ms for an llm pair) needs the interpreter's one GIL, so pairs whose replies arrive together
queue for it however many threads wait on the network. One process per core gives each group of
pairs its own GIL. The offline engine is all CPU: one thread per process. An llm pair mostly
waits: --jobs threads spread over the processes. The children are forked once the runner has
done its serial work (stage 1, warm-ups), so they inherit it: the library, the shared logic,
compiled templates. They ignore SIGINT — the parent decides what stops, and tells them when
in-flight pairs must write nothing — and report each pair's result (with its usage and cost)
back over a pipe; the parent does the accounting.

How the pairs of one process take turns with the CPU: turns.py.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

from ..errors import InputError

_STOP, _DISCARD = "stop", "discard"


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def allowed() -> int:
    """Worker processes a batch may fork: TRANSFER_PROCESSES, else one per core this process may
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


def _resolve(fut: Future, value=None) -> None:
    try:
        fut.set_result(value)
    except InvalidStateError:
        pass  # already resolved: a slot given back, then its pair's end


class Threads:
    """`run(*args, release=...)` on up to `threads` threads of this process.

    `submit(*args)` returns (slot, result): two futures, the first resolved when the call gives
    its slot back (or ends), the second with run's result.
    """

    def __init__(self, run: Callable[..., Any], threads: int):
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pair")

    def submit(self, *args) -> tuple[Future, Future]:
        slot: Future = Future()
        return slot, self._pool.submit(self._call, slot, args)

    def _call(self, slot: Future, args: tuple):
        try:
            return self._run(*args, release=lambda: _resolve(slot))
        finally:
            _resolve(slot)

    def discard(self) -> None:
        pass  # the runner's own flag reaches its threads

    def __enter__(self) -> "Threads":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)


class Processes:
    """`processes` forked children, each running up to `threads` calls of `run` at once.

    The same interface as Threads; the arguments and the result cross a pipe, so both must
    pickle. `on_discard` runs in every child when the parent calls `discard()`. A child that dies
    fails its calls with `lost(*args, message)` instead of hanging the batch.
    """

    def __init__(self, run: Callable[..., Any], processes: int, threads: int, *,
                 on_discard: Callable[[], None], lost: Callable[..., Any]):
        self._lost = lost
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._calls: dict[int, tuple[Future, Future, tuple, int]] = {}  # id -> (slot, result, args, child)
        self._busy = [0] * processes
        self._dead: set[int] = set()
        self._conns: list[Connection] = []
        self._procs = []
        self._discarded = self._closing = False
        ctx = multiprocessing.get_context("fork")
        for _ in range(processes):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(theirs, run, threads, on_discard), daemon=True)
            proc.start()
            theirs.close()
            self._conns.append(mine)
            self._procs.append(proc)
        self._reader = threading.Thread(target=self._read, name="pair-results", daemon=True)
        self._reader.start()

    def submit(self, *args) -> tuple[Future, Future]:
        slot: Future = Future()
        result: Future = Future()
        with self._lock:
            live = [i for i in range(len(self._busy)) if i not in self._dead]
            child = min(live, key=self._busy.__getitem__) if live else None  # the least busy child
            call = next(self._ids)
            self._calls[call] = (slot, result, args, child)
            if child is not None:
                self._busy[child] += 1
        if child is None:
            self._finish(call, None, "no worker process left")
            return slot, result
        try:
            self._conns[child].send((call, args))
        except OSError as e:  # the child is gone: the reader fails its calls, or this does
            self._finish(call, None, f"worker process lost ({e})")
        return slot, result

    def discard(self) -> None:
        """In-flight calls are to write nothing (the second Ctrl-C): tell every child once."""
        if self._discarded:
            return
        self._discarded = True
        self._tell_all(_DISCARD)

    def _tell_all(self, message) -> None:
        for conn in self._conns:
            try:
                conn.send(message)
            except OSError:
                pass  # that child is gone; its pairs are failed where its pipe closes

    def _finish(self, call: int, result, error: str | None = None) -> None:
        with self._lock:
            entry = self._calls.pop(call, None)
            if entry is None:
                return
            slot, fut, args, child = entry
            if child is not None:
                self._busy[child] -= 1
        _resolve(slot)
        fut.set_result(self._lost(*args, error) if error is not None else result)

    def _read(self) -> None:
        live = {conn: i for i, conn in enumerate(self._conns)}
        while live:
            for conn in wait(list(live)):
                try:
                    kind, call, payload = conn.recv()
                except (EOFError, OSError):  # the child exited: whatever it still had is lost
                    child = live.pop(conn)
                    if self._closing:
                        continue
                    self._procs[child].join(timeout=1)
                    code = self._procs[child].exitcode
                    with self._lock:  # from here no call is sent to it
                        self._dead.add(child)
                        orphans = [c for c, entry in self._calls.items() if entry[3] == child]
                    for c in orphans:
                        self._finish(c, None, "worker process exited" + (f" (code {code})" if code else ""))
                    continue
                if kind == "free":
                    with self._lock:
                        entry = self._calls.get(call)
                    if entry is not None:
                        _resolve(entry[0])
                elif kind == "raised":
                    self._finish(call, None, payload)
                else:
                    self._finish(call, payload)

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc) -> None:
        self._closing = True
        self._tell_all(_STOP)
        for proc in self._procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._reader.join(timeout=5)
        for conn in self._conns:
            conn.close()


def _child(conn: Connection, run: Callable[..., Any], threads: int, on_discard: Callable[[], None]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sending = threading.Lock()  # messages come from several threads and must not interleave

    def send(kind: str, call: int, payload=None) -> None:
        with sending:
            try:
                conn.send((kind, call, payload))
            except (OSError, ValueError):
                pass  # the parent is gone: nothing left to tell

    def call_run(call: int, args: tuple):
        try:
            send("result", call, run(*args, release=lambda: send("free", call)))
        except BaseException as e:  # noqa: BLE001 — run() records failures itself; this is a last resort
            send("raised", call, f"{type(e).__name__}: {e}")

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pair") as pool:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg == _STOP:
                break
            if msg == _DISCARD:
                on_discard()
                continue
            pool.submit(call_run, *msg)
