"""Taking turns: the pairs of one process run their Python code one at a time, in arrival order.

Why: the GIL shares the CPU round-robin, so sixteen pairs whose replies arrive together all
finish their work late, send their next requests together, and meet again at the next reply:
the batch stays in lockstep and every round pays for every pair's CPU. Taken one at a time in
arrival order, pairs finish one after another, their requests leave spread out and the replies
come back spread out: after the first round a pair rarely waits for another.

A pair holds the process's `Baton` while it computes and hands it on while it waits
(`waiting()`: the HTTP client and retry sleeps say so); work that sends nothing more to the
model (`later()`: rendering, writing) goes after the pairs that are about to send. Outside a
turn (a single analysis, the batch's own thread) both are no-ops. Kept free of heavy imports:
the model client imports it.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable


class Baton:
    """A FIFO lock with two queues: the pairs of one process run their Python code one at a time,
    in arrival order, hand the baton on while they wait (`waiting`), and work that sends nothing
    to the model (`later`) goes after every pair that is about to send."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queues: tuple[deque, deque] = (deque(), deque())  # (now, later)
        self._held = False

    def acquire(self, later: bool = False) -> None:
        with self._lock:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._queues[later].append(turn)
        turn.acquire()  # released by the holder that hands the baton over

    def release(self) -> None:
        with self._lock:
            queue = self._queues[0] or self._queues[1]
            if queue:
                queue.popleft().release()
            else:
                self._held = False


_turn = threading.local()


@contextmanager
def waiting():
    """Around a blocking wait: the thread's pair hands its turn on meanwhile (no-op outside a turn)."""
    baton = getattr(_turn, "baton", None)
    if baton is None:
        yield
        return
    baton.release()
    try:
        yield
    finally:
        baton.acquire(_turn.later)


@contextmanager
def later():
    """The rest of the pair's turn goes after the pairs that are about to send a request."""
    baton = getattr(_turn, "baton", None)
    if baton is None:
        yield
        return
    _turn.later = True
    baton.release()
    baton.acquire(later=True)
    yield


def in_turn(baton: Baton, run: Callable[..., Any]) -> Callable[..., Any]:
    """`run`, holding `baton` except while it waits."""
    def turn(*args, **kwargs):
        baton.acquire()
        _turn.baton, _turn.later = baton, False
        try:
            return run(*args, **kwargs)
        finally:
            _turn.baton = None
            baton.release()
    return turn
