"""The model's side on the command line: prompts, doctor, the response cache and the run log.

The commands are registered in cli.py (which wraps them in its one-line error handling).
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional, Tuple

import typer

from .cli_options import BaseUrlOpt, CasesOpt, JsonOpt, ModelOpt, PromptsOpt, ProviderOpt
from .render.safe_text import printable


def prompts_list(prompts: PromptsOpt = None, as_json: JsonOpt = False):
    """List the prompt templates the llm engine uses: id, language, version, stage, hash, origin."""
    from .cli_json import emit_json, prompt_entries
    from .llm.prompts import PromptSet
    if as_json:
        return emit_json(prompt_entries(PromptSet(prompts).all()))
    for p in PromptSet(prompts).all():
        print(printable(f"{p.id}.{p.lang}\tv{p.version}\t{p.stage}\tsha256:{p.sha256[:12]}\t{p.origin}\t{p.description}"))


def doctor(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    provider: ProviderOpt = None,
    offline: Annotated[bool, typer.Option("--offline", help="Show the configuration and plan only; do not probe the endpoint.")] = False,
    pair: Annotated[Optional[Tuple[str, str]], typer.Option("--pair", metavar="SOURCE TARGET", help="Plan this pair's requests (default: liling jinjiang).")] = None,
    cases: CasesOpt = None,
    as_json: JsonOpt = False,
):
    """Show the resolved model configuration (key redacted), the request plan for a memo, probe the endpoint."""
    from .llm.config import resolve
    from .llm.doctor import config_lines, probe
    from .llm.dryrun import plan_data, plan_for
    s = resolve(model=model, base_url=base_url, provider=provider)
    plan = plan_for(s, pair, cases) if s.model else None
    if as_json:
        from .cli_json import doctor_data, emit_json
        result = probe(s) if (s.model and not offline) else None
        data = doctor_data(s, result)
        if plan is not None:
            data["plan"] = plan_data(plan[1], s)
        emit_json(data)
        raise typer.Exit(0 if result is None or result[1] else 1)
    for line in config_lines(s):
        print(line)
    for line in plan[0] if plan else []:
        print(printable(line))
    if offline or not s.model:
        if not s.model:
            print("no model configured: analyze uses the offline engine")
        return
    lines, ok = probe(s)
    for line in lines:
        print(line)
    if not ok:
        raise typer.Exit(1)


def cache_stats(as_json: JsonOpt = False):
    """Where the cache is, how many replies it holds, its size and hits, the modes each endpoint took."""
    from .llm.cache import Cache
    st = Cache().stats()
    if as_json:
        from .cli_json import emit_json
        return emit_json(st)
    print(f"path: {st['path']}\nentries: {st['entries']}\nsize: {st['bytes']:,} bytes\nhits: {st['hits']}")
    for k, n in st["models"].items():
        print(f"  {k}: {n}")
    for k, mode in st["modes"].items():
        print(f"mode {k}: {mode}")


def cache_clear():
    """Delete every cached reply (and the remembered structured-output modes)."""
    from .llm.cache import Cache
    print(f"removed {Cache().clear()} cached replies")


def logs(
    run: Annotated[Optional[str], typer.Option("--run", metavar="ID", help="One run's requests in full (an id or its prefix).")] = None,
    pair: Annotated[Optional[tuple[str, str]], typer.Option("--pair", metavar="SOURCE TARGET", help="One pair's requests in full (place ids).")] = None,
    count: Annotated[Optional[int], typer.Option("-n", "--count", min=1, help="The latest N runs (default 20), or with --run/--pair the latest N requests (default all).")] = None,
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
        items = log.runs(count or 20)
        text = runs_text(items)
    if not items:
        print(f"nothing in the run log {log.path}" if not (run or pair) else "no matching requests in the run log",
              file=sys.stderr)
    sys.stdout.write(dump(items) if as_json else printable(text))  # replies may carry escape sequences
