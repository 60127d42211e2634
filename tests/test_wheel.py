"""The package as a user installs it: the wheel and sdist built from the repository hold every case
file, prompt and module, and the wheel installed elsewhere gives the memo the repository gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

DATA = sorted(str(p.relative_to(ROOT)) for d in ("cases", "prompts") for p in (ROOT / d).rglob("*")
              if p.is_file() and p.suffix in (".yaml", ".j2"))
MODULES = sorted(str(p.relative_to(ROOT / "src")) for p in (ROOT / "src" / "transfer_cli").rglob("*.py"))


def env_for(tmp: Path) -> dict:
    """A user's environment: nothing of the repository on the path, our own cache and config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TRANSFER_", "PYTHON"))}
    env.update(SOURCE_DATE_EPOCH="1767225600", NO_COLOR="1", TRANSFER_CACHE_DIR=str(tmp / "cache"),
               TRANSFER_CONFIG_DIR=str(tmp / "config"))
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel, sdist), built by `python -m build` from a copy of the repository (so the build leaves
    nothing in it): the sdist first, then the wheel from the sdist, as PyPA's build does."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "repo"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build",
                                                             "dist", ".pytest_cache", ".hypothesis", "out"))
    r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return next((tmp / "dist").glob("*.whl")), next((tmp / "dist").glob("*.tar.gz"))


def test_the_wheel_and_the_sdist_hold_every_case_file_prompt_and_module(built):
    wheel, sdist = built
    assert len(DATA) >= 15 and any(f.startswith("cases/liling/") for f in DATA)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [f for f in DATA if f"transfer_cli/{f}" not in names] == []
    assert [m for m in MODULES if m not in names] == []
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        inside = {n.removeprefix(top + "/") for n in tar.getnames()}
    assert [f for f in DATA + ["pyproject.toml", "README.md"] if f not in inside] == []
    assert [m for m in MODULES if f"src/{m}" not in inside] == []


def test_the_installed_wheel_works_from_anywhere_and_writes_the_repositorys_memo(built, tmp_path):
    wheel, _ = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    vpy = venv / "bin" / "python"
    # the wheel alone, by this environment's pip; its dependencies are this environment's (a .pth
    # line adds their folder without running the .pth files there, so the editable install stays out)
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "-q", "--no-deps", str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    site = Path(subprocess.check_output([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = env_for(tmp_path)

    where = subprocess.run([str(vpy), "-c", "import transfer_cli, importlib.resources as r; "
                            "print(transfer_cli.__file__); print(r.files('transfer_cli.cases'))"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.splitlines()), where.stdout

    transfer = venv / "bin" / "transfer"
    r = subprocess.run([str(transfer), "validate"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    assert r.returncode == 0 and "7 valid, 0 invalid" in r.stderr, r.stderr
    r = subprocess.run([str(transfer), "prompts"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(list((ROOT / "prompts").glob("*.j2"))), r.stdout + r.stderr
    assert all("\tbundled\t" in line for line in lines)
    r = subprocess.run([str(transfer), "analyze", "liling", "jinjiang", "--full"], capture_output=True, cwd=elsewhere, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    mine = run_cli("analyze", "liling", "jinjiang", "--full", cwd=tmp_path)  # the repository's editable install
    assert mine.returncode == 0 and r.stdout.decode("utf-8") == mine.stdout
