"""The response cache: SQLite in the user cache directory, safe for concurrent writers.

A request's key is the SHA-256 of its endpoint, model, messages, parameters and schema; the
database stores that hash and the reply, never the request text or the key; batch workers
read and write it at once (store.py). The same database remembers, per endpoint and model,
which structured-output mode the server accepted.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from ..paths import cache_dir
from .store import Store

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


class Cache(Store):
    SCHEMA = _SCHEMA
    PROBE = "SELECT key, reply FROM responses LIMIT 1"
    LABEL = "response cache"

    def __init__(self, path: Path | None = None, enabled: bool = True):
        super().__init__(path or db_path())
        self.enabled = enabled

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
