"""`transfer logs`: the run log as text (runs, or requests in full) or as JSON."""

from __future__ import annotations

import json

from .config import cost_text


def runs_text(runs: list[dict]) -> str:
    lines = []
    for r in runs:
        lines.append(f"{r['run_id']}  {r['started']}  {r['requests']} request(s), {r['cached']} from the cache  "
                     f"{r['tokens_in']:,} tokens in, {r['tokens_out']:,} out  cost {cost_text(r['cost'])}  "
                     f"model {', '.join(r['models'])}  {'; '.join(r['pairs'])}")
    return "\n".join(lines) + ("\n" if lines else "")


def entries_text(entries: list[dict]) -> str:
    out = []
    for e in entries:
        pair = e["source"] + (f" → {e['target']}" if e["target"] else "")
        how = "from the cache" if e["cached"] else f"sent ({e['attempts']} attempt(s))"
        out.append(f"## {e['run_id']} #{e['id']} {e['stage']} {pair}\n"
                   f"{e['created']} · model {e['model']} at {e['endpoint']}, mode {e['mode']} · {how} · "
                   f"{e['tokens_in']:,} tokens in, {e['tokens_out']:,} out · cost {cost_text(e['cost'])} · "
                   f"{e['seconds']:.2f} s\n")
        for m in e["prompt"]:
            out.append(f"### {m.get('role', '?')}\n{m.get('content') or ''}\n")
        if e["error"]:
            out.append(f"### error\n{e['error']}\n")
        else:
            out.append(f"### reply ({e['finish_reason']})\n{_pretty(e['reply'] or '')}\n")
    return "\n".join(out)


def _pretty(text: str) -> str:
    """A JSON reply indented for reading; anything else as it came."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


def as_json(items: list[dict]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
