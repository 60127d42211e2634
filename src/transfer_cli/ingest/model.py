"""The model's part of a draft: industries, assets, challenges, goals, institutions and notes.

Each item the model proposes carries a quote, and the quote is the check: an item whose quote is
not in the documents, or whose text has a figure its quote does not, is dropped and reported.
Passages go to the model in requests planned to fit its context window; tags and kinds are the
vocabulary's, enforced by the reply's schema.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Callable, Literal

from pydantic import BaseModel, Field

from ..places import vocabulary as V
from .readers import Document, Passage

_Tag = Literal[tuple(V.INDUSTRY_TAGS)]  # type: ignore[valid-type]
_Kind = Literal[tuple(V.ASSET_KINDS)]  # type: ignore[valid-type]
_Problem = Literal[tuple(V.PROBLEM_TYPES)]  # type: ignore[valid-type]
_Portfolio = Literal[tuple(V.PORTFOLIOS)]  # type: ignore[valid-type]
_Domain = Literal[tuple(V.NOTE_DOMAINS)]  # type: ignore[valid-type]


class IndustryItem(BaseModel):
    tag: _Tag
    name: str
    weight: Literal["pillar", "major", "emerging", "declining"]
    quote: str


class AssetItem(BaseModel):
    kind: _Kind
    name: str
    quote: str


class ChallengeItem(BaseModel):
    type: _Problem
    weight: Literal["high", "medium", "low"]
    text: str
    quote: str


class GoalItem(BaseModel):
    type: _Problem
    text: str
    quote: str


class InstitutionItem(BaseModel):
    name: str
    handles: list[_Portfolio] = Field(min_length=1)
    quote: str


class NoteItem(BaseModel):
    domain: _Domain
    period: str
    text: str
    quote: str


class ProfileReply(BaseModel):
    industries: list[IndustryItem]
    assets: list[AssetItem]
    challenges: list[ChallengeItem]
    goals: list[GoalItem]
    institutions: list[InstitutionItem]
    notes: list[NoteItem]


SECTIONS = ("industries", "assets", "challenges", "goals", "institutions", "notes")
# the identity of an item, to keep one of each across requests
_IDENTITY = {"industries": "tag", "assets": "name", "challenges": "text", "goals": "text",
             "institutions": "name", "notes": "text"}
_REASK = ("A checker looked for each quote in the documents and found these problems:\n{}\nCopy each quote "
          "word for word from a passage, keep every figure of an item's text in its quote, drop items the "
          "documents do not support, and reply with the complete corrected JSON object only.")
OUTPUT_RESERVE = 8_000   # tokens kept for the reply when the profile sets no max_output_tokens
PROMPT_OVERHEAD = 4_000  # the system message, the vocabulary and the schema


@dataclass
class Proposed:
    """An item that passed the quote check, with the passage its quote is in."""
    section: str
    item: BaseModel
    passage: Passage


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def locate(quote: str, docs: list[Document]) -> Passage | None:
    """The passage holding the quote word for word (spaces aside), or None."""
    q = _squash(quote)
    if len(q) < 4:  # too short to stand for anything
        return None
    return next((p for d in docs for p in d.passages if q in _squash(p.text)), None)


def unquoted_figures(item: BaseModel) -> list[str]:
    """Numbers in an item's own words that its quote does not have."""
    own = " ".join(str(getattr(item, f, "")) for f in ("name", "text"))
    quote = _squash(item.quote).replace(",", "")
    return [n for n in re.findall(r"\d+(?:\.\d+)?", own.replace(",", "")) if n not in quote]


