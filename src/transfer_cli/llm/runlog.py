"""The run log: every model request and its reply, in SQLite in the user data directory.

The cache keeps hashed replies only; this log keeps what was sent and what came back, so an
analyst can show a reviewer the prompt and the answer behind a memo (as `llm logs` does). One
row per request the client makes — a reply served from the cache too, marked as such — tagged
with the run id (one per process: a batch is one run), the stage and the pair. The API key is
redacted from every text before it is written. `--no-log`, or `log = false` in the config
file, turns it off.

The engine opens a scope (`RunLog.scope`) around each stage; the client's call path goes
through `logged`, which records the request when a scope is open on the calling thread and is
a plain call otherwise (doctor's probe, a disabled log).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import Pending
from ..paths import data_dir
from .store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, created REAL NOT NULL,
  stage TEXT, source TEXT, target TEXT, model TEXT, endpoint TEXT, mode TEXT,
  prompt TEXT NOT NULL, params TEXT, reply TEXT, finish_reason TEXT, error TEXT,
  tokens_in INTEGER, tokens_out INTEGER, cost REAL, seconds REAL, cached INTEGER NOT NULL, attempts INTEGER);
CREATE INDEX IF NOT EXISTS requests_run ON requests (run_id);
CREATE INDEX IF NOT EXISTS requests_pair ON requests (source, target);
"""
COLUMNS = ("id", "run_id", "created", "stage", "source", "target", "model", "endpoint", "mode", "prompt", "params",
           "reply", "finish_reason", "error", "tokens_in", "tokens_out", "cost", "seconds", "cached", "attempts")

_RUN_ID: list[str] = []
_SCOPE: ContextVar["Scope | None"] = ContextVar("transfer_runlog_scope", default=None)


def db_path() -> Path:
    return data_dir() / "logs.sqlite"


def run_id() -> str:
    """This process's run id: the UTC start time (sortable) and six random hex digits."""
    if not _RUN_ID:
        _RUN_ID.append(datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3))
    return _RUN_ID[0]


@dataclass
class Scope:
    log: "RunLog"
    stage: str
    source: str | None
    target: str | None


class RunLog(Store):
    SCHEMA = _SCHEMA
    PROBE = "SELECT id, prompt FROM requests LIMIT 1"
    LABEL = "run log"

    def __init__(self, path: Path | None = None):
        super().__init__(path or db_path())
        self._warned = False

    @contextmanager
    def scope(self, stage: str, source: str | None, target: str | None = None):
        """Requests made on this thread inside the block are logged under this stage and pair."""
        token = _SCOPE.set(Scope(self, stage, source, target))
        try:
            yield
        finally:
            _SCOPE.reset(token)

    def add(self, row: dict) -> None:
        cols = [c for c in COLUMNS if c in row]
        self._run(f"INSERT INTO requests ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                  tuple(row[c] for c in cols))

    # ---- reading -------------------------------------------------------------------------
    def runs(self, limit: int) -> list[dict]:
        """The latest runs, newest first: id, start, pairs, requests, cache hits, tokens, cost."""
        if not self.path.exists():
            return []
        rows = self._run(
            "SELECT run_id, MIN(created), COUNT(*), SUM(cached), SUM(tokens_in), SUM(tokens_out), "
            "SUM(cost), COUNT(cost), GROUP_CONCAT(DISTINCT model), "
            "GROUP_CONCAT(DISTINCT COALESCE(source, '') || ' ' || COALESCE(target, '')) "
            "FROM requests GROUP BY run_id ORDER BY MIN(id) DESC LIMIT ?", (limit,)).fetchall()
        out = []
        for rid, start, n, cached, t_in, t_out, cost, priced, models, pairs in rows:
            out.append({"run_id": rid, "started": _stamp(start), "requests": n, "cached": cached,
                        "tokens_in": t_in or 0, "tokens_out": t_out or 0,
                        "cost": cost if priced == n else None, "models": sorted((models or "").split(",")),
                        "pairs": sorted({_pair(p) for p in (pairs or "").split(",") if p.strip()})})
        return out

    def entries(self, run: str | None = None, pair: tuple[str, str] | None = None, limit: int | None = None) -> list[dict]:
        """Requests in the order they were made (the last `limit` of them); `run` may be an id's prefix."""
        if not self.path.exists():
            return []
        where, args = [], []
        if run:
            where.append("run_id LIKE ?")
            args.append(run.replace("%", "").replace("_", "") + "%")
        if pair:
            where.append("source = ? AND target = ?")
            args.extend(pair)
        sql = f"SELECT {', '.join(COLUMNS)} FROM requests" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        rows = self._run(sql, tuple(args) + ((limit,) if limit else ())).fetchall()
        out = []
        for row in reversed(rows):
            e = dict(zip(COLUMNS, row))
            e["created"] = _stamp(e["created"])
            e["prompt"] = json.loads(e["prompt"])
            e["params"] = json.loads(e["params"]) if e["params"] else {}
            e["cached"] = bool(e["cached"])
            out.append(e)
        return out


def _stamp(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pair(text: str) -> str:
    source, _, target = text.strip().partition(" ")
    return f"{source} → {target}" if target else source


def logged(client, req: dict, mode: str):
    """client.complete(req, mode), recorded in the run log when the calling thread has a scope open."""
    scope = _SCOPE.get()
    if scope is None:
        return client.complete(req, mode)
    usage = client.usage
    requests0, cached0 = usage["requests"], usage["cached"]
    t0 = time.perf_counter()
    reply, error = None, None
    try:
        reply = client.complete(req, mode)
        return reply
    except Pending:
        error = None
        raise  # not sent yet: logged when its reply is used
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
        raise
    finally:
        if reply is not None or error is not None:
            _record(client, scope, req, mode, reply, error, time.perf_counter() - t0,
                    cached=usage["cached"] > cached0, attempts=usage["requests"] - requests0)


def _record(client, scope: Scope, req: dict, mode: str, reply, error: str | None, seconds: float,
            cached: bool, attempts: int) -> None:
    s = client.s
    secret = s.api_key if s.api_key and len(s.api_key) >= 4 else None

    def clean(text):
        return text.replace(secret, "***") if (secret and isinstance(text, str)) else text

    t_in, t_out = (reply.tokens_in, reply.tokens_out) if reply is not None else (0, 0)
    row = {"run_id": run_id(), "created": time.time(), "stage": scope.stage, "source": scope.source,
           "target": scope.target, "model": s.model, "endpoint": clean(s.endpoint), "mode": mode,
           "prompt": clean(json.dumps(req["messages"], ensure_ascii=False)),
           "params": clean(json.dumps({k: v for k, v in req.items() if k != "messages"}, ensure_ascii=False)),
           "reply": clean(reply.text) if reply is not None else None,
           "finish_reason": reply.finish_reason if reply is not None else None, "error": clean(error),
           "tokens_in": t_in, "tokens_out": t_out, "cost": client.price(t_in, t_out), "seconds": round(seconds, 4),
           "cached": int(cached), "attempts": attempts}
    try:
        scope.log.add(row)
    except sqlite3.Error as e:  # the log serves the analyst; it never stops a run
        if not scope.log._warned:
            scope.log._warned = True
            client.notify(f"warning: cannot write the run log {scope.log.path}: {e}")
