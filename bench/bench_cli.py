"""Cold start-up and the main job, against `python -c pass` on the same machine in the same run.

    .venv/bin/python bench/bench_cli.py            # prints a Markdown block; --append adds it to RESULTS.md

Each command runs in a fresh process (cold imports); wall time is the median of N runs and
peak memory the child's max RSS. Targets (issue 3): analyze <= 0.5 s, --help <= 0.15 s.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRANSFER = shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer"
RUNS = int(os.environ.get("BENCH_RUNS", "9"))

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "transfer --help": [TRANSFER, "--help"],
    "transfer analyze liling jinjiang": [TRANSFER, "analyze", "liling", "jinjiang"],
}
TARGETS = {"transfer --help": 0.15, "transfer analyze liling jinjiang": 0.5}


def measure(cmd: list[str]) -> tuple[float, float]:
    times, peak = [], 0.0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    for _ in range(RUNS):
        t0 = time.perf_counter()
        pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).pid
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - t0)
        assert os.waitstatus_to_exitcode(status) == 0, cmd
        peak = max(peak, usage.ru_maxrss / 1024)  # KiB -> MiB on Linux
    return statistics.median(times), peak


def main() -> None:
    rows = []
    base = None
    for name, cmd in COMMANDS.items():
        wall, mem = measure(cmd)
        base = base if base is not None else wall
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if wall <= target else "MISSED")
        rows.append(f"| `{name}` | {wall * 1000:.0f} ms | {(wall - base) * 1000:+.0f} ms | {mem:.1f} MiB | "
                    f"{'' if target is None else f'≤ {target * 1000:.0f} ms {verdict}'} |")
    block = "\n".join([
        f"### CLI start-up and main job — {date.today().isoformat()}",
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"median of {RUNS} cold runs",
        "",
        "| command | wall | over `python -c pass` | peak RSS | target |",
        "|---|---|---|---|---|",
        *rows, ""])
    print(block)
    if "--append" in sys.argv:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + block)


if __name__ == "__main__":
    main()
