"""The llm batch at realistic model latency: does the runner's concurrency design matter there?

    .venv/bin/python bench/bench_latency.py                      # prints a Markdown block
    .venv/bin/python bench/bench_latency.py --append             # ... and appends it to RESULTS.md
    .venv/bin/python bench/bench_latency.py --transfer OTHER/transfer --label before

The fake OpenAI server (tests/fakeserver.py) answers every request after a delay drawn uniformly
from 2–20 s, seeded per (stage, target), so every run and every runner meets the same delays
whatever order it sends its requests in. Each target gets its own canned replies (a memo built
from another target's reply would fail verification and cost a re-ask, visible in the request
count). Two settings: a provider rate limit (--rpm 60, --jobs 16) and no limit (--jobs 8).
Wall time of the whole `transfer batch` command, each setting `--repeat` times.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from results import emit  # bench/results.py: the scripts run from bench/

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from synth import source_dir, write_targets  # noqa: E402  (the generator the tests use)

SUMMARY = re.compile(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) not run")
SETTINGS = (("--rpm 60, --jobs 16", ["--rpm", "60", "--jobs", "16"]),
            ("no rate limit, --jobs 8", ["--jobs", "8"]))


def delayed(responder, seed: int, low: float, high: float):
    """`responder`, each answer held back by a seeded 2–20 s (the same for a given request every run)."""
    from fakeserver import hang, stage_of, target_of

    def respond(body):
        delay = random.Random(f"{seed}/{stage_of(body)}/{target_of(body)}").uniform(low, high)
        return hang(delay, then=responder(body))
    return respond


def run_once(transfer: str, extra: list[str], n: int, seed: int, low: float, high: float, tmp: Path) -> dict:
    from conftest import SYNTHETIC
    from fakeserver import FakeServer, per_target_responder
    from llm_helpers import batch_replies
    cases = source_dir(tmp / "cases", SYNTHETIC)
    targets = write_targets(cases, n)
    responder = per_target_responder(batch_replies("alpha", targets, str(cases)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    env.update(SOURCE_DATE_EPOCH="1767225600", OPENAI_API_KEY="sk-bench", TRANSFER_CACHE_DIR=str(tmp / "cache"),
               TRANSFER_CONFIG_DIR=str(tmp / "config"), TRANSFER_DATA_DIR=str(tmp / "data"))
    with FakeServer(responder=delayed(responder, seed, low, high)) as server:
        t0 = time.perf_counter()
        proc = subprocess.run([transfer, "batch", "alpha", *targets, "--cases", str(cases), "-o", str(tmp / "out"),
                               "--base-url", server.url, "--model", "m", "--no-cache", *extra],
                              capture_output=True, text=True, env=env, cwd=tmp)
        wall = time.perf_counter() - t0
        requests = server.count
    m = SUMMARY.search(proc.stderr)
    if proc.returncode != 0 or not m:
        raise SystemExit(f"batch failed ({proc.returncode}):\n{proc.stderr}")
    return {"wall": wall, "done": int(m.group(2)), "requests": requests, "unknown": len(responder.unknown)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfer", default=shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer")
    ap.add_argument("--label", default="this tree")
    ap.add_argument("--targets", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min", type=float, default=2.0)
    ap.add_argument("--max", type=float, default=20.0)
    ap.add_argument("--append", action="store_true")
    args = ap.parse_args()
    rows = []
    for name, extra in SETTINGS:
        walls = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as d:
                r = run_once(args.transfer, extra, args.targets, args.seed, args.min, args.max, Path(d))
            assert r["done"] == args.targets and r["unknown"] == 0, r
            walls.append(r["wall"])
            print(f"{args.label}: {name}: {r['wall']:.1f} s, {r['requests']} requests", file=sys.stderr)
        rows.append(f"| {args.label} | {name} | {args.targets} | {r['requests']} | "
                    f"{' / '.join(f'{w:.1f}' for w in walls)} | **{statistics.median(walls):.1f}** |")
    block = "\n".join([
        f"## bench_latency ({args.label}) — {date.today().isoformat()}", "",
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.system()}; replies after {args.min:g}–{args.max:g} s (seed {args.seed})", "",
        "| runner | setting | targets | requests | wall per run (s) | median (s) |",
        "|---|---|---:|---:|---|---:|", *rows, ""])
    emit(block, args.append)


if __name__ == "__main__":
    main()
