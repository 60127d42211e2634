"""The batch runner: memos for many targets, resume, failure isolation, the comparison files."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import SYNTHETIC, TRANSFER, run_cli
from synth import source_dir, write_targets

MECHS = ("M1", "M2", "M3")  # alpha's authored mechanisms


def summary(stderr: str) -> dict[str, int]:
    m = re.search(r"batch: (\d+) pairs: (\d+) done, (\d+) skipped, (\d+) failed, (\d+) not run", stderr)
    assert m, stderr
    return dict(zip(("pairs", "done", "skipped", "failed", "not_run"), map(int, m.groups())))


def library_ids(*dirs: Path) -> list[str]:
    from transfer_cli.places.loader import Library
    return list(Library(list(dirs)).paths())


def mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.rglob("*"))
            if p.is_file() and p.parent != out}  # memos and manifests; the comparison is rewritten


@pytest.fixture
def cases(tmp_path) -> Path:
    """A private copy of the synthetic places, free to edit."""
    d = tmp_path / "cases"
    shutil.copytree(SYNTHETIC, d)
    return d


def test_all_targets_writes_memos_index_csv_and_heatmap(tmp_path, cases, cli):
    r = cli("batch", "alpha", "--all-targets", "--cases", cases, "-o", "out", "--format", "md", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    targets = [t for t in library_ids(cases) if t != "alpha"]
    assert summary(r.stderr) == {"pairs": len(targets), "done": len(targets), "skipped": 0, "failed": 0, "not_run": 0}
    for t in targets:
        md = (out / "alpha" / f"{t}.md").read_text(encoding="utf-8")
        assert md.startswith("#") and t in md  # a full memo, citing the target's fields
        memo = json.loads((out / "alpha" / f"{t}.json").read_text(encoding="utf-8"))
        assert memo["fit"]["target"] == t
        # stage 1 ran once and every memo carries that one extraction record
        assert [s["stage"] for s in memo["run"]["stages"]] == ["extract", "fit", "actions"]
    # the CSV: one row per pair x mechanism, with what the memo said
    rows = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == len(targets) * len(MECHS)
    beta_m2 = next(x for x in rows if x["target"] == "beta" and x["mechanism_id"] == "M2")
    gamma_m2 = next(x for x in rows if x["target"] == "gamma" and x["mechanism_id"] == "M2")
    assert beta_m2["mode"] in ("copy", "adapt") and gamma_m2["mode"] == "avoid"
    gamma = json.loads((out / "alpha" / "gamma.json").read_text(encoding="utf-8"))
    m3 = next(m for m in gamma["fit"]["mechanisms"] if m["mechanism_id"] == "M3")
    g3 = next(x for x in rows if x["target"] == "gamma" and x["mechanism_id"] == "M3")
    assert (g3["mode"], g3["conditional"], int(g3["score"]), int(g3["overall"])) == \
        (m3["mode"], "yes" if m3["conditional"] else "no", m3["score"], gamma["fit"]["overall_score"])
    # the index ranks targets by overall score and links every memo
    index = (out / "index.md").read_text(encoding="utf-8")
    overall = {x["target"]: int(x["overall"]) for x in rows}
    ranked = re.findall(r"^\| \d+ \| .*?\(`([a-z0-9-]+)`\) \| (\d+) \|", index, re.M)
    assert [t for t, _ in ranked] == sorted(targets, key=lambda t: (-overall[t], t))
    for t in targets:
        assert f"(alpha/{t}.md)" in index and f"(alpha/{t}.json)" in index
    assert "| M2 " in index and "`gamma`" in index
    assert (out / "heatmap.svg").read_text(encoding="utf-8").startswith("<svg")
    assert "(heatmap.svg)" in index and (out / "index.html").is_file()


@pytest.mark.slow
def test_liling_against_every_bundled_target(tmp_path, cli):
    """The issue's must-show, on the real case library."""
    r = cli("batch", "liling", "--all-targets", "-o", "out")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    targets = [t for t in library_ids() if t != "liling"]
    assert len(targets) >= 6 and summary(r.stderr)["done"] == len(targets)
    for t in targets:
        assert (out / "liling" / f"{t}.md").stat().st_size > 1000
    index = (out / "index.md").read_text(encoding="utf-8")
    assert all(f"(liling/{t}.md)" in index for t in targets)
    rows = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {x["target"] for x in rows} == set(targets)
    assert (out / "index.html").stat().st_size > 0 and (out / "heatmap.svg").stat().st_size > 0
    before = mtimes(out)
    r = cli("batch", "liling", "--all-targets", "-o", "out")
    assert summary(r.stderr)["skipped"] == len(targets) and mtimes(out) == before


