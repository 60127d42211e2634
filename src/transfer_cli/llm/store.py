"""SQLite files written by many workers at once: the response cache and the run log.

WAL mode and a busy timeout let batch workers (threads or processes) read and write at once;
each thread has its own connection (sqlite connections must not cross threads).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


def retry(op, attempts: int = 40):
    """Run `op`, retrying SQLite's immediate "database is locked/busy" with a short backoff."""
    for n in range(attempts):
        try:
            return op()
        except sqlite3.OperationalError as e:
            text = str(e)
            if n == attempts - 1 or ("locked" not in text and "busy" not in text):
                raise
            time.sleep(min(0.005 * 2 ** n, 0.25))


class Store:
    SCHEMA = ""  # the tables, created on first use

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA busy_timeout=30000")
            # Switching to WAL and creating tables take locks for which SQLite does not always
            # call the busy handler (several workers opening a fresh file at once): retry them.
            retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
            retry(lambda: db.executescript(self.SCHEMA))
            self._local.db = db
        return db

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        return retry(lambda: self._db().execute(sql, args))
