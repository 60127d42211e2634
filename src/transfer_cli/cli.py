"""The command line: parses arguments and calls the library. Nothing else lives here.

Heavy modules (openai, tiktoken, jinja2, pydantic models) are imported inside commands so
that `transfer --help` stays fast. The memo goes to stdout; status goes to stderr.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from . import __version__
from .cli_jobs import PollOpt, ViaOpt, WaitOpt, jobs_app, jobs_list, jobs_resume, via_batch_api
from .cli_model import cache_clear, cache_stats, doctor, logs, prompts_list
from .cli_options import (AllTargetsOpt, BaseUrlOpt, CasesOpt, DryRunOpt, EngineOpt, Format, FormatItem, JsonOpt,
                          Lang, LangOpt, ModelOpt, NoCacheOpt, NoLogOpt, Place, PromptsOpt, ProviderOpt, TargetsArg)
from .pipeline.engines import choose_engine
from .render.safe_text import printable

# -h as well as --help, in every command (click passes help_option_names down to subcommands)
app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Evidence-grounded policy-transfer analysis: what can a target place learn from a source?")
cases_app = typer.Typer(help="List the places in the case library, or show one.", invoke_without_command=True)
app.add_typer(cases_app, name="cases")
app.add_typer(jobs_app, name="jobs")

_state = {"debug": False}


def _err():
    from rich.console import Console
    return Console(stderr=True, highlight=False)


def status(message: str) -> None:
    """A status line on stderr: dimmed by rich on a terminal, plain otherwise (rich costs ~40 ms to import)."""
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        _err().print(printable(message), style="dim", markup=False)
    else:
        print(printable(message), file=sys.stderr)


def fails_cleanly(fn):
    """Turn the library's errors into one line per problem and the documented exit code."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import TransferError
        try:
            return fn(*args, **kwargs)
        except TransferError as e:
            if _state["debug"]:
                raise
            for line in getattr(e, "problems", None) or [str(e)]:
                print(f"error: {printable(line)}", file=sys.stderr)
            raise typer.Exit(e.exit_code)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130)
    return wrapper


def _version(value: bool):
    if value:
        print(f"transfer {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
    max_input_mb: Annotated[Optional[float], typer.Option("--max-input-mb", min=0.001, help="Largest input file read, in MB (default 10; also TRANSFER_MAX_INPUT_MB).")] = None,
):
    _state["debug"] = debug or bool(os.environ.get("TRANSFER_DEBUG"))
    if max_input_mb is not None:  # the environment carries it into batch worker processes too
        os.environ["TRANSFER_MAX_INPUT_MB"] = str(max_input_mb)


def library(cases: Optional[List[Path]]):
    from .places.loader import Library
    return Library(cases or [])


def emit(text: str | bytes, output: Optional[Path], fmt: str, memo: tuple | None = None) -> None:
    """Write to a file atomically, or to stdout: rich Markdown on a terminal, plain when piped.

    memo: (memo, source, target) when the text is a memo, so a terminal gets its coloured fit matrix.
    """
    from .files import write_output
    if output is not None:
        write_output(output, text)
        status(f"wrote {output}")
        return
    if isinstance(text, bytes):
        from .pipeline.preflight import check_output
        check_output(fmt, output)
    if fmt == "md" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        from .render.terminal import print_markdown, print_memo
        if memo:
            print_memo(*memo)
        else:
            print_markdown(text)
    else:
        from .render.safe_text import clean
        sys.stdout.write(text if fmt == "json" else clean(text))  # JSON escapes control characters itself


# ---- analyze / extract ------------------------------------------------------------------------

