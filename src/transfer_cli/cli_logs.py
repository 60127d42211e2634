"""`transfer logs`: the run log (llm/runlog.py) on the command line; registered in cli.py."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer


def logs(
    run: Annotated[Optional[str], typer.Option("--run", metavar="ID", help="One run's requests in full (an id or its prefix).")] = None,
    pair: Annotated[Optional[tuple[str, str]], typer.Option("--pair", metavar="SOURCE TARGET", help="One pair's requests in full (place ids).")] = None,
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="How many runs (with --run/--pair: requests), the latest.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: the runs, or the requests with prompt and reply.")] = False,
):
    """The run log: every request sent to the model and its reply (keys redacted). Lists the latest runs."""
    from .llm.logview import as_json as dump, entries_text, runs_text
    from .llm.runlog import RunLog
    log = RunLog()
    if run or pair:
        items = log.entries(run=run, pair=pair, limit=count)
        text = entries_text(items)
    else:
        items = log.runs(count)
        text = runs_text(items)
    if not items:
        print(f"nothing in the run log {log.path}" if not (run or pair) else "no matching requests in the run log",
              file=sys.stderr)
    sys.stdout.write(dump(items) if as_json else text)
