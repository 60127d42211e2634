"""SQLite files written by many workers at once: the response cache and the run log.

WAL mode and a busy timeout let batch workers (threads or processes) read and write at once;
each thread has its own connection (sqlite connections must not cross threads). A damaged file
is moved aside once with one warning and a new one started: a cache or a log is rebuilt, never a
reason to fail a run or to keep `cache clear` from working.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

_ASIDE_LOCK = threading.Lock()


def busy(e: Exception) -> bool:
    return isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e))


def retry(op, attempts: int = 40):
    """Run `op`, retrying SQLite's immediate "database is locked/busy" with a short backoff."""
    for n in range(attempts):
        try:
            return op()
        except sqlite3.OperationalError as e:
            if n == attempts - 1 or not busy(e):
                raise
            time.sleep(min(0.005 * 2 ** n, 0.25))


class Store:
    SCHEMA = ""  # the tables, created on first use
    PROBE = ""  # a query that reads a page of the main table: a damaged file fails here
    LABEL = "database"  # what the warning calls it

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._open()
            except (sqlite3.DatabaseError, OSError) as e:
                if busy(e):
                    raise
                self._set_aside(e)
                db = self._open()
            self._local.db = db
        return db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            # Switching to WAL and creating tables take locks for which SQLite does not always
            # call the busy handler (several workers opening a fresh file at once): retry them.
            retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
            retry(lambda: db.executescript(self.SCHEMA))
            if self.PROBE:
                db.execute(self.PROBE).fetchall()
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, why: Exception) -> None:
        with _ASIDE_LOCK:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            moved = None
            for suffix in ("", "-wal", "-shm"):
                p = self.path.with_name(self.path.name + suffix)
                if p.exists() or p.is_symlink():
                    dest = p.with_name(f"{self.path.name}.damaged-{stamp}{suffix}")
                    try:
                        p.rename(dest)
                    except OSError:
                        continue
                    moved = moved or dest
            if moved is not None:
                print(f"warning: the {self.LABEL} {self.path} was damaged ({why}); moved it to {moved.name} "
                      "and started a new one", file=sys.stderr)

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return retry(lambda: self._db().execute(sql, args))
        except sqlite3.DatabaseError as e:  # damage found after opening (a page read mid-run)
            if busy(e):
                raise
            db = getattr(self._local, "db", None)
            if db is not None:
                db.close()
                self._local.db = None
            self._set_aside(e)
            return retry(lambda: self._db().execute(sql, args))
