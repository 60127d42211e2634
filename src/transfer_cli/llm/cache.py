"""The response cache: SQLite in the user cache directory, safe for concurrent writers.

A request's key is the SHA-256 of its endpoint, model, messages, parameters and schema; the
database stores that hash and the reply, never the request text or the key. WAL mode and a
busy timeout let batch workers (threads or processes) read and write at once. The same
database remembers, per endpoint and model, which structured-output mode the server accepted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import threading
import time
from pathlib import Path

from ..paths import cache_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, endpoint TEXT, model TEXT, reply TEXT NOT NULL,
                                      created REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS modes (endpoint TEXT NOT NULL, model TEXT NOT NULL, mode TEXT NOT NULL,
                                  updated REAL NOT NULL, PRIMARY KEY (endpoint, model));
"""


def db_path() -> Path:
    return cache_dir() / "responses.sqlite"


def request_key(endpoint: str, model: str, request: dict) -> str:
    """Hash of what decides the reply. `request` holds messages, params and schema; no secrets."""
    blob = json.dumps({"endpoint": endpoint, "model": model, "request": request}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_ASIDE_LOCK = threading.Lock()


def _busy(e: Exception) -> bool:
    return isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e))


def _retry(op, attempts: int = 40):
    """Run `op`, retrying SQLite's immediate "database is locked/busy" with a short backoff."""
    for n in range(attempts):
        try:
            return op()
        except sqlite3.OperationalError as e:
            text = str(e)
            if n == attempts - 1 or ("locked" not in text and "busy" not in text):
                raise
            time.sleep(min(0.005 * 2 ** n, 0.25))


class Cache:
    def __init__(self, path: Path | None = None, enabled: bool = True):
        self.path = path or db_path()
        self.enabled = enabled
        self._local = threading.local()  # sqlite connections must not cross threads

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._open()
            except (sqlite3.DatabaseError, OSError) as e:
                if _busy(e):
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
            _retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
            _retry(lambda: db.executescript(_SCHEMA))
            db.execute("SELECT key, reply FROM responses LIMIT 1").fetchall()  # a damaged file fails here
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, why: Exception) -> None:
        """Move a damaged database (and its WAL files) out of the way, once, with one warning: a
        cache is rebuilt, never a reason to fail a run or to keep `cache clear` from working."""
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
                print(f"warning: the response cache {self.path} was damaged ({why}); moved it to {moved.name} "
                      "and started a new one", file=sys.stderr)

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return _retry(lambda: self._db().execute(sql, args))
        except sqlite3.DatabaseError as e:  # damage found after opening (a page read mid-run)
            if _busy(e):
                raise
            db = getattr(self._local, "db", None)
            if db is not None:
                db.close()
                self._local.db = None
            self._set_aside(e)
            return _retry(lambda: self._db().execute(sql, args))

    # ---- responses -----------------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        row = self._run("SELECT reply FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        self._run("UPDATE responses SET hits=hits+1 WHERE key=?", (key,))
        try:
            hit = json.loads(row[0])
        except ValueError:  # a damaged entry is a miss
            return None
        return hit if isinstance(hit, dict) and "text" in hit else None

    def put(self, key: str, endpoint: str, model: str, reply: dict) -> None:
        if not self.enabled:
            return
        self._run("INSERT OR REPLACE INTO responses (key, endpoint, model, reply, created) VALUES (?,?,?,?,?)",
                  (key, endpoint, model, json.dumps(reply, ensure_ascii=False), time.time()))

    # ---- what each endpoint accepts (kept even with --no-cache: it is not a reply) ---------
    def mode_for(self, endpoint: str, model: str) -> str | None:
        row = self._run("SELECT mode FROM modes WHERE endpoint=? AND model=?", (endpoint, model)).fetchone()
        return row[0] if row else None

    def remember_mode(self, endpoint: str, model: str, mode: str) -> None:
        self._run("INSERT OR REPLACE INTO modes VALUES (?,?,?,?)", (endpoint, model, mode, time.time()))

    # ---- maintenance ---------------------------------------------------------------------
    def stats(self) -> dict:
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "bytes": 0, "hits": 0, "models": {}, "modes": {}}
        n, hits, first, last = self._run("SELECT COUNT(*), COALESCE(SUM(hits),0), MIN(created), MAX(created) "
                                          "FROM responses").fetchone()
        models = dict(self._run("SELECT endpoint || ' ' || model, COUNT(*) FROM responses GROUP BY 1").fetchall())
        modes = {f"{e} {m}": mode for e, m, mode in self._run("SELECT endpoint, model, mode FROM modes")}
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {"path": str(self.path), "entries": n, "bytes": size, "hits": hits, "oldest": first, "newest": last,
                "models": models, "modes": modes}

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        n = self._run("SELECT COUNT(*) FROM responses").fetchone()[0]
        self._run("DELETE FROM responses")
        self._run("DELETE FROM modes")
        self._run("VACUUM")
        return n
