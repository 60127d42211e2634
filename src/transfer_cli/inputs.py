"""Reading what a user hands us — place files, plans, --logic JSON, memos — within bounds.

One place for every input path, so each gets the same limits and the same one-line errors:
regular files only (a FIFO or a device would block or never end), a size limit
(`--max-input-mb`, also TRANSFER_MAX_INPUT_MB), UTF-8 text; YAML without alias expansion beyond
a small budget, recursive aliases or complex keys; JSON without NaN or infinity; both nested at
most MAX_DEPTH deep. Each problem is an InputError whose message starts `file:line: `.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from .errors import InputError

ENV_MAX_MB = "TRANSFER_MAX_INPUT_MB"
DEFAULT_MAX_MB = 10.0     # the largest bundled place is under 0.1 MB
MAX_DEPTH = 64            # deeper than any place, plan or CaseLogic needs; far below Python's recursion limit
ALIAS_BUDGET = 10_000     # values aliases may add beyond the file's length (a 1 KB "billion laughs" adds 10^9)


class InputProblem(InputError):
    """A problem at a place in a file: `shown:line: message` (line may be unknown)."""

    def __init__(self, shown: str, line: int | None, message: str):
        self.shown, self.line, self.detail = shown, line, message
        super().__init__(f"{shown}:{line}: {message}" if line else f"{shown}: {message}")


def max_bytes() -> int:
    raw = os.environ.get(ENV_MAX_MB) or ""
    try:
        mb = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        raise InputError(f"{ENV_MAX_MB} must be a number of megabytes, not '{raw}'")
    if not mb > 0 or math.isinf(mb):
        raise InputError(f"{ENV_MAX_MB} must be a positive number of megabytes, not '{raw}'")
    return int(mb * 1_000_000)


def check_file(path: Path, shown: str | None = None) -> int:
    """The size limit in bytes, after refusing what is not a regular file or is over it (for
    readers that open the file themselves, as the PDF and Word libraries do)."""
    shown = shown or str(path)
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputProblem(shown, None, f"cannot read: {e.strerror or e}")
    if stat.S_ISDIR(st.st_mode):
        raise InputProblem(shown, None, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputProblem(shown, None, "not a regular file (a pipe, socket or device); give a file")
    limit = max_bytes()
    if st.st_size > limit:
        raise InputProblem(shown, None, f"the file is {st.st_size / 1e6:.3g} MB, over the {limit / 1e6:g} MB "
                                        "input limit; raise it with --max-input-mb")
    return limit


def read_bytes(path: Path, shown: str | None = None) -> bytes:
    """A regular file's bytes, refusing other kinds of file and files over the size limit."""
    shown = shown or str(path)
    limit = check_file(path, shown)
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the stat, open does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise InputProblem(shown, None, "not a regular file (a pipe, socket or device); give a file")
            data = f.read(limit + 1)
    except OSError as e:
        raise InputProblem(shown, None, f"cannot read: {e.strerror or e}")
    if len(data) > limit:
        raise InputProblem(shown, None, f"over the {limit / 1e6:g} MB input limit; raise it with --max-input-mb")
    return data


def read_text(path: Path, shown: str | None = None, encoding: str = "utf-8") -> str:
    """read_bytes, decoded; a byte that is not UTF-8 is reported with its line."""
    shown = shown or str(path)
    raw = read_bytes(path, shown)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputProblem(shown, line, f"not UTF-8 text (byte {e.start}); save the file as UTF-8")


# ---- YAML -----------------------------------------------------------------------------------

