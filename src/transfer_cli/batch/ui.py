"""The batch's terminal side: a rich progress bar on stderr and the comparison as a table.

Kept apart from runner.py so that the runner works as a library without rich.
"""

from __future__ import annotations

import sys

from ..llm.config import cost_text
from .pair import PairResult
from .runner import BatchResult, Reporter


class RichReporter(Reporter):
    """Overall bar with ETA, pairs done/failed/skipped, tokens and cost, and under it one line per pair
    in flight with its model request (stage, i of n, tokens, elapsed); silent unless stderr is a TTY."""

    def __init__(self, force: bool | None = None, priced: bool = True):
        self.enabled = sys.stderr.isatty() if force is None else force
        self.priced = priced
        self._progress = None
        self._task = None
        self._pairs: dict[str, object] = {}  # label -> its line's task id, while the pair runs

    def start(self, total: int, skipped: int) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        bar = [_main_only(c) for c in (TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())]
        self._progress = Progress(*bar, TextColumn("{task.fields[status]}"), console=Console(stderr=True),
                                  transient=False)
        self._task = self._progress.add_task("batch", total=total, status="", main=True)
        self._progress.start()

    def pair_done(self, result: PairResult, totals: BatchResult) -> None:
        if self._progress is None:
            return
        status = (f"done {totals.count('done')} · failed {totals.count('failed')} · "
                  f"skipped {totals.count('skipped')} · tokens {totals.tokens:,} · "
                  f"cost {cost_text(totals.cost if self.priced else None)}")
        self._progress.update(self._task, advance=1, status=status)
        self._forget(f"{result.pair.source} → {result.pair.target}")
        for label in [k for k in self._pairs if k.endswith("(stage 1)")]:
            self._forget(label)  # stage 1 is over once its source's pairs finish

    def request(self, label: str, event) -> None:
        if self._progress is None:
            return
        text = f"  {label} · {event.text()}"
        task = self._pairs.get(label)
        if task is None:
            self._pairs[label] = self._progress.add_task("", total=None, status=text)
        else:
            self._progress.update(task, status=text)

    def _forget(self, label: str) -> None:
        task = self._pairs.pop(label, None)
        if task is not None:
            self._progress.remove_task(task)

    def note(self, message: str) -> None:
        # called from the SIGINT handler too: a plain write, no locks taken
        print(message, file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _main_only(column):
    """A progress column drawn on the batch's own bar only, blank on the lines of pairs in flight."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class MainOnly(ProgressColumn):
        def render(self, task):
            return column.render(task) if task.fields.get("main") else Text("")
    return MainOnly()


def summary_lines(result: BatchResult, out, priced: bool = True) -> list[str]:
    """The closing summary on stderr; tests and scripts read it, so it is printed even when quiet.

    `priced`: whether the engine knows its prices (the offline engine spends nothing)."""
    lines = [f"batch: {len(result.results)} pairs: {result.count('done')} done, {result.count('skipped')} skipped, "
             f"{result.count('failed')} failed, {result.count('not_run')} not run; "
             f"{result.requests} requests, {result.tokens:,} tokens, cost {cost_text(result.cost if priced else None)}; "
             f"{result.seconds:.1f}s" + (f" in {result.processes} worker processes" if result.processes > 1 else "")]
    for r in result.failed:
        lines.append(f"failed: {r.pair.source} → {r.pair.target}: {r.error}")
    if result.budget_stopped:
        lines.append("stopped: --max-cost would be exceeded by the next pair; re-run with a higher budget to finish")
    elif result.interrupted:
        lines.append("interrupted: re-run the same command to finish the batch")
    if result.written:
        lines.append(f"wrote {out / 'index.md'}")
    return lines


def print_matrix(matrix, lang: str) -> None:
    """Mechanisms × targets as a coloured rich table on stdout (plain when piped)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .compare import cell_text
    style = {"copy": "green", "adapt": "yellow", "in_place": "magenta", "inspire": "cyan", "avoid": "red"}
    table = Table(title=f"{matrix.source}: mechanisms × targets (* conditional)")
    table.add_column("mechanism")
    for tid, name, overall in matrix.targets:
        table.add_column(f"{tid}\n{overall}", justify="center")
    for mid, name in matrix.mechanisms:
        cells = []
        for tid, _n, _o in matrix.targets:
            c = matrix.cells.get((mid, tid))
            cells.append(f"[{style[c['mode']]}]{cell_text(c, lang)}[/]" if c else "–")
        table.add_row(escape(f"{mid} {name}"), *cells)
    Console(width=None if sys.stdout.isatty() else 200).print(table)
