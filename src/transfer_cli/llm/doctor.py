"""`transfer doctor`: the resolved model configuration (key redacted) and a live probe.

The probe lists /models and makes one tiny structured call through the same mode ladder as a
real run, so a user learns which structured-output mode the endpoint takes before a memo.
"""

from __future__ import annotations

from pydantic import BaseModel

from . import tokens
from .config import Settings, config_files
from ..errors import TransferError


class Probe(BaseModel):
    ok: bool


def config_lines(s: Settings) -> list[str]:
    shown = s.public()
    lines = ["configuration (flags > environment > config file > defaults):"]
    for k, v in shown.items():
        origin = s.sources.get(k)
        lines.append(f"  {k}: {v}" + (f"  [{origin}]" if origin else ""))
    lines.append("  config files: " + ", ".join(f"{p}{'' if p.is_file() else ' (absent)'}" for p in config_files()))
    lines.append(f"  tokenizer: {tokens.tokenizer_label(s.model)}")
    return lines


def probe(s: Settings, no_cache: bool = True) -> tuple[list[str], bool]:
    """(report lines, all good). Never raises for a failing endpoint: that is what it reports."""
    from dataclasses import replace

    from .cache import Cache
    from .client import ModelClient
    lines, ok = [], True
    # a probe reports, it does not wait out a dead endpoint: one attempt each, no backoff
    client = ModelClient(replace(s, retries=0), Cache(enabled=not no_cache), notify=lambda m: lines.append(f"  {m}"))
    try:
        models = client.list_models()
        listed = s.model in models
        lines.append(f"GET /models: {len(models)} model(s)"
                     + ("" if listed else f"; '{s.model}' is not among them: " + ", ".join(models[:8])))
    except TransferError as e:
        lines.append(f"GET /models: failed: {e}")
        if "cannot connect" in str(e):
            lines.append("structured call: skipped: nothing answers at that address")
            return lines, False
        ok = False
    messages = [{"role": "system", "content": "Reply with a JSON object matching {\"ok\": true}."},
                {"role": "user", "content": "Health check: reply in JSON."}]
    try:
        client.structured(messages, Probe, "probe", max_reasks=1)
        mode = client.cache.mode_for(s.endpoint, s.model) if s.mode == "auto" else s.mode
        u = client.usage
        lines.append(f"structured call: ok in mode {mode}; {u['requests']} request(s), "
                     f"{u['tokens_in']} tokens in, {u['tokens_out']} out")
    except TransferError as e:
        lines.append(f"structured call: failed: {e}")
        ok = False
    return lines, ok
