"""Batch throughput: (a) offline over 1,000 generated targets, (b) llm against a local fake server.

    .venv/bin/python bench/bench_batch.py            # prints a Markdown block; --append adds it to RESULTS.md
    .venv/bin/python bench/bench_batch.py --llm-only # part (b) only

(a) runs `transfer batch liling --all-targets` in a fresh process over 100 and over 1,000
generated synthetic targets (plus the bundled ones), and reports memos per second (wall time
of the whole command: start-up, memos, index, CSV, heatmap) and the peak RSS of the batch's
processes (wait4 max RSS: the command or its largest worker). Flat memory means the peak over
1,000 targets stays close to the peak over 100. Target: >= 50 memos/s.
(b) 50 targets, --jobs 16, the fake OpenAI server answering after 200 ms, each target with its own
canned replies: wall time against the ideal (1 + 2*ceil(50/16)) * 0.2 s. Target: >= 90% of the
ideal throughput, judged on the request phase (the part the ideal models); the whole command's
wall time, start-up and comparison are reported beside it.
"""

from __future__ import annotations

import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from results import emit  # bench/results.py: the scripts run from bench/

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
from synth import write_targets  # noqa: E402  (the generator the tests use)

TRANSFER = shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer"
SUMMARY = re.compile(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed")


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    env["SOURCE_DATE_EPOCH"] = "1767225600"
    return env


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stderr) of one command in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env=env or clean_env())
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024, err


