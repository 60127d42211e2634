"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file owner-only; a memo is meant to be shared, so honour the umask
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask, read without changing it where the system allows: os.umask can only
    read it by setting it, and for that instant a file another thread creates would get the
    temporary mask (batch workers write files concurrently)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # elsewhere: the strictest mask for that instant, never a looser one
    os.umask(mask)
    return mask


def write_output(path: Path, data: str | bytes) -> None:
    """Write a file the user named (-o, --dir): atomically, and a path that cannot be written
    (a directory, a missing or read-only folder) is an InputError naming it, with nothing left behind."""
    from .errors import InputError
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        write_atomic(path, data)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}")


def set_aside(path: Path, why: str) -> None:
    """Move a damaged cache or state file out of the way (to NAME.damaged) with one warning line."""
    import sys
    try:
        os.replace(path, Path(path).with_name(Path(path).name + ".damaged"))
        print(f"warning: {path}: damaged ({why}); moved aside to {Path(path).name}.damaged and rebuilt", file=sys.stderr)
    except OSError:
        print(f"warning: {path}: damaged ({why}); ignored", file=sys.stderr)