@pytest.mark.slow
def test_second_run_skips_every_pair_and_touches_no_memo(tmp_path, cases, cli):
    assert cli("batch", "alpha", "beta", "gamma", "--cases", cases, "-o", "out").returncode == 0
    before = mtimes(tmp_path / "out")
    assert "alpha/beta.md" in before and "alpha/_logic.json" in before
    time.sleep(0.05)
    r = cli("batch", "alpha", "beta", "gamma", "--cases", cases, "-o", "out")
    assert r.returncode == 0, r.stderr
    assert summary(r.stderr)["skipped"] == 2 and summary(r.stderr)["done"] == 0
    assert mtimes(tmp_path / "out") == before
    # the comparison is still complete when every pair was skipped
    assert "(alpha/gamma.md)" in (tmp_path / "out" / "index.md").read_text(encoding="utf-8")
    # --force redoes everything
    r = cli("batch", "alpha", "beta", "gamma", "--cases", cases, "-o", "out", "--force")
    assert summary(r.stderr)["done"] == 2


@pytest.mark.slow
def test_editing_one_target_redoes_only_that_pair(tmp_path, cases, cli):
    args = ("batch", "alpha", "--all-targets", "--cases", cases, "-o", "out")
    assert cli(*args).returncode == 0
    out = tmp_path / "out"
    before = mtimes(out)
    g = cases / "gamma.yaml"
    g.write_text(g.read_text(encoding="utf-8").replace("value: 1200", "value: 1234.5"), encoding="utf-8")
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    n = len(library_ids(cases)) - 1
    assert summary(r.stderr) == {"pairs": n, "done": 1, "skipped": n - 1, "failed": 0, "not_run": 0}
    after = mtimes(out)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"alpha/gamma.md", "alpha/gamma.manifest.json"}
    assert "1,234.5" in (out / "alpha" / "gamma.md").read_text(encoding="utf-8")
    # a new format for the same pairs is missing output: those pairs are redone
    r = cli(*args, "--format", "json")
    assert summary(r.stderr)["done"] == n
    # a changed source invalidates every pair of that source (and its stored logic)
    a = cases / "alpha.yaml"
    a.write_text(a.read_text(encoding="utf-8").replace("value: 900.5", "value: 901"), encoding="utf-8")
    r = cli(*args, "--format", "json")
    assert summary(r.stderr)["done"] == n


@pytest.mark.slow
def test_a_failing_pair_is_isolated_and_a_rerun_finishes_it(tmp_path, cases, cli):
    good = (cases / "gamma.yaml").read_text(encoding="utf-8")
    (cases / "gamma.yaml").write_text(good.replace("admin_level: municipal_district", "admin_level: [oops"),
                                      encoding="utf-8")
    r = cli("batch", "alpha", "beta", "gamma", "--cases", cases, "-o", "out")
    assert r.returncode == 1
    assert summary(r.stderr) == {"pairs": 2, "done": 1, "skipped": 0, "failed": 1, "not_run": 0}
    assert re.search(r"failed: alpha → gamma: .*gamma\.yaml:\d+", r.stderr), r.stderr
    out = tmp_path / "out"
    assert (out / "alpha" / "beta.md").is_file() and not (out / "alpha" / "gamma.md").exists()
    index = (out / "index.md").read_text(encoding="utf-8")
    assert re.search(r"\| alpha \| gamma \| .*gamma\.yaml", index)
    assert json.loads((out / "alpha" / "gamma.manifest.json").read_text(encoding="utf-8"))["status"] == "failed"
    (cases / "gamma.yaml").write_text(good, encoding="utf-8")
    r = cli("batch", "alpha", "beta", "gamma", "--cases", cases, "-o", "out")
    assert r.returncode == 0, r.stderr
    assert summary(r.stderr) == {"pairs": 2, "done": 1, "skipped": 1, "failed": 0, "not_run": 0}
    assert (out / "alpha" / "gamma.md").is_file()


