"""Hostile and huge inputs: time and peak memory of `transfer validate` on each.

    python bench/bench_inputs.py [--transfer PATH] [--mb 50] [--levels 6 9] [--append]

- an alias bomb ("billion laughs": each level a list of nine aliases of the level below) of
  about 1 KB, refused before it expands;
- a valid place file of about --mb megabytes (the synthetic source alpha with many more notes),
  and the same file with the size limit raised so that it loads;
- a FIFO given as a place file, refused without waiting for a writer.

Each case runs the installed `transfer` in its own process; peak RSS comes from wait4.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPHA = ROOT / "tests" / "data" / "synthetic" / "alpha.yaml"


def alias_bomb(levels: int) -> str:
    lines = ["id: bomb", "names: {zh: 炸弹}", "admin_level: county", "country: CN",
             'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += [f"summary: *a{levels - 1}", "sources:", "  s1: {title: t}"]
    return "\n".join(lines) + "\n"


def big_place(megabytes: float) -> str:
    """alpha.yaml with notes appended until the file is about `megabytes` large."""
    text = ALPHA.read_text(encoding="utf-8")
    head, sep, tail = text.partition("\nmechanisms:")
    parts, size, i = [head], len(head.encode()), 0
    while size < megabytes * 1e6:
        i += 1
        note = (f'\n  - {{id: B-{i:07d}, period: "2020", domain: economy, '
                f'text: "第{i}条附加笔记：陶瓷企业的产值与就业情况，用于测试大文件的读取速度和内存占用。", sources: [s1]}}')
        parts.append(note)
        size += len(note.encode())
    return "".join(parts) + sep + tail


def run(transfer: str, args: list[str], env: dict, timeout: float = 600) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one `transfer` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([transfer, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            return timeout, usage.ru_maxrss / 1024, -9
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfer", default=shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer")
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--levels", type=int, nargs="+", default=[6, 9])
    ap.add_argument("--label", default="")
    ap.add_argument("--no-limit", action="store_true", help="the tool has no --max-input-mb (a build before the limit)")
    ap.add_argument("--append", action="store_true", help="append the table to bench/RESULTS.md")
    ap.add_argument("--write-big", metavar="PATH", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.write_big:
        Path(a.write_big).write_text(big_place(a.mb), encoding="utf-8")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = {**os.environ, "TRANSFER_CACHE_DIR": str(d / "cache"), "TRANSFER_CONFIG_DIR": str(d / "config")}
        for levels in a.levels:
            f = d / "bomb.yaml"
            f.write_text(alias_bomb(levels), encoding="utf-8")
            secs, mib, rc = run(a.transfer, ["validate", str(f)], env, timeout=120)
            rows.append((f"alias bomb, {levels} levels ({f.stat().st_size} B)", secs, mib, rc))
        f = d / "alpha.yaml"
        # written by another process: a child forked from this one would report this one's peak RSS
        subprocess.run([sys.executable, __file__, "--write-big", str(f), "--mb", str(a.mb)], check=True)
        size = f"{f.stat().st_size / 1e6:.0f} MB"
        cases = [(f"valid place file, {size}" + ("" if a.no_limit else ", default limit"), [])]
        if not a.no_limit:
            cases.append((f"valid place file, {size}, --max-input-mb 100", ["--max-input-mb", "100"]))
        for label, extra in cases:
            secs, mib, rc = run(a.transfer, [*extra, "validate", str(f)], env)
            rows.append((label, secs, mib, rc))
        fifo = d / "fifo.yaml"
        os.mkfifo(fifo)
        secs, mib, rc = run(a.transfer, ["validate", str(fifo)], env, timeout=10)
        rows.append(("FIFO as a place file", secs, mib, rc))
    table = ["| input | wall (s) | peak RSS (MiB) | exit |", "|---|---:|---:|---:|"]
    table += [f"| {label} | {secs:.2f}{' (killed)' if rc == -9 else ''} | {mib:.0f} | {rc} |"
              for label, secs, mib, rc in rows]
    text = "\n".join(table)
    print(text)
    if a.append:
        head = (f"\n## bench_inputs — {date.today().isoformat()}{' — ' + a.label if a.label else ''}\n\n"
                f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
                f"load average {os.getloadavg()[0]:.1f}\n\n")
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as out:
            out.write(head + text + "\n")


if __name__ == "__main__":
    main()
