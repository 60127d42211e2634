"""Progress while a model works: stage, request i of n, tokens so far, elapsed — on stderr only.

The llm engine reports an Event before and after each planned request. `StderrProgress` shows
them: a rich spinner line while a request is out and a line per finished request on a terminal,
plain lines (one per finished request) when stderr is a file or a pipe. stdout is never touched,
so a memo piped elsewhere stays clean. A batch routes the events to its own display instead
(batch/ui.py), one line per pair in flight.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Event:
    stage: str
    i: int                 # this request's number in its stage, from 1
    n: int                 # the stage's planned requests
    tokens_in: int         # tokens so far (this run, or this batch pair), re-asks included
    tokens_out: int
    elapsed: float         # seconds since the run (or the pair) started
    done: bool             # False: the request is going out; True: its answer is in

    def text(self) -> str:
        state = "done" if self.done else "waiting for the model"
        return (f"{self.stage}: request {self.i}/{self.n} {state} · {self.tokens_in:,} tokens in, "
                f"{self.tokens_out:,} out so far · {self.elapsed:.1f}s")


class StderrProgress:
    """The single run's display (analyze, extract, compare): rich on a terminal, plain lines otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._status = None
        self._lock = threading.Lock()

    def __call__(self, ev: Event) -> None:
        with self._lock:
            if not self.tty:
                if ev.done:
                    print(ev.text(), file=self.stream, flush=True)
                return
            self._rich(ev)

    def _rich(self, ev: Event) -> None:
        if self._status is None:
            from rich.console import Console
            from rich.status import Status
            self._status = Status("", console=Console(file=self.stream))
        if ev.done:
            self._status.stop()
            self._status.console.print(f"[dim]{ev.text()}[/]", highlight=False)
        else:
            self._status.update(_Ticking(ev))
            self._status.start()


class _Ticking:
    """An event's line whose elapsed time runs on while the spinner waits (rendered on each refresh)."""

    def __init__(self, ev: Event):
        self.ev, self.t0 = ev, time.perf_counter()

    def __rich__(self) -> str:
        return replace(self.ev, elapsed=self.ev.elapsed + time.perf_counter() - self.t0).text()

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
