"""Batches run through the provider's Batch API on the command line: `batch`'s options and `transfer jobs`.

The commands are registered in cli.py (which wraps them in its one-line error handling).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .render.safe_text import printable

jobs_app = typer.Typer(help="Batches run through the provider's Batch API: list them, or resume one.")

ViaOpt = Annotated[Optional[str], typer.Option(
    "--via", help="local: the pairs run here, --jobs at a time; batch-api: fit and actions go to the provider's "
                  "Batch API as jobs (about half price, resumable). Default: the profile's batch_via, else local.")]
WaitOpt = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="With --via batch-api: wait for the jobs, or submit them and return "
                             "(run the same command again, or `transfer jobs resume ID`, to pick them up).")]
PollOpt = Annotated[Optional[float], typer.Option(
    "--poll", min=0.001, help="With --via batch-api: seconds between checks of the jobs (default: the "
                              "profile's batch_poll, else 30).")]


def via_batch_api(engine, via: str | None) -> bool:
    """Whether this batch runs through the Batch API: --via, else the profile's batch_via."""
    from .errors import InputError
    from .llm.config import VIAS
    if via is not None and via not in VIAS:
        raise InputError(f"--via must be one of {', '.join(VIAS)}, not '{via}'")
    if engine.name != "llm":
        if via == "batch-api":
            raise InputError("--via batch-api sends the pairs to a model provider: it needs the llm engine (a model)")
        return False
    return (via or engine.settings.batch_via) == "batch-api"


def _runs() -> list[tuple[str, Path, dict | None]]:
    from .batch.jobstate import NAME, index_path, read_json
    index = read_json(index_path()) or {}
    out = []
    for bid, entry in sorted(index.items(), key=lambda kv: -float((kv[1] or {}).get("updated") or 0)):
        folder = Path(str((entry or {}).get("dir") or ""))
        out.append((bid, folder, read_json(folder / NAME)))
    return out


def jobs_list(ctx: typer.Context):
    """The Batch API runs this user started, newest first: each job's stage, state and the provider's counts."""
    if ctx.invoked_subcommand is not None:
        return
    runs = _runs()
    if not runs:
        print("no batches run through the Batch API yet (transfer batch ... --via batch-api)", file=sys.stderr)
    for bid, folder, man in runs:
        if man is None:
            print(printable(f"{bid}\t{folder}\t(its manifest is gone)"))
            continue
        jobs = man.get("jobs") or []
        waiting = sum(1 for j in jobs if not j.get("downloaded"))
        print(printable(f"{bid}\t{folder}\t{len(jobs)} job(s), {waiting} waiting"))
        for j in jobs:
            c = j.get("request_counts") or {}
            print(printable(f"  {j.get('id')}\t{j.get('stage')}\t{j.get('status')}\t"
                            f"{c.get('completed', 0)}/{c.get('total', len(j.get('lines') or {}))} done, "
                            f"{c.get('failed', 0)} failed" + ("\tdownloaded" if j.get("downloaded") else "")))


def jobs_resume(batch_id: Annotated[str, typer.Argument(help="The batch's id, as `transfer jobs` lists it.")]):
    """Run a Batch API batch's command again, waiting: finished jobs are downloaded, only what is missing is sent."""
    from .errors import InputError
    found = {bid: (folder, man) for bid, folder, man in _runs()}
    if batch_id not in found:
        raise InputError(f"no batch '{batch_id}'; `transfer jobs` lists them")
    folder, man = found[batch_id]
    if not man or not man.get("command"):
        raise InputError(f"{folder}: the batch's manifest is gone or names no command; run the batch command again")
    cmd = [sys.executable, "-m", "transfer_cli.cli", *map(str, man["command"]), "--wait"]
    raise typer.Exit(subprocess.run(cmd, cwd=man.get("cwd") or None).returncode)
