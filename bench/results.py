"""What every bench script does with its Markdown block: print it, and with --append add it to RESULTS.md."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def emit(block: str, append: bool) -> None:
    print(block)
    if append:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write("\n" + block)
