"""Shared test helpers: the CLI is run as a user runs it, in a subprocess, in temp dirs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SYNTHETIC = DATA / "synthetic"
TRANSFER = shutil.which("transfer", path=str(Path(sys.executable).parent)) or "transfer"
# One cache and one empty config dir for the whole session: no test reads the user's own.
SESSION_DIR = Path(tempfile.mkdtemp(prefix="transfer-tests-"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (browser, large batches, the wheel build): what CI runs")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def run_cli(*args, env: dict | None = None, cwd: Path | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `transfer` command; no API key or model unless the test gives one."""
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("OPENAI_", "TRANSFER_"))}
    full_env.update({"SOURCE_DATE_EPOCH": "1767225600", "NO_COLOR": "1", "COLUMNS": "200",
                     "TRANSFER_CACHE_DIR": str(SESSION_DIR / "cache"),
                     "TRANSFER_CONFIG_DIR": str(SESSION_DIR / "config"),
                     "TRANSFER_DATA_DIR": str(SESSION_DIR / "data")})
    full_env.update(env or {})
    return subprocess.run([TRANSFER, *map(str, args)], capture_output=True, text=True, env=full_env,
                          cwd=cwd, input=input, timeout=timeout)


@pytest.fixture
def cli(tmp_path):
    """run_cli with the working directory in a fresh temp dir."""
    def _run(*args, **kw):
        kw.setdefault("cwd", tmp_path)
        return run_cli(*args, **kw)
    return _run