@pytest.mark.slow
def test_plan_file_with_two_sources(tmp_path, cases, cli):
    # a second source: alpha under another id
    (cases / "delta.yaml").write_text((cases / "alpha.yaml").read_text(encoding="utf-8")
                                      .replace("id: alpha", "id: delta").replace("阿尔法", "德尔塔"), encoding="utf-8")
    (tmp_path / "plan.csv").write_text("source,target\nalpha,beta\n\ndelta,gamma\n阿尔法,gamma\n", encoding="utf-8")
    r = cli("batch", "--plan", "plan.csv", "--cases", cases, "-o", "out")
    assert r.returncode == 0, r.stderr
    assert summary(r.stderr)["done"] == 3
    out = tmp_path / "out"
    for f in ("alpha/beta.md", "alpha/gamma.md", "delta/gamma.md", "heatmap-alpha.svg", "heatmap-delta.svg"):
        assert (out / f).is_file(), f
    # the same plan as YAML is the same work: nothing to redo
    (tmp_path / "plan.yaml").write_text("- {source: alpha, target: beta}\n- {source: delta, target: gamma}\n"
                                        "- source: alpha\n  target: 伽马区\n", encoding="utf-8")
    r = cli("batch", "--plan", "plan.yaml", "--cases", cases, "-o", "out")
    assert summary(r.stderr) == {"pairs": 3, "done": 0, "skipped": 3, "failed": 0, "not_run": 0}


@pytest.mark.parametrize("name,text,expected", [
    ("plan.csv", "source,target\nalpha,beta\nalpha,gama\n", r"plan\.csv:3: target: unknown place 'gama'; did you mean 'gamma'"),
    ("plan.csv", "source,target\nalpha,\n", r"plan\.csv:2: target: missing"),
    ("plan.csv", "from,to\nalpha,beta\n", r"plan\.csv:1: source: the header must name"),
    ("plan.csv", "source,target\nbeta,beta\n", r"plan\.csv:2: target: 'beta' is also the source"),
    ("plan.yaml", "- {source: alpha, target: beta}\n- {source: alpha}\n", r"plan\.yaml:2: target: missing"),
    ("plan.yaml", "- {source: alpha, taget: beta}\n", r"plan\.yaml:1: taget: unknown field"),
    ("plan.yaml", "source: alpha\n", r"plan\.yaml:1: the plan must be a list"),
    ("plan.yaml", "- [alpha, beta\n", r"plan\.yaml:\d+: YAML syntax error"),
])
def test_bad_plan_rows_name_file_line_and_field(tmp_path, monkeypatch, name, text, expected):
    # the plan reader in-process; the command's handling of its error is the next test
    from transfer_cli.batch.plan import read_plan
    from transfer_cli.errors import InputError
    from transfer_cli.places.loader import Library
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        read_plan(Path(name), Library([SYNTHETIC]))
    assert re.search("^" + expected, str(err.value), re.M), str(err.value)


def test_a_bad_plan_is_one_line_exit_2_and_nothing_written(tmp_path, cli):
    (tmp_path / "plan.csv").write_text("source,target\nalpha,beta\nalpha,gama\n", encoding="utf-8")
    r = cli("batch", "--plan", "plan.csv", "--cases", SYNTHETIC, "-o", "out")
    assert r.returncode == 2
    assert r.stderr.startswith("error: plan.csv:3: target: unknown place 'gama'; did you mean 'gamma'") and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,expected", [
    (("alpha", "beta"), "-o DIR"),
    (("alpha", "beta", "--all-targets", "-o", "out"), "not both"),
    (("alpha", "-o", "out"), "no targets"),
    (("alpha", "alpha", "-o", "out"), "own target"),
    (("alpha", "beta", "-o", "out", "--format", "pdf"), "'pdf' is not one of 'md', 'json', 'html', 'docx'"),
    (("alpha", "nowhere", "-o", "out"), "unknown place 'nowhere'"),
])
def test_bad_usage_exits_2(cli, args, expected):
    r = cli("batch", *args, "--cases", SYNTHETIC)
    assert r.returncode == 2 and expected in r.stderr, r.stderr


