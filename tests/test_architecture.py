"""The package's shape (no import cycles, no module over 500 lines, a core without typer or rich)
and the repository's (the design card's top level, CI running what README says)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "transfer_cli"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    """Every module of the package that module `name` imports, at the top or inside a function.

    `from X import y` counts as an import of X.y when that is a module, else of X."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                mod = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = {f"{mod}.{a.name}" for a in node.names} & known
            found |= subs or {mod}
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", set(mods))
            for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), [] when there is none."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in g[v]:
                out.append(sorted(group))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_checker_sees_imports_inside_functions_and_finds_their_cycles():
    known = {"p", "p.a", "p.b", "p.sub", "p.sub.c"}
    source = "from . import b\n\ndef f():\n    from .sub import c\n    from .. import a as A\n    from . import x\n"
    assert imports(source, "p.sub.c", False, known) == {"p.sub", "p.a"}  # x is no module: its package
    assert imports(source, "p.a", False, known) == {"p", "p.b", "p.sub.c"}
    g = {"p.a": {"p.b"}, "p.b": {"p.sub.c"}, "p.sub.c": set()}
    assert cycles(g) == []
    g["p.sub.c"] = {"p.a"}
    assert cycles(g) == [["p.a", "p.b", "p.sub.c"]]


def test_no_import_cycles():
    g = graph()
    assert len(g) > 30 and "transfer_cli.pipeline.stages" in g
    assert "transfer_cli.verify.report" in g["transfer_cli.pipeline.stages"]
    assert cycles(g) == []


def test_no_module_over_500_lines():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


CORE_WITHOUT_CLI_LIBRARIES = """
import sys
sys.modules["typer"] = None  # an import of either now fails
sys.modules["rich"] = None
from transfer_cli.places.loader import Library
from transfer_cli.pipeline.engines.offline import OfflineEngine
from transfer_cli.pipeline.stages import analyze
from transfer_cli.render import render
lib = Library()
memo = analyze(OfflineEngine(), lib.load("liling"), lib.load("jinjiang"), "zh")
sys.stdout.write(render(memo, lib.load("liling").place, lib.load("jinjiang").place, "md"))
"""


def test_the_core_runs_without_typer_and_rich(tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1767225600", "TRANSFER_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", CORE_WITHOUT_CLI_LIBRARIES], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (ROOT / "tests" / "golden" / "liling-jinjiang.zh.md").read_text(encoding="utf-8")


# ---- the repository -----------------------------------------------------------------------------

def test_the_top_level_is_the_design_cards_layout():
    try:
        tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    top = {line.split("/")[0] for line in tracked.splitlines()}
    assert top == {"pyproject.toml", "README.md", "prompts", "src", "cases", "tests",  # the design card
                   "docs", "bench", ".ci", ".gitignore"}


def test_ci_runs_exactly_the_readmes_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(block) == 2 and block[1].endswith("pytest --run-slow")
    commands = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
                if line.startswith(".venv/") or line.startswith("python3 -m venv")]
    assert [c.removesuffix(" > /dev/null") for c in commands] == block


def test_every_code_folder_is_a_listed_package():
    """The package list in pyproject.toml is explicit (the data folders are mapped in by name); a new
    code folder left out of it installs in editable mode and is missing from the wheel."""
    import tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert folders - listed == set()


def test_every_memo_label_is_used():
    """A label no code asks for is a sentence no memo prints: left over from a renderer that changed."""
    import re
    from transfer_cli.pipeline.i18n import LABELS
    pkg = ROOT / "src" / "transfer_cli"
    code = "\n".join(p.read_text(encoding="utf-8") for p in [*pkg.rglob("*.py"), *(pkg / "templates").glob("*.j2")]
                     if p.parent.name != "i18n" or p.name == "__init__.py" or p.name == "terms.py")
    built = set(re.findall(r"""f["']([a-z]+_)\{""", code))  # keys built as f"{prefix}{value}"
    assert built, "the pattern for built keys no longer matches the code"
    words = set(re.findall(r"\w+", code))
    unused = [k for k in LABELS["en"] if k not in words and not k.startswith(tuple(built))]
    assert not unused, unused
