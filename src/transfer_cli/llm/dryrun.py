"""`--dry-run`: the rendered prompts, a token count per stage and the estimated cost; nothing sent.

Stages 2 and 3 are rendered on stand-ins for the model's earlier answers — the offline engine's
artifacts for the same inputs (or the --logic file) — since the real ones do not exist yet.
The stand-in replies also give the output-token estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import tokens
from ..pipeline.facts import context_rows, evaluate_conditions, scale_differences


@dataclass
class StagePreview:
    stage: str
    prompt: str
    requests: list | None      # planner.Planned, one per request
    note: str = ""

    @property
    def tokens_in(self) -> int | None:
        return None if self.requests is None else sum(r.tokens_in for r in self.requests)

    @property
    def tokens_out(self) -> int | None:  # the planner's estimate of the replies
        return None if self.requests is None else sum(r.tokens_out for r in self.requests)


def preview(engine, source, target, lang: str, logic=None) -> list[StagePreview]:
    """engine: an LLMEngine; source/target: Places (target None for `extract`)."""
    from ..pipeline.engines.offline import OfflineEngine
    from .planner import request_tokens
    offline = OfflineEngine()
    out: list[StagePreview] = []

    def add(stage, plans, note=""):
        p = engine.prompts.for_stage(stage, lang)
        for r in plans:  # exact counts for the report (planning may stop at a byte bound)
            r.tokens_in = request_tokens(r.messages)
        out.append(StagePreview(stage, f"{p.id}.{p.lang} v{p.version} sha256:{p.sha256[:12]}", plans, note))

    standin_logic = logic
    if logic is None:
        standin_logic = offline.extract(source, lang) if source.mechanisms else None
        add("extract", engine.plan_extract(source, lang))
    if target is None:
        return out
    if standin_logic is None:
        for stage in ("fit", "actions"):
            out.append(StagePreview(stage, "", None, "needs stage 1's answer: this source has no authored mechanisms "
                                                     "to stand in"))
        return out
    evaluations = evaluate_conditions(standin_logic, target)
    context, scale = context_rows(source, target, lang), scale_differences(source, target, lang)
    fit = offline.fit(standin_logic, source, target, lang, evaluations, context, scale)
    note = "rendered on stand-in artifacts (--logic file or the offline engine's)"
    add("fit", engine.plan_fit(standin_logic, source, target, lang, evaluations, context, scale), note)
    add("actions", engine.plan_actions(standin_logic, fit, source, target, lang), note)
    return out


def render_text(previews: list[StagePreview]) -> str:
    parts = []
    for p in previews:
        parts.append(f"===== stage {p.stage}: {p.prompt or '(not rendered)'} =====")
        if p.note:
            parts.append(f"({p.note})")
        for i, r in enumerate(p.requests or []):
            if len(p.requests) > 1:
                parts.append(f"===== request {i + 1}/{len(p.requests)}: {', '.join(r.covers)} =====")
            for m in r.messages:
                parts.append(f"----- {m['role']} -----\n{m['content'].rstrip()}")
        parts.append("")
    return "\n".join(parts)


def summary_lines(previews: list[StagePreview], settings, header: bool = True) -> list[str]:
    """The plan: per stage its requests, tokens in and out and whether each fits (--dry-run, doctor)."""
    from .planner import budget
    b = budget(settings)
    label = tokens.tokenizer_label(settings.model)
    lines = [f"dry run: nothing sent. model {settings.model} at {settings.endpoint}; tokenizer {label}"] if header else []
    lines.append(f"limits: context window {b.window:,}, output {b.output:,} tokens; a request's prompt may take "
                 f"{b.prompt:,}, its expected reply {b.reply:,}")
    total_in = total_out = n = 0
    fits = True
    for p in previews:
        if p.tokens_in is None:
            lines.append(f"  {p.stage:8} -  ({p.note})")
            continue
        total_in += p.tokens_in
        total_out += p.tokens_out or 0
        n += len(p.requests)
        cost = settings.cost(p.tokens_in, p.tokens_out or 0)
        lines.append(f"  {p.stage:8} ~{p.tokens_in:,} tokens in, ~{p.tokens_out or 0:,} out (estimated) in "
                     f"{len(p.requests)} request(s)" + (f", ~${cost:.4f}" if cost is not None else ""))
        for i, r in enumerate(p.requests):
            ok = r.fits(b)
            fits = fits and ok
            said = "; ".join(x for x in (r.chose and f"chose {r.chose}", r.kept) if x)
            lines.append(f"    {i + 1}. {', '.join(r.covers)[:60]}: ~{r.tokens_in:,} in, ~{r.tokens_out:,} out"
                         + ("" if ok else "  DOES NOT FIT") + (f" ({said})" if said else ""))
    cost = settings.cost(total_in, total_out)
    lines.append(f"  total    ~{total_in:,} in, ~{total_out:,} out in {n} request(s); "
                 + ("every request fits the model's limits" if fits else "some requests DO NOT FIT the model's limits")
                 + "; estimated cost " + (f"${cost:.4f}" if cost is not None
                                          else "unknown (no prices configured for this provider)"))
    return lines


class PairCostEstimator:
    """The pre-flight cost of one batch pair (stages 2 and 3), from the same prompts and stand-ins as
    `--dry-run`: the batch's --max-cost checks it before starting a pair.

    Returns None when it cannot say (a source with no authored mechanisms to stand in for stage 1);
    the runner then learns from the pairs it has run. Raises nothing per pair: an estimate is advice.
    """

    def __init__(self, lib, engine, lang: str | None = None):
        from ..pipeline.engines.offline import OfflineEngine
        self.lib, self.engine, self.lang = lib, engine, lang
        self._offline = OfflineEngine()
        self._logic: dict[tuple[str, str], object] = {}  # stand-in stage-1 logic per source and language

    def __call__(self, pair) -> float | None:
        settings = getattr(self.engine, "settings", None)
        if settings is None:
            return 0.0  # the offline engine costs nothing
        source = self.lib.load(pair.source).place
        lang = self.lang or source.language
        key = (pair.source, lang)
        if key not in self._logic:
            self._logic[key] = self._offline.extract(source, lang) if source.mechanisms else None
        logic = self._logic[key]
        if logic is None:
            return None
        target = self.lib.load(pair.target).place
        stages = preview(self.engine, source, target, lang, logic)
        return settings.cost(sum(p.tokens_in or 0 for p in stages), sum(p.tokens_out or 0 for p in stages))


def budget_estimator(lib, engine, lang: str | None = None) -> PairCostEstimator:
    """--max-cost's pre-flight estimator; a usage error when the model has no prices to estimate with."""
    from ..errors import InputError
    settings = getattr(engine, "settings", None)
    if settings is not None and not settings.prices:
        raise InputError(f"--max-cost needs prices for {settings.model}: add prices = {{ input = ..., output = ... }} "
                         "(USD per million tokens) to the provider profile in the config file")
    return PairCostEstimator(lib, engine, lang)