def test_compare_prints_the_matrix_and_writes_nothing(tmp_path, cli):
    r = cli("compare", "alpha", "beta", "gamma", "--cases", SYNTHETIC, "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert "beta" in r.stdout and "gamma" in r.stdout
    m2 = next(line for line in r.stdout.splitlines() if "M2" in line)
    assert "do not transfer 0" in m2  # gamma: hazardous production without land away from homes
    m3 = next(line for line in r.stdout.splitlines() if "M3" in line)
    assert "adapt* 62" in m3  # gamma's industrial land is unknown: conditional
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigint_stops_cleanly_and_a_rerun_completes_without_repeats(tmp_path):
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    ids = write_targets(cases, 400)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_"))}
    proc = subprocess.Popen([TRANSFER, "batch", "alpha", "--all-targets", "--cases", str(cases), "-o", str(out),
                             "--jobs", "2"], stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("alpha/t*.manifest.json"))) < 20:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    first = summary(err)
    assert first["done"] >= 20 and first["not_run"] > 0, err  # stopped mid-batch
    assert "Traceback" not in err
    # nothing half-written: every manifest vouches for a complete memo, no temp files remain
    mans = list(out.glob("alpha/t*.manifest.json"))
    assert len(mans) == first["done"]
    for m in mans:
        assert (out / "alpha" / m.name.replace(".manifest.json", ".md")).stat().st_size > 0
    assert not list(out.rglob("*.tmp"))
    r = run_cli("batch", "alpha", "--all-targets", "--cases", cases, "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    second = summary(r.stderr)
    # no finished pair is repeated, no pair is lost
    everyone = [t for t in library_ids(cases) if t != "alpha"]  # the generated and the bundled places
    assert set(ids) <= set(everyone)
    assert second["skipped"] == first["done"] and second["done"] == len(everyone) - first["done"]
    assert sorted(p.stem for p in out.glob("alpha/*.md")) == sorted(everyone)


# ---- the runner as a library: concurrency, budget, rate limits --------------------------------

class CountingEngine:
    """The offline engine with a per-call latency, usage counters and a price, like an llm engine."""

    calls: list[str] = []
    active = peak = 0
    lock = threading.Lock()

    def __init__(self, latency=0.0, price=0.01, fail_on=()):
        from transfer_cli.pipeline.engines.offline import OfflineEngine
        self._inner, self.latency, self.price, self.fail_on = OfflineEngine(), latency, price, fail_on
        self.name, self.model = "fake", "m"
        self.usage = {"requests": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0.0}

    def _count(self, stage, what):
        cls = CountingEngine
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        time.sleep(self.latency)
        with cls.lock:
            cls.active -= 1
        cls.calls.append(f"{stage}:{what}")
        self.usage["requests"] += 1
        self.usage["tokens_in"] += 100
        self.usage["tokens_out"] += 50
        self.usage["cost"] += self.price
        if what in self.fail_on and stage == "fit":
            from transfer_cli.errors import TransferError
            raise TransferError(f"server error for {what}")

    def extract(self, source, lang):
        self._count("extract", source.id)
        return self._inner.extract(source, lang)

    def fit(self, logic, source, target, *rest):
        self._count("fit", target.id)
        return self._inner.fit(logic, source, target, *rest)

    def actions(self, logic, fit, source, target, lang):
        self._count("actions", target.id)
        return self._inner.actions(logic, fit, source, target, lang)


@pytest.fixture
def many(tmp_path):
    from transfer_cli.batch.plan import Pair
    from transfer_cli.places.loader import Library
    cases = source_dir(tmp_path / "cases", SYNTHETIC)
    ids = write_targets(cases, 12)
    CountingEngine.calls = []
    CountingEngine.peak = 0
    return Library([cases]), [Pair("alpha", t) for t in ids]


def test_concurrent_run_makes_one_extract_and_two_calls_per_target(tmp_path, many):
    from transfer_cli.batch.runner import run_batch
    lib, pairs = many
    res = run_batch(lib, pairs, tmp_path / "out", engine_factory=lambda: CountingEngine(latency=0.05),
                    jobs=6, handle_sigint=False)
    assert res.count("done") == 12
    assert len(CountingEngine.calls) == 1 + 2 * 12
    assert sum(c.startswith("extract") for c in CountingEngine.calls) == 1
    assert res.requests == 25 and res.tokens == 25 * 150 and abs(res.cost - 0.25) < 1e-9
    # the pairs ran side by side, never more than --jobs at once
    assert CountingEngine.peak == 6
    # a pair's record counts its own calls, not its neighbours' (one engine per worker thread)
    for p in pairs:
        man = json.loads((tmp_path / "out" / "alpha" / f"{p.target}.manifest.json").read_text(encoding="utf-8"))
        assert man["usage"] == {"requests": 2, "tokens": 300, "cost": 0.02}


def test_failed_pairs_are_recorded_and_the_rest_go_on(tmp_path, many):
    from transfer_cli.batch.runner import run_batch
    lib, pairs = many
    bad = {pairs[3].target, pairs[7].target}
    res = run_batch(lib, pairs, tmp_path / "out", engine_factory=lambda: CountingEngine(fail_on=bad), jobs=4,
                    handle_sigint=False)
    assert res.count("done") == 10 and {r.pair.target for r in res.failed} == bad
    assert all("server error" in r.error for r in res.failed)
    CountingEngine.calls = []
    res = run_batch(lib, pairs, tmp_path / "out", engine_factory=CountingEngine, jobs=4, handle_sigint=False)
    assert res.count("done") == 2 and res.count("skipped") == 10
    # the logic is reused from disk: only the failed pairs' two stages are requested again
    assert sorted(CountingEngine.calls) == sorted(f"{s}:{t}" for t in bad for s in ("fit", "actions"))


def test_max_cost_stops_before_exceeding(tmp_path, many):
    from transfer_cli.batch.runner import run_batch
    lib, pairs = many
    # extract 0.01 + 0.02 per pair: 0.075 allows exactly 3 pairs (0.07), never a 4th
    res = run_batch(lib, pairs, tmp_path / "out", engine_factory=CountingEngine, jobs=4, max_cost=0.075,
                    handle_sigint=False)
    assert res.count("done") == 3 and res.budget_stopped
    assert res.cost <= 0.075 and res.count("not_run") == 9
    assert all(r.error == "--max-cost reached" for r in res.results if r.status == "not_run")
    # with a pre-flight estimate the batch may go wide at once and still stops in time
    res = run_batch(lib, pairs, tmp_path / "out2", engine_factory=CountingEngine, jobs=4, max_cost=0.1,
                    estimate_pair_cost=lambda pair: 0.02, handle_sigint=False)
    assert res.count("done") == 4 and res.cost <= 0.1


def test_rate_limiter_spaces_requests():
    from transfer_cli.batch.limits import RateLimiter
    now = [0.0]

    def sleep(s):
        now[0] += s
    lim = RateLimiter(rpm=60, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):  # a burst of ten seconds' worth
        lim.acquire()
    assert now[0] == 0.0
    for _ in range(5):
        lim.acquire()
    assert abs(now[0] - 5.0) < 1e-6  # then one per second
    lim = RateLimiter(tpm=6000, clock=lambda: now[0], sleep=sleep)  # 100 tokens/s, bucket of 1000
    start = now[0]
    lim.acquire(tokens=1000)
    lim.settle(tokens=500)  # the reply was longer than estimated
    lim.acquire(tokens=100)
    assert abs(now[0] - start - 6.0) < 1e-6