def offline(tmp: Path) -> list[str]:
    from transfer_cli.places.loader import BUNDLED
    rows = []
    for n in (100, 1000):
        cases = tmp / f"cases{n}"
        write_targets(cases, n)
        # a snapshot of the source: an edit to the bundled case mid-run must not redo the batch
        shutil.copytree(BUNDLED / "liling", cases / "liling")
        out = tmp / f"out{n}"
        wall, rss, err = run([TRANSFER, "batch", "liling", "--all-targets", "--cases", str(cases), "-o", str(out)],
                             tmp)
        done = int(SUMMARY.search(err).group(2))
        again, _, err2 = run([TRANSFER, "batch", "liling", "--all-targets", "--cases", str(cases), "-o", str(out)],
                             tmp)
        skipped = int(SUMMARY.search(err2).group(3))
        rows.append((n, done, wall, done / wall, rss, again, skipped))
    lines = ["| generated targets | memos | wall (s) | memos/s | peak RSS (MiB) | re-run, all skipped (s) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for n, done, wall, rate, rss, again, skipped in rows:
        lines.append(f"| {n} | {done} | {wall:.1f} | **{rate:.1f}** | {rss:.0f} | {again:.1f} ({skipped} skipped) |")
    rate = rows[-1][3]
    growth = rows[-1][4] / rows[0][4]
    lines += ["", f"(a) offline: {rate:.1f} memos/s over {rows[-1][1]} targets — target >= 50: "
              f"{'met' if rate >= 50 else 'MISSED'}; peak RSS x{growth:.2f} from {rows[0][1]} to {rows[-1][1]} "
              f"targets ({'flat' if growth < 1.3 else 'GROWING'})."]
    return lines + [""] + breakdown(tmp / "cases100", tmp)


def breakdown(cases: Path, tmp: Path, n: int = 40) -> list[str]:
    """Where one pair's time goes, in-process on one thread: the verifier vs everything else."""
    from transfer_cli.pipeline import stages
    from transfer_cli.batch.plan import Pair
    from transfer_cli.batch.runner import run_batch
    from transfer_cli.pipeline.engines.offline import OfflineEngine
    from transfer_cli.places.loader import Library
    spent = [0.0]
    inner = stages.verify_memo

    def timed(*a, **kw):
        t = time.perf_counter()
        try:
            return inner(*a, **kw)
        finally:
            spent[0] += time.perf_counter() - t
    stages.verify_memo = timed  # the name stages.analyze calls
    lib = Library([cases])
    pairs = [Pair("liling", t) for t in list(lib.paths()) if t.startswith("t")][:n]
    t0 = time.perf_counter()
    run_batch(lib, pairs, tmp / "breakdown", engine_factory=OfflineEngine, jobs=1, handle_sigint=False)
    wall = time.perf_counter() - t0
    stages.verify_memo = inner
    per = wall / n * 1000
    return [f"Breakdown, one thread, {n} pairs: {per:.0f} ms per memo, of which the verifier "
            f"(verify_memo inside stages.analyze) {spent[0] / n * 1000:.0f} ms ({spent[0] / wall:.0%})."]


def llm(tmp: Path) -> list[str]:
    try:
        import fakeserver  # noqa: F401  (tests/fakeserver.py, the shared fake OpenAI server)
        from transfer_cli.pipeline.engines import llm as _llm  # noqa: F401
    except ImportError as e:
        return [f"(b) llm: pending — {e.name or e} is not available yet (needs the llm engine and tests/fakeserver.py)."]
    try:
        return llm_run(tmp)
    except SystemExit as e:  # the run failed: record why instead of losing part (a)
        return [f"(b) llm: pending — the batch against the fake server failed: {str(e).splitlines()[-1]}"]


def llm_run(tmp: Path, n: int = 50, jobs: int = 16, latency: float = 0.2) -> list[str]:
    """The llm batch against the fake server, each target answered with its own canned replies.

    The source is the synthetic `alpha` (3 mechanisms): what is measured is how well the runner
    overlaps requests, not the cost of verifying a large case. The server runs in this process,
    the batch in a fresh one. The ideal counts only request latency, so besides the command's
    wall time the request phase is timed: from the first request reaching the server to the
    last pair's manifest (the commit marker, written after its memo).
    """
    from conftest import SYNTHETIC
    from fakeserver import FakeServer, per_target_responder
    from llm_helpers import batch_replies
    from synth import source_dir
    cases = source_dir(tmp / "llmcases", SYNTHETIC)
    targets = write_targets(cases, n)
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    out = tmp / "llmout"
    with FakeServer(responder=responder, latency=latency) as server:
        env = clean_env()
        env.update({"TRANSFER_CACHE_DIR": str(tmp / "llmcache"), "TRANSFER_CONFIG_DIR": str(tmp / "llmconfig"),
                    "TRANSFER_DATA_DIR": str(tmp / "llmdata"),
                    "OPENAI_API_KEY": "sk-bench"})
        # a tool that has run before: its compiled memo templates are in the user cache (the replies
        # are not: --no-cache below, and the 50 targets are new places)
        run([TRANSFER, "analyze", "alpha", "beta", "--cases", str(SYNTHETIC), "--engine", "offline"], tmp, env)
        t0 = time.time()
        wall, _, err = run([TRANSFER, "batch", "alpha", *targets, "--cases", str(cases), "-o", str(out),
                            "--base-url", server.url, "--model", "m", "--no-cache", "--jobs", str(jobs)], tmp, env)
        chats = server.chats
    done = int(SUMMARY.search(err).group(2))
    first = min(q.time for q in chats)
    last = max(p.stat().st_mtime for p in out.glob("alpha/*.manifest.json"))
    phase = last - first
    ideal = (1 + 2 * math.ceil(n / jobs)) * latency
    eff, eff_phase = ideal / wall, ideal / phase
    return [f"(b) llm: {n} targets of the synthetic source alpha, --jobs {jobs}, {latency * 1000:.0f} ms per request: "
            f"{len(chats)} requests (expected 1 + 2·{n} = {1 + 2 * n}), {done} memos, "
            f"{len(responder.unknown)} requests for an unknown target. Ideal (1 + 2·ceil({n}/{jobs})) × "
            f"{latency:g} s = {ideal:.2f} s.",
            "",
            "| measured | seconds | ideal / measured |",
            "|---|---:|---:|",
            f"| request phase: first request received → last pair committed | {phase:.2f} | **{eff_phase:.0%}** |",
            f"| whole command (interpreter start, imports, library, comparison + heatmap) | {wall:.2f} | {eff:.0%} |",
            f"| of which before the first request | {first - t0:.2f} | |",
            f"| of which after the last pair (index.md/.html, CSV, heatmap SVG) | {t0 + wall - last:.2f} | |",
            "",
            f"Target >= 90% of ideal throughput (request phase): {'met' if eff_phase >= 0.9 else 'MISSED'}."]


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # --llm-only: part (b) alone (seconds, not minutes)
        body = ([] if "--llm-only" in sys.argv else offline(tmp) + [""]) + llm(tmp)
    head = [f"## bench_batch — {date.today().isoformat()}", "",
            f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}", ""]
    block = "\n".join(head + body) + "\n"
    emit(block, "--append" in sys.argv)


if __name__ == "__main__":
    main()
