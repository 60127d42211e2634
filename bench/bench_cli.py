"""Cold start-up and the main job, against `python -c pass` on the same machine in the same run.

    .venv/bin/python bench/bench_cli.py            # prints a Markdown block; --append adds it to RESULTS.md
    .venv/bin/python bench/bench_cli.py --instructions   # also count instructions (valgrind)

Each command runs in a fresh process (cold imports); wall time is the median of N runs and
peak memory the child's max RSS. Targets (issue 3): analyze <= 0.5 s, --help <= 0.15 s.

Python keeps compiled bytecode (__pycache__) after a module's first import. An environment
with PYTHONDONTWRITEBYTECODE set never writes it for an editable checkout, so every run
recompiles the project's modules (~15% more work for analyze). The rows measure what a user's
machine does: the variable unset, one warm-up run first.

Wall time on a shared or virtual machine swings by +-20% between minutes. With --instructions
(needs valgrind) each command's executed instructions are counted too: a load-independent
figure for comparing two versions of the code.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from results import emit  # bench/results.py: the scripts run from bench/

HERE = Path(__file__).resolve().parent
TRANSFER = shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer"
RUNS = int(os.environ.get("BENCH_RUNS", "9"))

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "transfer --help": [TRANSFER, "--help"],
    "transfer analyze liling jinjiang": [TRANSFER, "analyze", "liling", "jinjiang"],
}
TARGETS = {"transfer --help": 0.15, "transfer analyze liling jinjiang": 0.5}
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("OPENAI_", "TRANSFER_")) and k != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str]) -> tuple[float, float]:
    times, peak, env = [], 0.0, ENV
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)  # warm-up
    for _ in range(RUNS):
        t0 = time.perf_counter()
        pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).pid
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - t0)
        assert os.waitstatus_to_exitcode(status) == 0, cmd
        peak = max(peak, usage.ru_maxrss / 1024)  # KiB -> MiB on Linux
    return statistics.median(times), peak


def instructions(cmd: list[str]) -> float | None:
    """Millions of instructions executed by `cmd` (valgrind callgrind), or None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) / 1e6 if m else None


def main() -> None:
    rows = []
    base = None
    counting = "--instructions" in sys.argv
    for name, cmd in COMMANDS.items():
        wall, mem = measure(cmd)
        base = base if base is not None else wall
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if wall <= target else "MISSED")
        ins = instructions(cmd) if counting else None
        rows.append(f"| `{name}` | {wall * 1000:.0f} ms | {(wall - base) * 1000:+.0f} ms | {mem:.1f} MiB | "
                    f"{'' if ins is None else f'{ins:,.0f} M'} | "
                    f"{'' if target is None else f'≤ {target * 1000:.0f} ms {verdict}'} |")
    block = "\n".join([
        f"### CLI start-up and main job — {date.today().isoformat()}",
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"median of {RUNS} cold runs; load average {os.getloadavg()[0]:.1f} at the start",
        "",
        "| command | wall | over `python -c pass` | peak RSS | instructions | target |",
        "|---|---|---|---|---|---|",
        *rows, ""])
    emit(block, "--append" in sys.argv)


if __name__ == "__main__":
    main()
