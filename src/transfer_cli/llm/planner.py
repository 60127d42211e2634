"""Request planning: each stage split into the fewest requests that fit the model's limits.

A request must fit the context window with room for the reply (servers reject a prompt plus
max_tokens over the window), and its reply must fit the model's output limit. The planner packs
mechanisms, in order, into groups whose own data and estimated reply fit; the shared data (the
notes and profile fields) then fills what is left of each request, chosen by relevance to that
group's mechanisms (evidence.select_notes). On a large-window model every stage is one request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from . import evidence as E
from . import tokens

# unknown models get limits that most servers meet; known ones their documented limits
CONSERVATIVE = (32_768, 4_096)
KNOWN = {  # prefix -> (context window, max output tokens)
    "gpt-4o-mini": (128_000, 16_384), "gpt-4o": (128_000, 16_384), "gpt-4.1": (1_047_576, 32_768),
    "o1": (200_000, 100_000), "o3": (200_000, 100_000), "o4-mini": (200_000, 100_000),
    "gpt-4-turbo": (128_000, 4_096), "gpt-3.5-turbo": (16_385, 4_096),
    "deepseek-chat": (65_536, 8_192), "deepseek-reasoner": (65_536, 8_192),
    "qwen-plus": (131_072, 8_192), "qwen-max": (32_768, 8_192), "qwen-turbo": (131_072, 8_192),
}
MARGIN = 0.06          # our count is an estimate for most models: keep this share of the window spare
HEADROOM = 1.5         # replies are estimates too, and a reply cut at the output limit is lost: plan them
                       # within the limit / HEADROOM (the estimates themselves stay what a reply uses: cost)
FRAME = 64             # tokens of chat framing and rounding per request
PER_REVIEW = 120       # reply tokens per reviewed draft mechanism (its id and a few edits)
PER_FIT_FACTOR = 120   # reply tokens per judged support factor, plus PER_FIT_MECHANISM (its rationale,
PER_FIT_MECHANISM = 400  # risks, verification and share of the bottom line and warnings; ~400 measured on liling)
PER_ACTIONS_MECHANISM = 800  # an action: 700-810 measured on the bundled targets; only mechanisms that
                              # meet a problem of the target are sent, and each may get one
PER_REQUEST_OUT = {"fit": 300}  # what each part of a split stage writes once: fit's bottom line
MIN_ACTIONS = 700


def limits(model: str | None) -> tuple[int, int]:
    m = (model or "").lower().rsplit("/", 1)[-1]
    for prefix in sorted(KNOWN, key=len, reverse=True):
        if m.startswith(prefix):
            return KNOWN[prefix]
    return CONSERVATIVE


@dataclass(frozen=True)
class Budget:
    window: int
    output: int

    @property
    def prompt(self) -> int:
        """Tokens a request's prompt may take: the window less the reply's room and the margin."""
        return int((self.window - self.output) * (1 - MARGIN)) - FRAME

    @property
    def reply(self) -> int:
        """Tokens a request's expected reply may take: the output limit less the headroom."""
        return int(self.output / HEADROOM)