def show(options: dict, source, target, lang: str, logic) -> None:
    """`--dry-run`: the prompts on stdout, the tokens and cost per stage on stderr; nothing is sent."""
    import sys

    from ..pipeline.engines.llm import LLMEngine
    eng = LLMEngine(**{k: v for k, v in options.items() if v is not None})
    previews = preview(eng, source, target, lang, logic)
    sys.stdout.write(render_text(previews))
    for line in summary_lines(previews, eng.settings):
        print(line, file=sys.stderr)


REFERENCE_PAIR = ("liling", "jinjiang")  # the bundled pair the README and bench/RESULTS.md measure


def plan_for(settings, pair: tuple[str, str] | None = None, cases=None) -> tuple[list[str], list[StagePreview]]:
    """`doctor`'s plan: what the configured model would be sent for a pair (the reference pair by
    default), from the same planner and stand-ins as --dry-run; nothing is sent."""
    from ..errors import InputError
    from ..pipeline.engines.llm import LLMEngine
    from ..places.loader import Library
    lib = Library(cases or [])
    try:
        source, target = (lib.resolve_id(x) for x in (pair or REFERENCE_PAIR))
        src, tgt = lib.load(source).place, lib.load(target).place
        previews = preview(LLMEngine(settings, no_log=True), src, tgt, src.language)
    except InputError as e:
        if pair:
            raise  # the user named the pair: a bad one is a usage error
        return [f"plan: none shown ({e})"], []  # doctor still reports the rest
    head = f"plan for {source} → {target}" + ("" if pair else " (the reference pair; --pair SOURCE TARGET for another)")
    return [head + ": nothing sent"] + summary_lines(previews, settings, header=False), previews


def plan_data(previews: list[StagePreview], settings) -> list[dict]:
    from .planner import budget
    b = budget(settings)
    return [{"stage": p.stage, "requests": [{"covers": r.covers, "tokens_in": r.tokens_in, "tokens_out": r.tokens_out,
                                             "fits": r.fits(b)} for r in p.requests or []]} for p in previews]
