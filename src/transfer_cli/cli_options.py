"""The command line's shared option and argument types (cli.py and cli_model.py use them).

Options with fixed values are Literal types: typer lists the values in --help and refuses others.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

CasesOpt = Annotated[Optional[List[Path]], typer.Option(
    "--cases", metavar="DIR", help="Extra case directory (repeatable; also TRANSFER_CASES). Its places shadow bundled ones.")]
Lang = Literal["zh", "en"]
Format = Literal["md", "json", "html", "docx"]  # render.FORMATS
FormatItem = Enum("FormatItem", {f: f for f in ("md", "json", "html", "docx")}, type=str)  # typer takes no List[Literal]
LangOpt = Annotated[Optional[Lang], typer.Option("--lang", help="Memo language (default: the source's).")]
# model options (analyze, extract): resolved flags > environment > config file (see llm/config.py)
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Model name; selects the llm engine (also TRANSFER_MODEL).")]
BaseUrlOpt = Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (also OPENAI_BASE_URL).")]
ProviderOpt = Annotated[Optional[str], typer.Option("--provider", help="A [providers.NAME] profile from the config file.")]
PromptsOpt = Annotated[Optional[Path], typer.Option("--prompts", help="Directory of prompt templates overriding the bundled ones.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the rendered prompts, tokens per stage and estimated cost; send nothing.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")]
NoLogOpt = Annotated[bool, typer.Option("--no-log", help="Do not record the model's requests in the run log (`transfer logs`).")]
EngineOpt = Annotated[Optional[Literal["offline", "llm"]], typer.Option("--engine", help="Default: llm when a model is configured.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of the table.")]


def _complete_place(incomplete: str) -> list[str]:
    from .places.loader import complete_place  # only when completing: the loader costs ~0.3 s to import
    return complete_place(incomplete)


def Place(help: str):
    """A place argument; the shell completes it with the library's ids and aliases."""
    return typer.Argument(help=help, autocompletion=_complete_place)


TargetsArg = Annotated[Optional[List[str]], Place("Target places (or --all-targets).")]
AllTargetsOpt = Annotated[bool, typer.Option("--all-targets", help="Every place in the library except the source.")]
