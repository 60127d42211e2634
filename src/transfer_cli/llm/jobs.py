"""The provider's Batch API: JSONL files of chat requests run as jobs, and a client that replays their replies.

The protocol OpenAI defined and Azure OpenAI, DashScope and others serve: upload a JSONL file
of requests (`/v1/files`, purpose "batch"), create a job on it (`/v1/batches`), poll the job,
download its output and error files (`/v1/files/{id}/content`). Each line carries a
`custom_id`; results are matched by it, never by order.

`ReplayClient` is the model client of a batch that runs this way: it builds every request
exactly as the interactive client does (same body, same cache key) and answers it from a
downloaded job's result or from the reply cache; any other request is `Pending`, and the batch
runner (batch/batchapi.py) puts it in the next job. The engine's own logic — re-asks on
invalid replies, the verifier's second question — thus runs unchanged, one job per round.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from ..errors import InputError, Pending
from .client import ModelClient, Reply

ENDPOINT = "/v1/chat/completions"
LINE_TRIES = 2  # a line that failed at the provider's end is sent once more, then reported
TERMINAL = ("completed", "failed", "expired", "cancelled")


def retryable(error: dict) -> bool:
    """A failed line worth sending again: no answer (the job expired, was cancelled or failed), a
    server error or a rate limit; a 4xx about the request itself would fail the same way again."""
    status = error.get("status")
    return status is None or status in (408, 409, 429) or status >= 500


def request_line(custom_id: str, body: dict) -> bytes:
    return (json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body},
                       ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def split(lines: list[bytes], max_requests: int, max_bytes: int) -> list[list[bytes]]:
    """Lines in files within the provider's per-file limits, in order."""
    files: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if files[-1] and (len(files[-1]) >= max_requests or size + len(line) > max_bytes):
            files.append([])
            size = 0
        files[-1].append(line)
        size += len(line)
    return [f for f in files if f]


def outcome(line: dict) -> tuple[str | None, dict]:
    """(custom_id, {"body": chat completion} or {"error": {"status", "message"}}) of an output or error file's line."""
    cid = line.get("custom_id")
    resp = line.get("response") or {}
    status = resp.get("status_code")
    body = resp.get("body")
    if status == 200 and isinstance(body, dict) and not line.get("error"):
        return cid, {"body": body}
    err = line.get("error") or (body.get("error") if isinstance(body, dict) else None) or {}
    message = err.get("message") if isinstance(err, dict) else str(err)
    code = err.get("code") if isinstance(err, dict) else None
    return cid, {"error": {"status": status if isinstance(status, int) else None,
                           "message": str(message or code or f"HTTP {status}")[:300]}}


def view(batch) -> dict:
    """What the batch manifest keeps of a provider's batch object."""
    counts = getattr(batch, "request_counts", None)
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return {"id": batch.id, "status": batch.status, "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "request_counts": {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
            if counts else None,
            "errors": "; ".join(str(getattr(e, "message", e)) for e in errors)[:300] or None}


class JobsApi:
    """Files and batches on the profile's endpoint, with the client's retry policy and key handling."""

    def __init__(self, client: ModelClient):
        self.c = client

    def _call(self, call):
        import openai
        try:
            return self.c._send(call)
        except openai.APIStatusError as e:
            if e.status_code in (404, 405):
                raise self.c.fail(f"{self.c.s.endpoint}: the Batch API (/files, /batches) is not served here "
                                  f"(HTTP {e.status_code}); use --via local", InputError) from None
            raise self.c._status_error(e, "text") from None

    def submit(self, name: str, data: bytes, metadata: dict) -> tuple[str, dict]:
        """(input file id, the created job's view)."""
        sdk = self.c.sdk()
        file_id = self._call(lambda: sdk.files.create(file=(name, data, "application/jsonl"), purpose="batch")).id
        job = self._call(lambda: sdk.batches.create(input_file_id=file_id, endpoint=ENDPOINT,
                                                    completion_window="24h", metadata=metadata))
        return file_id, view(job)

    def retrieve(self, job_id: str) -> dict:
        return view(self._call(lambda: self.c.sdk().batches.retrieve(job_id)))

    def cancel(self, job_id: str) -> dict:
        return view(self._call(lambda: self.c.sdk().batches.cancel(job_id)))

    def lines(self, file_id: str | None) -> list[dict]:
        """A result file's lines as JSON objects (none for no file; an unreadable line is skipped:
        its request then counts as unanswered and is sent again)."""
        if not file_id:
            return []
        text = self._call(lambda: self.c.sdk().files.content(file_id)).text
        out = []
        for raw in text.splitlines():
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out


class ReplayClient(ModelClient):
    """Answers each request from this batch's job results, else from the reply cache; the rest are Pending.

    `results`: request key -> {"body": chat completion} or {"error": {...}, "tries": n}. A reply
    from a job is counted and priced (batch prices) each time the pair is run with it, so the
    run that completes the pair records it exactly as an interactive run would."""

    def __init__(self, settings, cache, results: dict, notify=None):
        super().__init__(settings, cache, notify)
        self.results = results
        self.usage["cost"] = 0.0 if settings.batch_cost(0, 0) is not None else None
        self.answered = 0  # replies used since the engine's current request chain began (custom_id's "ask")

    def price(self, tokens_in: int, tokens_out: int) -> float | None:
        return self.s.batch_cost(tokens_in, tokens_out)

    def complete(self, req: dict, mode: str) -> Reply:
        key = self.key(req)
        got = self.results.get(key)
        if got is None:
            hit = self.cached(key)  # an interactive run's reply: no need to ask again
            if hit is not None:
                self.answered += 1
                return hit
        if got is None or ("error" in got and retryable(got["error"]) and got["tries"] < LINE_TRIES):
            raise Pending([{"key": key, "body": self.body(req), "ask": self.answered}])
        if "error" in got:
            raise self.line_error(got, mode)
        from openai.types.chat import ChatCompletion
        self.usage["requests"] += 1
        self.answered += 1
        return self.reply_of(ChatCompletion.model_validate(got["body"]), req, mode, key)

    def line_error(self, got: dict, mode: str):
        err = got["error"]
        if not retryable(err):  # the server's answer to the request itself: a rejected mode steps down
            return self._status_error(SimpleNamespace(status_code=err["status"], body={"error": {
                "message": err["message"]}}), mode)
        return self.fail(f"{self.s.endpoint}: Batch API: the request failed in {got['tries']} jobs: {err['message']}")
