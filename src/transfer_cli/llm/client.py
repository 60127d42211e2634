"""The model client: Chat Completions through the `openai` SDK, structured, validated, cached.

One retry policy: the SDK's own retries are off (max_retries=0) and this module owns the loop
— timeouts, connection errors, 429 (honouring Retry-After) and 5xx, exponential backoff with
jitter, bounded. Structured output has four modes (json_schema strict, json_object with the
schema in the prompt, a forced tool call, plain text with fenced JSON); `auto` starts with
json_schema and steps down when the server rejects a mode, remembering per endpoint and model
what worked. Every reply is validated against the pydantic model and re-asked (bounded) with
the validation errors; usage is summed over every attempt.
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable

from pydantic import BaseModel, ValidationError

from . import runlog, tokens
from .cache import Cache, request_key
from .config import Settings
from .schemas import strict_schema, without_schema
from ..errors import InputError, TransferError
from ..redact import redact

LADDER = ("json_schema", "json_object", "text")
MAX_REASKS = 2
MAX_RETRY_AFTER = 120.0
_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n\s*```", re.S)
# A rejection of the structured-output request, recognised by its body whatever the status (llama.cpp's
# Python server answers json_schema with a 500 "Input should be 'text' or 'json_object'"; OpenAI's
# "Invalid schema for response_format ...: In context=(...)" is a 400; DeepSeek's "unavailable" a 400 or 422)
_MODE_ERROR = re.compile(r"response_format|json_schema|json_object|input should be 'text'|invalid schema|"
                         r"structured output|unavailable now", re.I)
# 400s about the prompt's size, not the mode: never a reason to step down
_NOT_MODE = re.compile(r"context (?:length|window|size)|context_length|maximum context|exceed_context|too long|"
                       r"maximum .*tokens|max_tokens|token limit", re.I)


class ModeRejected(Exception):
    pass


class _Overdue(Exception):
    pass


def _within(call: Callable[[], object], seconds: float):
    """call() on a daemon thread, given up after `seconds` of wall clock. The SDK's timeouts bound
    each read, not the whole reply; an abandoned call ends with its connection, holding nothing."""
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["value"] = call()
        except BaseException as e:  # handed to the caller's thread as is
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="model-request").start()
    if not done.wait(seconds):
        raise _Overdue()
    if "error" in box:
        raise box["error"]
    return box["value"]


@dataclass
class Reply:
    text: str | None
    finish_reason: str | None
    refusal: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0


def _retry_after(headers) -> float | None:
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def extract_json(text: str):
    """The JSON object in a reply: the whole text, a fenced block, or the first balanced object."""
    s = text.strip()
    try:
        return json.loads(s)
    except ValueError:
        pass
    for block in _FENCE.findall(s):
        try:
            return json.loads(block)
        except ValueError:
            continue
    start = s.find("{")
    if start >= 0:
        try:
            return json.JSONDecoder().raw_decode(s[start:])[0]
        except ValueError as e:
            raise ValueError(f"not valid JSON: {e}")
    raise ValueError("no JSON object in the reply")


def _validation_lines(e: ValidationError, limit: int = 15) -> list[str]:
    out = [f"{'.'.join(str(x) for x in err['loc']) or '(root)'}: {err['msg']}" for err in e.errors()]
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


_SDKS: dict = {}
_SDKS_LOCK = threading.Lock()
_SSL: list = []  # the process's one SSL context, built on first use
_MODES: dict = {}  # (endpoint, model) -> the structured-output mode this process learnt or read


def _ssl_context():
    """The CA store loaded once per process (~35 ms of CPU), shared by every client it builds."""
    if not _SSL:
        try:
            import httpx2 as httpx  # the SDK's transport since openai 3
        except ImportError:
            import httpx
        _SSL.append(httpx.create_ssl_context())  # what the SDK's own client would build
    return _SSL[0]


def _shared_sdk(api_key: str, endpoint: str, timeout: float):
    """One SDK client per endpoint and key for the whole process, shared by a batch's workers.

    Each client has its own connection pool; the client is thread-safe, so sixteen workers need
    one, not sixteen.
    """
    key = (api_key, endpoint, timeout)
    with _SDKS_LOCK:
        sdk = _SDKS.get(key)
        if sdk is None:
            import openai
            # max_retries=0: the loop in _send is the only retry policy
            sdk = _SDKS[key] = openai.OpenAI(api_key=api_key, base_url=endpoint, max_retries=0, timeout=timeout,
                                             http_client=_http_client(openai, timeout))
        return sdk


def _http_client(openai, timeout: float):
    """The SDK's own HTTP client, sharing the process's SSL context."""
    return openai.DefaultHttpxClient(verify=_ssl_context(), timeout=timeout)


class ModelClient:
    def __init__(self, settings: Settings, cache: Cache | None = None,
                 notify: Callable[[str], None] | None = None):
        if not settings.model:
            raise InputError("no model configured: give --model, set TRANSFER_MODEL, or choose a --provider")
        self.s = settings
        self.cache = cache or Cache()
        say = notify or (lambda msg: print(msg, file=sys.stderr))
        self.notify = lambda msg: say(redact(msg))
        self.usage = {"requests": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0,
                      "cost": 0.0 if settings.prices else None}
        self._sdk = None
        self._mode: str | None = None  # the endpoint's structured-output mode, once read or learnt
        self._schema_in_json = True  # json_object requests carry the schema until a server refuses the key

    # ---- transport ---------------------------------------------------------------------------
    def sdk(self):
        if self._sdk is None:
            if not self.s.api_key and self.s.endpoint == "https://api.openai.com/v1":
                raise InputError(f"no API key: set {self.s.api_key_env} (or point --base-url at a local server)")
            self._sdk = _shared_sdk(self.s.api_key or "not-needed", self.s.endpoint, self.s.timeout)
        return self._sdk

    def fail(self, message: str, cls=TransferError):
        return cls(redact(message))

    def _send(self, call: Callable[[], object], mode: str = "text"):
        """`call` with bounded retries; each attempt ends by `timeout` seconds of wall clock (a server
        trickling bytes cannot extend it), and the whole request by `deadline`."""
        import openai
        attempts = self.s.retries + 1
        end = time.monotonic() + self.s.deadline
        for attempt in range(attempts):
            wait = None
            self.usage["requests"] += 1
            budget = min(self.s.timeout, max(0.0, end - time.monotonic()))
            try:
                return _within(call, budget)
            except (openai.APITimeoutError, _Overdue):
                why = f"no reply within {budget:g}s"
            except openai.APIConnectionError as e:
                why = f"cannot connect ({type(e.__cause__ or e).__name__})"
            except openai.APIStatusError as e:
                code = e.status_code
                if mode != "text" and _MODE_ERROR.search(_server_message(e)):
                    raise  # a rejected response_format is no fault to wait out, whatever its status
                if code == 429 or code >= 500 or code in (408, 409):
                    why = f"HTTP {code}" + (" (rate limited)" if code == 429 else "")
                    wait = _retry_after(e.response.headers)
                    if wait is not None and wait > MAX_RETRY_AFTER:
                        raise self.fail(f"{self.s.endpoint}: HTTP {code}, the server asks to wait {wait:.0f}s; "
                                        "try again later")
                else:
                    raise
            if wait is None:  # exponential backoff with jitter, capped at a minute
                wait = min(self.s.retry_base * 2 ** attempt, 60.0) * random.uniform(0.5, 1.0)
            if attempt == attempts - 1 or time.monotonic() + wait >= end:
                tried = f"{attempt + 1} attempt{'s' if attempt else ''}"
                limit = "" if attempt == attempts - 1 else f" (the request's deadline is {self.s.deadline:g}s)"
                raise self.fail(f"{self.s.endpoint}: {why}; gave up after {tried}{limit}")
            self.notify(f"{self.s.endpoint}: {why}; retry {attempt + 1}/{attempts - 1} in {wait:.1f}s")
            time.sleep(wait)
        raise self.fail(f"{self.s.endpoint}: no attempt made (retries = {self.s.retries})")

    def _status_error(self, e, mode: str):
        """A non-retryable HTTP error: a mode rejection (auto steps down), bad input, or failed work."""
        code, msg = e.status_code, _server_message(e)
        if mode != "text" and (_MODE_ERROR.search(msg) or (code in (400, 422) and not _NOT_MODE.search(msg))):
            return ModeRejected(f"HTTP {code}: {msg}")
        if code in (401, 403):
            return self.fail(f"{self.s.endpoint}: the server rejected the API key (HTTP {code}); "
                             f"check {self.s.api_key_env}", InputError)
        if code == 404:
            return self.fail(f"{self.s.endpoint}: not found (HTTP 404) — is the model '{self.s.model}' served "
                             f"there, and does the base URL end in /v1? {msg}", InputError)
        return self.fail(f"{self.s.endpoint}: HTTP {code} in mode {mode}: {msg}")

    # ---- one completion ----------------------------------------------------------------------
    def request(self, messages: list[dict], mode: str, name: str, schema: dict, strict: bool) -> dict:
        carried = mode in ("json_schema", "tools") or (mode == "json_object" and self._schema_in_json)
        # a mode that sends the schema with the request does not need it in the prompt too (once per request)
        req: dict = {"messages": without_schema(messages, schema) if carried else messages}
        if self.s.temperature is not None:
            req["temperature"] = self.s.temperature
        if self.s.max_output_tokens:
            req["max_tokens"] = self.s.max_output_tokens
        if mode == "json_schema":
            req["response_format"] = {"type": "json_schema",
                                      "json_schema": {"name": name, "schema": schema, "strict": strict}}
        elif mode == "json_object":
            # llama.cpp's servers decode under a grammar built from `schema` here; where the extra key
            # is refused, the client steps to a bare json_object once (the schema stays in the prompt)
            req["response_format"] = {"type": "json_object", **({"schema": schema} if self._schema_in_json else {})}
        elif mode == "tools":
            req["tools"] = [{"type": "function", "function": {"name": name, "parameters": schema,
                                                              "description": f"Return the {name} artifact."}}]
            req["tool_choice"] = {"type": "function", "function": {"name": name}}
        return req

    def body(self, req: dict) -> dict:
        """The request body as sent: what the Batch API's JSONL lines carry too (batch/batchapi.py)."""
        return {"model": self.s.model, **req}

    def key(self, req: dict) -> str:
        return request_key(self.s.endpoint, self.s.model, req)

    def cached(self, key: str) -> Reply | None:
        hit = self.cache.get(key)
        if hit is None:
            return None
        self.usage["cached"] += 1
        return Reply(hit["text"], hit["finish_reason"])

    def price(self, tokens_in: int, tokens_out: int) -> float | None:
        return self.s.cost(tokens_in, tokens_out)

    def complete(self, req: dict, mode: str) -> Reply:
        # hashing ~100 KB of request is wasted work when nothing is cached (--no-cache)
        key = self.key(req) if self.cache.enabled else ""
        hit = self.cached(key)
        if hit is not None:
            return hit
        import openai
        from openai.types.chat import ChatCompletion
        body = self.body(req)
        try:
            # the SDK's plain POST: create() would first walk and copy the whole request (~100 KB of
            # messages and schema) to re-type it, ~1 ms of CPU per request that a batch's workers
            # queue for; the reply is parsed into the same ChatCompletion
            resp = self._send(lambda: self.sdk().post("/chat/completions", body=body, cast_to=ChatCompletion), mode)
        except openai.APIStatusError as e:
            raise self._status_error(e, mode) from None
        return self.reply_of(resp, req, mode, key)

    def reply_of(self, resp, req: dict, mode: str, key: str) -> Reply:
        """A ChatCompletion as a Reply, its usage counted and priced, cached when complete."""
        if not getattr(resp, "choices", None):
            raise self.fail(f"{self.s.endpoint}: the reply has no choices")
        choice = resp.choices[0]
        msg = choice.message
        text = msg.content
        if mode == "tools" and msg.tool_calls:
            text = msg.tool_calls[0].function.arguments
        u = resp.usage
        t_in = u.prompt_tokens if u and u.prompt_tokens is not None else tokens.count_messages(req["messages"])
        t_out = u.completion_tokens if u and u.completion_tokens is not None else tokens.count(text or "")
        self.usage["tokens_in"] += t_in
        self.usage["tokens_out"] += t_out
        cost = self.price(t_in, t_out)
        if cost is not None:
            self.usage["cost"] = (self.usage["cost"] or 0.0) + cost
        reply = Reply(text, choice.finish_reason, getattr(msg, "refusal", None), t_in, t_out)
        if text and choice.finish_reason in ("stop", "tool_calls") and not reply.refusal:
            self.cache.put(key, self.s.endpoint, self.s.model, {"text": text, "finish_reason": choice.finish_reason})
        return reply

    # ---- a validated artifact ----------------------------------------------------------------
    def structured(self, messages: list[dict], model: type[BaseModel], what: str,
                   max_reasks: int = MAX_REASKS, accept: Callable | None = None) -> tuple[object, list[dict]]:
        """The reply as `model` (or as accept(reply), whose ValueError counts as a validation
        failure), re-asking with the errors up to `max_reasks` times.

        Returns the object and the conversation ending in the accepted reply (for a caller's
        own follow-up). `what` names the stage in messages.
        """
        name = model.__name__
        schema, strict = strict_schema(model)
        auto = self.s.mode == "auto"
        endpoint = (self.s.endpoint, self.s.model)
        if auto and self._mode is None:
            # a batch's workers each have a client: the database is read once per process, not per worker
            self._mode = _MODES.get(endpoint) or self.cache.mode_for(*endpoint)
            if self._mode:
                _MODES[endpoint] = self._mode
        remembered = self._mode if auto else None
        mode = (remembered or LADDER[0]) if auto else self.s.mode
        convo = list(messages)
        problems: list[str] = []
        for attempt in range(max_reasks + 1):
            while True:
                try:
                    reply = runlog.logged(self, self.request(convo, mode, name, schema, strict), mode)
                    break
                except ModeRejected as e:
                    if mode == "json_object" and self._schema_in_json and "schema" in str(e).lower():
                        self._schema_in_json = False
                        self.notify(f"{self.s.endpoint}: json_object with a schema not accepted ({e}); "
                                    "sending json_object without it")
                        continue
                    if not auto or mode == LADDER[-1]:
                        raise self.fail(f"{self.s.endpoint}: the server rejected structured-output mode "
                                        f"'{mode}': {e}")
                    step = LADDER[LADDER.index(mode) + 1] if mode in LADDER else LADDER[1]
                    self.notify(f"{self.s.endpoint}: mode {mode} not accepted ({e}); trying {step}")
                    mode = step
            if auto and mode != remembered:  # a write per request would serialise a batch's workers on SQLite
                self.cache.remember_mode(self.s.endpoint, self.s.model, mode)
                remembered = self._mode = _MODES[endpoint] = mode
            obj, problem, reask = self._judge(reply, model, accept)
            if not problem:  # accepted (accept may build None: nothing to add)
                return obj, convo + [{"role": "assistant", "content": reply.text}]
            problems.append(problem)
            if attempt == max_reasks:
                break
            self.notify(f"{what}: {problem.splitlines()[0]}; asking again ({attempt + 1}/{max_reasks})")
            if reply.text and reply.finish_reason != "length":
                convo = convo + [{"role": "assistant", "content": reply.text}]
            convo = convo + [{"role": "user", "content": reask}]
        head, *details = problems[-1].splitlines()
        said = head.rstrip(":") + (": " + "; ".join(details[:3]) + (" ..." if len(details) > 3 else "") if details else "")
        raise self.fail(f"{what}: no valid reply from {self.s.model} after {max_reasks + 1} attempts: {said}")

    def _judge(self, reply: Reply, model: type[BaseModel], accept) -> tuple[object, str, str]:
        """(object, None, None) or (None, problem for the user, re-ask message for the model)."""
        if reply.refusal:
            raise self.fail(f"the model refused: {reply.refusal}")
        if reply.finish_reason == "content_filter":
            raise self.fail("the server's content filter stopped the reply (finish_reason content_filter)")
        text = reply.text or ""
        if reply.finish_reason == "length":
            limit = f"max_tokens {self.s.max_output_tokens}" if self.s.max_output_tokens else "the server's output limit"
            return None, (f"the reply was cut off at {limit} (finish_reason length); raise max_output_tokens "
                          "in the provider profile, or use a model with a longer output"), \
                ("Your previous reply was cut off at the output token limit. Reply again with the complete JSON "
                 "object, more concisely: shorter texts, no commentary.")
        if "<think>" in text:
            text = _THINK.sub("", text)
            if "<think>" in text:  # opened and never closed: only reasoning came back
                return None, "the reply holds only reasoning (<think> without an answer)", \
                    "Reply with the JSON object only, with no reasoning before it."
        if not text.strip():
            return None, "the reply was empty", "Your reply was empty. Reply with the JSON object only."
        try:
            data = extract_json(text)
        except RecursionError:
            return None, "the reply is nested too deeply", "Reply with a flat JSON object matching the schema."
        except ValueError as e:
            return None, f"the reply is not JSON ({e})", \
                f"Your reply was not valid JSON ({e}). Reply with one JSON object only, no prose, no code fences."
        try:
            obj = model.model_validate(data)
            return (accept(obj) if accept else obj), "", ""
        except ValidationError as e:
            lines = _validation_lines(e)
        except (ValueError, TypeError, KeyError) as e:  # what assembling the artifact found
            lines = [f"{type(e).__name__}: {e}"[:300]]
        except RecursionError:
            lines = ["the JSON is nested too deeply"]
        return None, "the reply does not match the schema:\n" + "\n".join(lines), \
                ("Your JSON does not match the schema. Fix these errors and reply with the complete corrected "
                 "JSON object only:\n" + "\n".join(f"- {x}" for x in lines))

    # ---- probes (doctor) ---------------------------------------------------------------------
    def list_models(self) -> list[str]:
        import openai
        try:
            page = self._send(lambda: self.sdk().models.list())
        except openai.APIStatusError as e:
            raise self._status_error(e, "text") from None
        return [m.id for m in page.data]


def _server_message(e) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        return json.dumps(body)[:300]
    return str(getattr(e, "message", e))[:300]