def check(reply: ProfileReply, docs: list[Document]) -> tuple[list[Proposed], list[str]]:
    """(the items whose quotes are in the documents, a line for each dropped item)."""
    kept: list[Proposed] = []
    dropped: list[str] = []
    seen: set[tuple[str, str]] = set()
    for section in SECTIONS:
        for item in getattr(reply, section):
            label = f"{section}: {getattr(item, _IDENTITY[section])}"
            passage = locate(item.quote, docs)
            if passage is None:
                dropped.append(f"{label} — its quote is not in the documents: «{item.quote}»")
                continue
            extra = unquoted_figures(item)
            if extra:
                dropped.append(f"{label} — figures not in its quote: {', '.join(extra)}")
                continue
            key = (section, str(getattr(item, _IDENTITY[section])))
            if key not in seen:
                seen.add(key)
                kept.append(Proposed(section, item, passage))
    return kept, dropped


def plan_requests(docs: list[Document], budget_bytes: int) -> list[list[Passage]]:
    """Passages in reading order, packed into requests that fit the budget (a UTF-8 byte is at
    least as many as a token, so counting bytes never overflows the model's window)."""
    chunks: list[list[Passage]] = [[]]
    size = 0
    for p in (p for d in docs for p in d.passages):
        n = len(p.text.encode("utf-8")) + 40
        if chunks[-1] and size + n > budget_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(p)
        size += n
    return [c for c in chunks if c]


def propose(docs: list[Document], *, place_id: str, place_name: str, lang: str, settings, prompts=None,
            no_cache: bool = False, notify: Callable[[str], None] | None = None
            ) -> tuple[list[Proposed], list[str], dict]:
    """Ask the model for the profile's other fields; return the checked items, the dropped ones'
    lines and the usage (requests, tokens, cost)."""
    from ..llm.cache import Cache
    from ..llm.client import ModelClient, strict_schema
    from ..llm.prompts import PromptSet, data_block
    say = notify or (lambda msg: print(msg, file=sys.stderr))
    client = ModelClient(settings, Cache(enabled=not no_cache), notify=say)
    prompt = PromptSet(prompts).get("ingest_profile", lang)
    window = settings.context_window - (settings.max_output_tokens or OUTPUT_RESERVE) - PROMPT_OVERHEAD
    if window <= 0:
        from ..errors import InputError
        raise InputError(f"the context window of {settings.model} ({settings.context_window:,} tokens) leaves "
                         "no room for the documents; set a larger context_window in the provider profile")
    titles = {d.name: d.title for d in docs}
    replies: list[ProfileReply] = []
    chunks = plan_requests(docs, window)
    for i, chunk in enumerate(chunks, 1):
        data = {"documents": [{"file": name, "title": titles[name],
                               "passages": [{"loc": p.loc, "text": p.text} for p in chunk if p.doc == name]}
                              for name in dict.fromkeys(p.doc for p in chunk)]}
        messages = prompt.render(
            data=data_block(json.dumps(data, ensure_ascii=False, indent=1)),
            schema=json.dumps(strict_schema(ProfileReply)[0], ensure_ascii=False, separators=(",", ":")),
            place=place_name, place_id=place_id, language="中文" if lang == "zh" else "English",
            industry_tags=", ".join(V.INDUSTRY_TAGS), asset_kinds=", ".join(V.ASSET_KINDS),
            problem_types=", ".join(V.PROBLEM_TYPES), portfolios=", ".join(V.PORTFOLIOS),
            note_domains=", ".join(V.NOTE_DOMAINS))
        what = f"ingest {i}/{len(chunks)}"
        reply, convo = client.structured(messages, ProfileReply, what)
        _, dropped = check(reply, docs)
        if dropped:  # as in the analysis: the verifier's findings go back to the model once
            say(f"{what}: {len(dropped)} item(s) failed the quote check; asking the model once more")
            convo = convo + [{"role": "user", "content": _REASK.format("\n".join(f"- {d}" for d in dropped))}]
            reply, _ = client.structured(convo, ProfileReply, what)
        replies.append(reply)
    merged = ProfileReply(**{s: [x for r in replies for x in getattr(r, s)] for s in SECTIONS})
    kept, dropped = check(merged, docs)
    return kept, dropped, dict(client.usage)

