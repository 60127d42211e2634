"""Tokens per memo, measured: liling -> jinjiang on the llm engine against the scripted server.

    .venv/bin/python bench/bench_tokens.py             # prints a Markdown block
    .venv/bin/python bench/bench_tokens.py --append    # ... and appends it to RESULTS.md
    OTHER/.venv/bin/python bench/bench_tokens.py --checkout OTHER --label before   # another checkout

For each model profile (context window / max output) the fake OpenAI server (tests/fakeserver.py)
enforces those limits as real servers do and answers with the offline engine's artifacts shaped as
replies (tests/llm_helpers.py). The server's request log gives, per stage, the requests, the
prompt tokens it counted (messages plus any schema sent as a request field, cl100k) and the reply
tokens. Stage 1 is cached per source, so "each further target" is fit + actions.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from results import emit  # bench/results.py: the scripts run from bench/

HERE = Path(__file__).resolve().parent

PROFILES = ((128_000, 16_384), (16_384, 4_096), (8_192, 2_048))
STAGES = ("extract", "fit", "actions")


def measure(window: int, output: int, tmp: Path, checkout: Path) -> dict:
    from fakeserver import FakeServer, artifact_responder, count_tokens, prompt_tokens
    from llm_helpers import llm_env, replies
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    env.update(llm_env(tmp, TRANSFER_CONTEXT_WINDOW=str(window), TRANSFER_MAX_OUTPUT=str(output)),
               PYTHONDONTWRITEBYTECODE="1")
    respond = artifact_responder(replies())
    with FakeServer(responder=respond, context_window=window, max_output=output) as server:
        r = subprocess.run([str(checkout / ".venv/bin/transfer"), "analyze", "liling", "jinjiang", "--model", "m",
                            "--base-url", server.url, "--no-cache", "-o", str(tmp / "memo.json")],
                           env=env, capture_output=True, text=True, timeout=900)
        rows = {st: {"n": 0, "in": 0, "out": 0, "max_in": 0, "max_out": 0} for st in STAGES}
        for q in server.chats:
            n_in, n_out = prompt_tokens(q.body), count_tokens(respond(q.body)["content"])
            row = rows[q.stage]
            row["n"] += 1
            row["in"] += n_in
            row["out"] += n_out
            row["max_in"], row["max_out"] = max(row["max_in"], n_in), max(row["max_out"], n_out)
    if r.returncode != 0:  # what was sent until then is still measured
        rows["error"] = r.stderr.strip().splitlines()[-1][:160]
        return rows
    import json
    memo = json.loads((tmp / "memo.json").read_text(encoding="utf-8"))
    rows["clean"] = memo["run"]["verification"]["clean"]
    rows["mechanisms"] = len(memo["fit"]["mechanisms"])
    rows["actions_n"] = len(memo["plan"]["actions"])
    return rows


def table(results: dict) -> str:
    lines = ["| profile | requests (extract / fit / actions) | tokens in / out per stage (extract; fit; actions) "
             "| first memo in / out | each further target in / out | max per request in / out | memo |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for (window, output), r in results.items():
        n = " / ".join(str(r[st]["n"]) for st in STAGES)
        first_in, first_out = (sum(r[st][k] for st in STAGES) for k in ("in", "out"))
        more_in, more_out = (sum(r[st][k] for st in ("fit", "actions")) for k in ("in", "out"))
        max_in, max_out = (max(r[st][k] for st in STAGES) for k in ("max_in", "max_out"))
        memo = (f"failed: {r['error']}" if "error" in r else
                f"{r['mechanisms']} mechanisms, {r['actions_n']} actions, " + ("verifies" if r["clean"] else "FINDINGS"))
        per = "; ".join(f"{r[st]['in']:,} / {r[st]['out']:,}" for st in STAGES)
        lines.append(f"| {window:,} / {output:,} | {n} | {per} | {first_in:,} / {first_out:,} | {more_in:,} / {more_out:,} "
                     f"| {max_in:,} / {max_out:,} | {memo} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--append", action="store_true")
    ap.add_argument("--checkout", type=Path, default=HERE.parent,
                    help="the checkout to measure, with its .venv (run this script with that venv's python: "
                         "the canned replies come from its code)")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    sys.dont_write_bytecode = True  # measuring another checkout leaves nothing in it
    sys.path.insert(0, str(args.checkout.resolve() / "tests"))
    results = {}
    for window, output in PROFILES:
        with tempfile.TemporaryDirectory() as tmp:
            results[(window, output)] = measure(window, output, Path(tmp), args.checkout.resolve())
    block = (f"## bench_tokens — {date.today()}{' — ' + args.label if args.label else ''}\n\nmachine: "
             f"{platform.machine()}, Python {platform.python_version()}; liling → jinjiang, the scripted server "
             "enforcing each profile's limits, tokens as it counted them (cl100k)\n\n" + table(results) + "\n")
    emit(block, args.append)


if __name__ == "__main__":
    main()