def compose_yaml(text: str, shown: str):
    """The YAML node graph of one document, checked; with a loader to construct it from.

    Returns (node, loader); call `construct(node, loader, shown)` for the data. Raises InputProblem.
    """
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when present: 10x faster
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        loader.dispose()
        mark = e.problem_mark or e.context_mark
        msg = " ".join(x for x in (e.context, e.problem) if x)
        raise InputProblem(shown, mark.line + 1 if mark else None, f"YAML syntax error: {msg}")
    except yaml.reader.ReaderError as e:
        loader.dispose()
        line = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise InputProblem(shown, line, f"character {char} is not allowed in YAML ({e.reason})")
    except yaml.YAMLError as e:
        loader.dispose()
        raise InputProblem(shown, None, f"YAML error: {' '.join(str(e).split())}")
    except RecursionError:
        loader.dispose()
        raise InputProblem(shown, None, f"nested more than {MAX_DEPTH} levels deep")
    if node is not None:
        try:
            check_nodes(node, shown, budget=len(text))
        except InputProblem:
            loader.dispose()
            raise
    return node, loader


def construct(node, loader, shown: str) -> Any:
    import yaml
    try:
        return loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise InputProblem(shown, mark.line + 1 if mark else None,
                           f"YAML error: {' '.join(x for x in (e.context, e.problem) if x)}")
    finally:
        loader.dispose()


def load_yaml(text: str, shown: str) -> Any:
    """The data of one YAML document, checked as compose_yaml does."""
    node, loader = compose_yaml(text, shown)
    return construct(node, loader, shown)


def check_nodes(root, shown: str, budget: int = 0) -> None:
    """Refuse what would make reading the graph unbounded or ambiguous: nesting deeper than
    MAX_DEPTH, aliases that refer to themselves or expand the document to more values than
    `budget` + ALIAS_BUDGET (a file's length: an expansion linear in what was read), and keys that
    are lists or mappings. Linear in the distinct nodes: an alias's size is counted once."""
    import yaml
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    sizes: dict[int, int] = {}  # id(collection node) -> values in its expanded tree; -1 while inside it

    def visit(node, depth: int) -> int:
        if node.__class__ is scalar:
            return 1
        if depth > MAX_DEPTH:
            raise InputProblem(shown, node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
        nid = id(node)
        known = sizes.get(nid)
        if known is not None:
            if known < 0:
                raise InputProblem(shown, node.start_mark.line + 1, "an alias refers to the node that contains it")
            return known
        sizes[nid] = -1
        total = 1
        if node.__class__ is mapping:
            for k, v in node.value:
                if k.__class__ is not scalar:
                    raise InputProblem(shown, k.start_mark.line + 1,
                                       "a key must be a plain value, not a list or mapping")
                total += 1 + visit(v, depth + 1)
        else:
            for v in node.value:
                total += visit(v, depth + 1)
        sizes[nid] = total
        return total

    total = visit(root, 1)
    if total > budget + ALIAS_BUDGET:
        raise InputProblem(shown, None, f"aliases expand the file to {total:,} values (limit {budget + ALIAS_BUDGET:,}); "
                                        "write the values out")


# ---- JSON -----------------------------------------------------------------------------------

def load_json(text: str, shown: str, hint: str = "") -> Any:
    """JSON data with NaN/Infinity refused and nesting bounded."""
    def no_constant(name):
        raise ValueError(f"{name} is not a number JSON allows")

    def finite(s: str) -> float:
        x = float(s)
        if math.isinf(x):
            raise ValueError(f"{s} is too large a number")
        return x
    try:
        data = json.loads(text, parse_constant=no_constant, parse_float=finite)
    except json.JSONDecodeError as e:
        raise InputProblem(shown, e.lineno, f"not valid JSON ({e.msg}){'; ' + hint if hint else ''}")
    except ValueError as e:
        raise InputProblem(shown, None, f"not valid JSON: {e}")
    except RecursionError:
        raise InputProblem(shown, None, f"nested more than {MAX_DEPTH} levels deep")
    if _json_depth(data) > MAX_DEPTH:
        raise InputProblem(shown, None, f"nested more than {MAX_DEPTH} levels deep")
    return data


def _json_depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (dict, list)):
            deepest = max(deepest, d)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((v, d + 1) for v in (x.values() if isinstance(x, dict) else x))
    return deepest


def read_json(path: Path, hint: str = "", shown: str | None = None) -> Any:
    """A JSON file's data, or an InputError naming the file (and line) in one line."""
    shown = shown or str(path)
    return load_json(read_text(path, shown), shown, hint)