def budget(settings) -> Budget:
    window, output = limits(settings.model)
    window = settings.context_window or window
    return Budget(window, settings.max_output_tokens or min(output, window // 2))


@dataclass
class Planned:
    """One request of a stage: what it covers, its messages, its tokens in and (estimated) out."""
    stage: str
    covers: list[str]          # mechanism ids, or ["new"] for the pass over mechanisms the draft lacks
    messages: list[dict]
    tokens_in: int
    tokens_out: int
    reply_model: type
    kept: str = ""             # what the guard left out, said once
    chose: str = ""            # what the caps chose of the shared lists (shown by --dry-run and doctor)
    extra: dict = field(default_factory=dict)

    def fits(self, b: Budget) -> bool:
        return self.tokens_in <= b.prompt and self.tokens_out <= b.reply


def pack(items: list[tuple[str, int, int]], fixed_in: int, fixed_out: int, b: Budget) -> list[list[str]]:
    """Mechanism ids in groups, in order: each group's inputs and estimated replies within the budget.
    items: (id, input tokens it brings, reply tokens it needs). A single item over the budget is a
    group of its own (the guard then trims its notes; the plan says if it still does not fit)."""
    groups: list[list[str]] = []
    cur: list[str] = []
    t_in, t_out = fixed_in, fixed_out
    for mid, c_in, c_out in items:
        if cur and (t_in + c_in > b.prompt or t_out + c_out > b.reply):
            groups.append(cur)
            cur, t_in, t_out = [], fixed_in, fixed_out
        cur.append(mid)
        t_in += c_in
        t_out += c_out
    if cur:
        groups.append(cur)
    return groups


def count(data) -> int:
    return tokens.count(E.dumps(data))


def request_tokens(messages: list[dict]) -> int:
    """What a server counts: the messages, the schema among them once (a mode that sends the schema
    as a request field takes it out of the prompt: client.request)."""
    return tokens.count_messages(messages)


# How many tokens of each shared list a request carries: (per mechanism it covers, floor, ceiling).
# The most relevant items (what the mechanisms cite or read, first) even when the model's window
# would take them all: a large window is no reason to pay for notes a judgement does not rest on.
CAPS = {
    "extract": {"notes": (300, 1_200, 4_000)},
    "new": {"notes": (0, 2_000, 2_000)},
    "fit": {"notes": (100, 400, 1_200), "target_profile_fields": (100, 500, 1_400)},
    "actions": {"notes": (100, 400, 1_200), "target_profile_fields": (100, 500, 1_400)},
}


def caps(kind: str, mechanisms: int) -> dict[str, int]:
    return {key: min(hi, max(lo, per * mechanisms)) for key, (per, lo, hi) in CAPS.get(kind, {}).items()}


def item_tokens(item: dict) -> int:
    return tokens.count(E.dumps(item)) + 1


def fit_data(render: Callable[[dict], list[dict]], data: dict, steer, limit: int, cap: dict[str, int] | None = None,
             shared: tuple[str, ...] = ("notes", "profile_fields", "target_profile_fields")) -> tuple[list[dict], int, str, str]:
    """(messages, tokens, what the caps chose, what the guard left out): each shared list first held to
    its cap, then trimmed further by relevance until the request fits the window."""
    trimmed, chose = dict(data), []
    for key, most in (cap or {}).items():
        items = trimmed.get(key) or []
        if items and sum(map(item_tokens, items)) > most:
            trimmed[key] = E.select_notes(items, steer, most, item_tokens)
            chose.append(f"{len(trimmed[key])} of {len(items)} {key.replace('_', ' ')}")
    messages = render(trimmed)
    # a token is at least one UTF-8 byte: a prompt with fewer bytes than the budget fits uncounted
    size = sum(len(m["content"].encode("utf-8")) for m in messages)
    if size <= limit:
        return messages, size, ", ".join(chose), ""
    used = request_tokens(messages)
    if used <= limit:
        return messages, used, ", ".join(chose), ""
    said = []
    for key in shared:
        if not trimmed.get(key) or used <= limit:
            continue
        items = trimmed[key]
        base = request_tokens(render({**trimmed, key: []}))
        kept = E.select_notes(items, steer, limit - base, item_tokens)
        trimmed[key] = kept
        said.append(f"kept {len(kept)} of {len(items)} {key.replace('_', ' ')}")
        messages = render(trimmed)
        used = request_tokens(messages)
    return messages, used, ", ".join(chose), "; ".join(said)


def fit_out(view: dict) -> int:
    """A fit reply's estimate: the model judges the factors with no computed status (fit_view)."""
    return PER_FIT_MECHANISM + PER_FIT_FACTOR * sum("computed_status" not in f for f in view.get("support_factors") or [])


def summary(plans: list[Planned], b: Budget) -> str:
    ok = all(p.fits(b) for p in plans)
    return (f"{len(plans)} request(s), max ~{max((p.tokens_in for p in plans), default=0):,} in / "
            f"~{max((p.tokens_out for p in plans), default=0):,} out per request; "
            + ("all fit" if ok else "NOT ALL FIT") + f" (prompt budget {b.prompt:,}, replies {b.reply:,})")


def dumps_compact(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
