"""The context-window guard: notes chosen by relevance to each mechanism, never cut blindly."""

from __future__ import annotations

import json
import re

import pytest

from transfer_cli.llm import evidence as E
from transfer_cli.llm import tokens
from transfer_cli.llm.config import Settings
from transfer_cli.llm.planner import caps
from transfer_cli.pipeline.engines.llm import LLMEngine
from transfer_cli.errors import InputError
from transfer_cli.places.loader import Library


def _data_notes(messages) -> list[str]:
    user = messages[1]["content"]
    block = user[user.index("<<<DATA\n") + 8:user.rindex("\nDATA>>>")]
    return [n["cite"] for n in json.loads(block)["notes"]]


def test_guard_keeps_the_cited_notes_first_per_request():
    liling = Library([]).load("liling").place
    items = {n["cite"]: n for n in E.note_items(liling)}
    size = {c: tokens.count(E.dumps(n)) for c, n in items.items()}
    cited_any = {f"liling/{n}" for m in liling.mechanisms
                 for n in [*m.evidence, *(x for f in m.support_factors for x in f.notes)]}
    # a window that would take every note still gets the review's share (cited notes first) and the
    # share of the notes no mechanism cites, for the mechanisms the draft lacks: not all 176
    whole = LLMEngine(Settings(model="m", context_window=10**7, max_output_tokens=16_000)).plan_extract(liling, "zh")
    sent = _data_notes(whole[0].messages)
    assert len(whole) == 1 and not whole[0].kept and len(sent) < len(liling.notes)
    assert sum(size[c] for c in sent) <= sum(caps(k, len(liling.mechanisms))["notes"] for k in ("extract", "new")) + len(sent)
    assert set(sent) - cited_any and len(set(sent) & cited_any) > len(set(sent) - cited_any)
    eng = LLMEngine(Settings(model="m", max_output_tokens=2000, context_window=10_000))
    plans = eng.plan_extract(liling, "zh")
    assert len(plans) > 2 and plans[-1].covers == ["new"] and all(p.fits(eng.budget) for p in plans)
    assert not set(_data_notes(plans[-1].messages)) & cited_any  # the new pass reads what no mechanism cites
    order = [f"liling/{n.id}" for n in liling.notes]
    by_id = {m.id: m for m in liling.mechanisms}
    for p in plans[:-1]:
        kept = _data_notes(p.messages)
        assert 0 < len(kept) < len(liling.notes)
        assert kept == [c for c in order if c in kept]  # the original order is kept
        # this request's mechanisms' cited notes go first: an uncited note is only kept where it fits in
        # space no cited note could use
        cited = {f"liling/{n}" for mid in p.covers for n in [*by_id[mid].evidence,
                                                              *(x for f in by_id[mid].support_factors for x in f.notes)]}
        dropped = [c for c in cited if c not in kept]
        assert cited & set(kept)
        if dropped:
            assert all(size[c] < min(size[d] for d in dropped) for c in kept if c not in cited)


def test_select_notes_round_robins_across_mechanisms():
    notes = [{"cite": f"p/N{i}", "text": t} for i, t in enumerate(
        ["陶瓷 窑炉 出口", "花炮 安全 整合", "陶瓷 电瓷 产业", "旅游 古镇", "花炮 运输 铁路"])]
    mechs = [("陶瓷 电瓷 产业", set()), ("花炮 安全 整合", set())]
    kept = E.select_notes(notes, mechs, budget=2, cost=lambda n: 1)
    assert [n["cite"] for n in kept] == ["p/N1", "p/N2"]  # the best note for each mechanism
    kept = E.select_notes(notes, [("旅游", {"p/N4"})], budget=2, cost=lambda n: 1)
    assert [n["cite"] for n in kept] == ["p/N3", "p/N4"]  # the cited one, then the most similar


def test_a_prompt_that_cannot_fit_is_a_clear_error():
    liling = Library([]).load("liling").place
    eng = LLMEngine(Settings(model="m", max_output_tokens=1000, context_window=3000))
    assert not all(p.fits(eng.budget) for p in eng.plan_extract(liling, "zh"))
    with pytest.raises(InputError, match=r"extract: request \d+ of \d+ needs ~[\d,]+ tokens in and ~[\d,]+ out, over the "
                                         rf"budget of {eng.budget.prompt:,} in / {eng.budget.reply:,} out"):
        eng.extract(liling, "zh")
    assert eng._client is None  # nothing was sent