@app.command()
@fails_cleanly
def analyze(
    source: Annotated[str, Place("Source place: id, alias or name (e.g. liling, 醴陵).")],
    target: Annotated[str, Place("Target place: id, alias or name (e.g. jinjiang, 锦江区).")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Save to FILE (format from its extension).")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", help="Default: from the -o extension, else md.")] = None,
    lang: LangOpt = None,
    logic: Annotated[Optional[Path], typer.Option("--logic", help="A CaseLogic JSON (from `transfer extract`, maybe edited) to use instead of stage 1.")] = None,
    engine: EngineOpt = None,
    cases: CasesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    provider: ProviderOpt = None,
    prompts: PromptsOpt = None,
    dry_run: DryRunOpt = False,
    no_cache: NoCacheOpt = False,
    no_log: NoLogOpt = False,
    allow_same: Annotated[bool, typer.Option("--allow-same", help="Allow a place to be its own target.")] = False,
    brief: Annotated[bool, typer.Option("--brief", help="Only the decision brief, without the annexes.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Print the whole memo with its annexes, not only the decision brief (a file from -o always has them).")] = False,
):
    """Run the three stages for SOURCE -> TARGET; print the decision brief (--full: all) or save the memo."""
    from .render import format_for, hint_full, render
    from .pipeline.artifacts import read_logic
    from .pipeline.preflight import check_logic, check_output, check_pair
    from .pipeline.stages import analyze as run
    lib = library(cases)
    sid, tid = lib.resolve_id(source), lib.resolve_id(target)
    check_pair(sid, tid, allow_same)
    fmt = format_for(output, fmt)
    check_output(fmt, output)
    src, tgt = lib.load(sid), lib.load(tid)
    lang = lang or src.place.language
    llm = dict(model=model, base_url=base_url, provider=provider, prompts=prompts, no_cache=no_cache, no_log=no_log)
    given = read_logic(logic, src.place.id) if logic else None
    if given is not None:
        check_logic(given, src.place, logic)
    if dry_run:
        from .llm.dryrun import show
        return show(llm, src.place, tgt.place, lang, given)
    eng = choose_engine(engine, **llm)
    status(f"{src.place.id} → {tgt.place.id}: engine {eng.name}, lang {lang}")
    memo = run(eng, src, tgt, lang, logic=given, logic_file=logic)
    brief_only = brief or (output is None and fmt == "md" and not full)  # printed: the two pages an official reads
    emit(render(memo, src.place, tgt.place, fmt, brief_only), output, fmt, memo=(memo, src.place, tgt.place, brief_only))
    if brief_only and not brief:  # a terminal got the brief alone: one line on how to see the rest
        status(hint_full(lang))


@app.command()
@fails_cleanly
def extract(
    source: Annotated[str, Place("Source place: id, alias or name.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the CaseLogic JSON here.")] = None,
    lang: LangOpt = None,
    engine: EngineOpt = None,
    cases: CasesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    provider: ProviderOpt = None,
    prompts: PromptsOpt = None,
    dry_run: DryRunOpt = False,
    no_cache: NoCacheOpt = False,
    no_log: NoLogOpt = False,
):
    """Run stage 1 only and write the source's CaseLogic as JSON (edit it, then `analyze --logic`)."""
    from .pipeline.stages import extract_logic
    lib = library(cases)
    src = lib.resolve(source)
    llm = dict(model=model, base_url=base_url, provider=provider, prompts=prompts, no_cache=no_cache, no_log=no_log)
    if dry_run:
        from .llm.dryrun import show
        return show(llm, src, None, lang or src.language, None)
    eng = choose_engine(engine, **llm)
    logic = extract_logic(eng, src, lang or src.language)
    for f in getattr(eng, "last_findings", None) or []:  # no memo to carry them: say them here
        print(printable(f"warning: {f.kind} at {f.where}: {f.message}"), file=sys.stderr)
    emit(logic.model_dump_json(indent=2) + "\n", output, "json")


# ---- the case library ----------------------------------------------------------------------------

@cases_app.callback()
@fails_cleanly
def cases_list(ctx: typer.Context, cases: CasesOpt = None, as_json: JsonOpt = False):
    """Table of places: id, names, admin level, role, counts."""
    ctx.obj = cases  # `transfer cases --cases DIR show X`: the subcommand reads the same library
    if ctx.invoked_subcommand is not None:
        return
    from .cli_json import emit_json, library_entries
    from .render.terminal import print_library
    entries = library_entries(library(cases))
    emit_json(entries) if as_json else print_library(entries)
    if any("error" in e for e in entries):
        raise typer.Exit(2)


@cases_app.command("show")
@fails_cleanly
def cases_show(ctx: typer.Context, name: Annotated[str, Place("Place id, alias or name.")], cases: CasesOpt = None,
               as_json: JsonOpt = False):
    """Show one place: identity, indicators, industries, assets, mechanisms."""
    from .cli_json import emit_json, place_data
    from .render.terminal import print_place
    place = library((cases or []) + (ctx.obj or [])).resolve(name)
    emit_json(place_data(place)) if as_json else print_place(place)


@app.command()
@fails_cleanly
def validate(
    paths: Annotated[Optional[List[Path]], typer.Argument(help="Place files or folders (default: the whole library).")] = None,
    cases: CasesOpt = None,
):
    """Check place files and every reference in them; one line per problem, exit 2 if any."""
    from .errors import CaseError
    from .places.loader import load_place, validation_targets
    lib = library(cases)
    targets = validation_targets(paths) if paths else list(lib.paths().values())
    problems, ok = [], 0
    for path, root in targets:
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
            continue
        try:
            loaded = load_place(path, root)
            ok += 1
            for w in loaded.warnings:
                print(printable(f"warning: {w}"), file=sys.stderr)
        except CaseError as e:
            problems.extend(e.problems)
    for line in problems:
        print(printable(f"error: {line}"), file=sys.stderr)
    print(f"{ok} valid, {len(targets) - ok} invalid", file=sys.stderr)
    if problems:
        raise typer.Exit(2)


