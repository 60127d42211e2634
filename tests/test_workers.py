"""The batch runner's worker pools (workers.py) and turn-taking (turns.py), as a library."""

from __future__ import annotations

import os
import threading
import time

import pytest

from transfer_cli.batch.turns import Baton, in_turn, later, waiting
from transfer_cli.batch.workers import Processes, Threads, can_fork


def queued(baton: Baton) -> int:
    return sum(len(q) for q in baton._queues)


def test_turns_go_in_arrival_order_and_later_work_after_every_pair_about_to_send():
    baton = Baton()
    order: list[str] = []
    baton.acquire()  # held: everyone below queues

    def take(name: str, is_later: bool) -> threading.Thread:
        def run():
            baton.acquire(later=is_later)
            order.append(name)
            baton.release()
        th = threading.Thread(target=run)
        before = queued(baton)
        th.start()
        while queued(baton) == before:  # wait until it has queued, so the arrival order is known
            time.sleep(0.001)
        return th

    threads = [take("render-1", True), take("send-1", False), take("render-2", True), take("send-2", False)]
    baton.release()
    for th in threads:
        th.join()
    assert order == ["send-1", "send-2", "render-1", "render-2"]


def test_a_pair_hands_its_turn_on_while_it_waits_and_outside_a_turn_nothing_changes():
    with waiting(), later():  # no turn: no-ops
        pass
    baton = Baton()
    inside = threading.Event()
    entered: list[str] = []

    def waiter():
        entered.append("waiter")
        with waiting():  # the turn goes to `other` meanwhile
            inside.wait()
        entered.append("waiter again")

    def other():
        entered.append("other")
        inside.set()

    first = threading.Thread(target=in_turn(baton, waiter))
    first.start()
    while not entered:
        time.sleep(0.001)
    second = threading.Thread(target=in_turn(baton, other))
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)
    assert entered == ["waiter", "other", "waiter again"]
    assert not baton._held


def test_threads_give_the_slot_back_before_the_call_ends():
    done = threading.Event()

    def run(x, release):
        release()
        done.wait()
        return x * 2

    with Threads(run, 2) as pool:
        slot, result = pool.submit(21)
        assert slot.result(timeout=10) is None and not result.done()
        done.set()
        assert result.result(timeout=10) == 42


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_processes_return_results_and_a_worker_that_dies_fails_only_its_calls():
    def run(x, release):
        if x == "die":
            os._exit(3)
        release()
        return (x, os.getpid())

    def lost(x, message):
        return ("lost", x, message)

    with Processes(run, 2, 2, on_discard=lambda: None, lost=lost) as pool:
        _slot, dying = pool.submit("die")
        assert dying.result(timeout=30) == ("lost", "die", "worker process exited (code 3)")
        results = [pool.submit(n)[1].result(timeout=30) for n in range(6)]
    # the survivor ran the rest, in its own process
    assert [r[0] for r in results] == list(range(6))
    assert len({r[1] for r in results}) == 1 and results[0][1] != os.getpid()
