"""One pair of a batch: load the target, run stages 2 and 3 on the shared logic, render, write.

The outputs are written atomically and then the pair's manifest (manifests.py), the commit
marker; the manifest is removed before the outputs are rewritten, so an interruption never
leaves a manifest that vouches for half-new outputs. A pair that fails leaves a manifest saying
so, and its result carries what its calls used. Runs on a thread of the batch or in a worker
process of its pool (processes.py): what it needs travels in one picklable object.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import Pending, TransferError
from ..files import write_atomic, write_output
from .compare import fit_summary
from .limits import Interrupted, engine_usage
from .manifests import MANIFEST_VERSION, manifest_path, output_path
from .plan import Pair


@dataclass
class PairResult:
    pair: Pair
    status: str  # done | skipped | failed | not_run
    error: str | None = None
    fit: dict | None = None  # fit_summary, for the comparison
    formats: list[str] = field(default_factory=list)
    requests: int = 0
    tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0


@dataclass
class Source:
    """A source of the batch: loaded once, its stage-1 logic shared by all its targets."""
    loaded: Any
    lang: str
    hashes: dict
    logic: Any = None
    records: list = field(default_factory=list)
    error: str | None = None


@dataclass
class PairWork:
    """Everything a pair needs besides its engine; `discard` is set when in-flight pairs must write nothing."""
    lib: Any
    out: Path
    formats: list[str]
    sources: dict[str, Source]
    ekey: dict
    engine_factory: Callable[[], Any]
    discard: Any  # a threading.Event, or a multiprocessing one in worker processes

    def run(self, pair: Pair, engine) -> PairResult:
        from ..pipeline.stages import analyze
        from ..places.loader import load_place
        from ..render import render
        src = self.sources[pair.source]
        t0 = time.perf_counter()
        n_logic = len(src.records)
        before = {}
        try:
            if self.discard.is_set():
                raise Interrupted()
            before = engine_usage(engine)
            path, root = self.lib.paths()[pair.target]
            # loaded per pair and dropped after: memory stays flat over thousands of targets
            tgt = load_place(path, root)
            memo = analyze(engine, src.loaded, tgt, src.lang, logic=src.logic, logic_records=src.records)
            rendered = {fmt: render(memo, src.loaded.place, tgt.place, fmt) for fmt in self.formats}
            if self.discard.is_set():
                raise Interrupted()
            summary = fit_summary(memo.fit, tgt.place.name(src.lang))
            reqs, toks, cost = usage_of(memo.run.stages[n_logic:])
            man = {"version": MANIFEST_VERSION, "kind": "pair", "status": "ok", "source": pair.source,
                   "target": pair.target, "lang": src.lang, "engine": self.ekey,
                   "inputs": {"source": memo.run.inputs[0].files, "target": memo.run.inputs[1].files},
                   "formats": self.formats,
                   "outputs": {f: output_path(self.out, pair, f).name for f in self.formats},
                   "fit": summary, "usage": {"requests": reqs, "tokens": toks, "cost": round(cost, 6)}}
            man_path = manifest_path(self.out, pair)
            man_path.unlink(missing_ok=True)
            for fmt, data in rendered.items():
                write_output(output_path(self.out, pair, fmt), data)  # a bad path fails this pair in one line
            write_output(man_path, json.dumps(man, ensure_ascii=False, indent=2) + "\n")
            return PairResult(pair, "done", fit=summary, formats=self.formats, requests=reqs, tokens=toks,
                              cost=cost, seconds=time.perf_counter() - t0)
        except Interrupted:
            return PairResult(pair, "not_run", error="interrupted")
        except Pending:
            raise  # waiting on a Batch API job (batchapi.py runs the pair again): nothing to write
        except Exception as e:  # noqa: BLE001 — failure isolation: one pair's error is recorded, the rest go on
            if self.discard.is_set():
                return PairResult(pair, "not_run", error="interrupted")
            err = error_text(e)
            # what the failed pair's calls used, retries and re-asks included: its stage records are lost
            used = {k: v - (before.get(k) or 0) for k, v in engine_usage(engine).items() if isinstance(v, (int, float))}
            try:
                write_atomic(manifest_path(self.out, pair),
                             json.dumps({"version": MANIFEST_VERSION, "kind": "pair", "status": "failed",
                                         "source": pair.source, "target": pair.target, "lang": src.lang,
                                         "engine": self.ekey, "error": err}, ensure_ascii=False, indent=2) + "\n")
            except OSError:
                pass
            return PairResult(pair, "failed", error=err, requests=used.get("requests", 0),
                              tokens=used.get("tokens_in", 0) + used.get("tokens_out", 0), cost=used.get("cost", 0.0),
                              seconds=time.perf_counter() - t0)


def usage_of(records) -> tuple[int, int, float]:
    """(requests, tokens, cost) of some stage records."""
    reqs = sum(r.requests for r in records)
    toks = sum(r.tokens_in + r.tokens_out for r in records)
    cost = sum(r.cost or 0.0 for r in records)
    return reqs, toks, cost


def error_text(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return msg if isinstance(e, TransferError) else f"{type(e).__name__}: {msg}" if msg else type(e).__name__