@app.command()
@fails_cleanly
def new(
    place_id: Annotated[str, typer.Argument(metavar="ID", help="Slug for the new place, e.g. qingyang.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to write ID.yaml.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
):
    """Write a commented profile skeleton to fill in for a new target district."""
    from .errors import InputError
    from .files import write_output
    from .places.schema import SLUG
    from .places.skeleton import skeleton
    if not SLUG.match(place_id):
        raise InputError(f"'{place_id}' is not a valid id: use lowercase letters, digits and '-'")
    path = directory / f"{place_id}.yaml"
    if path.exists() and not force:
        raise InputError(f"{path} exists; use --force to overwrite")
    write_output(path, skeleton(place_id))
    status(f"wrote {path}; fill it in, then `transfer validate {path}`")


@app.command()
@fails_cleanly
def ingest(
    place_id: Annotated[str, typer.Argument(metavar="ID", help="Slug for the place, e.g. qingyang.")],
    files: Annotated[List[Path], typer.Argument(metavar="FILE...", help="Its documents: .txt, .md, .html, .pdf, .docx.")],
    cases: Annotated[Path, typer.Option("--cases", metavar="DIR", help="Case directory to write ID.yaml into.")] = Path("."),
    lang: Annotated[Lang, typer.Option("--lang", help="The place's language.")] = "zh",
    merge: Annotated[bool, typer.Option("--merge", help="Update an existing ID.yaml: add what it lacks, keep what a person wrote, show the diff.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing ID.yaml.")] = False,
    engine: EngineOpt = None, model: ModelOpt = None, base_url: BaseUrlOpt = None, provider: ProviderOpt = None,
    prompts: PromptsOpt = None, no_cache: NoCacheOpt = False,
):
    """Draft a place file from a district's documents: every figure cited to its page and sentence."""
    from .ingest.run import run
    llm = dict(model=model, base_url=base_url, provider=provider, prompts=prompts, no_cache=no_cache)
    lines, diff = run(place_id, files, cases, lang=lang, merge=merge, force=force, engine=engine, llm=llm,
                      notify=status)
    print("\n".join(lines), file=sys.stderr)
    sys.stdout.write(diff)


@app.command()
def vocabulary():
    """Print the controlled vocabulary: indicators and units, levels and their powers, tags, kinds, families, problem types, portfolios, instruments."""
    from .places.listing import vocabulary_text
    sys.stdout.write(vocabulary_text())


# ---- batch / compare ------------------------------------------------------------------------------

@app.command()
@fails_cleanly
def batch(
    source: Annotated[Optional[str], Place("Source place (omit with --plan).")] = None,
    targets: TargetsArg = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Directory for the memos and the comparison.")] = None,
    all_targets: AllTargetsOpt = False,
    plan: Annotated[Optional[Path], typer.Option("--plan", help="CSV (header source,target) or YAML list of {source, target}.")] = None,
    fmts: Annotated[Optional[List[FormatItem]], typer.Option("--format", help="Memo format per pair, repeatable (default md).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Pairs run concurrently.")] = 4,
    rpm: Annotated[Optional[float], typer.Option("--rpm", min=0, help="Requests per minute limit (default: the provider's in the config file).")] = None,
    tpm: Annotated[Optional[float], typer.Option("--tpm", min=0, help="Tokens per minute limit (default: the provider's in the config file).")] = None,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", min=0, help="Stop before the batch's cost would exceed this.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo every pair, even complete and unchanged ones.")] = False,
    lang: LangOpt = None,
    engine: EngineOpt = None,
    cases: CasesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    provider: ProviderOpt = None,
    prompts: PromptsOpt = None,
    no_cache: NoCacheOpt = False,
    no_log: NoLogOpt = False,
    via: ViaOpt = None,
    wait: WaitOpt = True,
    poll: PollOpt = None,
):
    """Memos for many pairs, resumable, then index.md, summary.csv and a heatmap comparing the targets."""
    from .batch.plan import plan_from_args, read_plan
    from .batch.runner import run_batch
    from .batch.ui import RichReporter, summary_lines
    from .errors import InputError
    from .llm.config import rate_limits
    from .llm.dryrun import budget_estimator
    from .render import format_for
    if output is None:
        raise InputError("give an output directory: -o DIR")
    lib = library(cases)
    if plan is not None:
        if source or targets or all_targets:
            raise InputError("--plan names the pairs; give no SOURCE, TARGET or --all-targets with it")
        pairs = read_plan(plan, lib)
    elif source is None:
        raise InputError("give a SOURCE (and targets or --all-targets), or --plan FILE")
    else:
        pairs = plan_from_args(lib, source, targets or [], all_targets)
    formats = list(dict.fromkeys(format_for(None, f.value) for f in (fmts or [FormatItem.md])))
    # one engine per worker (built on demand), all from the same options
    make = functools.partial(choose_engine, engine, model=model, base_url=base_url, provider=provider,
                             prompts=prompts, no_cache=no_cache or None, no_log=no_log or None)
    first = make()
    # rate limits are the model provider's: the offline engine sends nothing
    rpm, tpm = rate_limits(rpm, tpm, provider) if first.name == "llm" else (None, None)
    estimate = budget_estimator(lib, first, lang) if max_cost is not None else None
    priced = first.name != "llm" or bool(first.settings.prices)
    notes: list[str] = []
    if via_batch_api(first, via):
        from .batch.batchapi import run_batch_api
        result, notes, priced = run_batch_api(lib, pairs, output, engine_factory=make, formats=formats, lang=lang,
                                              force=force, max_cost=max_cost, reporter=RichReporter(priced=priced),
                                              wait=wait, poll=poll, command=sys.argv[1:], cwd=os.getcwd())
    else:
        result = run_batch(lib, pairs, output, engine_factory=make, formats=formats, lang=lang, jobs=jobs,
                           rpm=rpm, tpm=tpm, max_cost=max_cost, force=force, reporter=RichReporter(priced=priced),
                           estimate_pair_cost=estimate)
    for line in summary_lines(result, output, priced) + notes:
        print(printable(line), file=sys.stderr)
    if result.interrupted and not result.budget_stopped:
        raise typer.Exit(130)
    if result.failed or result.budget_stopped:
        raise typer.Exit(1)


@app.command()
@fails_cleanly
def compare(
    source: Annotated[str, Place("Source place.")],
    targets: TargetsArg = None,
    all_targets: AllTargetsOpt = False,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    engine: EngineOpt = None,
    cases: CasesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    provider: ProviderOpt = None,
    prompts: PromptsOpt = None,
    no_cache: NoCacheOpt = False,
    no_log: NoLogOpt = False,
):
    """Print the mechanisms × targets matrix of transfer modes and scores; writes no memos."""
    from .batch.plan import plan_from_args
    from .batch.ui import print_matrix
    from .batch.compare import compare_fits
    lib = library(cases)
    pairs = plan_from_args(lib, source, targets or [], all_targets)
    src = lib.load(pairs[0].source).place
    lang = lang or src.language
    eng = choose_engine(engine, model=model, base_url=base_url, provider=provider, prompts=prompts,
                        no_cache=no_cache or None, no_log=no_log or None)
    matrix = compare_fits(lib, src.id, [p.target for p in pairs], eng, lang)
    if as_json:
        from .cli_json import emit_json, matrix_data
        return emit_json(matrix_data(matrix, lang))
    print_matrix(matrix, lang)


# ---- check -----------------------------------------------------------------------------------------

@app.command()
@fails_cleanly
def check(
    memo_file: Annotated[Path, typer.Argument(metavar="MEMO.json", help="A memo saved as JSON (transfer analyze ... -o memo.json).")],
    cases: CasesOpt = None,
):
    """Verify a saved memo against its inputs: citations, figures, coverage, verdicts, place names. Exit 0 clean, 1 findings."""
    from .verify.names import name_groups
    from .verify.report import format_report, load_memo, verify_memo
    lib = library(cases)
    memo, places, warnings = load_memo(memo_file, lib)
    for w in warnings:
        print(printable(f"warning: {w}"), file=sys.stderr)
    report = verify_memo(memo, places, names=name_groups(lib))
    sys.stdout.write(printable(format_report(report)))
    if not report.clean:
        raise typer.Exit(1)


# ---- the model: prompts, doctor, cache, the run log (cli_model.py) --------------------------------

cache_app = typer.Typer(help="The model response cache: stats or clear.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
app.command("prompts")(fails_cleanly(prompts_list))
app.command("doctor")(fails_cleanly(doctor))
cache_app.command("stats")(fails_cleanly(cache_stats))
cache_app.command("clear")(fails_cleanly(cache_clear))
app.command("logs")(fails_cleanly(logs))
jobs_app.callback(invoke_without_command=True)(fails_cleanly(jobs_list))
jobs_app.command("resume")(fails_cleanly(jobs_resume))


def main():
    from .redact import install
    install()  # the one choke point: nothing printed carries a key, whichever path printed it
    app()


if __name__ == "__main__":
    main()
