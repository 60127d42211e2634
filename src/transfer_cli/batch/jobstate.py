"""The batch manifest of a run through the Batch API: its jobs, their state, and what they answered.

DIR/_batchapi.json lists every job as soon as the provider has given it an id (written
atomically after each change), so Ctrl-C, a crash or a closed laptop loses no job: the next
run picks them up. A finished job's results are kept in DIR/_batchapi/<job id>.jsonl, one line
per request: {"custom_id", "key", "body"} or {..., "error"}. The user's data directory keeps an
index of these manifests, for `transfer jobs`.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from ..files import write_atomic
from ..llm.jobs import TERMINAL
from ..paths import data_dir
from .manifests import read_json

VERSION = 1
NAME = "_batchapi.json"


def index_path() -> Path:
    return data_dir() / "batchapi-index.json"


class JobState:
    def __init__(self, out: Path, data: dict):
        self.out, self.data = out, data
        self.since = 0.0  # jobs created before this are ignored (--force: ask everything again)

    def mine(self, job: dict, endpoint: str, model: str) -> bool:
        """Whether a job is this run's to use: same endpoint and model, not older than `since`."""
        return job.get("endpoint") == endpoint and job.get("model") == model and job.get("created", 0) >= self.since

    @classmethod
    def open(cls, out: Path, command: list[str] | None = None, cwd: str | None = None) -> "JobState":
        data = read_json(out / NAME)
        if not data or data.get("version") != VERSION or not isinstance(data.get("jobs"), list):
            data = {"version": VERSION, "id": "b" + secrets.token_hex(4), "jobs": []}
        if command is not None:
            data["command"], data["cwd"] = command, cwd
        return cls(out, data)

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def jobs(self) -> list[dict]:
        return self.data["jobs"]

    def save(self) -> None:
        write_atomic(self.out / NAME, json.dumps(self.data, ensure_ascii=False, indent=1) + "\n")

    def register(self) -> None:
        """This manifest in the user's index of Batch API runs (`transfer jobs`); best effort."""
        try:
            index = read_json(index_path()) or {}
            index[self.id] = {"dir": str(self.out.resolve()), "updated": time.time()}
            index_path().parent.mkdir(parents=True, exist_ok=True)
            write_atomic(index_path(), json.dumps(index, ensure_ascii=False, indent=1) + "\n")
        except OSError:
            pass

    def add(self, job: dict, stage: str, lines: dict[str, str], endpoint: str, model: str, file_id: str) -> None:
        self.jobs.append({**job, "stage": stage, "endpoint": endpoint, "model": model, "input_file_id": file_id,
                          "created": time.time(), "downloaded": False, "lines": lines})
        self.save()

    def waiting(self, endpoint: str, model: str) -> list[dict]:
        """This endpoint and model's jobs whose results are not downloaded yet."""
        return [j for j in self.jobs if not j["downloaded"] and self.mine(j, endpoint, model)]

    def in_flight(self, endpoint: str, model: str) -> set[str]:
        return {k for j in self.waiting(endpoint, model) for k in j["lines"].values()}

    def update(self, job: dict, seen: dict) -> bool:
        """The provider's view of a job recorded; True when the job is over (its files can be read)."""
        changed = {k: v for k, v in seen.items() if k != "id" and job.get(k) != v}
        if changed:
            job.update(changed)
            self.save()
        return job["status"] in TERMINAL

    def store(self, job: dict, outcomes: list[tuple[str | None, dict]]) -> None:
        """A finished job's outcomes (from its output and error files) kept; a line in neither file
        is recorded as unanswered, with the job's end as the reason."""
        got = {cid: o for cid, o in outcomes if cid in job["lines"]}
        why = job.get("errors") or f"the job ended {job['status']} before answering it"
        rows = [{"custom_id": cid, "key": key, **got.get(cid, {"error": {"status": None, "message": why}})}
                for cid, key in job["lines"].items()]
        path = self.out / "_batchapi" / f"{job['id']}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        job["downloaded"] = True
        job["answered"] = sum(1 for r in rows if "body" in r)
        failed = [{"custom_id": r["custom_id"], **r["error"]} for r in rows if "error" in r]
        job["unanswered"], job["failed_lines"] = len(failed), failed[:100]  # the first hundred, to show
        self.save()

    def results(self, endpoint: str, model: str) -> dict[str, dict]:
        """Request key -> its reply, or its error and how many jobs it failed in (jobs in order)."""
        out: dict[str, dict] = {}
        for job in self.jobs:
            if not job["downloaded"] or not self.mine(job, endpoint, model):
                continue
            try:
                text = (self.out / "_batchapi" / f"{job['id']}.jsonl").read_text(encoding="utf-8")
            except OSError:
                job["downloaded"] = False  # results lost: fetch them again
                continue
            for raw in text.splitlines():
                try:
                    row = json.loads(raw)
                except ValueError:
                    continue
                key = row.get("key")
                if "body" in row:
                    out[key] = {"body": row["body"]}
                elif "error" in row and "body" not in out.get(key, {}):
                    out[key] = {"error": row["error"], "tries": out.get(key, {}).get("tries", 0) + 1}
        return out
