"""How each file in tests/data/malformed/ is run: the command a user would type for its kind."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DATA, SYNTHETIC

MALFORMED = DATA / "malformed"
EXPECTED = MALFORMED / "expected.toml"


def command(name: str, tmp: Path) -> tuple[list[str], dict[str, str], str]:
    """(arguments, extra environment, the file as the error names it) for one corpus file, with
    what it needs copied into `tmp` (the working directory): the file itself and a cases dir."""
    cases = tmp / "cases"
    if not cases.exists():
        cases.mkdir()
        for place in ("alpha.yaml", "beta.yaml"):
            shutil.copy(SYNTHETIC / place, cases / place)
    env: dict[str, str] = {}
    if name.startswith("config-"):
        # the project config file of the working directory, named with its full path
        shutil.copy(MALFORMED / name, tmp / "transfer.toml")
        return ["analyze", "alpha", "beta", "--cases", "cases", "--provider", "x"], env, str(tmp / "transfer.toml")
    shutil.copy(MALFORMED / name, tmp / name)
    if name.startswith("plan-"):
        return ["batch", "--plan", name, "-o", "out", "--cases", "cases"], env, name
    if name.startswith("logic-"):
        return ["analyze", "alpha", "beta", "--cases", "cases", "--logic", name], env, name
    if name.startswith("memo-"):
        return ["check", name, "--cases", "cases"], env, name
    if name == "oversize.yaml":
        env["TRANSFER_MAX_INPUT_MB"] = "0.002"
    return ["validate", name], env, name
