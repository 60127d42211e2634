"""Errors the CLI turns into one clear line and an exit code (2: bad input, 1: failed work)."""

from __future__ import annotations


class TransferError(Exception):
    """Work that failed (model server down, a stage that could not complete): exit 1."""
    exit_code = 1


class InputError(TransferError):
    """Bad usage or bad input: exit 2. Each entry of `problems` is one printable line."""
    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class CaseError(InputError):
    """One or more problems in a place file, each naming file, line and field."""


def field_name(part) -> str:
    """A key as a path shows it: quoted when it holds spaces or control characters (a key in a
    damaged file can), so an error stays one readable line."""
    text = str(part)
    if text and text.isprintable() and not any(c.isspace() for c in text):
        return text
    import json
    return json.dumps(text, ensure_ascii=False)


def field_path(loc) -> str:
    """A pydantic error location as a file's field path (`mechanisms[0].support_factors[1].kind`).

    Union-member labels pydantic puts in a location (IndicatorCond, function-after[...]) are not
    fields a user can find in the file: they are left out (field names are lower-case)."""
    out = ""
    for p in loc:
        if isinstance(p, str) and (p[:1].isupper() or "[" in p):
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{field_name(p)}" if out else field_name(p))
    return out


def validation_problems(prefix: str, error, sep: str = ": ") -> list[str]:
    """One line per problem of a pydantic ValidationError: `prefix: field: message` (sep "." when
    the prefix is itself a field path the location continues)."""
    return [f"{prefix}{sep}{field_path(err['loc']) or 'the file'}: {err['msg'].removeprefix('Value error, ')}"
            for err in error.errors()]


class Pending(Exception):
    """Not an error: work waiting on model replies that are not in yet (a Batch API job's).

    `lines` are the requests it waits on; the batch runner submits them and runs the work again
    once they are answered. Nothing is written for work that ends Pending."""

    def __init__(self, lines: list):
        super().__init__(f"{len(lines)} request(s) waiting on a Batch API job")
        self.lines = lines
