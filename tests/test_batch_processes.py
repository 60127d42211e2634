"""The offline engine's pairs on a process pool: results, a worker that dies, workers that die with the batch."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SYNTHETIC, TRANSFER
from synth import source_dir, write_targets

forks = pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                           reason="the test's engine reaches the workers by fork")


def children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (from /proc; zombies count as gone)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_pairs_on_worker_processes_write_the_memos_threads_write(tmp_path, monkeypatch):
    from transfer_cli.batch.plan import Pair
    from transfer_cli.batch.runner import run_batch
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.places.loader import Library
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    pairs = [Pair("alpha", t) for t in write_targets(cases, 6)]
    outs = {}
    for processes in ("1", "2"):
        monkeypatch.setenv("TRANSFER_PROCESSES", processes)
        res = run_batch(Library([cases]), pairs, tmp_path / processes, engine_factory=OfflineEngine, jobs=4,
                        formats=["md", "json"], handle_sigint=False)
        assert res.processes == int(processes) and res.count("done") == len(pairs)
        outs[processes] = {p.name: p.read_bytes() for p in (tmp_path / processes / "alpha").glob("t*.md")}
    assert len(outs["2"]) == len(pairs) and outs["1"] == outs["2"]


class DyingEngine:
    """The offline engine, except that the worker process running t0002's fit dies."""
    name, cpu_bound = "offline", True

    def __init__(self):
        from transfer_cli.pipeline.engines.offline import OfflineEngine
        self._inner = OfflineEngine()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def fit(self, logic, source, target, *rest):
        if target.id == "t0002" and os.getpid() != PARENT:
            os._exit(3)
        return self._inner.fit(logic, source, target, *rest)


PARENT = os.getpid()


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes as on Linux")
@forks
def test_a_worker_that_dies_fails_its_pairs_and_the_batch_goes_on(tmp_path, monkeypatch):
    from transfer_cli.batch.plan import Pair
    from transfer_cli.batch.runner import run_batch
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.places.loader import Library
    monkeypatch.setenv("TRANSFER_PROCESSES", "2")
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    pairs = [Pair("alpha", t) for t in write_targets(cases, 12)]
    lib = Library([cases])
    res = run_batch(lib, pairs, tmp_path / "out", engine_factory=DyingEngine, jobs=2, handle_sigint=False)
    assert res.processes == 2
    failed = {r.pair.target for r in res.failed}
    assert "t0002" in failed and len(failed) <= 2  # t0002, and the pair in the other worker at that moment
    assert all("worker process lost" in r.error for r in res.failed)
    assert res.count("done") == 12 - len(failed)  # the pool was renewed: the rest went on
    # a re-run with an engine that does not die finishes the batch, redoing only what failed
    again = run_batch(lib, pairs, tmp_path / "out", engine_factory=OfflineEngine, jobs=2, handle_sigint=False)
    assert again.count("done") == len(failed) and again.count("skipped") == 12 - len(failed)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sigkilled_batch_leaves_no_worker_running(tmp_path):
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    write_targets(cases, 600)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    env.update(TRANSFER_PROCESSES="2", TRANSFER_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([TRANSFER, "batch", "alpha", "--all-targets", "--cases", str(cases), "-o", str(out)],
                            stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    workers: set[int] = set()
    deadline = time.time() + 120
    while time.time() < deadline and not (len(workers) >= 2 and len(list(out.glob("alpha/t*.manifest.json"))) >= 5):
        workers |= children(proc.pid)
        time.sleep(0.05)
    assert proc.poll() is None and len(workers) >= 2, "the batch did not get going with its workers"
    proc.kill()
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)]
