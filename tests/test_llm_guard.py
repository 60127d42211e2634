"""The context-window guard: notes chosen by relevance to each mechanism, never cut blindly."""

from __future__ import annotations

import json
import re

import pytest

from transfer_cli.llm import evidence as E
from transfer_cli.llm import tokens
from transfer_cli.llm.config import Settings
from transfer_cli.pipeline.engines.llm import LLMEngine
from transfer_cli.errors import InputError
from transfer_cli.places.loader import Library


def _data_notes(messages) -> list[str]:
    user = messages[1]["content"]
    block = user[user.index("<<<DATA\n") + 8:user.rindex("\nDATA>>>")]
    return [n["cite"] for n in json.loads(block)["notes"]]


def test_guard_keeps_the_cited_notes_first_and_says_so():
    liling = Library([]).load("liling").place
    said = []
    full = LLMEngine(Settings(model="m", context_window=10**7), notify=said.append).extract_messages(liling, "zh")
    assert len(_data_notes(full)) == len(liling.notes) and not said
    without_notes = tokens.count_messages(
        LLMEngine(Settings(model="m", context_window=10**7)).extract_messages(
            liling.model_copy(update={"notes": []}), "zh"))
    budget = 6000  # room for a fraction of the 170-odd notes
    eng = LLMEngine(Settings(model="m", max_output_tokens=1000, context_window=without_notes + budget + 1000),
                    notify=said.append)
    kept = _data_notes(eng.extract_messages(liling, "zh"))
    assert 0 < len(kept) < len(liling.notes)
    assert re.search(rf"kept {len(kept)} of {len(liling.notes)} notes, chosen by relevance", said[0])
    cited = {f"liling/{n}" for m in liling.mechanisms
             for n in [*m.evidence, *(x for f in m.support_factors for x in f.notes)]}
    order = [f"liling/{n.id}" for n in liling.notes]
    assert kept == [c for c in order if c in kept]  # the original order is kept
    # cited notes go first: an uncited note is only kept where it fits in space no cited note could use
    items = {n["cite"]: n for n in E.note_items(liling)}
    size = {c: tokens.count(E.dumps(n)) for c, n in items.items()}
    dropped_cited = [c for c in cited if c not in kept]
    assert cited & set(kept) and dropped_cited
    assert all(size[c] < min(size[d] for d in dropped_cited) for c in kept if c not in cited)


def test_select_notes_round_robins_across_mechanisms():
    notes = [{"cite": f"p/N{i}", "text": t} for i, t in enumerate(
        ["陶瓷 窑炉 出口", "花炮 安全 整合", "陶瓷 电瓷 产业", "旅游 古镇", "花炮 运输 铁路"])]
    mechs = [("陶瓷 电瓷 产业", set()), ("花炮 安全 整合", set())]
    kept = E.select_notes(notes, mechs, budget=2, cost=lambda n: 1)
    assert [n["cite"] for n in kept] == ["p/N1", "p/N2"]  # the best note for each mechanism
    kept = E.select_notes(notes, [("旅游", {"p/N4"})], budget=2, cost=lambda n: 1)
    assert [n["cite"] for n in kept] == ["p/N3", "p/N4"]  # the cited one, then the most similar


def test_a_prompt_that_cannot_fit_is_a_clear_error():
    alpha_lib = Library([])
    liling = alpha_lib.load("liling").place
    eng = LLMEngine(Settings(model="m", max_output_tokens=1000, context_window=4000))
    with pytest.raises(InputError, match=r"extract: the prompt needs ~[\d,]+ tokens, over the budget of 3,000"):
        eng.extract_messages(liling, "zh")
