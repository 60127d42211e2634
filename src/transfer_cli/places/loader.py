"""Reading place files, with every problem reported as `file:line: field: message`.

A place is `<id>.yaml`, or a folder `<id>/` holding `place.yaml` plus further YAML files whose
lists (notes, mechanisms, negative_lessons) and `sources` mapping are appended to it.
The library is a search path of case directories: user directories first (--cases,
TRANSFER_CASES), the bundled cases last, so a user's place shadows a bundled one with its id.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from . import vocabulary as V
from ..errors import CaseError, InputError
from ..files import set_aside, write_atomic
from ..paths import bundled
from .references import Problem, _fmt_path, check_references
from .schema import COND_TAGS, Place

BUNDLED = bundled("cases")
ENV_CASES = "TRANSFER_CASES"


@dataclass
class Loaded:
    place: Place
    files: list[Path]
    warnings: list[Problem] = field(default_factory=list)
    root: Path | None = None  # the cases directory it came from


def _display(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    return _display_from(str(path), os.getcwd())


@lru_cache(maxsize=4096)
def _display_from(shown: str, cwd: str) -> str:
    # cached: a batch shows the source's files again for every target, and resolving costs an
    # lstat per path component
    path = Path(shown)
    full = path.resolve()
    try:
        return str(full.relative_to(_resolved(cwd)))
    except ValueError:
        bundled = _resolved(str(BUNDLED))
        if full.is_relative_to(bundled):
            return "cases/" + str(full.relative_to(bundled))
        return str(path)


@lru_cache(maxsize=16)
def _resolved(path: str) -> Path:
    # resolving is an lstat per path component; a batch shows thousands of paths against the same two roots
    return Path(path).resolve()


# ---- YAML with positions ------------------------------------------------------------------

def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, dict[tuple, int]]:
    """Parse one YAML file; return the data and a map from field path to 1-based line."""
    from ..inputs import InputProblem, compose_yaml, construct, read_text
    shown = _display(path)
    try:
        text = read_text(path, shown)
        if not text.strip():
            problems.append(Problem(shown, None, "", "the file is empty; a place file is a mapping (see `transfer new`)"))
            return None, {}
        node, loader = compose_yaml(text, shown)
        if node is None:
            loader.dispose()
            problems.append(Problem(shown, None, "", "the file holds only comments; a place file is a mapping (see `transfer new`)"))
            return None, {}
        lines: dict[tuple, int] = {}
        try:
            _walk(node, (), lines, shown, problems)
        except BaseException:
            loader.dispose()
            raise
        return construct(node, loader, shown), lines
    except InputProblem as e:
        problems.append(Problem(e.shown, e.line, "", e.detail))
        return None, {}


def _walk(node, path: tuple, lines: dict, shown: str, problems: list[Problem]) -> None:
    # recursive: compose_yaml bounded the depth and what aliases add
    import yaml
    if node is None:
        return
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            key = k.value
            if key in seen:
                problems.append(Problem(shown, k.start_mark.line + 1, _fmt_path(path + (key,)),
                                        f"duplicate key (first on line {seen[key]})"))
            seen[key] = k.start_mark.line + 1
            lines[path + (key,)] = k.start_mark.line + 1
            _walk(v, path + (key,), lines, shown, problems)
            lines[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, path + (i,), lines, shown, problems)


def _line_for(lines: dict[tuple, int], path: tuple) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


# ---- one place ------------------------------------------------------------------------------

_MERGE_LISTS = ("notes", "mechanisms", "negative_lessons")


def _place_files(path: Path) -> list[Path]:
    if path.is_dir():
        main = path / "place.yaml"
        rest = sorted(p for p in path.glob("*.yaml") if p.name != "place.yaml")
        return [main, *rest]
    return [path]


def file_hashes(files: Iterable[Path], root: Path | None = None) -> dict[str, str]:
    """{shown path: sha256} of a place's files: what a memo's run record and a batch manifest keep.

    With the place's cases directory (`root`), the paths are the memo's: the same from any
    working directory and machine."""
    show = _display if root is None else (lambda f: recorded_path(f, root))
    return {show(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def recorded_path(path: Path, root: Path) -> str:
    """A place file as a memo records it: relative to its cases directory (`cases/...` for the
    bundled library), never an absolute or working-directory path."""
    full = path.resolve()
    for base, prefix in ((_resolved(str(BUNDLED)), "cases/"), (_resolved(str(root)), "")):
        if full.is_relative_to(base):
            return prefix + full.relative_to(base).as_posix()
    return path.name


def _checked_files(path: Path, root: Path | None) -> list[Path]:
    files = _place_files(path)
    if root is not None:
        for f in files:
            if not f.resolve().is_relative_to(root.resolve()):
                problem = Problem(_display(f), None, "", f"path escapes the cases directory {_display(root)}")
                raise CaseError(str(problem), [str(problem)])
    return files


def load_place(path: Path, root: Path | None = None) -> Loaded:
    """Load and fully check one place file (or folder). Raises CaseError listing every problem.

    A place that validated once is kept, pickled, in the user cache under the hash of its
    files' bytes: parsing and validating a 170-note case costs more than the whole analysis.
    """
    files = _checked_files(path, root)
    key = _cache_key(files)
    if key is not None:
        cached = _cache_path(key)
        try:
            loaded = pickle.loads(cached.read_bytes())
            if not isinstance(loaded, Loaded):
                raise TypeError(type(loaded).__name__)
            loaded.files, loaded.root = files, root
            return loaded
        except OSError:
            pass  # not cached yet (or unreadable): parse
        except Exception as e:  # noqa: BLE001 — unpickling damaged bytes can raise almost anything
            set_aside(cached, f"{type(e).__name__}")
    loaded = _load_place(path, files)
    loaded.root = root
    if key is not None:
        try:
            write_atomic(_cache_path(key), pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only cache only costs speed
    return loaded


def read_names(path: Path, root: Path | None = None) -> list[str]:
    """A place's zh and en names and aliases, kept beside its cached pickle: alias lookup and the
    verifier's entity check want every place's names, and unpickling each whole place cost ~25 ms a run."""
    key = _cache_key(_checked_files(path, root))
    if key is not None:
        try:
            names = json.loads(_cache_path(key, ".names").read_text("utf-8"))
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                return names
        except (OSError, ValueError):
            pass
    names = load_place(path, root).place.all_names()
    if key is not None:
        try:
            write_atomic(_cache_path(key, ".names"), json.dumps(names, ensure_ascii=False))
        except OSError:
            pass
    return names


def _cache_key(files: list[Path]) -> str | None:
    from ..inputs import read_bytes
    h = hashlib.sha256(_code_hash())
    try:
        for f in files:
            h.update(f.name.encode() + b"\0" + read_bytes(f) + b"\0")
    except InputError:
        return None  # let the full loader report the missing, special or oversized file
    return h.hexdigest()


@lru_cache(maxsize=1)
def _code_hash() -> bytes:
    # the code that shapes a Place is part of the key: a changed schema never meets an old pickle
    h = hashlib.sha256()
    for name in ("base.py", "logic.py", "schema.py", "vocabulary.py", "loader.py", "references.py"):
        h.update((Path(__file__).parent / name).read_bytes())
    return h.digest()


def _cache_path(key: str, suffix: str = ".pickle") -> Path:
    from ..paths import cache_dir
    return cache_dir() / "places" / f"{key}{suffix}"


def _load_place(path: Path, files: list[Path]) -> Loaded:
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    # origin maps a merged field path to (file, line) so that errors point into the right file
    origin: dict[tuple, tuple[str, int]] = {}
    for f in files:
        shown = _display(f)
        if not f.exists():
            problems.append(Problem(shown, None, "", "missing: a place folder needs a place.yaml"))
            continue
        part, lines = _read_yaml(f, problems)
        if part is None:
            continue
        if not isinstance(part, dict):
            kind = "a list" if isinstance(part, list) else type(part).__name__
            problems.append(Problem(shown, lines.get((), 1), "", f"the file is {kind}; a place file must be a mapping of fields"))
            continue
        offsets = {k: len(data.get(k, [])) for k in _MERGE_LISTS}
        for path_, line in lines.items():
            if path_ and path_[0] in _MERGE_LISTS and len(path_) > 1 and isinstance(path_[1], int):
                path_ = (path_[0], path_[1] + offsets[path_[0]]) + path_[2:]
            origin[path_] = (shown, line)
        if f is files[0]:
            data.update(part)
        else:
            for k, v in part.items():
                if k in _MERGE_LISTS and isinstance(v, list):
                    data.setdefault(k, []).extend(v)
                elif k == "sources" and isinstance(v, dict):
                    data.setdefault("sources", {}).update(v)
                else:
                    problems.append(Problem(shown, lines.get((k,)), k,
                                            "only notes, mechanisms, negative_lessons and sources may live outside place.yaml"))
    if problems:
        raise CaseError(str(problems[0]), [str(p) for p in problems])

    main_shown = _display(files[0])

    def where(loc: tuple) -> tuple[str, int | None]:
        p = loc
        while p:
            if p in origin:
                return origin[p]
            p = p[:-1]
        return origin.get((), (main_shown, 1))

    # a field written with nothing under it (`indicators:` and only commented examples) is empty
    data = {k: v for k, v in data.items() if v is not None or k not in _EMPTY_OK}
    placeholders = [Problem(*where(loc), _fmt_path(loc), f"placeholder not replaced: {value!r}")
                    for loc, value in _placeholders(data)]
    if placeholders:
        raise CaseError(str(placeholders[0]), [str(p) for p in placeholders])

    try:
        place = Place.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # A text field is `str | {zh, en}`: pydantic reports a failure per union member. When the
        # mapping member has something specific to say, the generic "not a string" is noise.
        specific = [_clean_loc(x["loc"]) for x in errors if "str" not in x["loc"]]
        for err in errors:
            loc = _clean_loc(err["loc"])
            if "str" in err["loc"] and any(o[:len(loc)] == loc for o in specific):
                continue
            shown, line = where(loc)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required field is missing"
            elif err["type"] == "extra_forbidden":
                model_fields = _fields_at(loc)
                hint = V.nearest(str(loc[-1]), model_fields) if model_fields else None
                msg = "unknown field" + (f"; did you mean '{hint}'?" if hint else "")
            problems.append(Problem(shown, line, _fmt_path(loc), msg))
        raise CaseError(str(problems[0]), [str(p) for p in problems])

    expected = path.stem if path.is_file() else path.name
    if place.id != expected:
        shown, line = where(("id",))
        problems.append(Problem(shown, line, "id", f"id '{place.id}' must match the file name '{expected}'"))
    warnings: list[Problem] = []
    check_references(place, where, problems, warnings)
    if problems:
        raise CaseError(str(problems[0]), [str(p) for p in problems])
    return Loaded(place, files, warnings)


# top-level fields that have a default: written as `field:` with nothing under it, they are empty
_EMPTY_OK = ("aliases", "indicators", "industries", "assets", "absences", "challenges", "goals", "institutions",
             "policies", "powers", "exchange_rates", "phases", "notes", "mechanisms", "negative_lessons")


def _placeholders(value, loc: tuple = ()):
    """(location, text) of every `TODO …` value left from `transfer new` or `transfer ingest`:
    such a file is unfinished, and analysing it would print the placeholder as a fact."""
    if isinstance(value, str):
        if value.lstrip().startswith("TODO"):
            yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _placeholders(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _placeholders(v, loc + (i,))


def _is_member(part) -> bool:
    """A union-member label pydantic puts in an error location, not a field name."""
    return isinstance(part, str) and (part in COND_TAGS or part in ("str", "int", "float")
                                      or part.startswith("function-after[") or part == "Bilingual")


def _clean_loc(loc: tuple) -> tuple:
    return tuple(x for x in loc if not _is_member(x))


def _fields_at(loc: tuple) -> list[str]:
    """Field names of the model at `loc`, for 'did you mean' on unknown fields."""
    from . import schema as S
    model: Any = S.Place
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        f = getattr(model, "model_fields", {}).get(part)
        if f is None:
            return []
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and hasattr(a, "model_fields")), None)
    return list(getattr(model, "model_fields", {}).keys()) if model else []


# ---- the library ----------------------------------------------------------------------------

def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "-")


def places_in(directory: Path) -> dict[str, Path]:
    """id -> place file or folder of a cases directory."""
    found: dict[str, Path] = {}
    for p in sorted(directory.iterdir()):
        if p.name.startswith((".", "_")):
            continue
        pid = p.stem if p.is_file() and p.suffix in (".yaml", ".yml") else (p.name if p.is_dir() else None)
        if pid:
            found.setdefault(pid, p)
    return found


def validation_targets(paths: Iterable[Path]) -> list[tuple[Path, Path | None]]:
    """(place file or folder, its cases dir) for each path given to `transfer validate`: a folder
    holding place.yaml is one place; any other folder is a cases directory, each place in it."""
    out: list[tuple[Path, Path | None]] = []
    for p in paths:
        if p.is_dir() and not (p / "place.yaml").exists():
            found = places_in(p)
            if not found:
                raise InputError(f"{p}: no place files (ID.yaml or ID/place.yaml) in this folder")
            out += [(f, p) for f in found.values()]
        else:
            out.append((p, None))
    return out


class Library:
    """The places visible to this run, found by id or alias."""

    def __init__(self, user_dirs: Iterable[Path] | None = None):
        dirs = list(user_dirs or [])
        env = os.environ.get(ENV_CASES)
        if env:
            dirs += [Path(p) for p in env.split(os.pathsep) if p]
        for d in dirs:
            if not d.is_dir():
                raise InputError(f"cases directory not found: {d}")
        self.dirs: list[Path] = [*dirs, BUNDLED]
        self._paths: dict[str, tuple[Path, Path]] | None = None
        self._cache: dict[str, Loaded] = {}

    def paths(self) -> dict[str, tuple[Path, Path]]:
        """id -> (file or folder, its cases dir); the first directory holding an id wins."""
        if self._paths is None:
            found: dict[str, tuple[Path, Path]] = {}
            for d in self.dirs:
                for pid, p in places_in(d).items():
                    found.setdefault(pid, (p, d))
            self._paths = found
        return self._paths

    def load(self, place_id: str) -> Loaded:
        if place_id not in self._cache:
            path, root = self.paths()[place_id]
            self._cache[place_id] = load_place(path, root)
        return self._cache[place_id]

    def names(self, place_id: str) -> list[str]:
        """zh, en and aliases of a place (see `read_names`)."""
        if place_id in self._cache:
            return self._cache[place_id].place.all_names()
        return read_names(*self.paths()[place_id])

    def completions(self, prefix: str) -> list[str]:
        """Ids and names starting with `prefix` (any case), ids first: shell completion."""
        key = _norm(prefix)
        ids = [pid for pid in self.paths() if pid.startswith(key)]
        names = []
        for pid in self.paths():
            try:
                names += [n for n in self.names(pid) if _norm(n).startswith(key) and _norm(n) != pid]
            except CaseError:
                continue
        return list(dict.fromkeys(ids + names))

    def resolve(self, name: str) -> Place:
        """A place by id, alias or name (zh or en, any case)."""
        return self.load(self.resolve_id(name)).place

    def resolve_id(self, name: str) -> str:
        paths = self.paths()
        key = _norm(name)
        if key in paths:
            return key
        names: dict[str, str] = {}
        for pid in paths:
            try:
                for n in self.names(pid):
                    names.setdefault(_norm(n), pid)
            except CaseError:
                continue  # a broken file cannot answer to an alias; `validate` reports it
        if key in names:
            return names[key]
        hints = difflib.get_close_matches(key, list(paths) + list(names), n=3, cutoff=0.4)
        hints = list(dict.fromkeys(names.get(h, h) for h in hints))
        msg = f"unknown place '{name}'"
        msg += f"; did you mean {', '.join(repr(h) for h in hints)}?" if hints else "; see `transfer cases`"
        raise InputError(msg)


def complete_place(incomplete: str) -> list[str]:
    """Shell completion of a place argument: the library's ids and names (TRANSFER_CASES included)."""
    try:
        return Library().completions(incomplete)
    except Exception:  # a completion must never print a traceback into the user's shell
        return []
