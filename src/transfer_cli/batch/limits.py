"""Rate limits for a batch: token buckets for requests and tokens per minute, and an engine
wrapper whose stage calls wait for them."""

from __future__ import annotations

import threading
import time
from typing import Callable


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


def engine_usage(engine) -> dict:
    return dict(getattr(engine, "usage", None) or {})


class LimitedEngine:
    """An engine whose stage calls wait for the rate limiter; everything else passes through."""

    def __init__(self, engine, limiter: RateLimiter, tokens_per_call: int = 0,
                 stop: threading.Event | None = None):
        self._engine, self._limiter, self._est, self._stop = engine, limiter, tokens_per_call, stop

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def _call(self, method: str, *args):
        allowed = self._limiter.acquire(1, self._est, self._stop)
        if not allowed:
            raise Interrupted()
        before = engine_usage(self._engine)
        try:
            return getattr(self._engine, method)(*args)
        finally:
            after = engine_usage(self._engine)
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
